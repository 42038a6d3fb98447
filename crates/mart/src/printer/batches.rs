//! The lines of a microbatch model's batches, as dbt prints them:
//! `Batch 1 of 2 START batch 2024-01-01 of analytics.events ... [RUN]`, then
//! `Batch 1 of 2 OK created batch 2024-01-01 of analytics.events ... [MERGE 3 in 0.05s]`.

use mart_diagnostics::{render_human, Diagnostic};
use mart_graph::NodeId;
use mart_runner::NodeStatus;
use std::time::Duration;

use super::{LogLevel, RunPrinter, GREEN, LINE_WIDTH, RED, YELLOW};

/// One batch's start or end, as its event carries it.
pub(super) struct BatchLine<'a> {
    pub id: &'a NodeId,
    pub index: usize,
    pub total: usize,
    pub label: &'a str,
    /// `None` at its start.
    pub end: Option<BatchEnd<'a>>,
}

pub(super) struct BatchEnd<'a> {
    pub status: NodeStatus,
    pub message: &'a str,
    pub error: Option<&'a Diagnostic>,
    pub duration: Duration,
}

impl RunPrinter {
    /// A `BatchStart` or `BatchFinish` event.
    pub(super) fn report_batch(&self, event: &mart_runner::Event) {
        use mart_runner::Event;
        match event {
            Event::BatchStart {
                id,
                index,
                total,
                label,
            } => self.batch(BatchLine {
                id,
                index: *index,
                total: *total,
                label,
                end: None,
            }),
            Event::BatchFinish {
                id,
                index,
                total,
                label,
                status,
                message,
                error,
                duration,
            } => self.batch(BatchLine {
                id,
                index: *index,
                total: *total,
                label,
                end: Some(BatchEnd {
                    status: *status,
                    message,
                    error: error.as_deref(),
                    duration: *duration,
                }),
            }),
            _ => {}
        }
    }

    /// `batch 2024-01-01 of analytics.events`.
    fn describe_batch(&self, id: &NodeId, label: &str) -> String {
        let relation = self.manifest.node(id).map_or_else(
            || id.to_string(),
            |n| format!("{}.{}", n.relation.schema, n.relation.identifier),
        );
        format!("batch {label} of {relation}")
    }

    pub(super) fn batch(&self, line: BatchLine<'_>) {
        let p = &self.printer;
        let what = self.describe_batch(line.id, line.label);
        let (index, total) = (line.index, line.total);
        let Some(end) = line.end else {
            let text = format!("Batch {index} of {total} START {what}");
            if p.json {
                p.event(
                    "LogStartBatch",
                    "Q045",
                    LogLevel::Info,
                    &text,
                    serde_json::json!({"description": what, "batch_index": index, "total_batches": total}),
                );
            } else {
                p.info(&dotted(&text, "[RUN]"));
            }
            return;
        };
        let secs = end.duration.as_secs_f64();
        let (info, status, color, level) = match end.status {
            NodeStatus::Error => ("ERROR creating", "ERROR", RED, LogLevel::Error),
            NodeStatus::Skipped => ("SKIP", "SKIPPED", YELLOW, LogLevel::Info),
            _ => ("OK created", end.message, GREEN, LogLevel::Info),
        };
        let text = format!("Batch {index} of {total} {info} {what}");
        if p.json {
            p.event(
                "LogBatchResult",
                "Q046",
                level,
                &text,
                serde_json::json!({"description": what, "status": status, "batch_index": index, "total_batches": total, "execution_time": secs}),
            );
            return;
        }
        if let Some(error) = end.error {
            for l in render_human(error, p.color).lines() {
                p.line_at(LogLevel::Error, l);
            }
        }
        let status = match end.status {
            NodeStatus::Skipped => format!("[{}]", p.paint(color, status)),
            _ => format!("[{} in {secs:.2}s]", p.paint(color, status)),
        };
        p.info(&dotted(&text, &status));
    }
}

/// `text ..... status`, padded as the node lines are.
fn dotted(text: &str, status: &str) -> String {
    let left = format!("{text} ");
    let dots = LINE_WIDTH.saturating_sub(left.chars().count()).max(3);
    format!("{left}{} {status}", ".".repeat(dots))
}
