//! `time_spine:` on a model's properties (dbt 1.9+): the model MetricFlow joins to for
//! dates, checked against the entry's columns as dbt checks it.

use std::sync::Arc;

use mart_diagnostics::{Diagnostic, SourceFile};
use serde_json::{json, Value};

use super::entry::{check_choice, Entry, GRANULARITIES};
use super::TimeSpine;

/// The time spines of a property file's `models:` entries.
pub(crate) fn time_spines(
    file: &Arc<SourceFile>,
    models: Option<&Value>,
) -> Result<Vec<TimeSpine>, Diagnostic> {
    let entries = models
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut spines = Vec::new();
    for raw in entries
        .iter()
        .filter(|m| m.get("time_spine").is_some_and(|t| !t.is_null()))
    {
        let e = Entry::new(file, "model", raw, super::list_start(file, "models"))?;
        let spine = e.get("time_spine").and_then(Value::as_object);
        let Some(column) = spine
            .and_then(|s| s.get("standard_granularity_column"))
            .and_then(Value::as_str)
        else {
            return Err(e.error(
                "time_spine",
                "time_spine needs standard_granularity_column",
                "add time_spine: {standard_granularity_column: <date column>}",
            ));
        };
        let columns: Vec<&Value> = e.list("columns")?.iter().collect();
        let names: Vec<&str> = columns
            .iter()
            .filter_map(|c| c.get("name").and_then(Value::as_str))
            .collect();
        let Some(standard) = columns
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(column))
        else {
            return Err(e.error(
                "standard_granularity_column",
                format!("the time spine's standard_granularity_column '{column}' is not a column of the model; its columns are: {}", names.join(", ")),
                "declare the column under columns: with its granularity",
            ));
        };
        let Some(granularity) = standard.get("granularity").and_then(Value::as_str) else {
            return Err(e.error(
                "standard_granularity_column",
                format!(
                    "the time spine's standard granularity column '{column}' has no granularity"
                ),
                "add granularity: day (or finer) to the column",
            ));
        };
        check_choice(granularity, &GRANULARITIES).map_err(|help| {
            e.error(
                "granularity",
                format!("granularity '{granularity}' of column '{column}' is not a granularity"),
                &help,
            )
        })?;
        let custom = spine
            .and_then(|s| s.get("custom_granularities"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut missing = Vec::new();
        let custom_granularities = custom
            .iter()
            .map(|c| {
                let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                let column_name = c.get("column_name").and_then(Value::as_str);
                let col = column_name.unwrap_or(name);
                if !names.contains(&col) {
                    missing.push(col.to_string());
                }
                json!({"name": name, "column_name": column_name})
            })
            .collect();
        if !missing.is_empty() {
            return Err(e.error(
                "custom_granularities",
                format!("the time spine's custom granularity columns {} are not columns of the model; its columns are: {}", missing.join(", "), names.join(", ")),
                "declare those columns under columns:",
            ));
        }
        spines.push(TimeSpine {
            model: e.name.clone(),
            column: column.to_string(),
            granularity: granularity.to_lowercase(),
            custom_granularities,
            file: file.clone(),
        });
    }
    Ok(spines)
}

/// Whether `granularity` is a day or finer: the semantic layer needs such a spine.
pub fn is_day_or_finer(granularity: &str) -> bool {
    let rank = |g: &str| GRANULARITIES.iter().position(|x| *x == g);
    matches!((rank(granularity), rank("day")), (Some(g), Some(day)) if g <= day)
}
