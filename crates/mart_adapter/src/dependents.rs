//! The views (and materialized views) built on a relation, read from the catalog before a
//! rebuild, so that when the rebuild drops the relation with `cascade` they can be put back
//! in the same transaction: definition, options, owner, grants and comments.

use crate::quote::{quote_ident, quote_literal};
use crate::relation::{Relation, RelationKind};

/// A view that depends, directly or through other views, on the relation being rebuilt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct DependentView {
    pub schema: String,
    pub name: String,
    /// `pg_class.relkind`: `v` (view) or `m` (materialized view).
    pub kind: String,
    /// `pg_get_viewdef`: names qualified as the session's search_path needs, which is the
    /// search_path it is recreated under (same session, same transaction).
    pub definition: String,
    /// `reloptions` (`security_barrier=true`, `check_option=local`, ...).
    pub options: Option<Vec<String>>,
    pub comment: Option<String>,
    /// Set when the owner is not the current user.
    pub owner: Option<String>,
    /// (column, comment).
    pub column_comments: Option<Vec<(String, String)>>,
    /// (grantee or `PUBLIC`, privilege, grantable), the owner's own left out.
    pub grants: Option<Vec<(String, String, bool)>>,
    /// `pg_get_indexdef` of each index (materialized views have them).
    pub indexes: Option<Vec<String>>,
}

impl DependentView {
    pub fn relation(&self, database: Option<&str>) -> Relation {
        Relation::new(database.map(str::to_string), &self.schema, &self.name)
    }

    pub fn relation_kind(&self) -> RelationKind {
        RelationKind::from_pg_relkind(self.kind.bytes().next().unwrap_or(b'v'))
    }
}

/// The recursive walk from `schema.identifier` to every view that reads it, directly or
/// through other views: `dependents(oid, depth)`. Catalog rows only: it locks no relation.
fn dependents_cte(schema: &str, identifier: &str) -> String {
    format!(
        "with recursive dependents(oid, depth) as (\n\
         \x20   select r.ev_class, 1\n\
         \x20   from pg_catalog.pg_depend d\n\
         \x20   join pg_catalog.pg_rewrite r on r.oid = d.objid\n\
         \x20   where d.classid = 'pg_catalog.pg_rewrite'::regclass\n\
         \x20     and d.refclassid = 'pg_catalog.pg_class'::regclass\n\
         \x20     and d.refobjid = (select c.oid from pg_catalog.pg_class c\n\
         \x20         join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n\
         \x20         where n.nspname = {schema} and c.relname = {identifier})\n\
         \x20     and r.ev_class <> d.refobjid\n\
         \x20   union all\n\
         \x20   select r.ev_class, dependents.depth + 1\n\
         \x20   from dependents\n\
         \x20   join pg_catalog.pg_depend d on d.refobjid = dependents.oid\n\
         \x20     and d.classid = 'pg_catalog.pg_rewrite'::regclass\n\
         \x20     and d.refclassid = 'pg_catalog.pg_class'::regclass\n\
         \x20   join pg_catalog.pg_rewrite r on r.oid = d.objid\n\
         \x20   where r.ev_class <> dependents.oid and dependents.depth < 100\n\
         )\n",
        schema = quote_literal(schema),
        identifier = quote_literal(identifier),
    )
}

/// `schema` and `name` of each view that depends on `schema.identifier`, sorted. It locks
/// nothing, so it is safe to ask before [`lock_views_statement`].
pub fn dependent_view_names_query(schema: &str, identifier: &str) -> String {
    format!(
        "{}select distinct n.nspname::text, c.relname::text\n\
         from dependents\n\
         join pg_catalog.pg_class c on c.oid = dependents.oid\n\
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n\
         order by 1, 2",
        dependents_cte(schema, identifier)
    )
}

