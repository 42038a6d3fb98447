//! A tokenizer and precedence parser for the expressions of one Jinja region, mirroring
//! minijinja's grammar, that finds the operands of every binary `+`, `-` and `*` so
//! [`super::operators`] can turn them into calls. It builds no tree: each parsed
//! expression is its byte extent, and each operator found is recorded as an [`Edit`]s.
//! Anything it does not understand makes it give up (`None`), and the caller then leaves
//! the region as it was.

/// The function `a + b` becomes.
pub(crate) const ADD_FN: &str = "__mart_add";
/// The function `a - b` becomes.
pub(crate) const SUB_FN: &str = "__mart_sub";
/// The function `a * b` becomes.
pub(crate) const MUL_FN: &str = "__mart_mul";

/// How deeply rewritten calls may nest: each level costs minijinja's parser two of its
/// 150 levels of recursion, so a long `a + b + c ...` chain is left as it is.
const MAX_NESTING: u32 = 24;
/// How deeply this parser recurses before giving up.
const MAX_DEPTH: u32 = 120;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Tok<'s> {
    Ident(&'s str),
    Str,
    Int,
    Float,
    Op(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'s> {
    pub tok: Tok<'s>,
    pub start: usize,
    pub end: usize,
}

/// One change to the region's text, at a byte offset of the template.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Edit {
    /// Insert `name(` before the left operand.
    Open(usize, &'static str),
    /// Replace the one-byte operator with `,`.
    Comma(usize),
    /// Insert `)` after the right operand.
    Close(usize),
}

/// The operator at the start of `rest`, longest first (as minijinja's lexer reads them).
fn operator(rest: &[u8]) -> Option<&'static str> {
    let two = match rest.get(..2) {
        Some(b"//") => Some("//"),
        Some(b"**") => Some("**"),
        Some(b"==") => Some("=="),
        Some(b"!=") => Some("!="),
        Some(b">=") => Some(">="),
        Some(b"<=") => Some("<="),
        _ => None,
    };
    two.or(match rest.first()? {
        b'+' => Some("+"),
        b'-' => Some("-"),
        b'*' => Some("*"),
        b'/' => Some("/"),
        b'%' => Some("%"),
        b'.' => Some("."),
        b',' => Some(","),
        b':' => Some(":"),
        b'~' => Some("~"),
        b'|' => Some("|"),
        b'=' => Some("="),
        b'>' => Some(">"),
        b'<' => Some("<"),
        b'(' => Some("("),
        b')' => Some(")"),
        b'[' => Some("["),
        b']' => Some("]"),
        b'{' => Some("{"),
        b'}' => Some("}"),
        _ => None,
    })
}

/// Tokenizes `source` from `at` to the end of the region (`}}` or `%}`, with whitespace
/// control) into `tokens`; returns the offset of the closing delimiter's first byte (its
/// `-`/`+` included), or `None` for text it does not know.
pub(super) fn tokenize<'s>(
    source: &'s str,
    mut at: usize,
    close: &[u8; 2],
    tokens: &mut Vec<Token<'s>>,
) -> Option<usize> {
    let bytes = source.as_bytes();
    tokens.clear();
    let mut balance = 0i32;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let rest = bytes.get(at..).filter(|r| !r.is_empty())?;
        let b = rest[0];
        if balance == 0 {
            let delimiter = if matches!(b, b'-' | b'+') {
                &rest[1..]
            } else {
                rest
            };
            if delimiter.starts_with(close) {
                return Some(at);
            }
        }
        let (tok, len) = if b == b'\'' || b == b'"' {
            (Tok::Str, string_len(&bytes[at..])?)
        } else if b.is_ascii_digit() {
            number(&bytes[at..])
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let len = ident_len(&bytes[at..]);
            (Tok::Ident(&source[at..at + len]), len)
        } else {
            let op = operator(rest)?;
            match op {
                "(" | "[" | "{" => balance += 1,
                ")" | "]" | "}" => balance -= 1,
                _ => {}
            }
            (Tok::Op(op), op.len())
        };
        tokens.push(Token {
            tok,
            start: at,
            end: at + len,
        });
        at += len;
    }
}

fn ident_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

