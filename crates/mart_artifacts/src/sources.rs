//! sources.json in dbt's sources v3 schema: one result per source table whose freshness
//! `mart source freshness` checked.

use std::time::{Duration, SystemTime};

use mart_project::{FreshnessRule, Threshold};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::run_results::{timings, RunResultsMetadata};
use crate::Invocation;

pub const SOURCES_SCHEMA: &str = "https://schemas.getdbt.com/dbt/sources/v3.json";

#[derive(Clone, Debug, Serialize)]
pub struct SourcesV3 {
    pub metadata: RunResultsMetadata,
    pub results: Vec<Value>,
    pub elapsed_time: f64,
}

/// What one freshness check found.
#[derive(Clone, Debug)]
pub struct FreshnessResult {
    pub unique_id: String,
    /// `pass`, `warn`, `error` or `runtime error`.
    pub status: &'static str,
    pub max_loaded_at: Option<String>,
    pub snapshotted_at: Option<String>,
    pub age_seconds: Option<f64>,
    pub rule: FreshnessRule,
    /// Why the query failed (`runtime error`).
    pub error: Option<String>,
    pub started_at: SystemTime,
    pub duration: Duration,
}

fn threshold_json(t: Option<Threshold>) -> Value {
    match t {
        Some(t) => serde_json::json!({"count": t.count, "period": t.period.as_str()}),
        None => serde_json::json!({"count": null, "period": null}),
    }
}

pub fn build_sources(
    results: &[FreshnessResult],
    elapsed: Duration,
    invocation: &Invocation,
) -> SourcesV3 {
    let results = results
        .iter()
        .map(|r| {
            if let Some(error) = &r.error {
                // dbt's SourceFreshnessRuntimeError: no timings, the error text.
                return serde_json::json!({
                    "unique_id": r.unique_id, "error": error, "status": r.status,
                });
            }
            let timing = timings(r.started_at, r.duration);
            serde_json::json!({
                "unique_id": r.unique_id,
                "max_loaded_at": r.max_loaded_at,
                "snapshotted_at": r.snapshotted_at,
                "max_loaded_at_time_ago_in_s": r.age_seconds,
                "status": r.status,
                "criteria": {
                    "warn_after": threshold_json(r.rule.warn_after),
                    "error_after": threshold_json(r.rule.error_after),
                    "filter": r.rule.filter,
                },
                "adapter_response": Map::new(),
                "timing": timing,
                "thread_id": "Thread-1",
                "execution_time": r.duration.as_secs_f64(),
            })
        })
        .collect();
    SourcesV3 {
        metadata: RunResultsMetadata::new(SOURCES_SCHEMA, invocation),
        results,
        elapsed_time: elapsed.as_secs_f64(),
    }
}
