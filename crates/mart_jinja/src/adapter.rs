//! dbt's `adapter` object for PostgreSQL, with dbt-postgres's methods and signatures
//! (positional or keyword arguments). Methods that read the database run their queries
//! through the render's query runner; while parsing they do nothing and return what dbt
//! returns then (none, an empty list, false).

use std::sync::Arc;

use mart_adapter::{quote_ident, quote_literal};
use minijinja::value::{Object, Value};
use minijinja::{Environment, Error, ErrorKind, State};

use crate::args::{bind, Bound};
use crate::column::{string_type, ColumnValue};
use crate::functions::{query, scope};
use crate::namespaces::Registry;
use crate::query::{QueryTable, TableValue};
use crate::relation::{Policy, RelationType, RelationValue};

/// Registers the `adapter` and `api` globals; `adapter.dispatch` searches `registry`.
pub(crate) fn register(env: &mut Environment<'static>, registry: Arc<Registry>) {
    env.add_global("adapter", Value::from_object(Adapter { registry }));
    env.add_global("api", Value::from_object(crate::api::Api));
}

#[derive(Debug)]
struct Adapter {
    registry: Arc<Registry>,
}

impl Object for Adapter {
    fn call_method(
        self: &Arc<Self>,
        state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let call = format!("adapter.{method}");
        let bind = |params: &'static [&'static str]| bind(&call, args, params);
        match method {
            "type" => {
                bind(&[])?;
                Ok(Value::from("postgres"))
            }
            "date_function" => {
                bind(&[])?;
                Ok(Value::from("now()"))
            }
            "quote" => {
                let bound = bind(&["identifier"])?;
                Ok(Value::from(quote_ident(
                    &bound.required_string("identifier")?,
                )))
            }
            "quote_as_configured" => {
                let bound = bind(&["identifier", "quote_key"])?;
                let identifier = bound.required_string("identifier")?;
                // mart has no `quoting:` config: dbt-postgres quotes every part by default.
                Ok(Value::from(
                    match bound.required_string("quote_key")?.as_str() {
                        "database" | "schema" | "identifier" => quote_ident(&identifier),
                        _ => identifier,
                    },
                ))
            }
            "quote_seed_column" => {
                let bound = bind(&["column", "quote_config"])?;
                let column = bound.required_string("column")?;
                Ok(Value::from(
                    if bound.bool("quote_config")?.unwrap_or(true) {
                        quote_ident(&column)
                    } else {
                        column
                    },
                ))
            }
            "verify_database" => {
                let bound = bind(&["database"])?;
                verify_database(state, &bound.required_string("database")?)?;
                Ok(Value::from(""))
            }
            // dbt keeps a cache of the relations in the database and these keep it up to
            // date; mart has no such cache (it asks the catalog each time), so there is
            // nothing to do. The relations must still be given, as dbt requires.
            "cache_added" | "cache_dropped" => {
                let bound = bind(&["relation"])?;
                relation_arg(&bound, "relation")?;
                Ok(Value::from(""))
            }
            "cache_renamed" => {
                let bound = bind(&["from_relation", "to_relation"])?;
                relation_arg(&bound, "from_relation")?;
                relation_arg(&bound, "to_relation")?;
                Ok(Value::from(""))
            }
            // The query runner's connection commits every statement as it runs; a node's
            // build commits when it ends, and a materialization block only when it said so.
            "commit" => {
                bind(&[])?;
                if let Ok(scope) = scope(state) {
                    scope.mark_committed();
                }
                Ok(Value::from(""))
            }
            "get_relation" => {
                let bound = bind(&["database", "schema", "identifier"])?;
                let database = bound.string("database")?;
                // A relation without a schema names nothing in the catalog (dbt finds none).
                let Some(schema) = bound.string("schema")? else {
                    return Ok(Value::from(()));
                };
                let identifier = bound.required_string("identifier")?;
                get_relation(state, database, &schema, &identifier)
                    .map(|r| r.map_or(Value::from(()), RelationValue::into_value))
            }
            "load_relation" => {
                let bound = bind(&["relation"])?;
                let relation = relation_arg(&bound, "relation")?;
                if relation.kind == Some(RelationType::Cte) {
                    return Ok(Value::from(()));
                }
                let (schema, identifier) = relation.schema_and_identifier(&call)?;
                get_relation(state, relation.database.clone(), schema, identifier)
                    .map(|r| r.map_or(Value::from(()), RelationValue::into_value))
            }
            "already_exists" => {
                let bound = bind(&["schema", "name"])?;
                let found = get_relation(
                    state,
                    None,
                    &bound.required_string("schema")?,
                    &bound.required_string("name")?,
                )?;
                Ok(Value::from(found.is_some()))
            }
            "get_columns_in_relation" => {
                let bound = bind(&["relation"])?;
                let columns = columns_in_relation(state, relation_arg(&bound, "relation")?)?;
                Ok(Value::from_iter(
                    columns.into_iter().map(Value::from_object),
                ))
            }
            "get_missing_columns" => {
                let bound = bind(&["from_relation", "to_relation"])?;
                let from = columns_in_relation(state, relation_arg(&bound, "from_relation")?)?;
                let to = columns_in_relation(state, relation_arg(&bound, "to_relation")?)?;
                Ok(Value::from_iter(
                    from.into_iter()
                        .filter(|c| !to.iter().any(|t| t.column == c.column))
                        .map(Value::from_object),
                ))
            }
            "expand_target_column_types" => {
                let bound = bind(&["from_relation", "to_relation"])?;
                let from = relation_arg(&bound, "from_relation")?;
                let to = relation_arg(&bound, "to_relation")?;
                expand_target_column_types(state, from, to)?;
                Ok(Value::from(()))
            }
            "list_relations_without_caching" => {
                let bound = bind(&["schema_relation"])?;
                list_relations(state, relation_arg(&bound, "schema_relation")?)
            }
            "list_schemas" => {
                let bound = bind(&["database"])?;
                if let Some(database) = bound.string("database")? {
                    verify_database(state, &database)?;
                }
                let sql = "select distinct nspname::text from pg_catalog.pg_namespace order by 1";
                let table = run(state, sql)?.unwrap_or_default();
                Ok(Value::from_iter(
                    table
                        .rows
                        .into_iter()
                        .map(|mut r| Value::from(r.swap_remove(0))),
                ))
            }
            "check_schema_exists" => {
                let bound = bind(&["database", "schema"])?;
                if let Some(database) = bound.string("database")? {
                    verify_database(state, &database)?;
                }
                let sql = format!(
                    "select count(*) from pg_catalog.pg_namespace where nspname = {}",
                    quote_literal(&bound.required_string("schema")?)
                );
                let count = run(state, &sql)?.and_then(|t| first_cell(&t));
                Ok(Value::from(count.is_some_and(|c| c != "0")))
            }
            "create_schema" | "drop_schema" => {
                let bound = bind(&["relation"])?;
                let relation = relation_arg(&bound, "relation")?;
                if let Some(database) = &relation.database {
                    verify_database(state, database)?;
                }
                let schema = schema_only(relation, &call)?;
                let sql = if method == "create_schema" {
                    format!("create schema if not exists {schema}")
                } else {
                    format!("drop schema if exists {schema} cascade")
                };
                run(state, &sql)?;
                Ok(Value::from(()))
            }
            "drop_relation" => {
                let bound = bind(&["relation"])?;
                let relation = relation_arg(&bound, "relation")?;
                let keyword = match relation.kind {
                    None => {
                        return Err(Error::new(
                            ErrorKind::InvalidOperation,
                            format!("adapter.drop_relation(): the relation {relation} has no type, so mart cannot tell what to drop; get it with adapter.get_relation() or give type= to api.Relation.create()"),
                        ))
                    }
                    Some(RelationType::MaterializedView) => "materialized view",
                    Some(kind) => kind.as_str(),
                };
                run(
                    state,
                    &format!("drop {keyword} if exists {relation} cascade"),
                )?;
                Ok(Value::from(()))
            }
            "truncate_relation" => {
                let bound = bind(&["relation"])?;
                let relation = relation_arg(&bound, "relation")?;
                run(state, &format!("truncate table {relation}"))?;
                Ok(Value::from(()))
            }
            "rename_relation" => {
                let bound = bind(&["from_relation", "to_relation"])?;
                let from = relation_arg(&bound, "from_relation")?;
                let to = relation_arg(&bound, "to_relation")?;
                let new_name = to.identifier.as_deref().ok_or_else(|| {
                    bound.wrong_type(
                        "to_relation",
                        "a relation with an identifier",
                        &Value::from(to.to_string()),
                    )
                })?;
                run(
                    state,
                    &format!("alter table {from} rename to {}", quote_ident(new_name)),
                )?;
                Ok(Value::from(()))
            }
            "standardize_grants_dict" => {
                let bound = bind(&["grants_table"])?;
                standardize_grants(bound.required("grants_table")?)
            }
            "execute" => {
                let bound = bind(&["sql", "auto_begin", "fetch", "limit"])?;
                let sql = bound.required_string("sql")?;
                let mut table = run(state, &sql)?.unwrap_or_default();
                if !bound.bool("fetch")?.unwrap_or(false) {
                    table.rows.clear();
                } else if let Some(limit) = bound.int("limit")? {
                    table.rows.truncate(limit.max(0) as usize);
                }
                Ok(Value::from(vec![
                    crate::statement::response(&sql, table.rows_affected),
                    Value::from_object(TableValue::new(&table)),
                ]))
            }
            "dispatch" => crate::namespaces::dispatch(&self.registry, state, args),
            // Not UnknownMethod: that would hand the call on to the Python-method
            // fallback, whose message does not name the adapter.
            _ => Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("adapter.{method}() is not supported by mart"),
            )),
        }
    }
}

