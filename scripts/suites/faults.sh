#!/usr/bin/env bash
# End-to-end suite: fault injection with real PostgreSQL, real signals and real processes.
#   1. kill -9 at 20 random moments of a run (tables, an incremental model, views, a seed),
#      then a rerun: no row lost or doubled, no leftover temporary relation, every
#      relation present;
#   2. 10 rounds of two concurrent runs on a fresh schema: both succeed, one waits;
#   3. SIGINT, SIGTERM and SIGHUP during a long query: the server-side query is gone
#      within 1 s, the exit code is 128 + the signal;
#   4. a failing post-hook, a failing unique index: the old table (30,000 rows) and the
#      views on it stay; a table rebuild keeps its dependent views;
#   5. no secret value, and no unkeyed SHA-256 of one, under target/ or in any output.
# Bounded: each mart process is killed after 60 s. Ends with `faults: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)"

work="$(mktemp -d)"
schema="mart_suite_faults_$$"
passed=0
failed=0
cleanup() {
  drop_schema_family "$schema"
  rm -rf "$work"
}
trap cleanup EXIT

pg() {
  psql -w -X -q -A -t -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
    -U "${MART_PG_USER:-postgres}" -d "${MART_PG_DBNAME:-postgres}" -c "$1"
}
check() { # check NAME CONDITION-RESULT(0/1) [DETAIL]
  if [ "$2" = 0 ]; then
    passed=$((passed + 1))
    echo "  ok   $1"
  else
    failed=$((failed + 1))
    echo "  FAIL $1 ${3:-}"
  fi
}
run_mart() { # bounded: no mart process outlives 60 s
  timeout -s KILL 60 "$mart" "$@" --project-dir "$work" --profiles-dir "$work"
}

secret="fault-suite-secret-$RANDOM-$RANDOM"
secret_sha="$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)"
export DBT_ENV_SECRET_PG_PASSWORD="$secret"
mkdir -p "$work/models" "$work/seeds"
cat > "$work/dbt_project.yml" <<EOF
name: faults
profile: faults
models:
  faults:
    +materialized: view
EOF
# trust auth: the server never asks for this password, so any value connects.
cat > "$work/profiles.yml" <<EOF
faults:
  target: dev
  outputs:
    dev:
      type: postgres
      host: ${MART_PG_HOST:-127.0.0.1}
      port: ${MART_PG_PORT:-5432}
      user: ${MART_PG_USER:-postgres}
      password: "{{ env_var('DBT_ENV_SECRET_PG_PASSWORD') }}"
      dbname: ${MART_PG_DBNAME:-postgres}
      schema: ${schema}
      threads: 4
EOF
{
  echo "code,label"
  for i in $(seq 1 2000); do echo "$i,label $i"; done
} > "$work/seeds/codes.csv"
# The source the models read; each round of (1) adds 5,000 events.
pg "create schema if not exists ${schema}_src; create table if not exists ${schema}_src.events (id bigint primary key, payload text)"
add_events() {
  pg "insert into ${schema}_src.events select g, md5(g::text) from generate_series(
        (select coalesce(max(id), 0) + 1 from ${schema}_src.events),
        (select coalesce(max(id), 0) + $1 from ${schema}_src.events)) g"
}
cat > "$work/models/events_table.sql" <<EOF
{{ config(materialized='table', indexes=[{'columns': ['id'], 'unique': true}]) }}
select e.id, e.payload, repeat(e.payload, 4) as wide from ${schema}_src.events e
EOF
cat > "$work/models/events_inc.sql" <<EOF
{{ config(materialized='incremental', unique_key='id') }}
select id, payload from ${schema}_src.events
{% if is_incremental() %} where id > (select coalesce(max(id), 0) from {{ this }}) {% endif %}
EOF
cat > "$work/models/events_view.sql" <<'EOF'
select id, payload from {{ ref('events_table') }}
EOF
cat > "$work/models/events_daily.sql" <<'EOF'
{{ config(materialized='table') }}
select id % 97 as bucket, count(*) as n from {{ ref('events_inc') }} group by 1
EOF
cat > "$work/models/codes_view.sql" <<'EOF'
select code, label from {{ ref('codes') }}
EOF
cat > "$work/models/report.sql" <<'EOF'
select v.id, c.label from {{ ref('events_view') }} v join {{ ref('codes_view') }} c on c.code = v.id % 2000 + 1
EOF
expected_relations="codes codes_view events_daily events_inc events_table events_view report"

