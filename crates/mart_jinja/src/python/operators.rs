//! Binary `+`, `-` and `*` in template source become calls of mart's functions
//! (`a + b` -> `__mart_add(a , b)`), which do Python's datetime arithmetic and otherwise
//! what minijinja's operators do (see [`super::arith`]); minijinja has no operator hooks
//! for objects. This runs after the literal rewrite, so list and dict literals are calls
//! by now. Only expressions of `{{ }}` and of the statements whose grammar is known here
//! are rewritten, and a region any of whose expressions cannot be parsed with confidence
//! is left exactly as it was. Unary minus stays. Only text is inserted (the operator
//! itself becomes a `,`), so no line break moves.

use super::expression::{tokenize, Edit, Kind, Parser, Tok, Token};
use super::rewrite::{end_of_raw_block, find, find_region_start, is_raw_tag};

/// `source` with its operators rewritten, and the (offset, length) of every insertion;
/// `None` when nothing changed.
pub(super) fn rewrite_operators(source: &str) -> Option<(String, Vec<(usize, usize)>)> {
    let bytes = source.as_bytes();
    let mut edits = Vec::new();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some((start, kind)) = find_region_start(bytes, at) {
        at = match kind {
            b'#' => find(bytes, start + 2, b"#}").map_or(bytes.len(), |i| i + 2),
            b'%' if is_raw_tag(bytes, start) => end_of_raw_block(bytes, start),
            _ => {
                let mut inner = start + 2;
                if matches!(bytes.get(inner), Some(b'-' | b'+')) {
                    inner += 1;
                }
                let close = if kind == b'{' { b"}}" } else { b"%}" };
                let Some(end) = tokenize(source, inner, close, &mut tokens) else {
                    // Unknown text: minijinja reports it; nothing after it is touched.
                    return apply(source, edits);
                };
                let has_operator = tokens
                    .iter()
                    .any(|t| matches!(t.tok, Tok::Op("+" | "-" | "*")));
                let region_edits = match kind {
                    _ if !has_operator => None,
                    b'{' => variable(&tokens),
                    _ => statement(&tokens),
                };
                edits.extend(region_edits.unwrap_or_default());
                end + 2
            }
        };
    }
    apply(source, edits)
}

