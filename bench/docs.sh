#!/usr/bin/env bash
# Docs benchmark (SPEC §12): wall time of `mart docs generate` on a generated 10,000-model
# project (the first generation into an empty target/, then a regeneration where pages
# are unchanged), the size of the site, the largest page and the biggest file the browser
# loads for one page, and peak memory.
#
# What it does:
#   1. generates the project with shared/bench/gen_project.py into a temp dir (removed at
#      the end unless KEEP=1);
#   2. builds mart with `cargo build --release -p mart`;
#   3. runs `mart docs generate --empty-catalog` RUNS times (the first into an empty
#      target/), under `/usr/bin/time -v` when GNU time is installed, and prints a table.
# No database is needed: --empty-catalog leaves the catalog out, and no generated model
# calls run_query().
#
# Settings (environment variables):
#   MODELS=10000            project size
#   RUNS=3                  regenerations after the first
#   GEN_PROJECT=...         path of gen_project.py (default: ../shared/bench/ beside the repo)
#   KEEP=1                  keep the generated project (its path is printed)
#
# Usage: bench/docs.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

# shellcheck source=bench/lib.sh
source bench/lib.sh

MODELS="${MODELS:-10000}"
RUNS="${RUNS:-3}"

work="$(mktemp -d)"
if [ -z "${KEEP:-}" ]; then
  trap 'rm -rf "$work"' EXIT
else
  echo "keeping the project in ${work}"
fi

echo "==> cargo build --release -p mart"
# shellcheck source=scripts/lib/cargo.sh
source "${repo}/scripts/lib/cargo.sh"
mart="$(build_mart --release -q)"
project="${work}/p${MODELS}"
python3 "$GEN_PROJECT" --models "$MODELS" --out "$project" >/dev/null

# run LABEL: one timed generation; prints "label wall_ms max_rss_kb".
run() {
  local label="$1" start end rss="-"
  start=$(date +%s%N)
  if [ -x /usr/bin/time ]; then
    (cd "$project" && /usr/bin/time -v "$mart" docs generate --empty-catalog >"$work/out.log" 2>"$work/time.log")
    rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.log")"
  else
    (cd "$project" && "$mart" docs generate --empty-catalog >"$work/out.log" 2>&1)
  fi
  end=$(date +%s%N)
  printf '%-28s %10s %14s\n' "$label" "$(((end - start) / 1000000))" "$rss"
}

echo
printf '%-28s %10s %14s\n' "mart docs generate" "wall ms" "max RSS KB"
run "first (empty target/)"
for i in $(seq "$RUNS"); do
  run "again #${i} (pages unchanged)"
done

site="${project}/target/docs"
files="$(find "$site" -type f | wc -l)"
bytes="$(du -sb "$site" | cut -f1)"
largest="$(find "$site" -type f -printf '%s %P\n' | sort -n | tail -1)"
index="$(stat -c %s "$site/index.html")"
lineage="$(stat -c %s "$site/lineage.html")"
shard="$(find "$site/search" -type f -printf '%s\n' | sort -n | tail -1)"
echo
echo "models:                    ${MODELS}"
echo "site:                      ${files} files, $((bytes / 1000000)) MB ($(du -sh "$site" | cut -f1) on disk)"
echo "index.html:                ${index} bytes"
echo "lineage.html:              ${lineage} bytes"
echo "largest file:              ${largest} bytes"
echo "largest search shard:      ${shard} bytes (loaded only when searching)"
echo "mean node page:            $(($(find "$site/nodes" -type f -printf '%s\n' | awk '{s += $1} END {print int(s / NR)}'))) bytes"