relations() {
  pg "select string_agg(relname, ' ' order by relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = '${schema}' and c.relkind in ('r', 'v', 'm', 'p')"
}
consistent() { # every relation present, nothing lost or doubled, no leftovers
  local events rels leftovers
  events="$(pg "select count(*) from ${schema}_src.events")"
  rels="$(relations)"
  leftovers="$(pg "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('${schema}') and (c.relname like '%__mart_tmp%' or c.relname like '%__mart_backup%')")"
  [ "$rels" = "$expected_relations" ] || { echo "relations: $rels"; return 1; }
  [ "$leftovers" = 0 ] || { echo "leftovers: $leftovers"; return 1; }
  [ "$(pg "select count(*) || ' ' || count(distinct id) from ${schema}.events_inc")" = "$events $events" ] ||
    { echo "incremental: $(pg "select count(*) || ' ' || count(distinct id) from ${schema}.events_inc") of $events"; return 1; }
  [ "$(pg "select count(*) from ${schema}.events_table")" = "$events" ] || { echo "table"; return 1; }
  [ "$(pg "select sum(n) from ${schema}.events_daily")" = "$events" ] || { echo "daily"; return 1; }
  [ "$(pg "select count(*) from ${schema}.codes_view")" = 2000 ] || { echo "seed"; return 1; }
  [ "$(pg "select count(*) from ${schema}.report")" = "$events" ] || { echo "report"; return 1; }
}

echo "==> 1. kill -9 at 20 random moments of a run, then a rerun"
add_events 20000
t0=$(date +%s%N)
run_mart build --full-refresh > "$work/first.log"
run_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  a full run takes ${run_ms} ms"
lost=0
for round in $(seq 1 20); do
  add_events 5000
  refresh=""
  [ $((round % 4)) = 0 ] && refresh="--full-refresh"
  # shellcheck disable=SC2086
  timeout -s KILL 60 "$mart" run $refresh --project-dir "$work" --profiles-dir "$work" > "$work/killed.log" 2>&1 &
  pid=$!
  sleep "$(awk -v max="$run_ms" -v r="$RANDOM" 'BEGIN { printf "%.3f", (r / 32767) * max / 1000 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ! run_mart build > "$work/rerun.log" 2>&1; then
    lost=$((lost + 1)); echo "  round ${round}: the rerun failed"; tail -20 "$work/rerun.log"
  elif ! why="$(consistent)"; then
    lost=$((lost + 1)); echo "  round ${round}: ${why}"
  fi
done
check "20 kill -9 rounds then a rerun: every relation, no row lost or doubled, no leftovers" "$([ "$lost" = 0 ] && echo 0 || echo 1)" "(${lost} bad rounds)"

echo "==> 2. 10 rounds of two concurrent runs on a fresh schema"
bad=0
waited=0
for round in $(seq 1 10); do
  pg "drop schema if exists ${schema} cascade" >/dev/null
  run_mart build > "$work/a.log" 2>&1 &
  a=$!
  run_mart build > "$work/b.log" 2>&1 &
  b=$!
  sa=0; sb=0
  wait "$a" || sa=$?
  wait "$b" || sb=$?
  if [ "$sa" != 0 ] || [ "$sb" != 0 ]; then
    bad=$((bad + 1)); echo "  round ${round}: exit codes ${sa} ${sb}"; grep -h -A3 "ERROR\|error" "$work/a.log" "$work/b.log" | head -10
  elif ! why="$(consistent)"; then
    bad=$((bad + 1)); echo "  round ${round}: ${why}"
  fi
  waited=$((waited + $(cat "$work/a.log" "$work/b.log" | grep -c "waiting for the run lock" || true)))
done
check "10 rounds of two concurrent runs: both succeed, nothing missing" "$([ "$bad" = 0 ] && echo 0 || echo 1)" "(${bad} bad rounds)"
check "in every round one run waited for the other (${waited} of 10)" "$([ "$waited" = 10 ] && echo 0 || echo 1)"

