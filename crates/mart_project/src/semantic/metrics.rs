//! `metrics:` entries (simple, ratio, cumulative, derived, conversion) in the shape dbt
//! writes them to the manifest; which measures and metrics each reads is kept for the
//! checks against the rest of the project.

use std::sync::Arc;

use mart_diagnostics::{Diagnostic, SourceFile};
use serde_json::{json, Map, Value};

use super::entry::{check_choice, where_filters, window, Entry, GRANULARITIES};
use super::list_start;
use super::Metric;

const TYPES: [&str; 5] = ["simple", "ratio", "cumulative", "derived", "conversion"];
const PERIOD_AGGS: [&str; 3] = ["first", "last", "average"];
const CALCULATIONS: [&str; 2] = ["conversion", "conversion_rate"];

pub(crate) fn metric(file: &Arc<SourceFile>, raw: &Value) -> Result<Metric, Diagnostic> {
    let e = Entry::new(file, "metric", raw, list_start(file, "metrics"))?;
    let label = e.required("label", "dbt requires a label: add label: <display name>")?;
    let Some(kind) = e.choice("type", &TYPES)? else {
        return Err(e.error(
            "name",
            "has no type",
            "add type: simple, ratio, cumulative, derived or conversion",
        ));
    };
    let params = match e.get("type_params") {
        Some(Value::Object(p)) => p,
        _ => {
            return Err(e.error(
                "name",
                "has no type_params mapping",
                "add type_params: with what the metric's type needs",
            ))
        }
    };
    let bad = |key: &str, message: String| e.error(key, message, "");
    let mut measures = Vec::new();
    let mut metrics = Vec::new();
    let measure = params
        .get("measure")
        .map(|m| measure_input(m).map_err(|m| bad("measure", m)))
        .transpose()?;
    measures.extend(measure.iter().map(|m| m["name"].clone()));
    let input_of = |key: &str, metrics: &mut Vec<Value>| -> Result<Value, Diagnostic> {
        match params.get(key) {
            None | Some(Value::Null) => Ok(Value::Null),
            Some(v) => {
                let input = metric_input(v).map_err(|m| bad(key, m))?;
                metrics.push(input["name"].clone());
                Ok(input)
            }
        }
    };
    let numerator = input_of("numerator", &mut metrics)?;
    let denominator = input_of("denominator", &mut metrics)?;
    let inputs = match params.get("metrics") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| metric_input(v).map_err(|m| bad("metrics", m)))
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(bad("metrics", "`metrics:` must be a list".into())),
    };
    metrics.extend(inputs.iter().map(|m| m["name"].clone()));
    let granularity = |key: &str, value: Option<&Value>| -> Result<Value, Diagnostic> {
        match value.and_then(Value::as_str) {
            None => Ok(Value::Null),
            Some(g) => {
                check_choice(g, &GRANULARITIES).map_err(|help| {
                    e.error(key, format!("{key} '{g}' is not a granularity"), &help)
                })?;
                Ok(json!(g.to_lowercase()))
            }
        }
    };
    let window_of = |key: &str, value: Option<&Value>| -> Result<Value, Diagnostic> {
        match value.and_then(Value::as_str) {
            None => Ok(Value::Null),
            Some(text) => window(text).map_err(|m| bad(key, m)),
        }
    };
    if params.contains_key("window") || params.contains_key("grain_to_date") {
        return Err(e.error(
            "type_params",
            "type_params.window and type_params.grain_to_date (dbt's deprecated form) are not supported by mart",
            "nest them under type_params.cumulative_type_params",
        ));
    }
    let cumulative = match params.get("cumulative_type_params") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => {
            let period_agg = c
                .get("period_agg")
                .and_then(Value::as_str)
                .unwrap_or("first");
            check_choice(period_agg, &PERIOD_AGGS).map_err(|help| {
                e.error(
                    "period_agg",
                    format!("period_agg '{period_agg}' is not first, last or average"),
                    &help,
                )
            })?;
            json!({
                "window": window_of("window", c.get("window"))?,
                "grain_to_date": granularity("grain_to_date", c.get("grain_to_date"))?,
                "period_agg": period_agg.to_lowercase(),
                // dbt's manifest has it; the semantic manifest drops it.
                "metric": null,
            })
        }
    };
    let conversion = match params.get("conversion_type_params") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => {
            let part = |key: &str| -> Result<Value, Diagnostic> {
                let v = c.get(key).ok_or_else(|| {
                    e.error(
                        "conversion_type_params",
                        format!("conversion_type_params needs {key}"),
                        "add base_measure, conversion_measure and entity",
                    )
                })?;
                measure_input(v).map_err(|m| bad(key, m))
            };
            let (base, converted) = (part("base_measure")?, part("conversion_measure")?);
            measures.push(base["name"].clone());
            measures.push(converted["name"].clone());
            let Some(entity) = c.get("entity").and_then(Value::as_str) else {
                return Err(e.error(
                    "conversion_type_params",
                    "conversion_type_params needs entity",
                    "add entity: <entity name>",
                ));
            };
            let calculation = c
                .get("calculation")
                .and_then(Value::as_str)
                .unwrap_or("conversion_rate");
            check_choice(calculation, &CALCULATIONS).map_err(|help| {
                e.error(
                    "calculation",
                    format!("calculation '{calculation}' is not conversion or conversion_rate"),
                    &help,
                )
            })?;
            json!({
                "base_measure": base,
                "conversion_measure": converted,
                "entity": entity,
                "calculation": calculation.to_lowercase(),
                "window": window_of("window", c.get("window"))?,
                "constant_properties": c.get("constant_properties").map(constant_properties).unwrap_or(Value::Null),
            })
        }
    };
    let needs = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(e.error(
                "type_params",
                format!("a {kind} metric needs {what}"),
                &format!("add {what} under type_params"),
            ))
        }
    };
    match kind.as_str() {
        "simple" | "cumulative" => needs(measure.is_some(), "type_params.measure")?,
        "ratio" => needs(
            !numerator.is_null() && !denominator.is_null(),
            "type_params.numerator and denominator",
        )?,
        "derived" => needs(
            params.get("expr").is_some() && !inputs.is_empty(),
            "type_params.expr and metrics",
        )?,
        _ => needs(!conversion.is_null(), "type_params.conversion_type_params")?,
    }
    let expr = match params.get("expr") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(other) => json!(other.to_string()),
    };
    let type_params = json!({
        "measure": measure,
        "numerator": numerator,
        "denominator": denominator,
        "expr": expr,
        "window": null,
        "grain_to_date": null,
        "metrics": inputs,
        "conversion_type_params": conversion,
        "cumulative_type_params": cumulative,
        "metric_aggregation_params": null,
    });
    let mut body = Map::new();
    body.insert(
        "description".into(),
        json!(e.text("description")?.unwrap_or_default()),
    );
    body.insert("label".into(), json!(label));
    body.insert("type".into(), json!(kind));
    body.insert("type_params".into(), type_params);
    body.insert(
        "filter".into(),
        where_filters(e.get("filter")).map_err(|m| bad("filter", m))?,
    );
    body.insert(
        "time_granularity".into(),
        granularity("time_granularity", e.get("time_granularity"))?,
    );
    let names = |values: Vec<Value>| {
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    Ok(Metric {
        name: e.name.clone(),
        measures: names(measures),
        metrics: names(metrics),
        meta: e.get("meta").cloned().unwrap_or_else(|| json!({})),
        tags: e
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        body,
        config: e.config()?,
        file: file.clone(),
    })
}