/// The length of the string literal at the start of `bytes`, escapes skipped.
fn string_len(bytes: &[u8]) -> Option<usize> {
    let quote = bytes[0];
    let mut at = 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b if b == quote => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

/// A number as minijinja's lexer reads it: radix prefixes, `_`, fractions, exponents; a
/// `.` followed by a name is attribute access (`1.real`), not a fraction.
fn number(bytes: &[u8]) -> (Tok<'static>, usize) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Radix,
        Integer,
        Fraction,
        Exponent,
        ExponentSign,
    }
    let radix = match bytes.get(..2) {
        Some(b"0b" | b"0B") => 2,
        Some(b"0o" | b"0O") => 8,
        Some(b"0x" | b"0X") => 16,
        _ => 10,
    };
    let (mut state, mut len) = if radix == 10 {
        (State::Integer, 0)
    } else {
        (State::Radix, 2)
    };
    while let Some(&c) = bytes.get(len) {
        state = match (c, state) {
            (b'.', State::Integer) => {
                let is_exp = matches!(bytes.get(len + 1), Some(b'e' | b'E'))
                    && matches!(bytes.get(len + 2), Some(b'+' | b'-' | b'0'..=b'9'));
                let name_follows = bytes
                    .get(len + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
                if !is_exp && name_follows {
                    break;
                }
                State::Fraction
            }
            (b'E' | b'e', State::Integer | State::Fraction) => State::Exponent,
            (b'+' | b'-', State::Exponent) => State::ExponentSign,
            (b'0'..=b'9', State::Exponent) => State::ExponentSign,
            (b'0'..=b'9', state) => state,
            (b'a'..=b'f' | b'A'..=b'F', State::Radix) if radix == 16 => state,
            (b'_', state) => state,
            _ => break,
        };
        len += 1;
    }
    let tok = if matches!(state, State::Integer | State::Radix) {
        Tok::Int
    } else {
        Tok::Float
    };
    (tok, len)
}

/// What a parsed expression is, as far as the statements around it care.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Kind {
    /// A bare name (may be a keyword argument's name).
    Var,
    /// A call `f(...)` (what `do` and `call` require).
    Call,
    /// An operation this parser rewrote.
    Rewritten,
    Other,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Expr {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    /// How deeply rewritten calls nest in it.
    nesting: u32,
}

pub(super) struct Parser<'t, 's> {
    tokens: &'t [Token<'s>],
    pub pos: usize,
    pub edits: Vec<Edit>,
    depth: u32,
}

