//! Parsing compiled SQL, and telling a certain syntax error from a gap of the parser.
//!
//! sqlparser does not read every statement PostgreSQL accepts, so a failure to parse is
//! only *sure* to be an error when the input is broken in a way no PostgreSQL grammar
//! accepts: an unterminated literal, unbalanced parentheses, the input ending mid-clause,
//! or a list with an empty item (`a,, b`, `a, from`). Anything else may be a parser gap;
//! the caller asks PostgreSQL's own parser when it can, and otherwise skips the analysis.

use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Why a statement does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// sqlparser's message without its location ("Expected: an expression, found: ,").
    pub message: String,
    /// Byte offset of the offending token in the SQL.
    pub offset: usize,
    /// Whether PostgreSQL is sure to reject it too (see the module header).
    pub sure: bool,
}

/// The statements of `sql` (PostgreSQL dialect).
pub fn parse(sql: &str) -> Result<Vec<Statement>, SyntaxError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| SyntaxError {
            message: e.message.clone(),
            offset: byte_offset(sql, e.location.line, e.location.column),
            sure: true,
        })?;
    if let Some(offset) = unbalanced_paren(&tokens, sql) {
        return Err(SyntaxError {
            message: "unbalanced parentheses".to_string(),
            offset,
            sure: true,
        });
    }
    let result = Parser::new(&dialect)
        .with_tokens_with_locations(tokens.clone())
        .parse_statements();
    result.map_err(|e| parser_error(&e, sql, &tokens))
}

fn parser_error(e: &ParserError, sql: &str, tokens: &[TokenWithSpan]) -> SyntaxError {
    let text = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => "the query nests too deeply".to_string(),
    };
    let (message, location) = split_location(&text);
    let at = location.map_or(sql.len(), |(line, column)| byte_offset(sql, line, column));
    let significant: Vec<&TokenWithSpan> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let found = found_token(&significant, message, sql, at);
    let offset = found.map_or(at, |i| offset_of(significant[i], sql));
    let sure =
        message.ends_with("found: EOF") || found.is_some_and(|i| empty_list_item(&significant, i));
    SyntaxError {
        message: message.to_string(),
        offset,
        sure,
    }
}

/// sqlparser's "<message> at Line: L, Column: C" -> (message, (L, C)).
fn split_location(text: &str) -> (&str, Option<(u64, u64)>) {
    let Some(at) = text.rfind(" at Line: ") else {
        return (text, None);
    };
    let rest = &text[at + " at Line: ".len()..];
    let location = rest
        .split_once(", Column: ")
        .and_then(|(line, column)| Some((line.trim().parse().ok()?, column.trim().parse().ok()?)));
    (&text[..at], location)
}

/// The byte offset of a 1-based line and character column.
pub(crate) fn byte_offset(sql: &str, line: u64, column: u64) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match sql[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return sql.len(),
        }
    }
    let column = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    sql[start..]
        .char_indices()
        .nth(column)
        .map_or(sql.len(), |(i, _)| start + i)
}

/// The offset of a `)` without its `(`, or of the last `(` left open.
fn unbalanced_paren(tokens: &[TokenWithSpan], sql: &str) -> Option<usize> {
    let mut open = Vec::new();
    for token in tokens {
        match token.token {
            Token::LParen => open.push(token),
            Token::RParen if open.pop().is_none() => return Some(offset_of(token, sql)),
            _ => {}
        }
    }
    open.last().map(|t| offset_of(t, sql))
}

/// The index of the token a message's "found: X" names: the last one spelled X at or
/// before the reported location (which sqlparser sometimes puts one token later).
fn found_token(
    significant: &[&TokenWithSpan],
    message: &str,
    sql: &str,
    at: usize,
) -> Option<usize> {
    let (_, found) = message.rsplit_once("found: ")?;
    significant
        .iter()
        .rposition(|t| offset_of(t, sql) <= at && t.token.to_string().eq_ignore_ascii_case(found))
}

/// Whether token `at` makes an empty list item: a comma right after a comma or `(`, or
/// a `)` or clause keyword right after a comma.
fn empty_list_item(significant: &[&TokenWithSpan], at: usize) -> bool {
    let previous = at.checked_sub(1).map(|i| &significant[i].token);
    match (&significant[at].token, previous) {
        (Token::Comma, Some(Token::Comma | Token::LParen)) => true,
        (Token::RParen, Some(Token::Comma)) => true,
        (Token::Word(word), Some(Token::Comma)) => matches!(
            word.keyword,
            Keyword::FROM
                | Keyword::WHERE
                | Keyword::GROUP
                | Keyword::HAVING
                | Keyword::ORDER
                | Keyword::LIMIT
                | Keyword::UNION
                | Keyword::EXCEPT
                | Keyword::INTERSECT
                | Keyword::ON
                | Keyword::JOIN
        ),
        _ => false,
    }
}

fn offset_of(token: &TokenWithSpan, sql: &str) -> usize {
    byte_offset(sql, token.span.start.line, token.span.start.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(sql: &str) -> (String, usize, bool) {
        let e = parse(sql).unwrap_err();
        (e.message, e.offset, e.sure)
    }

    #[test]
    fn valid_sql_parses() {
        assert_eq!(parse("select 1; select 2").unwrap().len(), 2);
    }

    #[test]
    fn sure_errors() {
        assert_eq!(
            error("select id,, name from t"),
            ("Expected: an expression, found: ,".to_string(), 10, true)
        );
        assert!(error("select id, from t").2);
        assert!(error("select id from t where").2);
        assert_eq!(
            error("select (a + b from t"),
            ("unbalanced parentheses".to_string(), 7, true)
        );
        assert_eq!(
            error("select a) from t"),
            ("unbalanced parentheses".to_string(), 8, true)
        );
        let (message, offset, sure) = error("select 'abc from t");
        assert!(
            message.starts_with("Unterminated string literal"),
            "{message}"
        );
        assert_eq!((offset, sure), (7, true));
    }

    #[test]
    fn other_failures_may_be_parser_gaps() {
        let (_, offset, sure) = error("select id name email from t");
        assert_eq!((offset, sure), (15, false));
    }

    #[test]
    fn offsets_count_characters_on_later_lines() {
        assert_eq!(byte_offset("ab\nçd,x", 2, 3), 6);
        assert_eq!(byte_offset("ab", 5, 1), 2);
        let (_, offset, _) = error("select\n  'é', a,,\nfrom t");
        assert_eq!(offset, "select\n  'é', a,".len());
    }
}
