//! The semantic layer: semantic models, metrics and saved queries in manifest.json and
//! target/semantic_manifest.json as dbt 1.10 writes them, their place in the graph
//! (`metric:` selection, `ls --resource-type`), the "Found" line, and the errors dbt
//! reports at parse, with file and line.

// Test support: a missing file or key should fail the test loudly.
#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::harness::TestProject;

/// The property file of the project compared with `dbt parse` (dbt-core 1.10).
const SEMANTIC_YML: &str = "version: 2
models:
  - name: time_spine_daily
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        granularity: day
semantic_models:
  - name: orders
    description: Order facts
    label: Orders
    model: ref('orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - name: order
        type: primary
        expr: order_id
      - name: customer
        type: foreign
        expr: customer_id
    dimensions:
      - name: ordered_at
        type: time
        type_params:
          time_granularity: day
      - name: is_big
        type: categorical
        expr: amount > 5
    measures:
      - name: order_total
        agg: sum
        expr: amount
      - name: order_count
        agg: count
        expr: order_id
      - name: big_orders
        agg: sum
        expr: case when amount > 5 then 1 else 0 end
metrics:
  - name: revenue
    label: Revenue
    description: Sum of order amounts
    type: simple
    type_params:
      measure: order_total
  - name: orders_count
    label: Orders
    type: simple
    type_params:
      measure: order_count
    filter: \"{{ Dimension('order__is_big') }}\"
  - name: avg_order
    label: Average order
    type: ratio
    type_params:
      numerator: revenue
      denominator: orders_count
  - name: cumulative_revenue
    label: Cumulative revenue
    type: cumulative
    type_params:
      measure: order_total
      cumulative_type_params:
        window: 7 days
  - name: revenue_per_order
    label: Revenue per order
    type: derived
    type_params:
      expr: revenue / orders_count
      metrics:
        - revenue
        - name: orders_count
saved_queries:
  - name: daily_revenue
    description: Revenue by day
    query_params:
      metrics:
        - revenue
      group_by:
        - TimeDimension('order__ordered_at', 'day')
      where:
        - \"{{ Dimension('order__is_big') }}\"
    exports:
      - name: daily_revenue_export
        config:
          export_as: table
";

fn project(tag: &str, yml: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            (
                "models/orders.sql",
                "select 1 as order_id, 2 as customer_id, current_date as ordered_at, 10.0 as amount",
            ),
            ("models/time_spine_daily.sql", "select current_date as date_day"),
            ("models/semantic.yml", yml),
        ],
    )
}

fn artifact(project: &TestProject, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(project.dir.join("target").join(name)).unwrap();
    serde_json::from_str(&text.replace(&project.schema, "SCHEMA")).unwrap()
}

