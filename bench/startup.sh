#!/usr/bin/env bash
# One-node start-up benchmark (SPEC §12, the per-task cost of one Airflow task per model):
# the time from starting `mart run -s <one model>` to its first SQL statement on a
# generated 10,000-model project, beside `dbt run -s <the same model>` on the same
# project, and the whole command's wall time.
#
# What it does:
#   1. generates the project with shared/bench/gen_project.py into a temp dir (removed at
#      the end unless KEEP=1), with a profile for PostgreSQL on 127.0.0.1 reached through
#      bench/first_sql.py's proxy (port $PROXY_PORT), schema mart_startup_bench;
#   2. builds mart with `cargo build --release -p mart` (unless MART_BIN names a mart to
#      measure), loads the seeds once (mart seed);
#   3. bench/first_sql.py runs each command RUNS times and prints the median, min and max
#      of the time between starting the process and the first Query/Parse message it
#      sends to PostgreSQL (measured on the wire, so mart and dbt are timed alike);
#   4. bench/timing.py times the whole `run -s <model>` of mart, of dbt and of psql
#      running the same DDL (the physical limit: one connection, one statement), RUNS
#      rounds interleaved, and prints min and median of the wall time and the largest peak RSS.
#      After a first run on the saved parse, each mart run updates manifest.json (the
#      model's entry) rather than writing it whole.
# The model is a staging model that reads one source, so the run itself is short. The
# load average is printed before and after.
#
# dbt-core (optional): set DBT_VENV to a virtualenv holding dbt (default
# ~/.cache/mart-suites/dbt-venv); skipped when $DBT_VENV/bin/dbt does not exist. To make one:
#   python3 -m venv "$DBT_VENV"
#   "$DBT_VENV/bin/pip" install "dbt-core==1.10.*" "dbt-postgres==1.9.*"
# dbt is measured after one `dbt parse`, so it starts from its saved partial parse (its
# fastest start-up).
#
# Settings: MODELS=10000, RUNS=5, DBT_RUNS=3 (first SQL; 0 skips dbt), PROXY_PORT=15432, MART_BIN,
# DBT_VENV, GEN_PROJECT, KEEP=1 (keeps the project and its schemas).
# Usage: bench/startup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

# shellcheck source=bench/lib.sh
source bench/lib.sh
MODELS="${MODELS:-10000}"
RUNS="${RUNS:-5}"
DBT_RUNS="${DBT_RUNS:-3}"
PROXY_PORT="${PROXY_PORT:-15432}"
DBT_VENV="${DBT_VENV:-${HOME}/.cache/mart-suites/dbt-venv}"
schema="mart_startup_bench"

work="$(mktemp -d -t mart-startup.XXXXXX)"
cleanup() {
  [ "${KEEP:-}" = 1 ] && return
  psql -w -X -q -h 127.0.0.1 -U postgres -d postgres \
    -c "drop schema if exists ${schema} cascade; drop schema if exists ${schema}_raw cascade" \
    >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "${KEEP:-}" = 1 ] && echo "(project and schemas ${schema}, ${schema}_raw kept in ${work})"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${MART_BIN:-}" ]; then
  mart="$MART_BIN"
else
  echo "==> cargo build --release -p mart"
  cargo build --release -p mart
  mart="${CARGO_TARGET_DIR:-${repo}/target}/release/mart"
fi

echo "==> generating a project of ${MODELS} models"
dir="${work}/p"
python3 "$GEN_PROJECT" --models "$MODELS" --out "$dir" --schema "$schema" >/dev/null
cat >"${dir}/profiles.yml" <<EOF
bench:
  target: dev
  outputs:
    dev:
      type: postgres
      host: 127.0.0.1
      port: ${PROXY_PORT}
      user: postgres
      password: ""
      dbname: postgres
      schema: ${schema}
      threads: 4
      # The proxy reads the messages: no TLS (psycopg2 would otherwise prefer it).
      sslmode: disable
    direct:
      type: postgres
      host: 127.0.0.1
      port: 5432
      user: postgres
      password: ""
      dbname: postgres
      schema: ${schema}
      threads: 4
EOF
cd "$dir"
model="$(basename "$(find models/stg -name '*.sql' | sort | awk 'NR == 1')" .sql)"
m=("$mart" --project-dir "$dir" --profiles-dir "$dir")
"${m[@]}" seed --target direct >/dev/null
# Build the model's parents once, so every timed run succeeds.
"${m[@]}" run --target direct -s "+${model}" >/dev/null

