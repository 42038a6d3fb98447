#!/usr/bin/env bash
# What static analysis adds to `mart compile` (issue goal: at most 20%) on a generated
# project: `compile` of every model and data test with the analysis off, with it on
# (baseline; the analyses kept in target/static_analysis.msgpack from the round before),
# and with it on from nothing (the kept analyses removed first), interleaved by
# bench/timing.py (min and median of RUNS rounds, peak RSS, load average).
#
# Settings: SIZE=10000 models, RUNS=5, WARMUP=1, MART_BIN (default: a release build),
# GEN_PROJECT (default: ../shared/bench/gen_project.py), KEEP=1 keeps the project.
#
# Usage: bench/static_analysis.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
# shellcheck source=bench/timing.sh
source bench/timing.sh
SIZE="${SIZE:-10000}"
RUNS="${RUNS:-5}"
WARMUP="${WARMUP:-1}"
mart="$(mart_binary)"

work="$(mktemp -d -t mart-bench.XXXXXX)"
if [ "${KEEP:-}" = 1 ]; then
  echo "(project kept in ${work})"
else
  trap 'rm -rf "$work"' EXIT
fi
dir="${work}/p${SIZE}"
echo "==> generating a project of ${SIZE} models"
python3 "$GEN_PROJECT" --models "$SIZE" --out "$dir" --schema mart_bench >/dev/null
write_bench_profile "$dir" mart_bench
args=(compile --project-dir "$dir" --profiles-dir "$dir")
"$mart" "${args[@]}" --log-level debug | grep 'Static analysis'
python3 bench/timing.py --runs "$RUNS" --warmup "$WARMUP" \
  off -- "$mart" "${args[@]}" --static-analysis off ";;" \
  baseline -- "$mart" "${args[@]}" ";;" \
  cold -- sh -c "rm -f '${dir}/target/static_analysis.msgpack' && exec \"\$0\" \"\$@\"" \
  "$mart" "${args[@]}"
echo "mart $("$mart" --version | awk '{print $2}'), $(load_average)"
