//! `saved_queries:` entries: metrics with their group-bys and filters, and their exports, in
//! the shape dbt writes them to the manifest (exports get their schema and alias when the
//! manifest is built, from the target).

use std::sync::Arc;

use mart_diagnostics::{Diagnostic, SourceFile};
use serde_json::{json, Map, Value};

use super::entry::{check_choice, where_filters, Entry};
use super::list_start;
use super::{Export, SavedQuery};

const EXPORT_AS: [&str; 2] = ["table", "view"];

pub(crate) fn saved_query(file: &Arc<SourceFile>, raw: &Value) -> Result<SavedQuery, Diagnostic> {
    let e = Entry::new(file, "saved query", raw, list_start(file, "saved_queries"))?;
    let Some(Value::Object(params)) = e.get("query_params") else {
        return Err(e.error(
            "name",
            "has no query_params mapping",
            "add query_params: {metrics: [...], group_by: [...]}",
        ));
    };
    let texts = |key: &str| -> Result<Vec<String>, Diagnostic> {
        match params.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        e.error(
                            key,
                            format!("query_params.{key} must be a list of text"),
                            "",
                        )
                    })
                })
                .collect(),
            Some(_) => Err(e.error(key, format!("query_params.{key} must be a list"), "")),
        }
    };
    let metrics = texts("metrics")?;
    let query_params = json!({
        "metrics": metrics,
        "group_by": texts("group_by")?,
        "where": where_filters(params.get("where")).map_err(|m| e.error("where", m, ""))?,
        "order_by": texts("order_by")?,
        "limit": params.get("limit"),
    });
    let query_config = e.config()?;
    let exports = e
        .list("exports")?
        .iter()
        .map(|v| {
            let x = Entry::new(file, "export", v, e.start)?;
            let config = x.config()?;
            // An export's own export_as, else its saved query's.
            let export_as = config
                .get("export_as")
                .or_else(|| query_config.get("export_as"))
                .and_then(Value::as_str);
            let Some(kind) = export_as else {
                return Err(x.error(
                    "name",
                    "has no export_as",
                    "add config: {export_as: table} (or view), as dbt requires",
                ));
            };
            check_choice(kind, &EXPORT_AS).map_err(|help| {
                x.error(
                    "export_as",
                    format!("export_as '{kind}' is not table or view"),
                    &help,
                )
            })?;
            Ok(Export {
                name: x.name.clone(),
                config,
            })
        })
        .collect::<Result<Vec<_>, Diagnostic>>()?;
    let tags = match e.get("tags") {
        None => Vec::new(),
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(t)) => t
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(_) => return Err(e.error("tags", "`tags:` must be text or a list", "")),
    };
    let mut body = Map::new();
    body.insert("query_params".into(), query_params);
    body.insert("description".into(), json!(e.text("description")?));
    body.insert("label".into(), json!(e.text("label")?));
    Ok(SavedQuery {
        name: e.name.clone(),
        metrics,
        exports,
        tags,
        body,
        config: query_config,
        file: file.clone(),
    })
}
