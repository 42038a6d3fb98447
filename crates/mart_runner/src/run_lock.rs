//! One run per target at a time: a session-level advisory lock keyed by the target's
//! database and schema, taken on a connection of its own and held until the run ends (the
//! server releases it when that connection closes, also when mart is killed). A second run
//! waits, saying who holds the lock and since when, up to `--lock-timeout`.

use std::time::{Duration, Instant};

use mart_diagnostics::{Code, Diagnostic};
use mart_postgres::Connection;

use crate::materialize::db_error;
use crate::schedule::{connect_error, RunContext};
use crate::{Event, RunError};

/// How often a waiting run asks again, and how often it says it still waits.
const RETRY: Duration = Duration::from_millis(200);
const STILL_WAITING: Duration = Duration::from_secs(10);

/// Takes the run lock of the context's target; returns the connection that holds it, or
/// `None` when a signal stopped the wait (the run then ends as interrupted).
pub(crate) async fn acquire(ctx: &RunContext) -> Result<Option<Connection>, RunError> {
    let key = lock_key(&ctx.connection.dbname, &ctx.target_schema);
    let mut config = ctx.connection.clone();
    // What a waiting run shows of this one.
    config.application_name = format!("mart pid {} on {}", std::process::id(), hostname());
    let connection = Connection::connect(&config).await.map_err(connect_error)?;
    let target = format!("{}.{}", ctx.connection.dbname, ctx.target_schema);
    let started = Instant::now();
    let mut last_said: Option<Instant> = None;
    let mut interrupt = ctx.interrupt.clone();
    loop {
        let locked = connection
            .query(&format!("select pg_catalog.pg_try_advisory_lock({key})"))
            .await
            .map_err(|e| RunError(db_error(&e, None)))?;
        if locked
            .rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            == Some("t".into())
        {
            if last_said.is_some() {
                notice(
                    ctx,
                    format!(
                        "took the run lock of target {target} after waiting {:.1} s",
                        started.elapsed().as_secs_f64()
                    ),
                );
            }
            return Ok(Some(connection));
        }
        let waited = started.elapsed();
        if let Some(limit) = ctx.options.lock_timeout {
            if waited >= limit {
                let holder = holder(&connection, key).await;
                return Err(RunError(
                    Diagnostic::error(
                        Code::Database,
                        format!(
                            "another run holds the run lock of target {target} ({holder}); gave up after {} s (--lock-timeout)",
                            limit.as_secs()
                        ),
                    )
                    .with_help("wait for that run to finish, or raise --lock-timeout (without it, mart waits as long as it takes)"),
                ));
            }
        }
        if last_said.is_none_or(|t| t.elapsed() >= STILL_WAITING) {
            let holder = holder(&connection, key).await;
            let verb = if last_said.is_none() {
                "waiting"
            } else {
                "still waiting"
            };
            notice(
                ctx,
                format!(
                    "{verb} for the run lock of target {target}: held by {holder} ({:.0} s so far)",
                    waited.as_secs_f64()
                ),
            );
            last_said = Some(Instant::now());
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY) => {}
            _ = interrupt.wait_for(|stop| *stop) => {
                notice(ctx, format!("stopped waiting for the run lock of target {target}"));
                return Ok(None);
            }
        }
    }
}

fn notice(ctx: &RunContext, message: String) {
    ctx.reporter.report(&Event::Notice { message });
}

/// Who holds the lock: the holder's application name (mart's pid and host), its server
/// process and when it connected.
async fn holder(connection: &Connection, key: i64) -> String {
    let bits = key as u64;
    let sql = format!(
        "select a.application_name, a.pid::text, coalesce(host(a.client_addr), 'a local socket'), \
         to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') \
         from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid \
         where l.locktype = 'advisory' and l.granted and l.classid = {} and l.objid = {} and l.objsubid = 1",
        bits >> 32,
        bits & 0xffff_ffff
    );
    let row = connection
        .query(&sql)
        .await
        .ok()
        .and_then(|r| r.rows.into_iter().next());
    match row.as_deref() {
        Some([Some(name), Some(pid), Some(from), Some(since)]) => {
            format!("'{name}' (server process {pid}, from {from}) since {since}")
        }
        // Released between the two queries, or invisible to this user.
        _ => "another session".to_string(),
    }
}

/// A stable 64-bit key for the target (FNV-1a), the same in every mart.
fn lock_key(dbname: &str, schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in "mart run lock\0"
        .bytes()
        .chain(dbname.bytes())
        .chain([0])
        .chain(schema.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_database_and_schema_and_are_stable() {
        assert_eq!(lock_key("db", "s"), lock_key("db", "s"));
        assert_ne!(lock_key("db", "s"), lock_key("db", "t"));
        assert_ne!(lock_key("dbs", ""), lock_key("db", "s"));
        assert_eq!(lock_key("postgres", "analytics"), 3_738_058_431_472_749_554);
    }
}