fn run(state: &State, sql: &str) -> Result<Option<QueryTable>, Error> {
    query(&*scope(state)?, sql)
}

fn first_cell(table: &QueryTable) -> Option<String> {
    table.rows.first()?.first()?.clone()
}

/// The relation argument `name`, which must be a relation.
fn relation_arg<'a>(bound: &'a Bound, name: &str) -> Result<&'a RelationValue, Error> {
    let value = bound.required(name)?;
    value
        .downcast_object_ref::<RelationValue>()
        .ok_or_else(|| bound.wrong_type(name, "a relation", value))
}

/// The database of the target (`target.database`), if the render has a target.
fn target_database(state: &State) -> Option<String> {
    let target = state.lookup("target")?;
    let database = target.get_attr("database").ok()?;
    database.as_str().map(str::to_string)
}

/// dbt-postgres works in the target's database only.
fn verify_database(state: &State, database: &str) -> Result<(), Error> {
    let database = database.trim_matches('"');
    match target_database(state) {
        Some(expected) if !database.eq_ignore_ascii_case(&expected) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("cross-database references are not allowed on postgres: got database '{database}', but the target's database is '{expected}'"),
        )),
        _ => Ok(()),
    }
}

/// The quoted schema of a relation for `create schema` and `drop schema`.
fn schema_only(relation: &RelationValue, call: &str) -> Result<String, Error> {
    let schema = RelationValue {
        identifier: None,
        include: Policy {
            database: false,
            identifier: false,
            ..relation.include
        },
        ..relation.clone()
    };
    if relation.schema.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{call}() needs a relation with a schema, got '{relation}'"),
        ));
    }
    Ok(schema.to_string())
}

