#!/usr/bin/env bash
# End-to-end suite: a real dbt package runs unchanged. dbt-utils' own test project
# (../shared/packages/dbt-utils/integration_tests, which installs dbt-utils with
# `local: ../`) goes through `mart deps`, `mart seed --full-refresh`,
# `mart run --full-refresh` and `mart test`: every seed and model must succeed and every
# data test pass. dbt-core 1.10 + dbt-postgres 1.9 (a virtualenv cached outside the repo)
# builds the same project into a second schema, and every relation is compared: column
# names, types and an order-independent checksum of the rows must be equal.
# Ends with `dbt_packages: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

packages="${MART_SHARED:-${repo}/../shared}/packages"
if [ ! -d "${packages}/dbt-utils/integration_tests" ]; then
  echo "[dbt_packages] ${packages}/dbt-utils is missing" >&2
  echo "dbt_packages: 0 passed, 1 failed"
  exit 1
fi

# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
venv="$(suite_venv dbt-venv 'import dbt.adapters.postgres' "dbt-core==1.10.*" "dbt-postgres==1.9.*")"

# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)"

work="$(mktemp -d)"
mart_schema="mart_suite_pkg_mart_$$"
dbt_schema="mart_suite_pkg_dbt_$$"
cleanup() {
  drop_schema_family "$mart_schema"
  drop_schema_family "$dbt_schema"
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {
  local what="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "[dbt_packages] FAILED: ${what}" >&2
  fi
}

# Two copies: the project needs its parent folder (the package) beside it.
for side in mart dbt; do
  cp -r "${packages}/dbt-utils" "${work}/${side}"
  chmod -R u+w "${work}/${side}"
  cat > "${work}/${side}/integration_tests/profiles.yml" <<'YAML'
integration_tests:
  target: postgres
  outputs:
    postgres:
      type: postgres
      host: "{{ env_var('POSTGRES_HOST') }}"
      user: "{{ env_var('POSTGRES_USER') }}"
      pass: "{{ env_var('DBT_ENV_SECRET_POSTGRES_PASS') }}"
      port: "{{ env_var('POSTGRES_PORT') | as_number }}"
      dbname: "{{ env_var('POSTGRES_DATABASE') }}"
      schema: "{{ env_var('POSTGRES_SCHEMA') }}"
      threads: 4
YAML
done
export POSTGRES_HOST="${MART_PG_HOST:-127.0.0.1}" POSTGRES_PORT="${MART_PG_PORT:-5432}"
export POSTGRES_USER="${MART_PG_USER:-postgres}" POSTGRES_DATABASE="${MART_PG_DBNAME:-postgres}"
export DBT_ENV_SECRET_POSTGRES_PASS="${MART_PG_PASSWORD:-}"

# `Done. PASS=N ... ERROR=0 ...` with the expected count, and exit code 0.
expect_done() {
  local log="$1" pass="$2"
  grep -Eq "Done\. PASS=${pass} WARN=0 ERROR=0 SKIP=0" "$log" ||
    { tail -n 40 "$log" >&2; return 1; }
}
run_logged() {
  local log="$1"
  shift
  "$@" > "$log" 2>&1 || { tail -n 40 "$log" >&2; return 1; }
}

cd "${work}/mart/integration_tests"
export POSTGRES_SCHEMA="$mart_schema"
check "mart deps" run_logged deps.log "$mart" deps --profiles-dir .
check "mart deps links dbt_utils" test -L dbt_packages/dbt_utils
check "mart seed --full-refresh" run_logged seed.log "$mart" seed --full-refresh --profiles-dir .
check "75 seeds" expect_done seed.log 75
check "mart run --full-refresh" run_logged run.log "$mart" run --full-refresh --profiles-dir .
check "50 models" expect_done run.log 50
check "mart test" run_logged test.log "$mart" test --profiles-dir .
check "112 data tests pass" expect_done test.log 112

cd "${work}/dbt/integration_tests"
export POSTGRES_SCHEMA="$dbt_schema" DBT_PROFILES_DIR=. DBT_SEND_ANONYMOUS_USAGE_STATS=false
dbt="${venv}/bin/dbt"
check "dbt deps" run_logged deps.log "$dbt" deps
check "dbt seed" run_logged seed.log "$dbt" seed --full-refresh
check "dbt run" run_logged run.log "$dbt" run --full-refresh
check "dbt test" run_logged test.log "$dbt" test
check "mart writes dbt's package-lock.yml" \
  cmp "${work}/dbt/integration_tests/package-lock.yml" "${work}/mart/integration_tests/package-lock.yml"

# Every relation of dbt's schemas must exist in mart's with the same columns, types and rows.
compare="$(mktemp)"
if "${venv}/bin/python" - "$mart_schema" "$dbt_schema" > "$compare" <<'PY'; then
import os, sys
import psycopg2

mart, dbt = sys.argv[1], sys.argv[2]
conn = psycopg2.connect(
    host=os.environ["POSTGRES_HOST"], port=os.environ["POSTGRES_PORT"],
    user=os.environ["POSTGRES_USER"], dbname=os.environ["POSTGRES_DATABASE"],
    password=os.environ.get("DBT_ENV_SECRET_POSTGRES_PASS") or None)
conn.autocommit = True
cur = conn.cursor()

def relations(schema):
    cur.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'v', 'm', 'p') and (n.nspname = %s or n.nspname like %s)",
        (schema, schema + "\\_%"))
    return {(ns[len(schema):], name) for ns, name in cur.fetchall()}

def columns(schema, name):
    cur.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position", (schema, name))
    return cur.fetchall()

# Columns whose values depend on when the project ran: left out of the checksum (their
# names and types are still compared).
RUN_TIME_COLUMNS = {"recency_time_included": ["created_at"]}

def checksum(schema, name, cols):
    # Relation names written into rows (dbt_utils.union_relations) name the schema.
    kept = [c for c, _ in cols if c not in RUN_TIME_COLUMNS.get(name, [])]
    row = "row({})::text".format(", ".join('t."{}"'.format(c.replace('"', '""')) for c in kept))
    cur.execute(
        'select count(*), md5(coalesce(string_agg(h, \'\' order by h), \'\')) '
        'from (select md5(replace({}, %s, \'<schema>\')) as h from "{}"."{}" t) rows'.format(
            row, schema, name), (schema,))
    return cur.fetchone()

theirs, ours = relations(dbt), relations(mart)
passed = failed = 0
for suffix, name in sorted(theirs):
    problem = None
    if (suffix, name) not in ours:
        problem = "missing in mart's schema"
    else:
        a, b = columns(mart + suffix, name), columns(dbt + suffix, name)
        if a != b:
            problem = "columns differ: mart {} dbt {}".format(a, b)
        else:
            a, b = checksum(mart + suffix, name, a), checksum(dbt + suffix, name, b)
            if a != b:
                problem = "rows differ: mart {} rows, dbt {} rows".format(a[0], b[0])
    if problem:
        failed += 1
        print("FAILED {}{}: {}".format(suffix, name, problem))
    else:
        passed += 1
for suffix, name in sorted(ours - theirs):
    failed += 1
    print("FAILED {}{}: only in mart's schema".format(suffix, name))
print("relations identical: {} of {}".format(passed, len(theirs)))
print("RESULT {} {}".format(passed, failed))
PY
  :
fi
cat "$compare" >&2
read -r _ rel_passed rel_failed < <(grep '^RESULT' "$compare" || echo "RESULT 0 1")
passed=$((passed + rel_passed))
failed=$((failed + rel_failed))
rm -f "$compare"

echo "dbt_packages: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
