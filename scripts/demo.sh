#!/usr/bin/env bash
# Quick start 1: set up PostgreSQL, build mart, then seed and run the example project end
# to end and print what it built. Idempotent: run it as often as you like.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# profiles.example.yml connects to MART_PG_DBNAME: create it when missing.
ensure_postgres --create-db

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

echo "==> cargo build --release -p mart"
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart --release)"

if [ ! -f profiles.yml ]; then
  echo "==> creating profiles.yml from profiles.example.yml"
  cp profiles.example.yml profiles.yml
fi

rows="${MART_DEMO_ROWS:-1000000}"
clicks="${MART_DEMO_CLICKS:-200000}"
echo "==> mart debug"
"$mart" debug
echo "==> mart seed"
"$mart" seed
# The raw server log and the Silver click log are generated inside PostgreSQL from the
# seeds (deterministically: the same sizes give the same rows).
echo "==> mart run-operation generate_server_log (${rows} rows)"
"$mart" run-operation generate_server_log --args "{rows: ${rows}}"
echo "==> mart run-operation generate_click_log (${clicks} rows)"
"$mart" run-operation generate_click_log --args "{rows: ${clicks}}"
# Seeds, models (a full refresh: the incremental ones are rebuilt from the freshly
# generated logs), snapshots and every data test, in DAG order.
echo "==> mart build --full-refresh"
"$mart" build --full-refresh

schema="${MART_SCHEMA:-mart_dev}"
echo "==> relations in ${schema} and ${schema}_* (seeds, snapshots, generated sources)"
PGCONNECT_TIMEOUT=10 psql -w -X -v ON_ERROR_STOP=1 \
  -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
  -U "${MART_PG_USER:-postgres}" -d "${MART_PG_DBNAME:-postgres}" \
  -v schema="$schema" <<'SQL'
SELECT table_schema AS schema,
       table_name   AS relation,
       replace(lower(table_type), 'base ', '') AS kind,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name),
                           false, true, '')))[1]::text::bigint AS rows
FROM information_schema.tables
WHERE table_schema = :'schema' OR table_schema LIKE :'schema' || '\_%'
ORDER BY table_schema, table_name;
SQL