/// dbt's `MetricInputMeasure` of a name or a mapping.
fn measure_input(value: &Value) -> Result<Value, String> {
    let (name, map) = named(value, "measure")?;
    Ok(json!({
        "name": name,
        "filter": where_filters(map.and_then(|m| m.get("filter")))?,
        "alias": map.and_then(|m| m.get("alias")),
        "join_to_timespine": map.and_then(|m| m.get("join_to_timespine")).and_then(Value::as_bool).unwrap_or(false),
        "fill_nulls_with": map.and_then(|m| m.get("fill_nulls_with")),
    }))
}

/// dbt's `MetricInput` of a name or a mapping.
fn metric_input(value: &Value) -> Result<Value, String> {
    let (name, map) = named(value, "metric")?;
    let offset_window = match map
        .and_then(|m| m.get("offset_window"))
        .and_then(Value::as_str)
    {
        Some(text) => window(text)?,
        None => Value::Null,
    };
    Ok(json!({
        "name": name,
        "filter": where_filters(map.and_then(|m| m.get("filter")))?,
        "alias": map.and_then(|m| m.get("alias")),
        "offset_window": offset_window,
        "offset_to_grain": map.and_then(|m| m.get("offset_to_grain")),
    }))
}

/// A name written alone or as `{name: ..., ...}`, with the mapping when there is one.
type Named<'a> = (&'a str, Option<&'a Map<String, Value>>);

fn named<'a>(value: &'a Value, what: &str) -> Result<Named<'a>, String> {
    match value {
        Value::String(name) => Ok((name, None)),
        Value::Object(map) => match map.get("name").and_then(Value::as_str) {
            Some(name) => Ok((name, Some(map))),
            None => Err(format!("a {what} input needs a name")),
        },
        _ => Err(format!("a {what} input is a name or a mapping with name:")),
    }
}

fn constant_properties(value: &Value) -> Value {
    let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|p| json!({"base_property": p.get("base_property"), "conversion_property": p.get("conversion_property")}))
            .collect(),
    )
}
