//! A long node says it is alive: every few seconds, for each node running longer than
//! that, what its session does (from `pg_stat_activity`) and, when it waits for a lock,
//! which relation and which sessions hold it. Asked on the run lock's connection, which
//! is otherwise idle.

use std::time::{Duration, Instant};

use mart_graph::NodeId;
use mart_postgres::Connection;

use crate::{Event, Reporter};

/// How often a running node is looked at (and first looked at after starting), and how
/// often any long step says it is alive.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// A node whose statements run on the server process `pid` since `started`.
pub(crate) struct RunningNode {
    pub id: NodeId,
    pub pid: i32,
    pub started: Instant,
}

/// Reports an [`Event::Heartbeat`] for each of `nodes` that has run for [`INTERVAL`].
pub(crate) async fn report<'a>(
    monitor: &Connection,
    nodes: impl Iterator<Item = &'a RunningNode>,
    reporter: &dyn Reporter,
) {
    let long: Vec<&RunningNode> = nodes.filter(|n| n.started.elapsed() >= INTERVAL).collect();
    if long.is_empty() {
        return;
    }
    let pids = long
        .iter()
        .map(|n| n.pid.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "select a.pid::text, left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 80), \
         (select string_agg(distinct l.relation::regclass::text, ', ') from pg_catalog.pg_locks l \
          where l.pid = a.pid and not l.granted and l.relation is not null), \
         (select string_agg(format('server process %s (%s, since %s: %s)', b.pid, \
              coalesce(nullif(b.application_name, ''), 'no application name'), \
              to_char(coalesce(b.xact_start, b.backend_start), 'HH24:MI:SS'), \
              left(regexp_replace(coalesce(b.query, ''), '\\s+', ' ', 'g'), 60)), '; ') \
          from pg_catalog.pg_stat_activity b where b.pid = any(pg_catalog.pg_blocking_pids(a.pid))) \
         from pg_catalog.pg_stat_activity a where a.pid in ({pids})"
    );
    // A heartbeat is a courtesy: if the catalog cannot be read, the run goes on silently.
    let Ok(activity) = monitor.query(&sql).await else {
        return;
    };
    for node in long {
        let row = activity
            .rows
            .iter()
            .find(|r| r.first().cloned().flatten() == Some(node.pid.to_string()));
        let cell = |i: usize| row.and_then(|r| r.get(i).cloned().flatten());
        let waiting_for = match (cell(2), cell(3)) {
            (relation, Some(holders)) => Some(match relation {
                Some(relation) => format!("a lock on {relation} held by {holders}"),
                None => format!("a lock held by {holders}"),
            }),
            _ => None,
        };
        reporter.report(&Event::Heartbeat {
            id: node.id.clone(),
            elapsed: node.started.elapsed(),
            statement: cell(1).filter(|s| !s.is_empty()),
            waiting_for,
        });
    }
}
