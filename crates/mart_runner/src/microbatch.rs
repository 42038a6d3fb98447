//! The microbatch incremental strategy, as dbt-core 1.10 with dbt-postgres 1.9 runs it:
//! the model runs once per batch of `batch_size` (see `mart_adapter::microbatch`), each
//! batch in its own transaction, its refs and sources that have an `event_time` filtered
//! to the batch. The first batch of a first run (or of a full refresh) builds the table;
//! every other batch merges its rows on `unique_key`. Pre-hooks run with the first batch,
//! post-hooks with the last. When the first batch fails the others are skipped; a later
//! failure leaves the rest running, and the model ends in `partial success`, whose failed
//! batches `mart retry` runs again.

use std::time::{Duration, Instant};

use mart_adapter::incremental::{OnSchemaChange, Strategy};
use mart_adapter::microbatch::{parse_time, Batch, BatchPlan, BatchSize};
use mart_compiler::Node;
use mart_diagnostics::Diagnostic;
use mart_jinja::BatchWindow;
use mart_postgres::Connection;
use serde_json::Value;

use crate::incremental::{config_error, opt_str, string_list, IncrementalConfig};
use crate::materialize::db_error;
use crate::schedule::{build_with_hooks, RunContext};
use crate::{BatchResults, Event, NodeStatus, Ran};

/// One batch's run of the model.
pub(crate) struct BatchRun<'a> {
    /// How the batch is applied when `incremental` (merge on `unique_key`).
    pub config: &'a IncrementalConfig,
    /// False for the first batch of a first run or full refresh, which builds the table.
    pub incremental: bool,
    pub window: BatchWindow,
    /// dbt's name of the batch (`2024-01-01`), also in its compiled file's name.
    pub label: String,
}

/// A microbatch model's configs, validated.
struct MicrobatchConfig {
    size: BatchSize,
    begin: Option<mart_adapter::microbatch::NaiveDateTime>,
    lookback: u32,
    incremental: IncrementalConfig,
}

fn config(node: &Node) -> Result<MicrobatchConfig, Diagnostic> {
    if opt_str(node, "event_time")?.is_none() {
        return Err(config_error(
            node,
            "incremental_strategy",
            "the microbatch strategy needs an 'event_time' config: the column that says when each of the model's rows happened".into(),
        )
        .with_help("set event_time='<column>' on the model (and on the refs and sources it should filter by batch)"));
    }
    let size = match opt_str(node, "batch_size")? {
        None => Err(config_error(
            node,
            "incremental_strategy",
            "the microbatch strategy needs a 'batch_size' config (hour, day, month or year)".into(),
        )),
        Some(size) => BatchSize::parse(&size).map_err(|m| config_error(node, "batch_size", m)),
    }?;
    let begin = opt_str(node, "begin")?
        .map(|b| parse_time(&b).map_err(|m| config_error(node, "begin", m)))
        .transpose()?;
    let lookback = match node.config.raw.get("lookback") {
        None | Some(Value::Null) => Ok(1),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(()),
        Some(Value::String(s)) => s.trim().parse::<u32>().map_err(|_| ()),
        Some(_) => Err(()),
    }
    .map_err(|()| {
        config_error(
            node,
            "lookback",
            "lookback must be a whole number of batches, 0 or more".into(),
        )
    })?;
    // dbt-postgres applies each batch with merge, which needs the key.
    let unique_key = string_list(node, "unique_key")?.unwrap_or_default();
    if unique_key.is_empty() {
        return Err(config_error(
            node,
            "incremental_strategy",
            "the microbatch strategy on PostgreSQL needs a unique_key (each batch is merged on it, as in dbt-postgres)".into(),
        )
        .with_help("set unique_key to a column or a list of columns"));
    }
    let on_schema_change = OnSchemaChange::parse(opt_str(node, "on_schema_change")?.as_deref())
        .map_err(|m| config_error(node, "on_schema_change", m))?;
    Ok(MicrobatchConfig {
        size,
        begin,
        lookback,
        incremental: IncrementalConfig {
            strategy: Strategy::Merge,
            unique_key,
            on_schema_change,
            merge_update_columns: string_list(node, "merge_update_columns")?,
            merge_exclude_columns: string_list(node, "merge_exclude_columns")?.unwrap_or_default(),
        },
    })
}