echo "==> 3. SIGINT, SIGTERM and SIGHUP during a long query"
cat > "$work/models/slow.sql" <<'EOF'
{{ config(materialized='table') }}
select 1 as n from pg_sleep(45.25)
EOF
for sig in INT TERM HUP; do
  "$mart" run -s slow --project-dir "$work" --profiles-dir "$work" > "$work/signal.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do
    [ "$(pg "select count(*) from pg_stat_activity where query like '%pg_sleep(45.25)%' and pid <> pg_backend_pid()")" = 1 ] && break
    sleep 0.05
  done
  sent=$(date +%s%N)
  kill -s "$sig" "$pid"
  gone_ms=-1
  for _ in $(seq 1 200); do
    if [ "$(pg "select count(*) from pg_stat_activity where query like '%pg_sleep(45.25)%' and pid <> pg_backend_pid()")" = 0 ]; then
      gone_ms=$(( ($(date +%s%N) - sent) / 1000000 )); break
    fi
    sleep 0.01
  done
  code=0
  wait "$pid" || code=$?
  exit_ms=$(( ($(date +%s%N) - sent) / 1000000 ))
  want=$((128 + $(kill -l "$sig")))
  check "SIG${sig}: server-side query gone in ${gone_ms} ms (< 1000), mart exited ${code} (want ${want}) in ${exit_ms} ms" \
    "$([ "$gone_ms" -ge 0 ] && [ "$gone_ms" -lt 1000 ] && [ "$code" = "$want" ] && [ "$exit_ms" -lt 1000 ] && echo 0 || echo 1)"
done
rm "$work/models/slow.sql"

echo "==> 4. failing post-hook and index keep the old table and its views"
cat > "$work/models/t3.sql" <<'EOF'
{{ config(materialized='table') }}
select g as id from generate_series(1, 30000) g
EOF
echo "select count(*) as n from {{ ref('t3') }}" > "$work/models/t3_count.sql"
expected_relations="codes codes_view events_daily events_inc events_table events_view report t3 t3_count"
run_mart run -s t3 t3_count > "$work/t3.log"
pg "create view ${schema}.t3_outside as select id from ${schema}.t3 where id < 10"
for config in "post_hook='select 1/0'" "indexes=[{'columns': ['id'], 'unique': true}]"; do
  cat > "$work/models/t3.sql" <<EOF
{{ config(materialized='table', ${config}) }}
select g as id, 'new' as extra from generate_series(1, 30001) g union all select 1, 'dup'
EOF
  code=0
  run_mart run -s t3 > "$work/t3.log" 2>&1 || code=$?
  state="$(pg "select (select count(*) from ${schema}.t3) || ' ' || (select count(*) from information_schema.columns where table_schema = '${schema}' and table_name = 't3') || ' ' || (select n from ${schema}.t3_count) || ' ' || (select count(*) from ${schema}.t3_outside)")"
  check "${config}: exit ${code}, the old t3 (30000 rows, 1 column) and its views stay" "$([ "$code" = 1 ] && [ "$state" = "30000 1 30000 9" ] && echo 0 || echo 1)" "($state)"
done
cat > "$work/models/t3.sql" <<'EOF'
{{ config(materialized='table') }}
select g as id, 'new' as extra from generate_series(1, 30001) g
EOF
run_mart run -s t3 > "$work/t3.log" 2>&1 || true
state="$(pg "select (select n from ${schema}.t3_count) || ' ' || (select count(*) from ${schema}.t3_outside)")"
check "a rebuild of t3 keeps its dependent views (the model's and one outside the project)" \
  "$([ "$state" = "30001 9" ] && grep -q "recreated 2 dependent views" "$work/t3.log" && echo 0 || echo 1)" "($state)"

echo "==> 5. no secret, and no unkeyed hash of one, under target/ or in any output"
hits="$(grep -rlF -e "$secret" -e "$secret_sha" "$work/target" "$work"/*.log 2>/dev/null || true)"
check "the profile's secret password is nowhere under target/ or in the logs" "$([ -z "$hits" ] && echo 0 || echo 1)" "$hits"
raw_hits="$(python3 - "$work/target" "$secret_sha" <<'PY'
import pathlib, sys
digest = bytes.fromhex(sys.argv[2])
print(" ".join(str(p) for p in pathlib.Path(sys.argv[1]).rglob("*") if p.is_file() and digest in p.read_bytes()))
PY
)"
check "no raw SHA-256 of the secret in any file under target/ (the saved parse included)" "$([ -z "$raw_hits" ] && echo 0 || echo 1)" "$raw_hits"

echo "faults: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
