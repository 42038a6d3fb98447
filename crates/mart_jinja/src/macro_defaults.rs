//! Macro parameter defaults that read an earlier parameter, as Jinja2 allows
//! (`{% macro generate_source(schema_name, name=schema_name) %}`): minijinja binds
//! parameters last to first, so such a default would see nothing. The default becomes a
//! marker, and the macro body starts by replacing the marker with the default's value,
//! once every parameter is bound. Line breaks are kept, so error lines do not move.

use std::borrow::Cow;

/// What a default reading earlier parameters is replaced by in the signature.
const UNSET: &str = "'__mart_default__'";

/// `source` with every such default moved into its macro's body.
pub(crate) fn late_defaults(source: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(open) = find_macro_signature(source, from) {
        from = open + 1;
        let Some(close) = matching_paren(source, open) else {
            continue;
        };
        let Some(tag_end) = source[close..].find("%}").map(|i| close + i + 2) else {
            continue;
        };
        let params = split_params(&source[open + 1..close]);
        let mut earlier: Vec<&str> = Vec::new();
        let mut signature = String::new();
        let mut body_start = String::new();
        let mut moved = false;
        for (i, (name, default)) in params.iter().enumerate() {
            if i > 0 {
                signature.push(',');
            }
            match default {
                Some(expr) if reads_any(expr, &earlier) => {
                    moved = true;
                    // Keep the signature's line breaks where the default was.
                    let breaks = "\n".repeat(expr.matches('\n').count());
                    signature.push_str(&format!("{name}={UNSET}{breaks}"));
                    let name = name.trim();
                    body_start.push_str(&format!(
                        "{{% if {name} == {UNSET} %}}{{% set {name} = {} %}}{{% endif %}}",
                        expr.trim().replace('\n', " ")
                    ));
                }
                Some(expr) => signature.push_str(&format!("{name}={expr}")),
                None => signature.push_str(name),
            }
            earlier.push(name.trim());
        }
        if !moved {
            continue;
        }
        out.push_str(&source[copied..=open]);
        out.push_str(&signature);
        out.push_str(&source[close..tag_end]);
        out.push_str(&body_start);
        copied = tag_end;
        from = tag_end;
    }
    if copied == 0 {
        return Cow::Borrowed(source);
    }
    out.push_str(&source[copied..]);
    Cow::Owned(out)
}

/// The offset of the `(` of the next `{% macro name(` at or after `from`.
fn find_macro_signature(source: &str, from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = source.get(at..)?.find("{%") {
        let start = at + i + 2;
        let rest = source[start..].trim_start_matches(['-', '+']).trim_start();
        if let Some(after) = rest.strip_prefix("macro") {
            if after.starts_with(char::is_whitespace) {
                let name_start = source.len() - after.trim_start().len();
                let name_len = source[name_start..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(0);
                let paren = name_start + name_len;
                if source[paren..].starts_with('(') {
                    return Some(paren);
                }
            }
        }
        at = start;
    }
    None
}

/// Calls `visit(offset, byte, depth)` for each byte of `text` from `from` on that is not
/// inside a string literal, `depth` being the bracket depth before it, until it returns
/// false.
fn scan_code(text: &str, from: usize, mut visit: impl FnMut(usize, u8, usize) -> bool) {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => {
                if !visit(i, b, depth) {
                    return;
                }
                match b {
                    b'\'' | b'"' => quote = Some(b),
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        i += 1;
    }
}

/// The `)` closing the `(` at `open`, skipping strings and nested brackets.
fn matching_paren(source: &str, open: usize) -> Option<usize> {
    let mut found = None;
    scan_code(source, open, |i, b, depth| {
        if matches!(b, b')' | b']' | b'}') && depth == 1 {
            found = (b == b')').then_some(i);
            return false;
        }
        true
    });
    found
}

/// The parameters of a signature: `(name, default)`, split at top-level commas.
fn split_params(text: &str) -> Vec<(&str, Option<&str>)> {
    let mut parts = Vec::new();
    let mut start = 0;
    scan_code(text, 0, |i, b, depth| {
        if b == b',' && depth == 0 {
            parts.push(&text[start..i]);
            start = i + 1;
        }
        true
    });
    if !text[start..].trim().is_empty() {
        parts.push(&text[start..]);
    }
    parts
        .into_iter()
        .map(|p| match p.split_once('=') {
            Some((name, default)) => (name, Some(default)),
            None => (p, None),
        })
        .collect()
}

/// Whether `expr` reads one of `names` as a variable (not as an attribute or in a string).
fn reads_any(expr: &str, names: &[&str]) -> bool {
    let bytes = expr.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if b == b'\'' || b == b'"' {
            quote = Some(b);
            i += 1;
            continue;
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let after_dot = expr[..start].trim_end().ends_with('.');
            if !after_dot && names.contains(&&expr[start..i]) {
                return true;
            }
            continue;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_reading_earlier_parameters_move_into_the_body() {
        assert_eq!(
            late_defaults("{% macro gen(schema_name, name=schema_name, db=target.database) %}x{% endmacro %}"),
            "{% macro gen(schema_name, name='__mart_default__', db=target.database) %}{% if name == '__mart_default__' %}{% set name = schema_name %}{% endif %}x{% endmacro %}"
        );
        // Attributes and strings that look like a parameter are not reads of it.
        let plain = "{%- macro m(a, b=x.a, c='a', d=f(1, [2])) -%}{% endmacro %}";
        assert!(matches!(late_defaults(plain), Cow::Borrowed(_)));
        // Line breaks in the signature stay.
        let multi = "{% macro m(a,\n  b=a ~ '_x'\n) %}{{ b }}{% endmacro %}";
        let out = late_defaults(multi);
        assert_eq!(out.matches('\n').count(), multi.matches('\n').count());
        assert!(out.ends_with("{% if b == '__mart_default__' %}{% set b = a ~ '_x' %}{% endif %}{{ b }}{% endmacro %}"), "{out}");
    }
}
