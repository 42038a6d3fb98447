#!/usr/bin/env bash
# Compile benchmark (SPEC §12): wall time and peak memory of `mart compile` on synthetic
# dbt projects of 100, 1,000 and 10,000 models, and of `mart ls -s <one model>` at 10,000
# models (the one-node start-up path Airflow takes for every task). Optionally dbt-core
# side by side on the same projects.
#
# What it does:
#   1. generates the projects with shared/bench/gen_project.py into a temp dir (removed at
#      the end unless KEEP=1), each with a profiles.yml for postgres on 127.0.0.1:5432
#      (user postgres, no password, dbname postgres, schema mart_bench);
#   2. builds mart with `cargo build --release -p mart`;
#   3. times each command with hyperfine when it is installed (else a bash loop), after
#      warm-up runs, so `mart compile` is measured with its target/ already written (the
#      usual case: compiled files are rewritten only when their SQL changed); peak memory
#      (max RSS) comes from one run under `/usr/bin/time -v`; a command run once (dbt,
#      DBT_RUNS=1) takes both from that run;
#   4. prints a table.
# Neither mart nor dbt needs the database here: nothing is run, and mart connects only if
# a model calls run_query() (none do). dbt compile may connect for is_incremental().
#
# Tools: python3, cargo; hyperfine and GNU time are optional
# (`apt-get update && apt-get install -y hyperfine time`).
#
# dbt-core (optional): set DBT_VENV to a virtualenv holding dbt (default /tmp/dbtvenv);
# it is skipped when $DBT_VENV/bin/dbt does not exist. To make one:
#   python3 -m venv /tmp/dbtvenv
#   /tmp/dbtvenv/bin/pip install "dbt-core==1.10.*" "dbt-postgres==1.9.*"
# Rows: a full parse on both sides (`--no-partial-parse`: `compile -s resource_type:model`,
# models only, the generated data tests left out on both sides; mart `ls -s <model>`
# beside `dbt parse`), then the same commands reusing the last parse (mart's saved parse,
# dbt's partial parsing; dbt at the largest size only).
#
# Settings (environment variables):
#   SIZES="100 1000 10000"  project sizes
#   RUNS=10                 timed runs per mart command (hyperfine --runs)
#   DBT_RUNS=1              timed runs per dbt command
#   DBT_VENV=/tmp/dbtvenv   see above
#   GEN_PROJECT=...         path of gen_project.py (default: ../shared/bench/ beside the repo)
#   KEEP=1                  keep the generated projects (their path is printed)
#
# Usage: bench/compile.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

# shellcheck source=bench/lib.sh
source bench/lib.sh

SIZES="${SIZES:-100 1000 10000}"
RUNS="${RUNS:-10}"
DBT_RUNS="${DBT_RUNS:-1}"
DBT_VENV="${DBT_VENV:-/tmp/dbtvenv}"

dbt=""
if [ -x "${DBT_VENV}/bin/dbt" ]; then
  dbt="${DBT_VENV}/bin/dbt"
else
  echo "(dbt not found in ${DBT_VENV}: dbt columns are skipped)"
fi
have_hyperfine=""
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1
have_gnu_time=""
/usr/bin/time -v true >/dev/null 2>&1 && have_gnu_time=1

work="$(mktemp -d -t mart-bench.XXXXXX)"
if [ "${KEEP:-}" = 1 ]; then
  echo "(projects kept in ${work})"
else
  trap 'rm -rf "$work"' EXIT
fi

echo "==> cargo build --release -p mart"
cargo build --release -p mart
mart="${CARGO_TARGET_DIR:-${repo}/target}/release/mart"

for n in $SIZES; do
  echo "==> generating a project of ${n} models"
  python3 "$GEN_PROJECT" --models "$n" --out "${work}/p${n}" --schema mart_bench >/dev/null
  cat >"${work}/p${n}/profiles.yml" <<'EOF'
bench:
  target: dev
  outputs:
    dev:
      type: postgres
      host: 127.0.0.1
      port: 5432
      user: postgres
      password: ""
      dbname: postgres
      schema: mart_bench
      threads: 4
EOF
done

