//! COPY throughput: `Connection::copy_in` against `psql \copy` on the same 1,000,000-row,
//! 6-column CSV (about 70 MB), written to a temporary file.
//!
//!     cargo run --release -p mart_postgres --example copy_bench
//!
//! Connection: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGPASSWORD,
//! PGDATABASE (postgres); BENCH_ROWS overrides the row count, BENCH_RUNS the runs per
//! method (3; the best run counts). Works in a schema `mart_bench_<pid>`, dropped at the end.

use std::error::Error;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mart_adapter::seed::{copy_from_stdin, copy_payload, create_seed_table, infer_seed_columns};
use mart_adapter::{quote_ident, Relation};
use mart_postgres::{Connection, ConnectionConfig};

type BenchResult<T> = Result<T, Box<dyn Error>>;

fn env(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn write_csv(path: &Path, rows: usize) -> BenchResult<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "id,name,amount,active,day,created_at")?;
    for i in 0..rows {
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        writeln!(
            out,
            "{i},\"user {i}, {}\",{}.{:02},{},2024-{month:02}-{day:02},2024-{month:02}-{day:02} {:02}:{:02}:{:02}",
            i % 977,
            i % 100_000,
            i % 100,
            if i % 3 == 0 { "true" } else { "false" },
            i % 24,
            i % 60,
            (i * 7) % 60,
        )?;
    }
    out.flush()?;
    Ok(())
}

fn psql(cfg: &ConnectionConfig, command: &str) -> BenchResult<Duration> {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", &cfg.host, "-p"])
        .arg(cfg.port.to_string())
        .args(["-U", &cfg.user, "-d", &cfg.dbname, "-c", command]);
    if let Some(password) = &cfg.password {
        cmd.env("PGPASSWORD", password);
    }
    let started = Instant::now();
    let output = cmd.output()?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        return Err(format!("psql failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(elapsed)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let rows: usize = env("BENCH_ROWS", "1000000").parse()?;
    let runs: usize = env("BENCH_RUNS", "3").parse()?;
    let cfg = ConnectionConfig {
        host: env("PGHOST", "127.0.0.1"),
        port: env("PGPORT", "5432").parse()?,
        user: env("PGUSER", "postgres"),
        password: std::env::var("PGPASSWORD").ok(),
        dbname: env("PGDATABASE", "postgres"),
        application_name: "mart_copy_bench".to_string(),
        ..ConnectionConfig::default()
    };

    let path = std::env::temp_dir().join(format!("mart_copy_bench_{}.csv", std::process::id()));
    let started = Instant::now();
    write_csv(&path, rows)?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "generated {rows} rows, {:.1} MB in {}",
        size as f64 / 1e6,
        secs(started.elapsed())
    );

    let data = std::fs::read(&path)?;
    let started = Instant::now();
    let schema_info = infer_seed_columns(&data, b',', &Default::default())?;
    let infer_time = started.elapsed();
    let types: Vec<&str> = schema_info
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    println!("infer_seed_columns: {} ({types:?})", secs(infer_time));

    let conn = Connection::connect(&cfg).await?;
    let schema = format!("mart_bench_{}", std::process::id());
    conn.execute(&format!(
        "drop schema if exists {} cascade",
        quote_ident(&schema)
    ))
    .await?;
    conn.execute(&mart_adapter::create_schema(&schema)).await?;
    let outcome = run(
        &conn,
        &cfg,
        &schema,
        &path,
        &data,
        &schema_info.columns,
        rows,
        runs,
    )
    .await;
    conn.execute(&format!(
        "drop schema if exists {} cascade",
        quote_ident(&schema)
    ))
    .await?;
    std::fs::remove_file(&path)?;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn run(
    conn: &Connection,
    cfg: &ConnectionConfig,
    schema: &str,
    path: &Path,
    data: &[u8],
    columns: &[mart_adapter::seed::SeedColumn],
    rows: usize,
    runs: usize,
) -> BenchResult<()> {
    let ours = Relation::new(None, schema, "via_copy_in");
    let theirs = Relation::new(None, schema, "via_psql");
    conn.execute(&create_seed_table(&ours, columns)).await?;
    conn.execute(&create_seed_table(&theirs, columns)).await?;
    let copy = copy_from_stdin(&ours, columns, b',');
    let column_list: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
    let psql_copy = format!(
        "\\copy {theirs} ({}) from '{}' with (format csv, header true)",
        column_list.join(", "),
        path.display()
    );
    let psql_startup = (0..3)
        .map(|_| psql(cfg, "select 1"))
        .collect::<BenchResult<Vec<_>>>()?
        .into_iter()
        .min()
        .unwrap_or_default();

    let mut file_times = Vec::new();
    let mut memory_times = Vec::new();
    let mut psql_times = Vec::new();
    for _ in 0..runs {
        conn.execute(&format!("truncate {ours}")).await?;
        let started = Instant::now();
        let file = tokio::fs::File::open(path).await?;
        let copied = conn.copy_in(&copy, file).await?;
        file_times.push(started.elapsed());
        assert_eq!(copied as usize, rows);

        conn.execute(&format!("truncate {ours}")).await?;
        let started = Instant::now();
        let copied = conn.copy_in(&copy, copy_payload(data)).await?;
        memory_times.push(started.elapsed());
        assert_eq!(copied as usize, rows);

        conn.execute(&format!("truncate {theirs}")).await?;
        psql_times.push(psql(cfg, &psql_copy)?);
    }
    let count = conn
        .query(&format!("select count(*) from {theirs}"))
        .await?;
    println!(
        "psql loaded {:?} rows",
        count
            .rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .flatten()
    );

    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let (file, memory, psql) = (best(&file_times), best(&memory_times), best(&psql_times));
    println!("runs per method: {runs} (best shown); all: copy_in(file) {file_times:?}, copy_in(memory) {memory_times:?}, psql {psql_times:?}");
    println!("copy_in from file:   {}", secs(file));
    println!("copy_in from memory: {}", secs(memory));
    println!(
        "psql \\copy:          {} (of which ~{} psql start-up + connect)",
        secs(psql),
        secs(psql_startup)
    );
    println!(
        "ratio copy_in(file) / psql: {:.2}x   copy_in(memory) / psql: {:.2}x",
        file.as_secs_f64() / psql.as_secs_f64(),
        memory.as_secs_f64() / psql.as_secs_f64()
    );
    Ok(())
}
