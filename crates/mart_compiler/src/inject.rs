//! Ephemeral models become CTEs at the top of the SQL that uses them.

/// Prepends `ctes` (name, body) to `sql`: merged into its leading `WITH` (after
/// `RECURSIVE` when present) or as a new `WITH` clause.
pub(crate) fn inject_ctes(sql: &str, ctes: &[(String, String)]) -> String {
    if ctes.is_empty() {
        return sql.to_string();
    }
    let definitions = ctes
        .iter()
        .map(|(name, body)| format!("{name} as (\n{}\n)", body.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    match leading_with(sql) {
        Some(after_with) => format!(
            "{} {definitions},{}",
            sql[..after_with].trim_end(),
            &sql[after_with..]
        ),
        None => format!("with {definitions}\n{sql}"),
    }
}

/// The byte offset just after a leading `WITH [RECURSIVE]` keyword, skipping whitespace
/// and comments before it.
fn leading_with(sql: &str) -> Option<usize> {
    let start = skip_trivia(sql, 0);
    let after_with = keyword_at(sql, start, "with")?;
    let next = skip_trivia(sql, after_with);
    Some(keyword_at(sql, next, "recursive").unwrap_or(after_with))
}

fn keyword_at(sql: &str, at: usize, keyword: &str) -> Option<usize> {
    let candidate = sql.get(at..at + keyword.len())?;
    let end = at + keyword.len();
    let boundary = sql[end..]
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (candidate.eq_ignore_ascii_case(keyword) && boundary).then_some(end)
}

/// Skips whitespace, `-- line` and `/* block */` comments.
fn skip_trivia(sql: &str, mut at: usize) -> usize {
    loop {
        let rest = &sql[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            at += trimmed.find('\n').map_or(trimmed.len(), |i| i + 1);
        } else if trimmed.starts_with("/*") {
            at += trimmed.find("*/").map_or(trimmed.len(), |i| i + 2);
        } else {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctes() -> Vec<(String, String)> {
        vec![
            ("__dbt__cte__a".into(), "select 1 as x".into()),
            (
                "__dbt__cte__b".into(),
                "select * from __dbt__cte__a\n".into(),
            ),
        ]
    }

    #[test]
    fn prepends_a_with_clause() {
        insta::assert_snapshot!(inject_ctes("select * from __dbt__cte__b", &ctes()), @r"
        with __dbt__cte__a as (
        select 1 as x
        ), __dbt__cte__b as (
        select * from __dbt__cte__a
        )
        select * from __dbt__cte__b
        ");
    }

    #[test]
    fn merges_into_a_leading_with_after_comments() {
        insta::assert_snapshot!(inject_ctes("-- note\n/* x */ WITH RECURSIVE t AS (select 1) select * from t, __dbt__cte__b", &ctes()), @r"
        -- note
        /* x */ WITH RECURSIVE __dbt__cte__a as (
        select 1 as x
        ), __dbt__cte__b as (
        select * from __dbt__cte__a
        ), t AS (select 1) select * from t, __dbt__cte__b
        ");
        assert!(inject_ctes("withdrawals", &ctes()).starts_with("with __dbt__cte__a"));
    }
}
