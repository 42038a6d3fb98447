//! The catalog queries a run makes: every relation of the run's schemas at once (instead
//! of one `pg_class` lookup per node), and one relation when what the run knew may be
//! stale. Each row also carries a view's state fingerprint, which tells whether a view
//! is still what mart last created (see the runner's view skip).

use crate::quote::quote_literal;

/// A md5 of everything about a view that re-creating it with `create or replace view`
/// could change or depend on: its stored definition, owner, privileges, options and
/// comments, its columns, and the columns of the relations it reads (a `select *` view
/// picks up new upstream columns only when re-created). NULL for other relations. Follows
/// `case when c.relkind = 'v' and <which relations>`.
const VIEW_STATE: &str = " then pg_catalog.md5(pg_catalog.concat_ws(E'\\n', \
     pg_catalog.pg_get_viewdef(c.oid), c.relowner::text, coalesce(c.relacl::text, ''), \
     coalesce(c.reloptions::text, ''), coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''), \
     (select coalesce(pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) \
         || ' ' || coalesce(pg_catalog.col_description(c.oid, a.attnum), ''), ',' order by a.attnum), '') \
      from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), \
     (select coalesce(pg_catalog.string_agg(u.signature, ';' order by u.signature), '') from ( \
         select distinct rn.nspname || '.' || rc.relname || ' ' || rc.relkind::text || '(' || coalesce(( \
             select pg_catalog.string_agg(ua.attname || ' ' || pg_catalog.format_type(ua.atttypid, ua.atttypmod), ',' order by ua.attnum) \
             from pg_catalog.pg_attribute ua where ua.attrelid = rc.oid and ua.attnum > 0 and not ua.attisdropped), '') || ')' as signature \
         from pg_catalog.pg_rewrite r \
         join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass \
             and d.objid = r.oid and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass \
         join pg_catalog.pg_class rc on rc.oid = d.refobjid \
         join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace \
         where r.ev_class = c.oid and rc.oid <> c.oid) u))) end";

/// `(schema, name, relkind, view state)` of every relation in `schemas`; the view state
/// only for the relations `fingerprinted` (the run's own: computing it for every view of
/// a schema of thousands would cost a one-node run more than its model).
pub fn schema_relations_query<'a>(
    schemas: impl IntoIterator<Item = &'a str>,
    fingerprinted: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let list = schemas
        .into_iter()
        .map(quote_literal)
        .collect::<Vec<_>>()
        .join(", ");
    relations_query(
        &format!("n.nspname in ({list})"),
        &relations_filter(fingerprinted),
    )
}

/// The row of [`schema_relations_query`] for `schema.name` alone (no row: no relation).
pub fn relation_query(schema: &str, name: &str) -> String {
    relations_query(
        &format!(
            "n.nspname = {} and c.relname = {}",
            quote_literal(schema),
            quote_literal(name)
        ),
        "true",
    )
}

/// `(schema, name, column, type)` of every column of `relations` (schema, name) that
/// exist, in ordinal order, the type as `format_type` prints it: one query for all the
/// relations a static analysis reads whose columns the project does not give.
pub fn relation_columns_query<'a>(
    relations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let which = relations_filter(relations);
    format!(
        "select n.nspname::text, c.relname::text, a.attname::text, \
         pg_catalog.format_type(a.atttypid, a.atttypmod) \
         from pg_catalog.pg_attribute a \
         join pg_catalog.pg_class c on c.oid = a.attrelid \
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
         where {which} and a.attnum > 0 and not a.attisdropped \
         order by 1, 2, a.attnum"
    )
}

/// `(n.nspname, c.relname) in (values ...)` of `relations` (schema, name); `false` for
/// none. A VALUES list, which PostgreSQL hashes: a plain `in ((a, b), ...)` list of the
/// 10,000 relations of a large run exceeds its parser's stack depth.
fn relations_filter<'a>(relations: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let list = relations
        .into_iter()
        .map(|(schema, name)| format!("({}, {})", quote_literal(schema), quote_literal(name)))
        .collect::<Vec<_>>();
    if list.is_empty() {
        "false".to_string()
    } else {
        format!("(n.nspname, c.relname) in (values {})", list.join(", "))
    }
}

fn relations_query(filter: &str, fingerprinted: &str) -> String {
    format!(
        "select n.nspname::text, c.relname::text, c.relkind::text, \
         case when c.relkind = 'v' and {fingerprinted}{VIEW_STATE} \
         from pg_catalog.pg_class c \
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
         where {filter}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let all = schema_relations_query(["a", "b'c"], [("a", "m")]);
        assert!(all.ends_with("where n.nspname in ('a', 'b''c')"), "{all}");
        assert!(
            all.contains(
                "case when c.relkind = 'v' and (n.nspname, c.relname) in (values ('a', 'm')) then"
            ),
            "{all}"
        );
        let none = schema_relations_query(["a"], []);
        assert!(
            none.contains("case when c.relkind = 'v' and false then"),
            "{none}"
        );
        let one = relation_query("s", "m");
        assert!(
            one.contains("case when c.relkind = 'v' and true then"),
            "{one}"
        );
        assert!(
            one.ends_with("where n.nspname = 's' and c.relname = 'm'"),
            "{one}"
        );
        let columns = relation_columns_query([("a", "t"), ("b'c", "u")]);
        assert!(
            columns
                .contains("where (n.nspname, c.relname) in (values ('a', 't'), ('b''c', 'u')) and"),
            "{columns}"
        );
        assert!(relation_columns_query([]).contains("where false and"));
    }
}
