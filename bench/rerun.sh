#!/usr/bin/env bash
# Rerun benchmark (issue 16: a second `run` with nothing changed costs <= 25% of the first):
# a generated project of MODELS models, run twice from an empty schema, by mart, by psql
# replaying the statements mart sent (the physical limit) and by dbt-core; interleaved,
# RUNS rounds, min and median of each, with the load average.
#
# What it does:
#   1. takes $MART_BIN, or builds mart with `cargo build --release -p mart`;
#   2. generates the project (../shared/bench/gen_project.py) in a temp dir (kept with
#      KEEP=1) and loads its seeds once for mart and once for dbt;
#   3. each round: drops the model schema and times `mart run` (first) then `mart run`
#      (second, nothing changed: tables rebuilt, unchanged views kept); then psql replays,
#      from an empty schema, each run's statements (target/run), DAG level by level, THREADS
#      sessions at a time, each node in its own transaction (bench/replay_plan.py); then
#      `dbt run` twice from an empty schema;
#   4. prints min and median of each, and the second/first ratios.
#
# Needs: bash, python3, psql, PostgreSQL on $MART_PG_HOST:$MART_PG_PORT (default
# 127.0.0.1:5432, user postgres, dbname postgres, trust auth); cargo unless MART_BIN is set.
# dbt-core (optional): DBT_VENV (default ~/.cache/mart-suites/dbt-venv) holding bin/dbt and
# dbt-postgres; skipped when $DBT_VENV/bin/dbt does not exist.
#
# Settings: MODELS=1000, RUNS=3, DBT_RUNS=2 (rounds that also time dbt), THREADS=4,
# MART_BIN, DBT_VENV, GEN_PROJECT, KEEP=1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/timing.sh
source bench/timing.sh

MODELS="${MODELS:-1000}"
RUNS="${RUNS:-3}"
DBT_RUNS="${DBT_RUNS:-2}"
THREADS="${THREADS:-4}"
DBT_VENV="${DBT_VENV:-${HOME}/.cache/mart-suites/dbt-venv}"
host="${MART_PG_HOST:-127.0.0.1}"
port="${MART_PG_PORT:-5432}"
user="${MART_PG_USER:-postgres}"
db="${MART_PG_DBNAME:-postgres}"
schema="mart_bench_rerun_$$"
dbt_schema="${schema}_dbt"

pg() { psql -qX -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" "$@"; }
drop_schemas() {
  for s in "$@"; do pg -c "drop schema if exists \"$s\" cascade" >/dev/null 2>&1; done
}

work="$(mktemp -d -t mart-rerun.XXXXXX)"
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then
    echo "kept ${work} and schemas ${schema}*"
    return
  fi
  drop_schemas "$schema" "${schema}_raw" "$dbt_schema" "${dbt_schema}_raw" || true
  rm -rf "$work"
}
trap cleanup EXIT

mart="$(mart_binary)"
dbt=""
if [ -x "${DBT_VENV}/bin/dbt" ]; then
  dbt="${DBT_VENV}/bin/dbt"
else
  echo "(dbt not found in ${DBT_VENV}: dbt rows are skipped)"
fi

echo "==> generating a project of ${MODELS} models"
dir="${work}/p"
python3 "$GEN_PROJECT" --models "$MODELS" --out "$dir" --schema "$schema" >/dev/null
profile() { # profile TARGET SCHEMA
  printf '    %s:\n      type: postgres\n      host: %s\n      port: %s\n      user: %s\n      password: ""\n      dbname: %s\n      schema: %s\n      threads: %s\n' \
    "$1" "$host" "$port" "$user" "$db" "$2" "$THREADS"
}
{
  printf 'bench:\n  target: mart\n  outputs:\n'
  profile mart "$schema"
  profile dbt "$dbt_schema"
} >"${dir}/profiles.yml"
m=("$mart" --project-dir "$dir" --profiles-dir "$dir")
"${m[@]}" seed >/dev/null
d=()
if [ -n "$dbt" ]; then
  d=("$dbt" --quiet run --project-dir "$dir" --profiles-dir "$dir" --target dbt --target-path target_dbt)
  "$dbt" --quiet seed --project-dir "$dir" --profiles-dir "$dir" --target dbt --target-path target_dbt >/dev/null
fi

