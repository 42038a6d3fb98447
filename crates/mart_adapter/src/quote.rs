//! Identifier and literal quoting.

/// Quotes an identifier for PostgreSQL: wraps it in double quotes and doubles every
/// embedded double quote (`a"b` → `"a""b"`). The result is always case-preserving.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal for PostgreSQL (`it's` → `'it''s'`).
///
/// Relies on `standard_conforming_strings = on` (the default since PostgreSQL 9.1), so
/// backslashes are literal characters.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents() {
        assert_eq!(quote_ident("abc"), r#""abc""#);
        assert_eq!(quote_ident("a\"b"), r#""a""b""#);
        assert_eq!(quote_ident("Mixed Case"), r#""Mixed Case""#);
        assert_eq!(quote_ident(""), r#""""#);
        assert_eq!(quote_ident("\"\""), r#""""""""#);
    }

    #[test]
    fn literals() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(""), "''");
        assert_eq!(quote_literal("a\\b"), "'a\\b'");
        assert_eq!(quote_literal("한국어"), "'한국어'");
    }
}
