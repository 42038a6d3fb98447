#!/usr/bin/env bash
# End-to-end suite: mart and dbt-core 1.10 + dbt-postgres 1.9 (a virtualenv cached outside
# the repo) run the same small project (scripts/suites/dbt_parity/project: seeds, sources
# with freshness rules, views, an incremental model, an enforced contract with
# constraints, unit tests, data tests, YAML selectors) through the same commands, each
# in its own schema, and must agree: exit codes, every node's status and failure count,
# the relations built (columns, types, rows), the contract's PostgreSQL constraints,
# source freshness, `ls` selections and `show` rows (observe.py, compare.py).
# Ends with `dbt_parity: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
venv="$(suite_venv dbt-venv 'import dbt.adapters.postgres' "dbt-core==1.10.*" "dbt-postgres==1.9.*")"

# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)"

work="$(mktemp -d)"
mart_schema="mart_suite_parity_mart_$$"
dbt_schema="mart_suite_parity_dbt_$$"
cleanup() {
  drop_schema_family "$mart_schema"
  drop_schema_family "$dbt_schema"
  rm -rf "$work"
}
trap cleanup EXIT

export PARITY_HOST="${MART_PG_HOST:-127.0.0.1}" PARITY_PORT="${MART_PG_PORT:-5432}"
export PARITY_USER="${MART_PG_USER:-postgres}" PARITY_DBNAME="${MART_PG_DBNAME:-postgres}"
export DBT_ENV_SECRET_PARITY_PASS="${MART_PG_PASSWORD:-}"

suite="${repo}/scripts/suites/dbt_parity"
observe() {
  local tool="$1" binary="$2" schema="$3"
  cp -r "${suite}/project" "${work}/${tool}"
  chmod -R u+w "${work}/${tool}"
  PARITY_SCHEMA="$schema" "${venv}/bin/python" "${suite}/observe.py" \
    "$tool" "$binary" "${work}/${tool}" "$schema" "${work}/${tool}.json"
}

passed=0
failed=0
if observe mart "$mart" "$mart_schema" && observe dbt "${venv}/bin/dbt" "$dbt_schema"; then
  compare="$("${venv}/bin/python" "${suite}/compare.py" "${work}/mart.json" "${work}/dbt.json")" || true
  printf '%s\n' "$compare" | grep -v '^RESULT' >&2 || true
  read -r _ passed failed < <(printf '%s\n' "$compare" | grep '^RESULT' || echo "RESULT 0 1")
else
  echo "[dbt_parity] a tool could not be observed" >&2
  failed=1
fi

echo "dbt_parity: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