# timed CMD...: runs CMD (output to work/last.log) and prints its wall time in seconds.
timed() {
  local t0
  t0=$(date +%s.%N)
  "$@" >"${work}/last.log" 2>&1 || {
    cat "${work}/last.log" >&2
    return 1
  }
  seconds_since "$t0"
}
# keep_target NAME: copies what the replay needs of the last mart run.
keep_target() {
  rm -rf "${work:?}/$1"
  mkdir -p "${work}/$1"
  cp -r "${dir}/target/manifest.json" "${dir}/target/run_results.json" "${dir}/target/run" "${work}/$1/"
}
# plan NAME: writes the psql replay of the mart run kept as NAME (bench/replay_plan.py).
plan() {
  rm -rf "${work}/plan_$1"
  python3 "${repo}/bench/replay_plan.py" "${work}/$1" "$THREADS" "${work}/plan_$1"
}
# replay PLAN: psql runs a plan, level by level, its sessions of a level in parallel.
replay() {
  local level file failed=0
  for level in "$1"/*; do
    for file in "$level"/*.sql; do
      pg -f "$file" >/dev/null &
    done
    for job in $(jobs -p); do wait "$job" || failed=1; done
    [ "$failed" = 0 ] || return 1
  done
}
fresh_psql() {
  drop_schemas "$schema"
  pg -c "create schema \"$schema\"" >/dev/null
}
# timed_replay NAME: the plan is written before the clock starts.
timed_replay() {
  plan "$1"
  timed replay "${work}/plan_$1"
}

mart_first=() mart_second=() psql_first=() psql_second=() dbt_first=() dbt_second=()
skipped=""
for round in $(seq 1 "$RUNS"); do
  drop_schemas "$schema"
  rm -f "${dir}/target/view_states.json"
  mart_first+=("$(timed "${m[@]}" run)")
  keep_target first
  mart_second+=("$(timed "${m[@]}" run)")
  keep_target second
  skipped="$(python3 -c 'import json, sys
print(sum(r["message"] == "VIEW UNCHANGED" for r in json.load(open(sys.argv[1]))["results"]))' "${dir}/target/run_results.json")"
  fresh_psql
  psql_first+=("$(timed_replay first)")
  psql_second+=("$(timed_replay second)")
  line="    round ${round}: mart ${mart_first[-1]}s / ${mart_second[-1]}s, psql ${psql_first[-1]}s / ${psql_second[-1]}s"
  if [ -n "$dbt" ] && [ "$round" -le "$DBT_RUNS" ]; then
    drop_schemas "$dbt_schema"
    dbt_first+=("$(timed "${d[@]}")")
    dbt_second+=("$(timed "${d[@]}")")
    line="${line}, dbt ${dbt_first[-1]}s / ${dbt_second[-1]}s"
  fi
  echo "$line (first / second)"
done

# summary SECONDS...: "min X s, median Y s (N runs)".
summary() {
  local min median
  read -r min median <<<"$(min_median "$@")"
  echo "min ${min} s, median ${median} s ($# runs)"
}
ratio() { python3 -c 'import statistics, sys
a, b = sys.argv[1].split(), sys.argv[2].split()
print("%.0f%%" % (100 * statistics.median(map(float, b)) / statistics.median(map(float, a))))' "$1" "$2"; }
echo
echo "mart $("$mart" --version | awk '{print $2}'), $(load_average); ${MODELS} models, ${THREADS} threads; second run kept ${skipped} views"
printf '| %-34s | %-40s | %-13s |\n' "run" "time" "second/first"
printf '|%s|%s|%s|\n' "------------------------------------" "------------------------------------------" "---------------"
printf '| %-34s | %-40s | %-13s |\n' "mart run, first (empty schema)" "$(summary "${mart_first[@]}")" ""
printf '| %-34s | %-40s | %-13s |\n' "mart run, second (nothing changed)" "$(summary "${mart_second[@]}")" "$(ratio "${mart_first[*]}" "${mart_second[*]}")"
printf '| %-34s | %-40s | %-13s |\n' "psql replay of the first" "$(summary "${psql_first[@]}")" ""
printf '| %-34s | %-40s | %-13s |\n' "psql replay of the second" "$(summary "${psql_second[@]}")" "$(ratio "${psql_first[*]}" "${psql_second[*]}")"
if [ -n "$dbt" ] && [ "$DBT_RUNS" -gt 0 ]; then
  printf '| %-34s | %-40s | %-13s |\n' "dbt run, first" "$(summary "${dbt_first[@]}")" ""
  printf '| %-34s | %-40s | %-13s |\n' "dbt run, second" "$(summary "${dbt_second[@]}")" "$(ratio "${dbt_first[*]}" "${dbt_second[*]}")"
fi
