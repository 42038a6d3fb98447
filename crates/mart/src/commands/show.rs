//! `mart show`: compile one node (or `--inline` SQL), run it with a limit, print the rows,
//! as `dbt show` does: the compiled query always runs from source, never from the built
//! relation.

use std::sync::Arc;

use mart_compiler::Compiler;
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_graph::ResourceType;
use mart_jinja::QueryRunner;
use mart_postgres::{Connection, QueryResult};
use mart_runner::PgQueryRunner;

use crate::args::{GlobalArgs, ShowArgs, ShowOutput};
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &ShowArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let (label, name, sql) = match &args.inline {
        Some(inline) => {
            let nothing = std::collections::BTreeSet::new();
            let state = args.selection.state.as_deref();
            crate::state::defer(&session, &args.defer, state, &nothing, &nothing)?;
            let compiled = super::compile::compile_inline(&session, inline)?;
            (
                "inline node".to_string(),
                "inline_query".to_string(),
                compiled.sql,
            )
        }
        None => {
            let (name, sql) = selected_sql(&session, args)?;
            (format!("node '{name}'"), name, sql)
        }
    };
    let body = sql.trim_end_matches(|c: char| c.is_whitespace() || c == ';');
    let query = if args.limit >= 0 {
        format!(
            "select * from (\n{body}\n) as mart_show_preview limit {}",
            args.limit
        )
    } else {
        format!("select * from (\n{body}\n) as mart_show_preview")
    };
    let runtime = super::runtime(2)?;
    let config = session.connection_config();
    let (result, types) = runtime
        .block_on(async {
            let connection = Connection::connect(&config).await?;
            let types = connection.result_types(&query).await?;
            let result = connection.query(&query).await?;
            Ok::<_, mart_postgres::PgError>((result, types))
        })
        .map_err(|e| {
            Diagnostic::error(Code::Database, e.to_string())
                .with_note(format!("while previewing {label}"))
        })?;
    match args.output {
        ShowOutput::Text => {
            session.printer.info(&format!("Previewing {label}:"));
            session.printer.result(&table(&result, &types));
        }
        ShowOutput::Json => session
            .printer
            .result(&json(&name, &result, &types).to_string()),
    }
    Ok(Outcome::Success)
}

/// The one node `--select` names, and the SQL that previews it (a seed: its table).
fn selected_sql(session: &Session, args: &ShowArgs) -> Result<(String, String), Diagnostics> {
    let previewable = |t: ResourceType| {
        matches!(
            t,
            ResourceType::Model
                | ResourceType::Test
                | ResourceType::Analysis
                | ResourceType::Snapshot
                | ResourceType::Seed
        )
    };
    let usage = |message: String| {
        Diagnostic::error(Code::Usage, message)
            .with_help("name one model, test, analysis, snapshot or seed with --select, or pass SQL with --inline")
    };
    if args.selection.select.is_empty() {
        return Err(usage("mart show needs --select or --inline".into()).into());
    }
    let selected = session.select(&args.selection)?;
    let state = args.selection.state.as_deref();
    crate::state::defer(
        session,
        &args.defer,
        state,
        &selected,
        &std::collections::BTreeSet::new(),
    )?;
    let nodes: Vec<_> = selected
        .into_iter()
        .filter_map(|id| session.manifest.node(&id))
        .filter(|n| previewable(n.resource_type))
        .collect();
    let node = match nodes.as_slice() {
        [node] => *node,
        [] => {
            return Err(usage(format!(
                "the selection '{}' matches no node mart show can preview",
                args.selection.select.join(" ")
            ))
            .into())
        }
        many => {
            let names: Vec<&str> = many.iter().take(5).map(|n| n.name.as_str()).collect();
            return Err(usage(format!(
                "mart show previews one node; the selection matches {}: {}{}",
                many.len(),
                names.join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ))
            .into());
        }
    };
    if node.resource_type == ResourceType::Seed {
        return Ok((
            node.name.clone(),
            format!("select * from {}", node.relation),
        ));
    }
    let runtime = super::runtime(2)?;
    let runner: Arc<dyn QueryRunner> = Arc::new(PgQueryRunner::new(
        session.connection_config(),
        runtime.handle().clone(),
    ));
    let compiled =
        Compiler::new(&session.manifest, &session.env, Some(runner)).compile(&node.id, false)?;
    for line in &compiled.logs {
        session.printer.info(line);
    }
    Ok((node.name.clone(), compiled.sql))
}

/// PostgreSQL type names whose values are numbers (right-aligned, JSON numbers).
fn is_numeric(type_name: &str) -> bool {
    matches!(
        type_name,
        "int2" | "int4" | "int8" | "numeric" | "float4" | "float8" | "oid"
    )
}

/// A Markdown-style table, numbers right-aligned, as dbt prints one.
fn table(result: &QueryResult, types: &[String]) -> String {
    let cell = |v: &Option<String>| v.clone().unwrap_or_default();
    let widths: Vec<usize> = result
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            result
                .rows
                .iter()
                .map(|r| r.get(i).map_or(0, |v| cell(v).chars().count()))
                .chain([c.chars().count(), 2])
                .max()
                .unwrap_or(2)
        })
        .collect();
    let line = |cells: Vec<String>| format!("| {} |", cells.join(" | "));
    let pad = |text: &str, width: usize, right: bool| {
        let fill = " ".repeat(width.saturating_sub(text.chars().count()));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    let mut out = vec![
        line(
            result
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, w)| pad(c, *w, false))
                .collect(),
        ),
        line(widths.iter().map(|w| "-".repeat(*w)).collect()),
    ];
    for row in &result.rows {
        out.push(line(
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let numeric = types.get(i).is_some_and(|t| is_numeric(t));
                    pad(&row.get(i).map(cell).unwrap_or_default(), *w, numeric)
                })
                .collect(),
        ));
    }
    out.join("\n")
}

/// `{"node": name, "show": [{column: value}, ...]}`: columns in the query's order (as dbt
/// prints them), numbers and booleans typed.
fn json(name: &str, result: &QueryResult, types: &[String]) -> String {
    let rows: Vec<String> = result
        .rows
        .iter()
        .map(|row| {
            let fields: Vec<String> = result
                .columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    let text = row.get(i).cloned().flatten();
                    let kind = types.get(i).map_or("", String::as_str);
                    let value = match text {
                        None => serde_json::Value::Null,
                        Some(t) if kind == "bool" => serde_json::Value::Bool(t == "t"),
                        Some(t) if is_numeric(kind) => t
                            .parse::<serde_json::Number>()
                            .map_or(serde_json::Value::String(t), serde_json::Value::Number),
                        Some(t) => serde_json::Value::String(t),
                    };
                    format!("{}:{value}", serde_json::Value::from(column.as_str()))
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        })
        .collect();
    format!(
        "{{\"node\":{},\"show\":[{}]}}",
        serde_json::Value::from(name),
        rows.join(",")
    )
}
