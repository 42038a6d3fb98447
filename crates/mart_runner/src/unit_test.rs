//! Unit tests: the model's SQL run on the given rows (typed as the real inputs' columns,
//! read from the database as dbt reads them), compared with the expected rows by an
//! `except all` both ways (order-insensitive, duplicates counted), as dbt compares.

use mart_adapter::{quote_ident, Relation};
use mart_compiler::{write_artifact, GivenFixture};
use mart_diagnostics::{closest_name, Code, Diagnostic};
use mart_graph::NodeId;
use mart_postgres::{Connection, ResultColumn};
use mart_project::{FixtureRows, FixtureTable};
use serde_json::Value;

use crate::materialize::{compile_with, db_error};
use crate::schedule::RunContext;
use crate::{NodeStatus, Ran};

pub(crate) async fn run(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let manifest = &ctx.manifest;
    let node = ctx.node(id)?;
    let unit = node
        .unit_test
        .as_deref()
        .ok_or_else(|| Diagnostic::error(Code::UnknownRef, format!("'{id}' is not a unit test")))?;
    let fail = |message: String| {
        Diagnostic::error(
            Code::PropertyFile,
            format!("unit test '{}': {message}", node.name),
        )
        .with_span(unit.span.clone())
    };
    let mut inputs = Vec::with_capacity(unit.given.len());
    for given in &unit.given {
        let relation = input_relation(ctx, given, &unit.model)?;
        let columns = connection
            .columns(&relation.schema, &relation.identifier)
            .await
            .map_err(|e| db_error(&e, None))?;
        inputs.push(input_sql(given, &columns).map_err(fail)?);
    }
    let (compiled, _) = compile_with(ctx, id, connection, |compiler| {
        compiler.compile_unit_test(id, &inputs)
    })?;
    let while_testing = || format!("while running unit test {}", node.name);
    let probe = format!(
        "select * from (\n{}\n) as model_output limit 0",
        compiled.sql
    );
    let actual = connection
        .result_columns(&probe)
        .await
        .map_err(|e| db_error(&e, None).with_note(while_testing()))?;
    let (expected_sql, columns) = match &unit.expect.rows {
        FixtureRows::Table(table) => (typed_rows(table, &actual), table.columns.clone()),
        FixtureRows::Sql(sql) => {
            let columns = connection
                .query(&format!("select * from ({sql}) as expected limit 0"))
                .await
                .map_err(|e| db_error(&e, None).with_note(while_testing()))?
                .columns;
            (sql.clone(), columns)
        }
    };
    for column in &columns {
        if !actual.iter().any(|c| &c.name == column) {
            let d = fail(format!(
                "expected column '{column}' is not a column the model returns"
            ));
            return Err(
                match closest_name(column, actual.iter().map(|c| c.name.as_str())) {
                    Some(close) => d.with_help(format!("did you mean '{close}'?")),
                    None => d.with_help("expect only columns of the model's select"),
                },
            );
        }
    }
    let query = diff_query(&compiled.sql, &expected_sql, &columns);
    if let Some(path) = manifest.run_path(id) {
        write_artifact(&path, &format!("{query};\n"))?;
    }
    let diff = connection
        .query(&query)
        .await
        .map_err(|e| db_error(&e, None).with_note(while_testing()))?;
    let lines = diff_lines(&diff.rows);
    let failures = lines.len() as u64;
    let (status, message) = if failures == 0 {
        (NodeStatus::Success, "PASS".to_string())
    } else {
        (
            NodeStatus::Fail,
            format!(
                "actual differs from expected:\n\n{}",
                diff_table(&columns, &lines)
            ),
        )
    };
    Ok(Ran {
        status,
        message,
        rows_affected: None,
        failures: Some(failures),
        compiled_sql: Some(compiled.sql),
        ..Ran::default()
    })
}

/// The relation whose columns type a given input: its node's or source's, or the
/// model's own for `this`.
fn input_relation(
    ctx: &RunContext,
    given: &GivenFixture,
    model: &NodeId,
) -> Result<Relation, Diagnostic> {
    let id = given.node.as_ref().unwrap_or(model);
    if let Some(source) = ctx.manifest.sources.get(id) {
        return Ok(source.relation.clone());
    }
    Ok(ctx.node(id)?.relation.clone())
}