/// Runs every batch of the model; the result carries which succeeded and which failed.
pub(crate) async fn run(
    ctx: &RunContext,
    node: &Node,
    connection: &mut Connection,
) -> Result<Ran, Diagnostic> {
    let cfg = config(node)?;
    let target = &node.relation;
    let existing = ctx
        .catalog
        .kind(connection, &target.schema, &target.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    let full_refresh = node.config.full_refresh.unwrap_or(ctx.options.full_refresh);
    let incremental = existing == Some(mart_adapter::RelationKind::Table) && !full_refresh;
    let retried = ctx.retry_batches.get(&node.id);
    let batches = match retried {
        Some(previous) => previous.failed.clone(),
        None => BatchPlan {
            size: cfg.size,
            begin: cfg.begin,
            lookback: cfg.lookback,
            event_time_start: ctx.options.event_time_start,
            event_time_end: ctx.options.event_time_end,
            now: chrono::Utc::now().naive_utc(),
            incremental,
        }
        .batches()
        .map_err(|m| config_error(node, "begin", format!("the microbatch strategy {m}")))?,
    };
    let total = batches.len();
    let mut results = BatchResults::default();
    let mut first_error: Option<Box<Diagnostic>> = None;
    let mut skip_rest = false;
    for (i, batch) in batches.iter().enumerate() {
        let label = cfg.size.label(batch.start);
        let report = |status, message: String, error, duration| {
            ctx.reporter.report(&Event::BatchFinish {
                id: node.id.clone(),
                index: i + 1,
                total,
                label: label.clone(),
                status,
                message,
                error,
                duration,
            })
        };
        ctx.reporter.report(&Event::BatchStart {
            id: node.id.clone(),
            index: i + 1,
            total,
            label: label.clone(),
        });
        if skip_rest || *ctx.interrupt.borrow() {
            results.failed.push(*batch);
            report(NodeStatus::Skipped, "SKIPPED".into(), None, Duration::ZERO);
            continue;
        }
        let run = BatchRun {
            config: &cfg.incremental,
            incremental: i > 0 || incremental,
            window: BatchWindow {
                start: Batch::filter_bound(batch.start),
                end: Batch::filter_bound(batch.end),
            },
            label: label.clone(),
        };
        let batch_node = with_hooks_of_batch(node, i, total);
        let started = Instant::now();
        match build_with_hooks(ctx, &batch_node, connection, Some(&run)).await {
            Ok(ran) => {
                results.successful.push(*batch);
                report(NodeStatus::Success, ran.message, None, started.elapsed());
            }
            Err(error) => {
                results.failed.push(*batch);
                let error = Box::new(error);
                report(
                    NodeStatus::Error,
                    "ERROR".into(),
                    Some(error.clone()),
                    started.elapsed(),
                );
                first_error.get_or_insert(error);
                // Without the first batch there is no table to merge the others into.
                skip_rest |= i == 0;
            }
        }
    }
    Ok(outcome(results, retried, first_error))
}

/// The model with the pre-hooks of its first batch only and the post-hooks of its last.
fn with_hooks_of_batch(node: &Node, index: usize, total: usize) -> Node {
    let mut node = node.clone();
    if index > 0 {
        node.config.pre_hook.clear();
    }
    if index + 1 < total {
        node.config.post_hook.clear();
    }
    node
}

/// The model's status and message from its batches, as dbt words them; a retry's
/// earlier successful batches count as successful.
fn outcome(
    mut results: BatchResults,
    retried: Option<&BatchResults>,
    first_error: Option<Box<Diagnostic>>,
) -> Ran {
    let (succeeded, failed) = (results.successful.len(), results.failed.len());
    let (status, message, error) = match (succeeded, failed) {
        (_, 0) => (NodeStatus::Success, "SUCCESS".to_string(), None),
        (0, _) => (NodeStatus::Error, "ERROR".to_string(), first_error),
        _ => (
            NodeStatus::PartialSuccess,
            format!("PARTIAL SUCCESS ({succeeded}/{})", succeeded + failed),
            None,
        ),
    };
    results.successful.sort();
    results.failed.sort();
    if let Some(previous) = retried {
        results
            .successful
            .extend(previous.successful.iter().copied());
    }
    Ran {
        status,
        message: match (&error, status) {
            (Some(e), NodeStatus::Error) => e.message.clone(),
            _ => message,
        },
        batch_results: Some(results),
        error,
        ..Ran::default()
    }
}