#[test]
fn the_semantic_layer_is_in_the_manifest_in_dbt_shape() {
    let project = project("semantic_manifest", SEMANTIC_YML);
    let out = project.mart_expect(&["parse"], 0);
    assert!(
        out.stdout.contains(
            "Found 2 models, 0 seeds, 0 data tests, 0 sources, 5 metrics, 0 macro files, 1 semantic model, 1 saved query\n"
        ),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let m = artifact(&project, "manifest.json");
    let keys = |section: &str| -> Vec<String> {
        m[section].as_object().unwrap().keys().cloned().collect()
    };
    assert_eq!(keys("semantic_models"), ["semantic_model.fx.orders"]);
    assert_eq!(
        keys("metrics"),
        [
            "metric.fx.avg_order",
            "metric.fx.cumulative_revenue",
            "metric.fx.orders_count",
            "metric.fx.revenue",
            "metric.fx.revenue_per_order"
        ]
    );
    assert_eq!(keys("saved_queries"), ["saved_query.fx.daily_revenue"]);
    let model = &m["semantic_models"]["semantic_model.fx.orders"];
    assert_eq!(
        model["depends_on"],
        json!({"macros": [], "nodes": ["model.fx.orders"]})
    );
    assert_eq!(
        model["refs"],
        json!([{"name": "orders", "package": null, "version": null}])
    );
    assert_eq!(model["fqn"], json!(["fx", "orders"]));
    assert_eq!(model["path"], json!("semantic.yml"));
    assert_eq!(
        model["node_relation"],
        json!({"alias": "orders", "schema_name": "SCHEMA", "database": "postgres",
               "relation_name": "\"postgres\".\"SCHEMA\".\"orders\""})
    );
    assert_eq!(
        m["metrics"]["metric.fx.revenue_per_order"]["depends_on"]["nodes"],
        json!(["metric.fx.revenue", "metric.fx.orders_count"])
    );
    assert_eq!(
        m["metrics"]["metric.fx.avg_order"]["type_params"]["input_measures"],
        json!([
            {"name": "order_total", "filter": null, "alias": null, "join_to_timespine": false, "fill_nulls_with": null},
            {"name": "order_count", "filter": null, "alias": null, "join_to_timespine": false, "fill_nulls_with": null}
        ])
    );
    assert_eq!(
        m["saved_queries"]["saved_query.fx.daily_revenue"]["exports"],
        json!([{"name": "daily_revenue_export",
                "config": {"export_as": "table", "schema_name": "SCHEMA", "alias": "daily_revenue_export", "database": "postgres"},
                "unrendered_config": {"export_as": "table"}}])
    );
    assert_eq!(
        m["child_map"]["semantic_model.fx.orders"],
        json!([
            "metric.fx.cumulative_revenue",
            "metric.fx.orders_count",
            "metric.fx.revenue"
        ])
    );
    assert_eq!(
        m["parent_map"]["saved_query.fx.daily_revenue"],
        json!(["metric.fx.revenue"])
    );
    let semantic = artifact(&project, "semantic_manifest.json");
    insta::assert_snapshot!(
        "semantic_manifest",
        serde_json::to_string_pretty(&semantic).unwrap()
    );
}

#[test]
fn semantic_nodes_are_selected_and_listed_like_dbt() {
    let project = project("semantic_ls", SEMANTIC_YML);
    let ls = |args: &[&str]| project.mart_expect(&[&["ls"], args].concat(), 0).stdout;
    assert_eq!(
        ls(&["-s", "metric:revenue+"]),
        "metric:fx.avg_order\nmetric:fx.revenue\nmetric:fx.revenue_per_order\nsaved_query:fx.daily_revenue\n"
    );
    assert_eq!(
        ls(&[
            "--resource-type",
            "semantic_model",
            "--resource-type",
            "saved_query"
        ]),
        "saved_query:fx.daily_revenue\nsemantic_model:fx.orders\n"
    );
    assert_eq!(
        ls(&["--resource-type", "metric", "--output", "json", "--output-keys", "name resource_type unique_id", "-s", "metric:fx.rev*"]),
        "{\"name\":\"revenue\",\"resource_type\":\"metric\",\"unique_id\":\"metric.fx.revenue\"}\n{\"name\":\"revenue_per_order\",\"resource_type\":\"metric\",\"unique_id\":\"metric.fx.revenue_per_order\"}\n"
    );
    // Nothing is built for them: a run builds the two models only.
    let run = project.mart_expect(&["run", "-s", "+saved_query:daily_revenue"], 0);
    assert!(
        run.stdout.contains("Completed successfully"),
        "{}",
        run.stdout
    );
    assert_eq!(
        project.count(&format!("\"{}\".\"orders\"", project.schema)),
        1
    );
}

#[test]
fn what_the_semantic_layer_names_is_checked_at_its_line() {
    let cases = [
        (
            SEMANTIC_YML.replace("measure: order_total\n", "measure: order_totl\n"),
            "models/semantic.yml:47:16: error[MART103]: metric 'revenue' reads measure 'order_totl', which no semantic model has",
            "did you mean 'order_total'?",
        ),
        (
            SEMANTIC_YML.replace("model: ref('orders')", "model: ref('ordrs')"),
            "models/semantic.yml:13:",
            "did you mean 'orders'?",
        ),
        (
            SEMANTIC_YML.replace("        - revenue\n", "        - revenu\n"),
            "models/semantic.yml:73:11: error[MART103]: metric 'revenue_per_order' reads metric 'revenu', which is not declared",
            "did you mean 'revenue'?",
        ),
        (
            SEMANTIC_YML.replace("    time_spine:\n      standard_granularity_column: date_day\n", ""),
            "models/semantic.yml:8:11: error[MART103]: the semantic layer needs a time spine model with a granularity of a day or finer, and the project has none",
            "https://docs.getdbt.com/docs/build/metricflow-time-spine",
        ),
        (
            SEMANTIC_YML.replace("        granularity: day\n", "        granularity: week\n"),
            "the semantic layer needs a time spine model with a granularity of a day or finer",
            "add `time_spine:",
        ),
    ];
    for (i, (yml, error, help)) in cases.iter().enumerate() {
        let project = project(&format!("semantic_errors_{i}"), yml);
        let out = project.mart_expect(&["parse"], 2);
        assert!(out.stderr.contains(error), "case {i}: {}", out.stderr);
        assert!(out.stderr.contains(help), "case {i}: {}", out.stderr);
    }
}

#[test]
fn unknown_semantic_keys_are_warned_with_did_you_mean() {
    let yml = SEMANTIC_YML
        .replace(
            "        agg: count\n",
            "        agg: count\n        agg_tim_dimension: ordered_at\n",
        )
        .replace("    label: Revenue\n", "    label: Revenue\n    filtr: x\n");
    let project = project("semantic_unknown_keys", &yml);
    let out = project.mart_expect(&["parse"], 0);
    assert!(
        out.stderr.contains("models/semantic.yml:37:9: warning[MART103]: unknown property 'agg_tim_dimension' of measure 'order_count'; it is ignored"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean 'agg_time_dimension'?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("unknown property 'filtr' of metric 'revenue'; it is ignored"),
        "{}",
        out.stderr
    );
}