/// The SQL of a given input's rows: every column of the real relation (typed as there;
/// NULL where the rows give none), then any column only the rows name (untyped). A
/// relation not in the database leaves every column untyped.
fn input_sql(given: &GivenFixture, columns: &[(String, String)]) -> Result<String, String> {
    let table = match &given.fixture.rows {
        FixtureRows::Sql(sql) => return Ok(sql.clone()),
        FixtureRows::Table(table) => table,
    };
    if !columns.is_empty() {
        if let Some(unknown) = table
            .columns
            .iter()
            .find(|c| !columns.iter().any(|(n, _)| n == *c))
        {
            let hint = closest_name(unknown, columns.iter().map(|(n, _)| n.as_str()))
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            return Err(format!(
                "input {} has no column '{unknown}'{hint}",
                given.input
            ));
        }
    }
    let typed: Vec<(String, Option<String>)> = if columns.is_empty() {
        table.columns.iter().map(|c| (c.clone(), None)).collect()
    } else {
        columns
            .iter()
            .map(|(n, t)| (n.clone(), Some(t.clone())))
            .collect()
    };
    Ok(select_rows(table, &typed))
}

/// The expected rows, each value cast to the type of the model's column of that name.
fn typed_rows(table: &FixtureTable, actual: &[ResultColumn]) -> String {
    let typed: Vec<(String, Option<String>)> = table
        .columns
        .iter()
        .map(|c| {
            let data_type = actual
                .iter()
                .find(|a| &a.name == c)
                .map(|a| a.type_name.clone());
            (c.clone(), data_type)
        })
        .collect();
    select_rows(table, &typed)
}

/// `select cast(v as t) as "c", ... union all ...`; no rows is one typed row filtered out.
fn select_rows(table: &FixtureTable, columns: &[(String, Option<String>)]) -> String {
    let row_sql = |values: Option<&Vec<Value>>| -> String {
        let items: Vec<String> = columns
            .iter()
            .map(|(name, data_type)| {
                let value = values
                    .and_then(|v| table.columns.iter().position(|c| c == name).map(|i| &v[i]))
                    .unwrap_or(&Value::Null);
                let literal = literal(value);
                let expr = match data_type {
                    Some(t) => format!("cast({literal} as {t})"),
                    None => literal,
                };
                format!("{expr} as {}", quote_ident(name))
            })
            .collect();
        format!("select {}", items.join(", "))
    };
    if table.rows.is_empty() {
        return format!("{} where false", row_sql(None));
    }
    table
        .rows
        .iter()
        .map(|r| row_sql(Some(r)))
        .collect::<Vec<_>>()
        .join("\nunion all\n")
}

fn literal(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => format!("'{}'", other.to_string().replace('\'', "''")),
    }
}

/// Rows only expected (`-`) and rows only returned (`+`), duplicates counted.
fn diff_query(model_sql: &str, expected_sql: &str, columns: &[String]) -> String {
    let list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let list = if list.is_empty() {
        "1 as none".into()
    } else {
        list
    };
    format!(
        "with actual as (\n    select {list} from (\n{model_sql}\n    ) as model_output\n), expected as (\n    select {list} from (\n{expected_sql}\n    ) as expected_rows\n)\nselect '-' as diff, * from (select * from expected except all select * from actual) as missing\nunion all\nselect '+' as diff, * from (select * from actual except all select * from expected) as extra\norder by 2, 1"
    )
}