impl<'t, 's> Parser<'t, 's> {
    pub fn new(tokens: &'t [Token<'s>]) -> Self {
        Parser {
            tokens,
            pos: 0,
            edits: Vec::new(),
            depth: 0,
        }
    }

    pub fn peek(&self) -> Option<Tok<'s>> {
        self.tokens.get(self.pos).map(|t| t.tok)
    }

    fn peek_at(&self, ahead: usize) -> Option<Tok<'s>> {
        self.tokens.get(self.pos + ahead).map(|t| t.tok)
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.tokens.len()
    }

    /// Skips the token if it is `tok`.
    pub fn eat(&mut self, tok: Tok<'_>) -> bool {
        if self.peek() == Some(tok) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, tok: Tok<'_>) -> Option<()> {
        self.eat(tok).then_some(())
    }

    fn next(&mut self) -> Option<Token<'s>> {
        let token = *self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    /// The end offset of the last token taken.
    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.end)
    }

    fn span(&self, start: usize, nesting: u32, kind: Kind) -> Expr {
        Expr {
            start,
            end: self.last_end(),
            kind,
            nesting,
        }
    }

    /// A full expression (`a if c else b` included).
    pub fn expr(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut expr = self.or()?;
        while self.eat(Tok::Ident("if")) {
            let test = self.or()?;
            let mut nesting = expr.nesting.max(test.nesting);
            if self.eat(Tok::Ident("else")) {
                nesting = nesting.max(self.expr()?.nesting);
            }
            expr = self.span(expr.start, nesting, Kind::Other);
        }
        self.depth -= 1;
        Some(expr)
    }

    /// An expression without a trailing `if` (as `{% if %}` and `{% for %}` read them).
    pub fn or(&mut self) -> Option<Expr> {
        self.binary(Tok::Ident("or"), Self::and)
    }

    fn and(&mut self) -> Option<Expr> {
        self.binary(Tok::Ident("and"), Self::not)
    }

    fn not(&mut self) -> Option<Expr> {
        let start = self.tokens.get(self.pos)?.start;
        if self.eat(Tok::Ident("not")) {
            let inner = self.not()?;
            return Some(self.span(start, inner.nesting, Kind::Other));
        }
        self.compare()
    }

    fn compare(&mut self) -> Option<Expr> {
        let mut expr = self.math1()?;
        loop {
            match self.peek() {
                Some(Tok::Op("==" | "!=" | "<" | "<=" | ">" | ">=") | Tok::Ident("in")) => {
                    self.pos += 1;
                }
                Some(Tok::Ident("not")) if self.peek_at(1) == Some(Tok::Ident("in")) => {
                    self.pos += 2;
                }
                Some(Tok::Ident("not")) => return None,
                _ => break,
            }
            let right = self.math1()?;
            expr = self.span(expr.start, expr.nesting.max(right.nesting), Kind::Other);
        }
        Some(expr)
    }

    /// `+` and `-`, rewritten into calls.
    fn math1(&mut self) -> Option<Expr> {
        let mut left = self.concat()?;
        loop {
            let function = match self.peek() {
                Some(Tok::Op("+")) => ADD_FN,
                Some(Tok::Op("-")) => SUB_FN,
                _ => return Some(left),
            };
            left = self.rewrite(left, function, Self::concat)?;
        }
    }

    fn concat(&mut self) -> Option<Expr> {
        self.binary(Tok::Op("~"), Self::math2)
    }

    /// `*` (rewritten into a call), `/`, `//` and `%`.
    fn math2(&mut self) -> Option<Expr> {
        let mut left = self.pow()?;
        loop {
            match self.peek() {
                Some(Tok::Op("*")) => left = self.rewrite(left, MUL_FN, Self::pow)?,
                Some(Tok::Op("/" | "//" | "%")) => {
                    self.pos += 1;
                    let right = self.pow()?;
                    left = self.span(left.start, left.nesting.max(right.nesting), Kind::Other);
                }
                _ => return Some(left),
            }
        }
    }

    fn pow(&mut self) -> Option<Expr> {
        self.binary(Tok::Op("**"), Self::unary)
    }

    /// Records the rewrite of `left <op> right` (the operator is the current token).
    fn rewrite(
        &mut self,
        left: Expr,
        function: &'static str,
        operand: fn(&mut Self) -> Option<Expr>,
    ) -> Option<Expr> {
        let op = self.next()?;
        let right = operand(self)?;
        let nesting = left.nesting.max(right.nesting) + 1;
        if nesting > MAX_NESTING {
            return None;
        }
        self.edits.push(Edit::Comma(op.start));
        self.edits.push(Edit::Close(right.end));
        // Recorded after the operands' own edits: at the same offset, this outer call
        // must open first (see `operators::apply`).
        self.edits.push(Edit::Open(left.start, function));
        Some(self.span(left.start, nesting, Kind::Rewritten))
    }

    /// A left-associative level whose operator is kept as it is.
    fn binary(&mut self, op: Tok<'static>, next: fn(&mut Self) -> Option<Expr>) -> Option<Expr> {
        let mut left = next(self)?;
        while self.eat(op) {
            let right = next(self)?;
            left = self.span(left.start, left.nesting.max(right.nesting), Kind::Other);
        }
        Some(left)
    }

    /// Unary minus, then postfix operations, then filters and tests.
    fn unary(&mut self) -> Option<Expr> {
        let expr = self.unary_only()?;
        let expr = self.postfix(expr)?;
        self.filters(expr)
    }

    fn unary_only(&mut self) -> Option<Expr> {
        let start = self.tokens.get(self.pos)?.start;
        if self.eat(Tok::Op("-")) {
            let inner = self.unary_only()?;
            return Some(self.span(start, inner.nesting, Kind::Other));
        }
        self.primary()
    }

    fn postfix(&mut self, mut expr: Expr) -> Option<Expr> {
        loop {
            let kind = match self.peek() {
                Some(Tok::Op(".")) => {
                    self.pos += 1;
                    match self.next()?.tok {
                        Tok::Ident(_) | Tok::Int => Kind::Other,
                        _ => return None,
                    }
                }
                Some(Tok::Op("[")) => {
                    self.pos += 1;
                    let inner = self.subscript()?;
                    expr.nesting = expr.nesting.max(inner);
                    Kind::Other
                }
                Some(Tok::Op("(")) => {
                    let inner = self.args()?;
                    expr.nesting = expr.nesting.max(inner);
                    Kind::Call
                }
                _ => return Some(expr),
            };
            expr = self.span(expr.start, expr.nesting, kind);
        }
    }

    /// After `[`: an index or slice up to and including `]`; returns the nesting.
    fn subscript(&mut self) -> Option<u32> {
        let mut nesting = 0;
        let mut part = |p: &mut Self| -> Option<()> {
            if !matches!(p.peek(), Some(Tok::Op(":" | "]"))) {
                nesting = nesting.max(p.expr()?.nesting);
            }
            Some(())
        };
        part(self)?;
        if self.eat(Tok::Op(":")) {
            part(self)?;
            if self.eat(Tok::Op(":")) {
                part(self)?;
            }
        }
        self.expect(Tok::Op("]"))?;
        Some(nesting)
    }

    fn filters(&mut self, mut expr: Expr) -> Option<Expr> {
        loop {
            if self.eat(Tok::Op("|")) {
                self.dotted_name()?;
                if self.peek() == Some(Tok::Op("(")) {
                    expr.nesting = expr.nesting.max(self.args()?);
                }
            } else if self.eat(Tok::Ident("is")) {
                self.eat(Tok::Ident("not"));
                self.dotted_name()?;
                match self.peek() {
                    Some(Tok::Op("(")) => expr.nesting = expr.nesting.max(self.args()?),
                    Some(Tok::Ident("and" | "or" | "else" | "is")) => {}
                    Some(
                        Tok::Ident(_)
                        | Tok::Str
                        | Tok::Int
                        | Tok::Float
                        | Tok::Op("+" | "-" | "[" | "{"),
                    ) => {
                        let arg = self.unary_only()?;
                        let arg = self.postfix(arg)?;
                        expr.nesting = expr.nesting.max(arg.nesting);
                    }
                    _ => {}
                }
            } else {
                return Some(expr);
            }
            expr = self.span(expr.start, expr.nesting, Kind::Other);
        }
    }

    fn dotted_name(&mut self) -> Option<()> {
        loop {
            match self.next()?.tok {
                Tok::Ident(_) => {}
                _ => return None,
            }
            if !self.eat(Tok::Op(".")) {
                return Some(());
            }
        }
    }

    /// A call's arguments from `(` to `)`; returns the nesting.
    fn args(&mut self) -> Option<u32> {
        self.expect(Tok::Op("("))?;
        let mut nesting = 0;
        let mut first = true;
        loop {
            if self.eat(Tok::Op(")")) {
                return Some(nesting);
            }
            if !first {
                self.expect(Tok::Op(","))?;
                if self.eat(Tok::Op(")")) {
                    return Some(nesting);
                }
            }
            first = false;
            let splat = self.eat(Tok::Op("**")) || self.eat(Tok::Op("*"));
            let arg = self.expr()?;
            nesting = nesting.max(arg.nesting);
            if !splat && arg.kind == Kind::Var && self.eat(Tok::Op("=")) {
                nesting = nesting.max(self.expr()?.nesting);
            }
        }
    }

    fn primary(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let token = self.next()?;
        let mut nesting = 0;
        let kind = match token.tok {
            Tok::Ident("true" | "True" | "false" | "False" | "none" | "None") => Kind::Other,
            Tok::Ident(_) => Kind::Var,
            Tok::Str => {
                while self.eat(Tok::Str) {}
                Kind::Other
            }
            Tok::Int | Tok::Float => Kind::Other,
            Tok::Op("(") => {
                if !self.eat(Tok::Op(")")) {
                    let inner = self.expr()?;
                    nesting = inner.nesting;
                    let is_tuple = self.peek() == Some(Tok::Op(","));
                    if is_tuple {
                        nesting = nesting.max(self.items(")", false)?);
                    } else {
                        self.expect(Tok::Op(")"))?;
                        // A parenthesized expression keeps its kind: `(f())` is a call.
                        self.depth -= 1;
                        return Some(Expr {
                            start: token.start,
                            end: self.last_end(),
                            kind: inner.kind,
                            nesting,
                        });
                    }
                }
                Kind::Other
            }
            Tok::Op("[") => {
                nesting = self.items("]", true)?;
                Kind::Other
            }
            // Dict literals were rewritten before this parser runs.
            _ => return None,
        };
        self.depth -= 1;
        Some(Expr {
            start: token.start,
            end: self.last_end(),
            kind,
            nesting,
        })
    }

    /// Comma-separated expressions up to and including `close`; returns the nesting.
    fn items(&mut self, close: &'static str, mut first: bool) -> Option<u32> {
        let mut nesting = 0;
        loop {
            if self.eat(Tok::Op(close)) {
                return Some(nesting);
            }
            if !first {
                self.expect(Tok::Op(","))?;
                if self.eat(Tok::Op(close)) {
                    return Some(nesting);
                }
            }
            first = false;
            nesting = nesting.max(self.expr()?.nesting);
        }
    }
}
