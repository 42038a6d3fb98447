//! dbt's `statement` block and `load_result()`: `{% call statement('name', fetch_result=True) %}
//! sql {% endcall %}` runs the block's SQL through the query runner and keeps the result
//! under its name for `load_result('name')`.

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::functions::{query, scope};
use crate::query::{QueryTable, TableValue};

/// `statement(name=None, fetch_result=False, auto_begin=True, language='sql')`, called as
/// a `{% call %}` block: the block's text is the SQL.
pub(crate) fn statement(
    state: &State,
    name: Option<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    // A macro in dbt: the node depends on it, and what its block calls is its own.
    let render = scope(state)?;
    render.note_macro_call(crate::namespaces::INTERNAL_PACKAGE, "statement");
    let _depth = render.enter_macro();
    let name: Option<String> = match kwargs.get::<Option<String>>("name")? {
        Some(n) => Some(n),
        None => name.filter(|v| !v.is_none()).map(|v| v.to_string()),
    };
    let fetch_result: Option<bool> = kwargs.get("fetch_result")?;
    let _auto_begin: Option<bool> = kwargs.get("auto_begin")?;
    let language: Option<String> = kwargs.get("language")?;
    let caller: Option<Value> = kwargs.get("caller")?;
    kwargs.assert_all_used()?;
    if language.as_deref().is_some_and(|l| l != "sql") {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "statement() runs SQL only; drop language= or set it to 'sql'",
        ));
    }
    let Some(caller) = caller else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "statement() is a block: write {% call statement('name') %} sql {% endcall %}",
        ));
    };
    let sql = caller.call(state, &[])?.to_string();
    let scope = scope(state)?;
    if sql
        .trim()
        .trim_end_matches(';')
        .trim()
        .eq_ignore_ascii_case("commit")
    {
        scope.mark_committed();
    }
    let Some(table) = query(&scope, &sql)? else {
        return Ok(String::new());
    };
    if let Some(name) = name {
        // Without fetch_result the table is empty; the response still counts the rows.
        let kept = if fetch_result.unwrap_or(false) {
            table
        } else {
            QueryTable {
                rows_affected: table.rows_affected,
                ..QueryTable::default()
            }
        };
        let kept = StoredResult { table: kept, sql };
        scope
            .results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, kept);
    }
    Ok(String::new())
}

/// What a named statement left for `load_result()`.
#[derive(Clone, Debug)]
pub(crate) struct StoredResult {
    table: QueryTable,
    /// The SQL that ran, for its command tag and for target/run.
    pub(crate) sql: String,
}

impl StoredResult {
    /// PostgreSQL's command tag (`SELECT 3`, `CREATE VIEW`): dbt-postgres's message.
    pub(crate) fn message(&self) -> String {
        command_tag(&self.sql, self.table.rows_affected).1
    }

    pub(crate) fn rows_affected(&self) -> Option<u64> {
        self.table.rows_affected
    }
}

/// dbt-postgres's response: the server's command tag (`SELECT 3` for `create table ...
/// as`, `INSERT 0 2`, `CREATE VIEW`) and its code, the tag without numbers. The driver
/// does not pass the tag on, so it is read from the words of the last statement of `sql`.
/// A statement starting with `with` counts as a `SELECT`.
fn command_tag(sql: &str, rows: Option<u64>) -> (String, String) {
    let code = command_code(sql);
    let rows = rows.unwrap_or(0);
    let message = match code.as_str() {
        "INSERT" => format!("INSERT 0 {rows}"),
        "SELECT" | "UPDATE" | "DELETE" | "MERGE" | "COPY" | "FETCH" | "MOVE" => {
            format!("{code} {rows}")
        }
        _ => code.clone(),
    };
    (code, message)
}

fn command_code(sql: &str) -> String {
    let last = sql
        .split(';')
        .rev()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    let all: Vec<String> = last.split_whitespace().map(str::to_uppercase).collect();
    // `create table ... as` and `create materialized view ... as` report the rows selected.
    let creates_from_query = all.first().is_some_and(|w| w == "CREATE")
        && all.iter().any(|w| w == "AS")
        && all.iter().any(|w| w == "TABLE" || w == "MATERIALIZED");
    if creates_from_query {
        return "SELECT".to_string();
    }
    let words: Vec<String> = all.into_iter().take(4).collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "WITH" => "SELECT".to_string(),
        first @ ("CREATE" | "DROP" | "ALTER") => {
            let mut object = Vec::new();
            for w in words[1..].iter().map(String::as_str) {
                if matches!(
                    w,
                    "OR" | "REPLACE" | "TEMP" | "TEMPORARY" | "UNLOGGED" | "UNIQUE"
                ) {
                    continue;
                }
                object.push(w);
                if w != "MATERIALIZED" {
                    break;
                }
            }
            format!("{first} {}", object.join(" "))
                .trim_end()
                .to_string()
        }
        "TRUNCATE" => "TRUNCATE TABLE".to_string(),
        first => first.to_string(),
    }
}

/// `load_result('name')`: `.table`, `.data` (rows) and `.response` of a named statement,
/// or none when no statement of that name ran.
pub(crate) fn load_result(state: &State, name: String) -> Result<Value, Error> {
    let scope = scope(state)?;
    let results = scope.results.lock().unwrap_or_else(|e| e.into_inner());
    Ok(results.get(&name).map_or(Value::from(()), |stored| {
        Value::from_object(StatementResult {
            table: TableValue::new(&stored.table),
            response: response(&stored.sql, stored.table.rows_affected),
        })
    }))
}

/// dbt's AdapterResponse of `sql`: `rows_affected`, `code` and `_message` (`INSERT 0 3`).
pub(crate) fn response(sql: &str, rows_affected: Option<u64>) -> Value {
    let (code, message) = command_tag(sql, rows_affected);
    Value::from_iter([
        ("rows_affected", Value::from(rows_affected.unwrap_or(0))),
        ("code", Value::from(code)),
        ("_message", Value::from(message)),
    ])
}

#[derive(Debug)]
struct StatementResult {
    table: TableValue,
    response: Value,
}

impl Object for StatementResult {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "table" => Some(Value::from_object(self.table.clone())),
            "data" => Some(self.table.0.matrix()),
            "response" => Some(self.response.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["response", "data", "table"])
    }

    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
}

#[cfg(test)]
mod tests {
    use super::{command_code, command_tag};

    #[test]
    fn response_codes_name_the_command() {
        let cases = [
            ("insert into t values (1)", "INSERT"),
            ("  select 1", "SELECT"),
            ("with x as (select 1) select * from x", "SELECT"),
            ("create or replace view v as select 1", "CREATE VIEW"),
            ("create unlogged table t (id int)", "CREATE TABLE"),
            (
                "drop materialized view if exists m",
                "DROP MATERIALIZED VIEW",
            ),
            ("", ""),
            ("create table t as (select 1)", "SELECT"),
            (
                "set x = 1; create materialized view m as select 1;\n",
                "SELECT",
            ),
            ("truncate t", "TRUNCATE TABLE"),
        ];
        for (sql, code) in cases {
            assert_eq!(command_code(sql), code, "{sql}");
        }
    }

    #[test]
    fn messages_are_the_servers_command_tags() {
        let tag = |sql: &str, rows| command_tag(sql, Some(rows)).1;
        assert_eq!(tag("create table t as select 1", 3), "SELECT 3");
        assert_eq!(tag("insert into t select 1", 2), "INSERT 0 2");
        assert_eq!(tag("create view v as select 1", 0), "CREATE VIEW");
        assert_eq!(tag("delete from t", 4), "DELETE 4");
    }
}
