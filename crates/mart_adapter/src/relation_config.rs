//! Statements that follow a build: indexes, grants and `COMMENT ON` (persist_docs).

use std::collections::BTreeMap;

use crate::quote::{quote_ident, quote_literal};
use crate::relation::{suffixed_identifier, Relation, RelationKind};

/// `create [unique] index if not exists "name" on T [using method] ("a", "b")`.
///
/// The name is derived from the relation and the index's definition (63-byte safe), so
/// re-running leaves an existing index alone and an index whose definition changed gets a
/// new name.
pub fn create_index(
    target: &Relation,
    columns: &[String],
    unique: bool,
    method: Option<&str>,
) -> String {
    let mut base = format!("{}__{}", target.identifier, columns.join("_"));
    if let Some(m) = method {
        base.push_str(&format!("__{m}"));
    }
    let name = suffixed_identifier(&base, if unique { "__uidx" } else { "__idx" });
    let using = method.map_or(String::new(), |m| format!(" using {}", quote_ident(m)));
    let cols = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "create {}index if not exists {} on {target}{using} ({cols})",
        if unique { "unique " } else { "" },
        quote_ident(&name)
    )
}

/// A grantee as SQL: `public` is the keyword, any other role a quoted identifier.
fn grantee(role: &str) -> String {
    if role.eq_ignore_ascii_case("public") {
        "public".to_string()
    } else {
        quote_ident(role)
    }
}

/// The `revoke`s and `grant`s that turn the `current` privileges (privilege, role) into
/// the `wanted` ones, as dbt does: privileges held by roles the config does not name are
/// revoked. Privileges are lower case; the owner's own privileges are not in `current`.
pub fn grant_statements(
    target: &Relation,
    wanted: &BTreeMap<String, Vec<String>>,
    current: &[(String, String)],
) -> Vec<String> {
    let mut statements = Vec::new();
    let is_wanted = |privilege: &str, role: &str| {
        wanted
            .get(privilege)
            .is_some_and(|roles| roles.iter().any(|r| r == role))
    };
    for (privilege, role) in current {
        if !is_wanted(privilege, role) {
            statements.push(format!(
                "revoke {privilege} on {target} from {}",
                grantee(role)
            ));
        }
    }
    for (privilege, roles) in wanted {
        let missing: Vec<String> = roles
            .iter()
            .filter(|r| !current.iter().any(|(p, c)| p == privilege && c == *r))
            .map(|r| grantee(r))
            .collect();
        if !missing.is_empty() {
            statements.push(format!(
                "grant {privilege} on {target} to {}",
                missing.join(", ")
            ));
        }
    }
    statements
}

/// `comment on <kind> T is '...'` for the description (when given) and `comment on column
/// T."c" is '...'` for each column (name, description).
pub fn comment_statements(
    target: &Relation,
    kind: RelationKind,
    description: Option<&str>,
    columns: &[(String, String)],
) -> Vec<String> {
    let mut statements = Vec::new();
    if let Some(text) = description {
        statements.push(format!(
            "comment on {} {target} is {}",
            kind.sql_keyword(),
            quote_literal(text)
        ));
    }
    for (name, text) in columns {
        statements.push(format!(
            "comment on column {target}.{} is {}",
            quote_ident(name),
            quote_literal(text)
        ));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        let target = Relation::new(None, "gold", "dim_user");
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let wanted: BTreeMap<String, Vec<String>> =
            [("select".to_string(), cols(&["reporter", "Analyst"]))].into();
        let current = [
            ("select".to_string(), "reporter".to_string()),
            ("select".to_string(), "old_role".to_string()),
            ("insert".to_string(), "reporter".to_string()),
        ];
        let long = "x".repeat(70);
        insta::assert_snapshot!([
            create_index(&target, &cols(&["user_id"]), true, None),
            create_index(&target, &cols(&["day", "user_id"]), false, Some("hash")),
            create_index(
                &Relation::new(None, "s", long.as_str()),
                &cols(&["a"]),
                false,
                None
            ),
        ]
        .into_iter()
        .chain(grant_statements(&target, &wanted, &current))
        .chain(grant_statements(&target, &wanted, &[]))
        .chain(comment_statements(
            &target,
            RelationKind::View,
            Some("One row per user's"),
            &[("user_id".into(), "The key".into())],
        ))
        .collect::<Vec<_>>()
        .join(";\n"));
    }
}
