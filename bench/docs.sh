#!/usr/bin/env bash
# Docs benchmark (issue 16: docs generate of 10,000 models under 1.5 s): `mart docs
# generate --empty-catalog` on a generated project beside `dbt docs generate
# --empty-catalog`, interleaved, RUNS rounds of:
#   - mart into an empty target/ (full parse, every page written);
#   - mart again (saved parse, every page unchanged: compared and left alone);
#   - dbt into an empty target path (full parse), in the first DBT_RUNS rounds only
#     (dbt-core 1.10 in DBT_VENV; skipped when absent).
# Prints every run, min and median per command with the peak RSS, the load average
# before and after, and the site: files, size, largest page, largest search shard.
# No database is needed: --empty-catalog leaves the catalog out, and no generated model
# calls run_query().
#
# Settings (environment variables):
#   MODELS=10000            project size
#   RUNS=3                  rounds
#   DBT_RUNS=1              rounds that also run dbt
#   MART_BIN=...            the mart binary to time (skips `cargo build --release -p mart`)
#   DBT_VENV=~/.cache/mart-suites/dbt-venv   virtualenv holding dbt-core + dbt-postgres
#   GEN_PROJECT=...         path of gen_project.py (default: ../shared/bench/ beside the repo)
#   KEEP=1                  keep the generated project (its path is printed)
#
# Usage: bench/docs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/timing.sh
source bench/timing.sh

MODELS="${MODELS:-10000}"
RUNS="${RUNS:-3}"
DBT_RUNS="${DBT_RUNS:-1}"
DBT_VENV="${DBT_VENV:-${HOME}/.cache/mart-suites/dbt-venv}"

work="$(mktemp -d)"
if [ -z "${KEEP:-}" ]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "keeping the project in ${work}"
fi

mart="$(mart_binary)"
dbt=""
if [ -x "${DBT_VENV}/bin/dbt" ]; then
  dbt="${DBT_VENV}/bin/dbt"
else
  echo "(dbt not found in ${DBT_VENV}: dbt docs generate is skipped)"
fi
project="${work}/p${MODELS}"
python3 "$GEN_PROJECT" --models "$MODELS" --out "$project" >/dev/null
write_bench_profile "$project" docs_bench

# timed LABEL COMMAND...: runs COMMAND in the project, prints "seconds max_rss_mb".
timed() {
  local start rss="-"
  start=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    (cd "$project" && /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out.log" 2>&1)
    rss=$(($(tail -1 "$work/rss") / 1024))
  else
    (cd "$project" && "$@" >"$work/out.log" 2>&1)
  fi
  echo "$(seconds_since "$start") $rss"
}

echo "==> ${MODELS} models, ${RUNS} rounds, interleaved; $(load_average)"
first=() again=() dbt_times=() first_rss="-" again_rss="-" dbt_rss="-"
for round in $(seq 1 "$RUNS"); do
  rm -rf "$project/target"
  read -r s first_rss <<<"$(timed "$mart" docs generate --empty-catalog --profiles-dir "$project")"
  first+=("$s")
  line="    round $round: mart empty target/ ${s}s"
  read -r s again_rss <<<"$(timed "$mart" docs generate --empty-catalog --profiles-dir "$project")"
  again+=("$s")
  line+=", mart again ${s}s"
  if [ -n "$dbt" ] && [ "$round" -le "$DBT_RUNS" ]; then
    rm -rf "$project/target_dbt"
    read -r s dbt_rss <<<"$(timed "$dbt" --quiet docs generate --empty-catalog \
      --profiles-dir "$project" --target-path target_dbt)"
    dbt_times+=("$s")
    line+=", dbt ${s}s"
  fi
  echo "$line"
done
echo "    $(load_average)"

site="${project}/target/docs"
files="$(find "$site" -type f | wc -l)"
bytes="$(du -sb "$site" | cut -f1)"
largest="$(find "$site" -type f -printf '%s %P\n' | sort -n | tail -1)"
shard="$(find "$site/search" -type f -printf '%s\n' | sort -n | tail -1)"
shards="$(find "$site/search" -type f | wc -l)"

echo
echo "docs generate --empty-catalog, ${MODELS} models, ${RUNS} rounds"
printf '  %-34s %8s %9s %12s\n' "command" "min s" "median s" "max RSS MB"
read -r mn md <<<"$(min_median "${first[@]}")"
printf '  %-34s %8s %9s %12s\n' "mart, empty target/" "$mn" "$md" "$first_rss"
mart_min="$mn"
read -r mn md <<<"$(min_median "${again[@]}")"
printf '  %-34s %8s %9s %12s\n' "mart again (pages unchanged)" "$mn" "$md" "$again_rss"
if [ "${#dbt_times[@]}" -gt 0 ]; then
  read -r mn md <<<"$(min_median "${dbt_times[@]}")"
  printf '  %-34s %8s %9s %12s   (%s runs)\n' "dbt, empty target path" "$mn" "$md" "$dbt_rss" "${#dbt_times[@]}"
  awk -v m="$mart_min" -v d="$mn" 'BEGIN { printf "  dbt / mart (empty target, min): %.1fx\n", d / m }'
fi
echo "  site:                 ${files} files, $((bytes / 1000000)) MB"
echo "  largest file:         ${largest#* }, ${largest%% *} bytes"
echo "  search shards:        ${shards}, the largest ${shard} bytes (loaded only when searching)"
echo "  mean node page:       $(find "$site/nodes" -type f -printf '%s\n' | awk '{s += $1} END {print int(s / NR)}') bytes"