# measure RUNS CMD...: "<time>|<peak RSS>" of CMD, run in the current directory. Several
# runs: hyperfine's mean +- standard deviation after 2 warm-up runs (a bash loop without
# hyperfine), then one more run under /usr/bin/time -v for the peak RSS. One run (dbt):
# that single run under /usr/bin/time -v gives both.
measure() {
  local runs="$1"
  shift
  local time rss="n/a"
  if [ "$runs" -le 1 ] && [ -n "$have_gnu_time" ]; then
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '
      /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; time = sprintf("%.0f ms", s * 1000) }
      /Maximum resident set size/ { rss = sprintf("%.0f MB", $2 / 1024) }
      END { printf "%s|%s\n", time, rss }'
    return
  fi
  if [ -n "$have_hyperfine" ]; then
    time="$(hyperfine_mean "${work}/hyperfine.json" "$runs" 2 "$@")"
  else
    "$@" >/dev/null 2>&1
    "$@" >/dev/null 2>&1
    local total=0 i start end
    for ((i = 0; i < runs; i++)); do
      start=$(date +%s%N)
      "$@" >/dev/null 2>&1
      end=$(date +%s%N)
      total=$((total + end - start))
    done
    time="$((total / runs / 1000000)) ms"
  fi
  if [ -n "$have_gnu_time" ]; then
    rss="$(/usr/bin/time -v "$@" 2>&1 >/dev/null |
      awk -F': ' '/Maximum resident set size/ { printf "%.0f MB", $2 / 1024 }')"
  fi
  echo "${time}|${rss}"
}

rows=()
# row COMMAND MODELS MART DBT, MART and DBT as "<time>|<rss>".
row() {
  rows+=("$(printf '| %-28s | %6s | %-16s | %-8s | %-16s | %-8s |' \
    "$1" "$2" "${3%|*}" "${3#*|}" "${4%|*}" "${4#*|}")")
}
largest="$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -n 1)"

# compare LABEL DBT_TOO MART_ARGS... -- DBT_ARGS...: one row, mart run with MART_ARGS and,
# when DBT_TOO is 1 and dbt is installed, dbt with DBT_ARGS (both on the project in "$dir").
compare() {
  local label="$1" dbt_too="$2" mart_args=() mart_result dbt_result="-|-"
  shift 2
  while [ "$1" != "--" ]; do
    mart_args+=("$1")
    shift
  done
  shift
  echo "==> ${n} models: mart ${mart_args[*]}"
  mart_result="$(measure "$RUNS" "${m[@]}" "${mart_args[@]}")"
  if [ -n "$dbt" ] && [ "$dbt_too" = 1 ]; then
    echo "==> ${n} models: dbt $*"
    dbt_result="$(measure "$DBT_RUNS" "$dbt" "$@" "${dbt_args[@]}")"
  fi
  row "$label" "$n" "$mart_result" "$dbt_result"
}

for n in $SIZES; do
  dir="${work}/p${n}"
  cd "$dir"
  # awk, not head: head would end sort with SIGPIPE, which pipefail turns into a failure.
  model="$(basename "$(find models/fct -name '*.sql' | sort | awk 'NR == 1')" .sql)"
  m=("$mart" --project-dir "$dir" --profiles-dir "$dir")
  dbt_args=(--project-dir "$dir" --profiles-dir "$dir" --target-path target_dbt --quiet)

  compare "compile (full parse)" 1 compile --no-partial-parse -s resource_type:model \
    -- compile --no-partial-parse -s resource_type:model
  compare "ls -s 1 model / dbt parse" 1 ls --no-partial-parse -s "$model" \
    -- parse --no-partial-parse

  # The saved parse (mart) and partial parsing (dbt): the project is unchanged since the
  # last command, the usual case for an Airflow task. dbt only at the largest size.
  "${m[@]}" parse >/dev/null
  at_largest=0
  if [ "$n" = "$largest" ]; then
    at_largest=1
    [ -n "$dbt" ] && "$dbt" parse "${dbt_args[@]}" >/dev/null
  fi
  compare "compile (saved parse)" "$at_largest" compile -s resource_type:model \
    -- compile -s resource_type:model
  compare "ls -s 1 model (saved parse)" "$at_largest" ls -s "$model" -- ls -s "$model"
  cd "$repo"
done

echo
echo "mart $("$mart" --version | awk '{print $2}'), $(nproc) cores; dbt: ${dbt:-not measured}"
printf '| %-28s | %6s | %-16s | %-8s | %-16s | %-8s |\n' "command" "models" "mart time" "mart RSS" "dbt time" "dbt RSS"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------" "--------" "------------------" "----------" "------------------" "----------"
printf '%s\n' "${rows[@]}"
