//! `mart source freshness` against the real PostgreSQL: thresholds, filters, an empty
//! table, a failing query, sources.json.

use crate::harness::TestProject;

fn properties(schema: &str) -> String {
    format!(
        "sources:\n  - name: raw\n    schema: {schema}\n    loaded_at_field: loaded_at\n    freshness:\n      warn_after: {{count: 1, period: hour}}\n      error_after: {{count: 1, period: day}}\n    tables:\n      - name: fresh\n      - name: late\n      - name: stale\n      - name: empty\n      - name: filtered\n        config:\n          freshness:\n            warn_after: {{count: 1, period: hour}}\n            filter: \"kind = 'new'\"\n      - name: broken\n        loaded_at_field: no_such_column\n      - name: unchecked\n        freshness: null\n"
    )
}

#[test]
fn freshness_judges_each_source_and_writes_sources_json() {
    let p = TestProject::with_files("freshness", &[]);
    let s = p.schema.clone();
    p.write("models/_sources.yml", &properties(&s));
    p.execute(&format!(
        "create schema \"{s}\";
         create table \"{s}\".fresh as select now() - interval '10 minutes' as loaded_at;
         create table \"{s}\".late as select (now() - interval '3 hours')::timestamp at time zone 'UTC' as loaded_at;
         create table \"{s}\".stale as select now() - interval '3 days' as loaded_at;
         create table \"{s}\".empty (loaded_at timestamptz);
         create table \"{s}\".filtered as select now() - interval '5 days' as loaded_at, 'old' as kind
             union all select now() - interval '5 minutes', 'new';
         create table \"{s}\".broken as select 1 as n;
         create table \"{s}\".unchecked as select now() - interval '9 days' as loaded_at;"
    ));
    let out = p.mart_expect(&["source", "freshness"], 1);
    let lines: Vec<String> = out
        .stable_stdout()
        .lines()
        .filter(|l| {
            l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && !l.contains("START")
        })
        .map(|l| {
            l.split(" [")
                .next()
                .unwrap_or(l)
                .trim_end_matches([' ', '.'])
                .to_string()
        })
        .collect();
    assert_eq!(
        lines,
        [
            "1 of 6 ERROR freshness of raw.broken",
            "2 of 6 ERROR STALE freshness of raw.empty",
            "3 of 6 PASS freshness of raw.filtered",
            "4 of 6 PASS freshness of raw.fresh",
            "5 of 6 WARN freshness of raw.late",
            "6 of 6 ERROR STALE freshness of raw.stale",
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("PASS=2 WARN=1 ERROR=3"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("column \"no_such_column\" does not exist")
            || out
                .stdout
                .contains("column \"no_such_column\" does not exist"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let sources: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.dir.join("target/sources.json")).unwrap())
            .unwrap();
    assert_eq!(
        sources["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/sources/v3.json"
    );
    let by_id = |id: &str| {
        sources["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unique_id"] == id)
            .cloned()
            .unwrap()
    };
    let late = by_id("source.fx.raw.late");
    assert_eq!(late["status"], "warn");
    let age = late["max_loaded_at_time_ago_in_s"].as_f64().unwrap();
    assert!(
        (10_790.0..10_900.0).contains(&age),
        "a naive timestamp is UTC: {age}"
    );
    assert_eq!(
        late["criteria"],
        serde_json::json!({"warn_after": {"count": 1, "period": "hour"}, "error_after": {"count": 1, "period": "day"}, "filter": null})
    );
    assert_eq!(
        by_id("source.fx.raw.filtered")["criteria"]["filter"],
        "kind = 'new'"
    );
    assert_eq!(
        by_id("source.fx.raw.empty")["max_loaded_at"],
        serde_json::Value::Null
    );
    assert_eq!(by_id("source.fx.raw.broken")["status"], "runtime error");
    // One source selected, fresh: exit 0.
    p.mart_expect(&["source", "freshness", "-s", "source:raw.fresh"], 0);
}

#[test]
fn a_malformed_freshness_rule_is_an_error_at_its_entry() {
    let p = TestProject::with_files(
        "freshness_bad",
        &[(
            "models/_sources.yml",
            "sources:\n  - name: raw\n    tables:\n      - name: events\n        loaded_at_field: at\n        freshness:\n          warn_after: {count: 2, period: week}\n",
        )],
    );
    let out = p.mart_expect(&["source", "freshness"], 2);
    assert!(
        out.stderr.contains("models/_sources.yml:4:")
            && out.stderr.contains(
                "source raw.events: warn_after.period must be minute, hour or day, found week"
            ),
        "{}",
        out.stderr
    );
}
