//! `semantic_models:` entries: the model they describe, their entities, dimensions and
//! measures, in the shape dbt writes them to the manifest.

use std::sync::Arc;

use mart_diagnostics::{Diagnostic, SourceFile};
use serde_json::{json, Map, Value};

use super::entry::{Entry, GRANULARITIES};
use super::list_start;
use super::SemanticModel;
use crate::exposures::{dependency, ExposureDependency};

const ENTITY_TYPES: [&str; 4] = ["primary", "unique", "foreign", "natural"];
const DIMENSION_TYPES: [&str; 2] = ["categorical", "time"];
/// dbt_semantic_interfaces' `AggregationType`.
pub(crate) const AGGREGATIONS: [&str; 9] = [
    "sum",
    "min",
    "max",
    "count_distinct",
    "sum_boolean",
    "average",
    "percentile",
    "median",
    "count",
];

pub(crate) fn semantic_model(
    file: &Arc<SourceFile>,
    raw: &Value,
) -> Result<SemanticModel, Diagnostic> {
    let e = Entry::new(
        file,
        "semantic model",
        raw,
        list_start(file, "semantic_models"),
    )?;
    let model_text = e.required("model", "add model: ref('<model>')")?;
    let model = match dependency(&model_text) {
        Ok(ExposureDependency::Ref { package, name }) => (package, name),
        _ => {
            return Err(e.error(
                "model",
                format!("model '{model_text}' is not ref('...')"),
                "write model: ref('<model>')",
            ))
        }
    };
    let entities = e
        .list("entities")?
        .iter()
        .map(|v| entity(&Entry::new(file, "entity", v, e.start)?))
        .collect::<Result<Vec<_>, _>>()?;
    let dimensions = e
        .list("dimensions")?
        .iter()
        .map(|v| dimension(&Entry::new(file, "dimension", v, e.start)?))
        .collect::<Result<Vec<_>, _>>()?;
    let measures = e
        .list("measures")?
        .iter()
        .map(|v| measure(&Entry::new(file, "measure", v, e.start)?))
        .collect::<Result<Vec<_>, _>>()?;
    let defaults = match e.get("defaults") {
        None => Value::Null,
        Some(Value::Object(d)) => json!({"agg_time_dimension": d.get("agg_time_dimension")}),
        Some(_) => {
            return Err(e.error(
                "defaults",
                "`defaults:` must be a mapping",
                "write defaults: {agg_time_dimension: <time dimension>}",
            ))
        }
    };
    let mut body = Map::new();
    body.insert("model".into(), json!(model_text));
    body.insert("description".into(), json!(e.text("description")?));
    body.insert("label".into(), json!(e.text("label")?));
    body.insert("defaults".into(), defaults);
    body.insert("primary_entity".into(), json!(e.text("primary_entity")?));
    body.insert("entities".into(), Value::Array(entities));
    body.insert("measures".into(), Value::Array(measures));
    body.insert("dimensions".into(), Value::Array(dimensions));
    Ok(SemanticModel {
        name: e.name.clone(),
        model,
        body,
        config: e.config()?,
        file: file.clone(),
    })
}

fn entity(e: &Entry<'_>) -> Result<Value, Diagnostic> {
    let Some(kind) = e.choice("type", &ENTITY_TYPES)? else {
        return Err(e.error(
            "name",
            "has no type",
            "add type: primary, unique, foreign or natural",
        ));
    };
    Ok(json!({
        "name": e.name,
        "type": kind,
        "description": e.text("description")?,
        "label": e.text("label")?,
        "role": e.text("role")?,
        "expr": e.text("expr")?,
        "config": e.element_config()?,
    }))
}

fn dimension(e: &Entry<'_>) -> Result<Value, Diagnostic> {
    let Some(kind) = e.choice("type", &DIMENSION_TYPES)? else {
        return Err(e.error("name", "has no type", "add type: categorical or time"));
    };
    let params = match e.get("type_params") {
        None => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => return Err(e.error("type_params", "`type_params:` must be a mapping", "")),
    };
    let granularity = params
        .and_then(|p| p.get("time_granularity"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    if let Some(g) = &granularity {
        if let Err(help) = super::entry::check_choice(g, &GRANULARITIES) {
            return Err(e.error(
                "time_granularity",
                format!("time_granularity '{g}' is not a granularity"),
                &help,
            ));
        }
    }
    let type_params = match (kind.as_str(), params, granularity) {
        ("time", _, None) => {
            return Err(e.error(
                "name",
                "a time dimension needs type_params.time_granularity",
                "add type_params: {time_granularity: day}",
            ))
        }
        (_, Some(p), g) => json!({
            "time_granularity": g,
            "validity_params": p.get("validity_params").cloned().map(validity).unwrap_or(Value::Null),
        }),
        (_, None, _) => Value::Null,
    };
    Ok(json!({
        "name": e.name,
        "type": kind,
        "description": e.text("description")?,
        "label": e.text("label")?,
        "is_partition": e.bool("is_partition")?,
        "type_params": type_params,
        "expr": e.text("expr")?,
        "metadata": null,
        "config": e.element_config()?,
    }))
}

fn validity(v: Value) -> Value {
    json!({
        "is_start": v.get("is_start").and_then(Value::as_bool).unwrap_or(false),
        "is_end": v.get("is_end").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn measure(e: &Entry<'_>) -> Result<Value, Diagnostic> {
    let Some(agg) = e.choice("agg", &AGGREGATIONS)? else {
        return Err(e.error("name", "has no agg", "add agg: sum, count, average, ..."));
    };
    if e.bool("create_metric")? {
        return Err(e.error(
            "create_metric",
            "`create_metric: true` is not supported by mart yet",
            "declare the metric under metrics: with type: simple",
        ));
    }
    let agg_params = match e.get("agg_params") {
        None => Value::Null,
        Some(p) => json!({
            "percentile": p.get("percentile"),
            "use_discrete_percentile": p.get("use_discrete_percentile").and_then(Value::as_bool).unwrap_or(false),
            "use_approximate_percentile": p.get("use_approximate_percentile").and_then(Value::as_bool).unwrap_or(false),
        }),
    };
    let non_additive = match e.get("non_additive_dimension") {
        None => Value::Null,
        Some(Value::Object(n)) => {
            let choice = n
                .get("window_choice")
                .and_then(Value::as_str)
                .unwrap_or("min");
            if let Err(help) = super::entry::check_choice(choice, &AGGREGATIONS) {
                return Err(e.error(
                    "window_choice",
                    format!("window_choice '{choice}' is not an aggregation"),
                    &help,
                ));
            }
            json!({
                "name": n.get("name"),
                "window_choice": choice.to_lowercase(),
                "window_groupings": n.get("window_groupings").cloned().unwrap_or_else(|| json!([])),
            })
        }
        Some(_) => {
            return Err(e.error(
                "non_additive_dimension",
                "`non_additive_dimension:` must be a mapping",
                "write non_additive_dimension: {name: <time dimension>, window_choice: max}",
            ))
        }
    };
    Ok(json!({
        "name": e.name,
        "agg": agg,
        "description": e.text("description")?,
        "label": e.text("label")?,
        "create_metric": false,
        "expr": e.text("expr")?,
        "agg_params": agg_params,
        "non_additive_dimension": non_additive,
        "agg_time_dimension": e.text("agg_time_dimension")?,
        "config": e.element_config()?,
    }))
}
