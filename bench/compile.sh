#!/usr/bin/env bash
# Parse and compile benchmark (SPEC §12): wall time and peak memory of mart on generated
# dbt projects, beside dbt-core on the same project, interleaved (bench/timing.py: each
# round runs every command once; min and median of RUNS rounds; the load average before
# and after).
#
# Rows, at each size in SIZES:
#   compile, full parse    `compile -s resource_type:model --no-partial-parse` (both tools;
#                          the generated data tests are parsed, not compiled)
#   parse, full            `parse --no-partial-parse`
#   parse, saved parse     `parse` on the unchanged project (mart's saved parse, dbt's
#                          partial parsing), after one parse
#   ls one model, saved    `ls -s <model>` on the unchanged project
# dbt runs at sizes up to DBT_MAX_MODELS only (a full dbt parse of 100,000 models takes
# many minutes). Nothing needs the database: no model calls run_query().
#
# Settings (environment variables):
#   SIZES="10000 100000"   project sizes
#   RUNS=5                 timed rounds (after WARMUP warm-up rounds)
#   WARMUP=1
#   DBT_VENV               a virtualenv holding dbt-core 1.10 + dbt-postgres 1.9 (default
#                          ~/.cache/mart-suites/dbt-venv, as the suites make it); dbt is
#                          skipped when $DBT_VENV/bin/dbt does not exist
#   DBT_MAX_MODELS=10000
#   MART_BIN               a mart binary to time (default: `cargo build --release -p mart`)
#   GEN_PROJECT            path of gen_project.py (default: ../shared/bench/ beside the repo)
#   KEEP=1                 keep the generated projects (their path is printed)
#
# Usage: bench/compile.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/timing.sh
source bench/timing.sh

SIZES="${SIZES:-10000 100000}"
RUNS="${RUNS:-5}"
WARMUP="${WARMUP:-1}"
DBT_VENV="${DBT_VENV:-${HOME}/.cache/mart-suites/dbt-venv}"
DBT_MAX_MODELS="${DBT_MAX_MODELS:-10000}"

dbt=""
if [ -x "${DBT_VENV}/bin/dbt" ]; then
  dbt="${DBT_VENV}/bin/dbt"
else
  echo "(dbt not found in ${DBT_VENV}: dbt is skipped)"
fi
mart="$(mart_binary)"

work="$(mktemp -d -t mart-bench.XXXXXX)"
if [ "${KEEP:-}" = 1 ]; then
  echo "(projects kept in ${work})"
else
  trap 'rm -rf "$work"' EXIT
fi

results=()
# bench LABEL SIZE WITH_DBT MART_ARGS... -- DBT_ARGS...: one row, timed with timing.py.
bench() {
  local label="$1" n="$2" with_dbt="$3" mart_args=()
  shift 3
  while [ "$1" != "--" ]; do
    mart_args+=("$1")
    shift
  done
  shift
  echo "==> ${n} models: ${label}"
  local cmds=(mart -- "$mart" "${mart_args[@]}" --project-dir "$dir" --profiles-dir "$dir")
  if [ -n "$dbt" ] && [ "$with_dbt" = 1 ]; then
    cmds+=(";;" dbt -- "$dbt" "$@" --project-dir "$dir" --profiles-dir "$dir"
      --target-path target_dbt --quiet)
  fi
  python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" --json "${work}/row.json" \
    "${cmds[@]}"
  results+=("$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
cell = lambda k: "%d / %d ms, %d MB" % (r[k]["min_ms"], r[k]["median_ms"], r[k]["rss_mb"]) if k in r else "-"
ratio = "%.0fx" % (r["dbt"]["median_ms"] / r["mart"]["median_ms"]) if "dbt" in r else "-"
print("| %s | %s | %s | %s | %s |" % (sys.argv[2], sys.argv[3], cell("mart"), cell("dbt"), ratio))' \
    "${work}/row.json" "$label" "$n")")
}

for n in $SIZES; do
  dir="${work}/p${n}"
  echo "==> generating a project of ${n} models"
  python3 "$GEN_PROJECT" --models "$n" --out "$dir" --schema mart_bench >/dev/null
  write_bench_profile "$dir" mart_bench
  # awk, not head: head would end sort with SIGPIPE, which pipefail turns into a failure.
  model="$(basename "$(find "${dir}/models/fct" -name '*.sql' | sort | awk 'NR == 1')" .sql)"
  with_dbt=0
  [ "$n" -le "$DBT_MAX_MODELS" ] && with_dbt=1

  bench "compile, full parse" "$n" "$with_dbt" \
    compile --no-partial-parse -s resource_type:model \
    -- compile --no-partial-parse -s resource_type:model
  bench "parse, full" "$n" "$with_dbt" parse --no-partial-parse -- parse --no-partial-parse
  # The warm-up round leaves each tool's saved parse of the unchanged project.
  bench "parse, saved parse" "$n" "$with_dbt" parse -- parse
  bench "ls one model, saved parse" "$n" "$with_dbt" ls -s "$model" -- ls -s "$model"
done

echo
echo "mart $("$mart" --version | awk '{print $2}'), $(load_average); dbt: ${dbt:-not measured}"
echo "| command | models | mart min / median, peak RSS | dbt min / median, peak RSS | dbt / mart |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${results[@]}"