/// `{{ expr }}`.
fn variable(tokens: &[Token<'_>]) -> Option<Vec<Edit>> {
    let mut p = Parser::new(tokens);
    p.expr()?;
    finish(p)
}

/// The edits, if every token was read.
fn finish(p: Parser<'_, '_>) -> Option<Vec<Edit>> {
    p.at_end().then_some(p.edits)
}

/// `{% keyword ... %}`: the statements whose expressions are rewritten; any other one
/// (a filter block, an import, dbt's own blocks) is left alone.
fn statement(tokens: &[Token<'_>]) -> Option<Vec<Edit>> {
    let mut p = Parser::new(tokens);
    let Some(Tok::Ident(keyword)) = p.peek() else {
        return None;
    };
    p.pos += 1;
    match keyword {
        "if" | "elif" => {
            p.or()?;
        }
        "autoescape" | "extends" => {
            p.expr()?;
        }
        "do" => call(&mut p)?,
        "set" => {
            assignment_target(&mut p, true)?;
            if p.at_end() {
                return None;
            }
            p.expect(Tok::Op("="))?;
            p.expr()?;
            while p.eat(Tok::Op(",")) && !p.at_end() {
                p.expr()?;
            }
        }
        "for" => {
            assignment_target(&mut p, false)?;
            p.expect(Tok::Ident("in"))?;
            p.or()?;
            if p.eat(Tok::Ident("if")) {
                p.expr()?;
            }
            p.eat(Tok::Ident("recursive"));
        }
        "with" => {
            let mut first = true;
            while !p.at_end() {
                if !first {
                    p.expect(Tok::Op(","))?;
                }
                first = false;
                assignment_target(&mut p, false)?;
                p.expect(Tok::Op("="))?;
                p.expr()?;
            }
        }
        "include" => {
            p.expr()?;
            while p.eat(Tok::Ident("ignore"))
                || p.eat(Tok::Ident("missing"))
                || p.eat(Tok::Ident("with"))
                || p.eat(Tok::Ident("without"))
                || p.eat(Tok::Ident("context"))
            {}
        }
        "macro" => {
            let Some(Tok::Ident(_)) = p.peek() else {
                return None;
            };
            p.pos += 1;
            p.expect(Tok::Op("("))?;
            parameters(&mut p)?;
        }
        "call" => {
            if p.eat(Tok::Op("(")) {
                parameters(&mut p)?;
            }
            call(&mut p)?;
        }
        _ => return None,
    }
    finish(p)
}

/// The call `do` and `call` take: rewriting an operation there would turn minijinja's
/// "expected call expression" into a valid template.
fn call(p: &mut Parser<'_, '_>) -> Option<()> {
    (p.expr()?.kind == Kind::Call).then_some(())
}

/// A `set`, `for` or `with` target: names (dotted for `set`), commas and parentheses.
fn assignment_target(p: &mut Parser<'_, '_>, dotted: bool) -> Option<()> {
    let mut depth = 0usize;
    loop {
        match p.peek() {
            Some(Tok::Ident("in")) if depth == 0 && !dotted => return Some(()),
            Some(Tok::Ident(_) | Tok::Op(",")) => {}
            Some(Tok::Op(".")) if dotted => {}
            Some(Tok::Op("(")) => depth += 1,
            Some(Tok::Op(")")) => depth = depth.checked_sub(1)?,
            _ => return Some(()),
        }
        p.pos += 1;
    }
}

/// A macro's (or call block's) parameters after `(`: names with optional defaults.
fn parameters(p: &mut Parser<'_, '_>) -> Option<()> {
    let mut first = true;
    loop {
        if p.eat(Tok::Op(")")) {
            return Some(());
        }
        if !first {
            p.expect(Tok::Op(","))?;
            if p.eat(Tok::Op(")")) {
                return Some(());
            }
        }
        first = false;
        let Some(Tok::Ident(_)) = p.peek() else {
            return None;
        };
        p.pos += 1;
        if p.eat(Tok::Op("=")) {
            p.expr()?;
        }
    }
}

/// Applies the edits (each region's in the order the parser recorded them).
fn apply(source: &str, mut edits: Vec<Edit>) -> Option<(String, Vec<(usize, usize)>)> {
    if edits.is_empty() {
        return None;
    }
    // By offset; at one offset closing parentheses first, then the calls opening there,
    // outermost first (the parser records an outer operation after its operands).
    let order = |(i, edit): &(usize, Edit)| match *edit {
        Edit::Comma(at) | Edit::Close(at) => (at, 0, 0),
        Edit::Open(at, _) => (at, 1, usize::MAX - i),
    };
    let mut ordered: Vec<(usize, Edit)> = edits.drain(..).enumerate().collect();
    ordered.sort_by_key(order);
    let mut out = String::with_capacity(source.len() + ordered.len() * 8);
    let mut inserts = Vec::new();
    let mut copied = 0;
    for (_, edit) in ordered {
        match edit {
            Edit::Open(at, name) => {
                out.push_str(source.get(copied..at)?);
                out.push_str(name);
                out.push('(');
                inserts.push((at, name.len() + 1));
                copied = at;
            }
            Edit::Comma(at) => {
                out.push_str(source.get(copied..at)?);
                out.push(',');
                copied = at + 1;
            }
            Edit::Close(at) => {
                out.push_str(source.get(copied..at)?);
                out.push(')');
                inserts.push((at, 1));
                copied = at;
            }
        }
    }
    out.push_str(source.get(copied..)?);
    Some((out, inserts))
}
