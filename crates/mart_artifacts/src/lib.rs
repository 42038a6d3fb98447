//! dbt-compatible artifacts: `manifest.json` (dbt's manifest v12 schema),
//! `run_results.json` (run_results v6), `sources.json` (sources v3), `catalog.json`
//! (catalog v1) and `semantic_manifest.json`, as serde types built from mart's in-memory
//! manifest and a command's node results, so that dbt tooling (Airflow integrations,
//! artifact parsers, state comparison) reads them.
//!
//! What it does not do: it runs nothing and prints nothing; callers decide when to write.
//! Secrets never enter these types: the profile's password is not part of a manifest.

mod catalog;
mod config_defaults;
mod docs_exposures;
mod manifest;
mod manifest_file;
mod run_end;
mod run_results;
mod semantic;
mod sources;
pub mod state;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use mart_project::secrets;

pub use catalog::{build_catalog, CatalogRow, CatalogV1, CATALOG_SCHEMA};
pub use manifest::{
    build_manifest, graph_context, CompiledNodes, ManifestNode, ManifestV12, MANIFEST_SCHEMA,
};
pub use manifest_file::{
    identity as file_identity, manifest_lineage, write_manifest_file, Written,
};
pub use run_end::run_end_context;
pub use run_results::{
    build_run_results, merge_retry, status_word, RunResult, RunResultsV6, RUN_RESULTS_SCHEMA,
};
pub use semantic::build_semantic_manifest;
pub use sources::{build_sources, FreshnessResult, SourcesV3, SOURCES_SCHEMA};

/// What identifies one command's artifacts.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub invocation_id: String,
    pub generated_at: String,
    pub mart_version: String,
    /// When the command started (dbt's `run_started_at`).
    pub started: SystemTime,
}

impl Invocation {
    pub fn new(mart_version: &str) -> Self {
        let now = SystemTime::now();
        Self {
            invocation_id: invocation_id(now),
            generated_at: timestamp(now),
            mart_version: mart_version.to_string(),
            started: now,
        }
    }

    /// The same invocation, its artifacts generated now.
    pub fn generated_now(&self) -> Self {
        Self {
            generated_at: timestamp(SystemTime::now()),
            ..self.clone()
        }
    }
}

/// A UUID-shaped id, unique per command (time, process and a hasher's random keys).
fn invocation_id(now: SystemTime) -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut parts = [0u64; 2];
    for (i, part) in parts.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.write_usize(i);
        *part = h.finish();
    }
    let hex = format!("{:016x}{:016x}", parts[0], parts[1]);
    format!(
        "{}-{}-4{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// ISO 8601 in UTC with microseconds, as dbt writes times: `2024-06-01T12:00:00.123456Z`.
pub fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes an artifact as JSON (through a temporary file, so a reader never sees half),
/// secrets masked.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Its own to this process: concurrent commands (Airflow tasks) share a target folder.
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    if secrets::any_secrets() {
        let json = serde_json::to_string(value).map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut out, secrets::scrub(&json).as_bytes())?;
    } else {
        // Streamed: a large project's manifest is not held twice.
        serde_json::to_writer(&mut out, value).map_err(std::io::Error::other)?;
    }
    std::io::Write::flush(&mut out)?;
    drop(out);
    std::fs::rename(tmp, path)
}

/// Reads a run_results.json written by mart or dbt.
pub fn read_run_results(path: &Path) -> Result<RunResultsV6, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_iso_utc() {
        let t = UNIX_EPOCH + Duration::from_micros(1_717_243_200_123_456);
        assert_eq!(timestamp(t), "2024-06-01T12:00:00.123456Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn invocation_ids_look_like_uuids_and_differ() {
        let a = Invocation::new("0.1.0").invocation_id;
        let b = Invocation::new("0.1.0").invocation_id;
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, b);
    }
}
