//! run_results.json in dbt's run_results v6 schema: one result per node a command ran.

use std::collections::BTreeMap;

use mart_compiler::Manifest;
use mart_graph::ResourceType;
use mart_runner::{parse_time, Batch, BatchResults, NodeResult, NodeStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{timestamp, Invocation};

pub const RUN_RESULTS_SCHEMA: &str = "https://schemas.getdbt.com/dbt/run-results/v6.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResultsV6 {
    pub metadata: RunResultsMetadata,
    pub results: Vec<RunResult>,
    pub elapsed_time: f64,
    /// The command and its flags (`which`, `select`, ...); `mart retry` reads them.
    #[serde(default)]
    pub args: Map<String, Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResultsMetadata {
    pub dbt_schema_version: String,
    pub dbt_version: String,
    pub generated_at: String,
    pub invocation_id: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

impl RunResultsMetadata {
    /// dbt's common artifact metadata of `schema` for this invocation.
    pub(crate) fn new(schema: &str, invocation: &Invocation) -> Self {
        Self {
            dbt_schema_version: schema.into(),
            dbt_version: invocation.mart_version.clone(),
            generated_at: invocation.generated_at.clone(),
            invocation_id: invocation.invocation_id.clone(),
            env: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timing {
    pub name: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// success / error / skipped for models and seeds; pass / warn / fail / error /
    /// skipped for tests.
    pub status: String,
    pub timing: Vec<Timing>,
    pub thread_id: String,
    pub execution_time: f64,
    pub adapter_response: Map<String, Value>,
    pub message: Option<String>,
    pub failures: Option<u64>,
    pub unique_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_name: Option<String>,
    /// A microbatch model's batches: `[start, end]` pairs, `2024-01-01T00:00:00+00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_results: Option<BatchResultsJson>,
}

/// dbt's `batch_results`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchResultsJson {
    pub successful: Vec<[String; 2]>,
    pub failed: Vec<[String; 2]>,
}

impl BatchResultsJson {
    fn new(results: &BatchResults) -> Self {
        let pairs = |batches: &[Batch]| {
            batches
                .iter()
                .map(|b| [Batch::iso(b.start), Batch::iso(b.end)])
                .collect()
        };
        Self {
            successful: pairs(&results.successful),
            failed: pairs(&results.failed),
        }
    }

    /// The batches back, for `mart retry`; `None` when a time does not read.
    pub fn batches(&self) -> Option<BatchResults> {
        let read = |pairs: &[[String; 2]]| {
            pairs
                .iter()
                .map(|[start, end]| {
                    Some(Batch {
                        start: parse_time(start).ok()?,
                        end: parse_time(end).ok()?,
                    })
                })
                .collect::<Option<Vec<Batch>>>()
        };
        Some(BatchResults {
            successful: read(&self.successful)?,
            failed: read(&self.failed)?,
        })
    }
}

impl RunResult {
    /// Whether `mart retry` runs this node again (dbt: error, fail, skipped).
    pub fn needs_retry(&self) -> bool {
        matches!(
            self.status.as_str(),
            "error" | "fail" | "skipped" | "runtime error" | "partial success"
        )
    }
}

/// dbt's status word for a result.
pub fn status_word(status: NodeStatus, resource_type: Option<ResourceType>) -> &'static str {
    let test = matches!(
        resource_type,
        Some(ResourceType::Test | ResourceType::UnitTest)
    );
    match status {
        NodeStatus::Success if test => "pass",
        NodeStatus::Success => "success",
        NodeStatus::Error => "error",
        NodeStatus::Skipped => "skipped",
        NodeStatus::Warn => "warn",
        NodeStatus::Fail => "fail",
        NodeStatus::PartialSuccess => "partial success",
    }
}

/// dbt's two timings of a node: `compile` (instant: mart compiles as it runs) and
/// `execute`.
pub(crate) fn timings(
    started_at: std::time::SystemTime,
    duration: std::time::Duration,
) -> Vec<Timing> {
    let started = timestamp(started_at);
    let completed = timestamp(started_at + duration);
    vec![
        Timing {
            name: "compile".into(),
            started_at: Some(started.clone()),
            completed_at: Some(started.clone()),
        },
        Timing {
            name: "execute".into(),
            started_at: Some(started),
            completed_at: Some(completed),
        },
    ]
}

/// One node's result as run_results.json (and on-run-end's `results`) shows it.
pub(crate) fn run_result(manifest: &Manifest, r: &NodeResult) -> RunResult {
    let node = manifest.node(&r.id);
    let ran = r.status != NodeStatus::Skipped;
    let mut adapter_response = Map::new();
    if ran {
        adapter_response.insert("_message".into(), Value::from(r.message.clone()));
        // A test's message is its verdict, not the database's command tag.
        let is_test = node.is_some_and(|n| n.resource_type == ResourceType::Test);
        if let Some(code) = command_code(&r.message).filter(|_| !is_test) {
            adapter_response.insert("code".into(), Value::from(code));
        }
        if let Some(rows) = r.rows_affected {
            adapter_response.insert("rows_affected".into(), Value::from(rows));
        }
    }
    RunResult {
        status: status_word(r.status, node.map(|n| n.resource_type)).into(),
        timing: if ran {
            timings(r.started_at, r.duration)
        } else {
            Vec::new()
        },
        thread_id: "Thread-1".into(),
        execution_time: r.duration.as_secs_f64(),
        adapter_response,
        message: Some(r.message.clone()),
        failures: r.failures,
        unique_id: r.id.to_string(),
        compiled: node.map(|_| r.compiled_sql.is_some()),
        compiled_code: r.compiled_sql.clone(),
        relation_name: node.map(|n| n.relation.to_string()),
        batch_results: r.batch_results.as_ref().map(BatchResultsJson::new),
    }
}

/// dbt-postgres's `code` of a command tag: its words before the first number
/// (`INSERT 0 2` -> `INSERT`, `CREATE VIEW` stays); none for other messages.
fn command_code(message: &str) -> Option<String> {
    let words: Vec<&str> = message
        .split_whitespace()
        .take_while(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    let is_tag = !words.is_empty()
        && words
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_uppercase()));
    is_tag.then(|| words.join(" "))
}

pub fn build_run_results(
    manifest: &Manifest,
    results: &[NodeResult],
    elapsed: std::time::Duration,
    args: Map<String, Value>,
    invocation: &Invocation,
) -> RunResultsV6 {
    let results = results.iter().map(|r| run_result(manifest, r)).collect();
    RunResultsV6 {
        metadata: RunResultsMetadata::new(RUN_RESULTS_SCHEMA, invocation),
        results,
        elapsed_time: elapsed.as_secs_f64(),
        args,
    }
}

/// The results of a retry laid over the previous run's: nodes run again replace their
/// old result, the others keep it (so a second retry after a full success has no work).
pub fn merge_retry(previous: &RunResultsV6, mut retried: RunResultsV6) -> RunResultsV6 {
    let rerun: std::collections::HashSet<String> = retried
        .results
        .iter()
        .map(|r| r.unique_id.clone())
        .collect();
    let mut results: Vec<RunResult> = previous
        .results
        .iter()
        .filter(|r| !rerun.contains(&r.unique_id))
        .cloned()
        .collect();
    results.append(&mut retried.results);
    retried.results = results;
    retried.args = previous.args.clone();
    retried
}