/// The lines of dbt's diff (its daff table) from the diff query's rows (`-` expected
/// rows the model did not return, `+` rows it returned unexpectedly, in column order):
/// the n-th missing row and the n-th extra one pair up as one changed line, `→` with
/// `expected→actual` in the cells that differ; the rest stay `---` / `+++`. dbt counts
/// these lines as the test's failures.
fn diff_lines(rows: &[Vec<Option<String>>]) -> Vec<Vec<String>> {
    let cells = |row: &Vec<Option<String>>| -> Vec<String> {
        row.iter()
            .skip(1)
            .map(|v| v.clone().unwrap_or_else(|| "null".into()))
            .collect()
    };
    let marked = |marker: &str| -> Vec<Vec<String>> {
        rows.iter()
            .filter(|row| row.first().cloned().flatten().as_deref() == Some(marker))
            .map(cells)
            .collect()
    };
    let (missing, extra) = (marked("-"), marked("+"));
    let mut lines = Vec::with_capacity(missing.len().max(extra.len()));
    for i in 0..missing.len().max(extra.len()) {
        let line = match (missing.get(i), extra.get(i)) {
            (Some(expected), Some(actual)) => std::iter::once("→".to_string())
                .chain(expected.iter().zip(actual).map(|(e, a)| {
                    if e == a {
                        e.clone()
                    } else {
                        format!("{e}→{a}")
                    }
                }))
                .collect(),
            (Some(expected), None) => std::iter::once("---".to_string())
                .chain(expected.iter().cloned())
                .collect(),
            (None, Some(actual)) => std::iter::once("+++".to_string())
                .chain(actual.iter().cloned())
                .collect(),
            (None, None) => continue,
        };
        lines.push(line);
    }
    lines
}

/// dbt's diff table: a `@@` header over the [`diff_lines`], columns padded to line up.
fn diff_table(columns: &[String], diff: &[Vec<String>]) -> String {
    let mut lines: Vec<Vec<String>> = vec![std::iter::once("@@".to_string())
        .chain(columns.iter().cloned())
        .collect()];
    lines.extend(diff.iter().cloned());
    let width = |i: usize| {
        lines
            .iter()
            .map(|l| l.get(i).map_or(0, |c| c.chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..=columns.len()).map(width).collect();
    lines
        .iter()
        .map(|l| {
            l.iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join(",")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// dbt runs a model's unit tests before the model: each unit test whose model runs too
/// waits for the model's own run parents instead of the model, and the model waits for
/// it, so a failing unit test skips the model and what follows it.
pub(crate) fn run_before_models(
    manifest: &mart_compiler::Manifest,
    order: &[NodeId],
    parents: &mut std::collections::HashMap<NodeId, std::collections::BTreeSet<NodeId>>,
) {
    for id in order {
        let Some(model) = manifest
            .node(id)
            .and_then(|n| n.unit_test.as_deref())
            .map(|u| &u.model)
        else {
            continue;
        };
        let Some(model_parents) = parents.get(model).cloned() else {
            continue;
        };
        parents.insert(id.clone(), model_parents);
        if let Some(set) = parents.get_mut(model) {
            set.insert(id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cast_and_missing_values_are_null() {
        let table = FixtureTable {
            columns: vec!["id".into(), "name".into()],
            rows: vec![
                vec![Value::from(1), Value::Null],
                vec![Value::from(2), Value::from("o'k")],
            ],
        };
        let typed = vec![
            ("id".to_string(), Some("integer".to_string())),
            ("name".to_string(), None),
        ];
        insta::assert_snapshot!(select_rows(&table, &typed), @r#"
        select cast(1 as integer) as "id", null as "name"
        union all
        select cast(2 as integer) as "id", 'o''k' as "name"
        "#);
        let empty = FixtureTable {
            columns: vec!["id".into()],
            rows: vec![],
        };
        assert_eq!(
            select_rows(
                &empty,
                &[
                    ("id".into(), Some("text".into())),
                    ("x".into(), Some("date".into()))
                ]
            ),
            r#"select cast(null as text) as "id", cast(null as date) as "x" where false"#
        );
    }

    #[test]
    fn the_diff_table_lines_up() {
        let row = |marker: &str, id: &str, name: Option<&str>| {
            vec![Some(marker.into()), Some(id.into()), name.map(Into::into)]
        };
        let columns = ["id".to_string(), "name".to_string()];
        // One changed row, as dbt shows it: one failure.
        let changed = diff_lines(&[row("-", "2", Some("b")), row("+", "2", None)]);
        assert_eq!(changed.len(), 1);
        insta::assert_snapshot!(diff_table(&columns, &changed), @r"
        @@,id,name
        → ,2 ,b→null
        ");
        // A row too many and one changed: two failures.
        let more = diff_lines(&[
            row("-", "1", Some("a")),
            row("+", "1", Some("z")),
            row("+", "30", Some("c")),
        ]);
        assert_eq!(more.len(), 2);
        insta::assert_snapshot!(diff_table(&columns, &more), @r"
        @@ ,id,name
        →  ,1 ,a→z
        +++,30,c
        ");
    }
}