first_sql() { python3 "${repo}/bench/first_sql.py" --listen "$PROXY_PORT" --runs "$1" -- "${@:2}"; }
wall() {
  if command -v hyperfine >/dev/null 2>&1; then
    echo "mean $(hyperfine_mean "${work}/hyperfine.json" "$1" 1 "${@:2}") ($1 runs)"
  else
    local start end
    start=$(date +%s%N)
    "${@:2}" >/dev/null 2>&1
    end=$(date +%s%N)
    echo "$(((end - start) / 1000000)) ms (one run)"
  fi
}

# An Airflow task finds the parse its previous task saved (same project, target and vars):
# `mart parse` saves it for the target measured; the full parse is timed on its own.
echo "==> mart parse (saves the parse for the target measured)"
mart_parse="$(wall 1 "${m[@]}" parse --no-partial-parse)"
"${m[@]}" parse >/dev/null
echo "==> mart run -s ${model}: time to the first SQL statement"
mart_first="$(first_sql "$RUNS" "${m[@]}" run -s "$model")"
mart_first_cold="$(first_sql 1 "${m[@]}" run --no-partial-parse -s "$model")"
mart_ls="$(wall "$RUNS" "${m[@]}" ls -s "$model")"
# The saved parse for the target measured, and a manifest.json written from it.
"${m[@]}" run --target direct -s "$model" >/dev/null

dbt_first="not measured"
whole=(mart -- "${m[@]}" run --target direct -s "$model")
if [ -x "${DBT_VENV}/bin/dbt" ] && [ "$DBT_RUNS" -gt 0 ]; then
  dbt=("${DBT_VENV}/bin/dbt" --quiet)
  dbt_args=(--project-dir "$dir" --profiles-dir "$dir" --target-path target_dbt)
  echo "==> dbt parse (saves the partial parse)"
  "${dbt[@]}" parse "${dbt_args[@]}" >/dev/null
  echo "==> dbt run -s ${model}: time to the first SQL statement"
  dbt_first="$(first_sql "$DBT_RUNS" "${dbt[@]}" run -s "$model" "${dbt_args[@]}")"
  # dbt's partial parse is for one target: saved again for the one the whole runs use.
  "${dbt[@]}" parse --target direct "${dbt_args[@]}" >/dev/null
  whole+=(";;" dbt -- "${dbt[@]}" run --target direct -s "$model" "${dbt_args[@]}")
fi
# The physical limit: psql creating the same view from the SQL mart compiled.
compiled="$(find target/compiled -name "${model}.sql" | head -n 1)"
ddl="create or replace view ${schema}.${model}__psql as ($(cat "$compiled"))"
whole+=(";;" psql -- psql -w -X -q -h 127.0.0.1 -U postgres -d postgres -c "$ddl")
echo "==> run -s ${model}, whole command: mart, dbt, psql interleaved, ${RUNS} rounds"
mapfile -t whole_lines < <(python3 "${repo}/bench/timing.py" --runs "$RUNS" --warmup 1 "${whole[@]}")
whole_of() {
  local line
  for line in "${whole_lines[@]}"; do
    [ "${line%%:*}" = "$1" ] && echo "${line#*: }" && return
  done
  echo "not measured"
}

echo
echo "mart $("$mart" --version | awk '{print $2}'), $(nproc) cores, load average ${load_before} before, $(cut -d' ' -f1-3 /proc/loadavg) after; ${MODELS} models; model ${model}"
printf '| %-36s | %-78s |\n' "command" "time (whole commands: and peak RSS)"
printf '|%s|%s|\n' "--------------------------------------" "--------------------------------------------------------------------------------"
printf '| %-36s | %-78s |\n' "mart run -s: start to first SQL" "$mart_first"
printf '| %-36s | %-78s |\n' "  same, --no-partial-parse" "$mart_first_cold"
printf '| %-36s | %-78s |\n' "mart parse --no-partial-parse" "$mart_parse"
printf '| %-36s | %-78s |\n' "mart run -s: whole command" "$(whole_of mart)"
printf '| %-36s | %-78s |\n' "mart ls -s: whole command" "$mart_ls"
printf '| %-36s | %-78s |\n' "dbt run -s: start to first SQL" "$dbt_first"
printf '| %-36s | %-78s |\n' "dbt run -s: whole command" "$(whole_of dbt)"
printf '| %-36s | %-78s |\n' "psql, the same DDL: whole command" "$(whole_of psql)"