fn kind_of_relkind(relkind: &str) -> Option<RelationType> {
    match relkind {
        "r" | "p" => Some(RelationType::Table),
        "v" => Some(RelationType::View),
        "m" => Some(RelationType::MaterializedView),
        _ => None,
    }
}

/// The table, view or materialized view named exactly `schema.identifier`, as dbt-postgres
/// finds it. A name that differs only in case is an error, as in dbt, rather than a miss.
fn get_relation(
    state: &State,
    database: Option<String>,
    schema: &str,
    identifier: &str,
) -> Result<Option<RelationValue>, Error> {
    let sql = format!(
        "select n.nspname::text, c.relname::text, c.relkind::text \
         from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
         where lower(n.nspname) = lower({}) and lower(c.relname) = lower({}) \
         and c.relkind in ('r', 'p', 'v', 'm') order by 1, 2",
        quote_literal(schema),
        quote_literal(identifier)
    );
    let Some(table) = run(state, &sql)? else {
        return Ok(None);
    };
    let database = database.or_else(|| target_database(state));
    let found = |row: &Vec<Option<String>>| {
        let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        RelationValue {
            database: database.clone(),
            schema: Some(cell(0)),
            identifier: Some(cell(1)),
            kind: kind_of_relkind(&cell(2)),
            include: Policy::ALL,
            quote: Policy::ALL,
            empty: false,
            event_time: None,
        }
    };
    let candidates: Vec<RelationValue> = table.rows.iter().map(found).collect();
    if let Some(exact) = candidates.iter().find(|r| {
        r.schema.as_deref() == Some(schema) && r.identifier.as_deref() == Some(identifier)
    }) {
        return Ok(Some(exact.clone()));
    }
    match candidates.first() {
        Some(close) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("adapter.get_relation() looked for {} and found only {close}, whose name differs in case; PostgreSQL names are case-sensitive when quoted: rename or drop one of them", quote_ident(schema) + "." + &quote_ident(identifier)),
        )),
        None => Ok(None),
    }
}