/// Transaction-level advisory locks on the views' names, one after the other in sorted
/// order: two rebuilds whose cascades reach a common view then take turns instead of
/// deadlocking on it (reading a view's definition locks the relations it reads).
pub fn lock_views_statement(views: &[(String, String)]) -> String {
    let mut views: Vec<&(String, String)> = views.iter().collect();
    views.sort();
    views
        .iter()
        .map(|(schema, name)| {
            format!(
                "select pg_catalog.pg_advisory_xact_lock({VIEW_LOCK_SPACE}, pg_catalog.hashtext({}))",
                quote_literal(&format!("{schema}.{name}"))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first key of the dependent-view advisory locks (`view` in ASCII).
const VIEW_LOCK_SPACE: i32 = 0x7669_6577;

/// One JSON text per view that depends on `schema.identifier`, nearest first (a view comes
/// after every view it reads), parsed with [`parse_dependent_view`]. Reading definitions
/// locks the views and what they read: take [`lock_views_statement`] first.
pub fn dependent_views_query(schema: &str, identifier: &str) -> String {
    format!(
        "{}select json_build_object(\n\
         \x20   'schema', n.nspname, 'name', c.relname, 'kind', c.relkind,\n\
         \x20   'definition', pg_catalog.pg_get_viewdef(c.oid),\n\
         \x20   'options', c.reloptions,\n\
         \x20   'comment', pg_catalog.obj_description(c.oid, 'pg_class'),\n\
         \x20   'owner', case when c.relowner <> (select oid from pg_catalog.pg_roles where rolname = current_user)\n\
         \x20       then pg_catalog.pg_get_userbyid(c.relowner) end,\n\
         \x20   'column_comments', (select json_agg(json_build_array(a.attname, ds.description) order by a.attnum)\n\
         \x20       from pg_catalog.pg_attribute a\n\
         \x20       join pg_catalog.pg_description ds on ds.objoid = a.attrelid and ds.objsubid = a.attnum\n\
         \x20         and ds.classoid = 'pg_catalog.pg_class'::regclass\n\
         \x20       where a.attrelid = c.oid),\n\
         \x20   'grants', (select json_agg(json_build_array(\n\
         \x20         case when g.grantee = 0 then 'PUBLIC' else pg_catalog.pg_get_userbyid(g.grantee) end,\n\
         \x20         g.privilege_type, g.is_grantable))\n\
         \x20       from pg_catalog.aclexplode(c.relacl) g where g.grantee <> c.relowner),\n\
         \x20   'indexes', (select json_agg(pg_catalog.pg_get_indexdef(i.indexrelid))\n\
         \x20       from pg_catalog.pg_index i where i.indrelid = c.oid)\n\
         )::text\n\
         from (select oid, max(depth) as depth from dependents group by oid) deps\n\
         join pg_catalog.pg_class c on c.oid = deps.oid\n\
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace\n\
         order by deps.depth, n.nspname, c.relname",
        dependents_cte(schema, identifier)
    )
}

/// One row of [`dependent_views_query`].
pub fn parse_dependent_view(json: &str) -> Result<DependentView, serde_json::Error> {
    serde_json::from_str(json)
}

/// The statements that recreate `view` as it was: from `sql` (the project's compiled SQL,
/// when the view is one of its models) or from its stored definition, then its options,
/// owner, indexes, grants and comments.
pub fn recreate_statements(view: &DependentView, sql: Option<&str>) -> Vec<String> {
    let target = view.relation(None);
    let kind = view.relation_kind();
    let keyword = kind.sql_keyword();
    let options = match &view.options {
        Some(options) if !options.is_empty() => format!(" with ({})", options.join(", ")),
        _ => String::new(),
    };
    let body = match sql {
        Some(sql) => crate::ddl::wrap_body(sql),
        None => crate::ddl::wrap_body(&view.definition),
    };
    let mut statements = vec![format!("create {keyword} {target}{options} as {body}")];
    if let Some(owner) = &view.owner {
        statements.push(format!(
            "alter {keyword} {target} owner to {}",
            quote_ident(owner)
        ));
    }
    statements.extend(view.indexes.iter().flatten().cloned());
    for (grantee, privilege, grantable) in view.grants.iter().flatten() {
        let grantee = if grantee == "PUBLIC" {
            "public".to_string()
        } else {
            quote_ident(grantee)
        };
        let option = if *grantable { " with grant option" } else { "" };
        statements.push(format!(
            "grant {} on {target} to {grantee}{option}",
            privilege.to_lowercase()
        ));
    }
    if let Some(comment) = &view.comment {
        statements.push(format!(
            "comment on {keyword} {target} is {}",
            quote_literal(comment)
        ));
    }
    for (column, comment) in view.column_comments.iter().flatten() {
        statements.push(format!(
            "comment on column {target}.{} is {}",
            quote_ident(column),
            quote_literal(comment)
        ));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recreates_a_view_with_everything_it_had() {
        let view = parse_dependent_view(
            r#"{"schema": "gold", "name": "user daily", "kind": "v",
                "definition": " SELECT dim_user.user_id\n   FROM gold.dim_user;",
                "options": ["security_barrier=true"], "comment": "Users' days",
                "owner": "reporting", "column_comments": [["user_id", "The key"]],
                "grants": [["PUBLIC", "SELECT", false], ["analyst", "SELECT", true]],
                "indexes": null}"#,
        )
        .unwrap();
        insta::assert_snapshot!(recreate_statements(&view, None).join(";\n"), @r#"
        create view "gold"."user daily" with (security_barrier=true) as (
         SELECT dim_user.user_id
           FROM gold.dim_user
        );
        alter view "gold"."user daily" owner to "reporting";
        grant select on "gold"."user daily" to public;
        grant select on "gold"."user daily" to "analyst" with grant option;
        comment on view "gold"."user daily" is 'Users'' days';
        comment on column "gold"."user daily"."user_id" is 'The key'
        "#);
    }

    #[test]
    fn recreates_a_model_view_from_its_sql_and_a_materialized_view_with_indexes() {
        let mut view = parse_dependent_view(
            r#"{"schema": "gold", "name": "mv", "kind": "m", "definition": "SELECT 1;",
                "options": null, "comment": null, "owner": null, "column_comments": null,
                "grants": null, "indexes": ["CREATE INDEX mv_idx ON gold.mv USING btree (x)"]}"#,
        )
        .unwrap();
        insta::assert_snapshot!(recreate_statements(&view, None).join(";\n"), @r#"
        create materialized view "gold"."mv" as (
        SELECT 1
        );
        CREATE INDEX mv_idx ON gold.mv USING btree (x)
        "#);
        view.kind = "v".into();
        view.indexes = None;
        insta::assert_snapshot!(recreate_statements(&view, Some("select 2 as x -- note")).join(";\n"), @r#"
        create view "gold"."mv" as (
        select 2 as x -- note
        )
        "#);
    }
}
