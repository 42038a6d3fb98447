use std::sync::Arc;

use mart_diagnostics::SourceFile;
use serde_json::json;

use super::*;

const FILE: &str = "version: 2
models:
  - name: orders
    description: the orders model, named as its semantic model
  - name: spine
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        granularity: day
semantic_models:
  - name: orders
    model: ref('orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - name: order
        type: primary
        expr: order_id
    dimensions:
      - name: ordered_at
        type: time
        type_params:
          time_granularity: day
    measures:
      - name: total
        agg: sum
        expr: amount
metrics:
  - name: revenue
    label: Revenue
    type: simple
    type_params:
      measure: total
    filter: \"{{ Dimension('order__is_big') }}\"
  - name: per_order
    label: Per order
    type: derived
    type_params:
      expr: revenue / 2
      metrics: [revenue]
saved_queries:
  - name: daily
    query_params:
      metrics: [revenue]
      group_by: [\"TimeDimension('order__ordered_at', 'day')\"]
    exports:
      - name: daily_export
        config: {export_as: view}
";

fn parse_text(text: &str) -> Result<SemanticLayer, (String, (usize, usize))> {
    let file = Arc::new(SourceFile::new("models/semantic.yml", text));
    let root: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    parse(&file, &root).map_err(|d| {
        let at = d.span.as_ref().map(|s| s.line_col()).unwrap_or_default();
        (d.message.clone(), at)
    })
}

#[test]
fn reads_the_semantic_layer_in_dbts_shape() {
    let layer = parse_text(FILE).unwrap();
    let model = &layer.semantic_models[0];
    assert_eq!(model.model, (None, "orders".to_string()));
    assert_eq!(model.measures().collect::<Vec<_>>(), ["total"]);
    assert_eq!(
        model.body["dimensions"][0]["type_params"],
        json!({"time_granularity": "day", "validity_params": null})
    );
    assert_eq!(
        model.body["entities"][0],
        json!({"name": "order", "type": "primary", "description": null, "label": null,
               "role": null, "expr": "order_id", "config": {"meta": {}}})
    );
    let revenue = &layer.metrics[0];
    assert_eq!(revenue.measures, ["total"]);
    assert_eq!(
        revenue.body["type_params"]["measure"],
        json!({"name": "total", "filter": null, "alias": null, "join_to_timespine": false, "fill_nulls_with": null})
    );
    assert_eq!(
        revenue.body["filter"],
        json!({"where_filters": [{"where_sql_template": "{{ Dimension('order__is_big') }}"}]})
    );
    assert_eq!(layer.metrics[1].metrics, ["revenue"]);
    assert!(layer.metrics[1].measures.is_empty());
    let query = &layer.saved_queries[0];
    assert_eq!(query.metrics, ["revenue"]);
    assert_eq!(query.exports[0].name, "daily_export");
    assert_eq!(query.body["query_params"]["where"], json!(null));
    let spine = &layer.time_spines[0];
    assert_eq!(
        (
            spine.model.as_str(),
            spine.column.as_str(),
            spine.granularity.as_str()
        ),
        ("spine", "date_day", "day")
    );
}

#[test]
fn disabled_entries_are_left_out() {
    let layer = parse_text(
        "metrics:\n  - name: a\n    label: A\n    type: simple\n    type_params: {measure: m}\n    config: {enabled: false}\n",
    )
    .unwrap();
    assert!(layer.metrics.is_empty());
}

#[test]
fn wrong_entries_are_errors_at_their_line() {
    let err = |text: &str| parse_text(text).unwrap_err();
    // The semantic model is found as itself, not as the model of the same name.
    assert_eq!(
        err(&FILE.replace("agg: sum", "agg: summ")),
        ("measure 'total': agg 'summ' is not one of sum, min, max, count_distinct, sum_boolean, average, percentile, median, count".to_string(), (27, 9))
    );
    assert_eq!(
        err(&FILE.replace("model: ref('orders')", "model: orders")),
        (
            "semantic model 'orders': model 'orders' is not ref('...')".to_string(),
            (13, 5)
        )
    );
    assert_eq!(
        err(&FILE.replace(
            "        type_params:\n          time_granularity: day\n",
            ""
        )),
        (
            "dimension 'ordered_at': a time dimension needs type_params.time_granularity"
                .to_string(),
            (21, 9)
        )
    );
    assert_eq!(
        err(&FILE.replace("    label: Revenue\n", "")),
        ("metric 'revenue' has no `label:`".to_string(), (30, 11))
    );
    assert_eq!(
        err(&FILE.replace("type: derived", "type: derivd")),
        ("metric 'per_order': type 'derivd' is not one of simple, ratio, cumulative, derived, conversion".to_string(), (38, 5))
    );
    assert_eq!(
        err(&FILE.replace("      metrics: [revenue]\n", "")),
        (
            "metric 'per_order': a derived metric needs type_params.expr and metrics".to_string(),
            (39, 5)
        )
    );
    assert_eq!(
        err(&FILE.replace("export_as: view", "export_as: viw")),
        (
            "export 'daily_export': export_as 'viw' is not table or view".to_string(),
            (49, 18)
        )
    );
    assert_eq!(
        err(&FILE.replace("        granularity: day\n", "")),
        ("model 'spine': the time spine's standard granularity column 'date_day' has no granularity".to_string(), (7, 7))
    );
    assert_eq!(
        err(&FILE.replace("standard_granularity_column: date_day", "standard_granularity_column: day")),
        ("model 'spine': the time spine's standard_granularity_column 'day' is not a column of the model; its columns are: date_day".to_string(), (7, 7))
    );
}

#[test]
fn names_are_unique_per_kind() {
    let mut layer = parse_text(FILE).unwrap();
    layer.metrics.push(layer.metrics[0].clone());
    let mut errors = Diagnostics::default();
    layer.check_unique(&mut errors);
    let messages: Vec<String> = errors.0.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        messages,
        ["two metrics are named 'revenue': models/semantic.yml and models/semantic.yml"]
    );
}