/// The columns of a relation in order, as dbt-postgres reads them from
/// `information_schema.columns`.
fn columns_in_relation(state: &State, relation: &RelationValue) -> Result<Vec<ColumnValue>, Error> {
    let Some(identifier) = &relation.identifier else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("adapter.get_columns_in_relation() needs a relation with an identifier, got '{relation}'"),
        ));
    };
    let schema_filter = relation
        .schema
        .as_deref()
        .map(|s| format!(" and table_schema = {}", quote_literal(s)))
        .unwrap_or_default();
    let sql = format!(
        "select column_name::text, data_type::text, character_maximum_length, numeric_precision, numeric_scale \
         from information_schema.columns where table_name = {}{schema_filter} order by ordinal_position",
        quote_literal(identifier)
    );
    let table = run(state, &sql)?.unwrap_or_default();
    Ok(table
        .rows
        .iter()
        .map(|row| {
            let text = |i: usize| row.get(i).cloned().flatten();
            let int = |i: usize| text(i).and_then(|t| t.parse::<i64>().ok());
            ColumnValue {
                column: text(0).unwrap_or_default(),
                dtype: text(1).unwrap_or_default(),
                char_size: int(2),
                numeric_precision: int(3),
                numeric_scale: int(4),
            }
        })
        .collect())
}

/// Widens the string columns of `to` that are shorter than the same column of `from`, the
/// way dbt does: a new column of the wider type takes the values, the old one is dropped
/// (cascade) and the new one takes its name.
fn expand_target_column_types(
    state: &State,
    from: &RelationValue,
    to: &RelationValue,
) -> Result<(), Error> {
    let reference = columns_in_relation(state, from)?;
    let target = columns_in_relation(state, to)?;
    for column in &reference {
        let Some(current) = target.iter().find(|t| t.column == column.column) else {
            continue;
        };
        if !current.can_expand_to(column)? {
            continue;
        }
        let new_type = string_type(column.string_size()?);
        let name = quote_ident(&column.column);
        let tmp = quote_ident(&format!("{}__dbt_alter", column.column));
        run(
            state,
            &format!(
                "alter table {to} add column {tmp} {new_type};\n\
                 update {to} set {tmp} = {name};\n\
                 alter table {to} drop column {name} cascade;\n\
                 alter table {to} rename column {tmp} to {name}"
            ),
        )?;
    }
    Ok(())
}

/// The tables, views and materialized views of the schema (matched with `ilike`, as
/// dbt-postgres does), as typed relations: tables first, then views, then materialized views.
fn list_relations(state: &State, schema_relation: &RelationValue) -> Result<Value, Error> {
    let Some(schema) = &schema_relation.schema else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("adapter.list_relations_without_caching() needs a relation with a schema, got '{schema_relation}'"),
        ));
    };
    let pattern = quote_literal(schema);
    let sql = format!(
        "select schemaname::text, tablename::text, 'table', 1 from pg_catalog.pg_tables where schemaname ilike {pattern} \
         union all select schemaname::text, viewname::text, 'view', 2 from pg_catalog.pg_views where schemaname ilike {pattern} \
         union all select schemaname::text, matviewname::text, 'materialized_view', 3 from pg_catalog.pg_matviews where schemaname ilike {pattern} \
         order by 4, 1, 2"
    );
    let table = run(state, &sql)?.unwrap_or_default();
    let database = schema_relation
        .database
        .clone()
        .or_else(|| target_database(state));
    Ok(Value::from_iter(table.rows.iter().map(|row| {
        let cell = |i: usize| row.get(i).cloned().flatten();
        RelationValue {
            database: database.clone(),
            schema: cell(0),
            identifier: cell(1),
            kind: cell(2).as_deref().and_then(RelationType::parse),
            include: Policy::ALL,
            quote: Policy::ALL,
            empty: false,
            event_time: None,
        }
        .into_value()
    })))
}

/// `{privilege: [grantee, ...]}` from the rows of a `show grants` query, in row order.
fn standardize_grants(table: &Value) -> Result<Value, Error> {
    let mut grants: Vec<(String, Vec<Value>)> = Vec::new();
    for row in table.try_iter()? {
        let grantee = row.get_item(&Value::from("grantee"))?;
        let privilege = row.get_item(&Value::from("privilege_type"))?;
        if grantee.is_undefined() || privilege.is_undefined() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "adapter.standardize_grants_dict(): each row needs the columns grantee and privilege_type",
            ));
        }
        let privilege = privilege.to_string();
        match grants.iter_mut().find(|(p, _)| *p == privilege) {
            Some((_, grantees)) => grantees.push(grantee),
            None => grants.push((privilege, vec![grantee])),
        }
    }
    Ok(Value::from_iter(
        grants.into_iter().map(|(p, g)| (p, Value::from(g))),
    ))
}
