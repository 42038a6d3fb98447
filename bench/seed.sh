#!/usr/bin/env bash
# Seed benchmark (issue 16: mart seed within 1.1x of psql doing the same work): loads one
# generated CSV of ROWS rows and 6 columns (integer, integer, date, number, boolean, text)
# into the same PostgreSQL server, interleaved, RUNS rounds of:
#   - `mart seed --full-refresh` (reads, checks and types the file while COPY streams it;
#     drop, create, COPY and analyze in one transaction);
#   - psql doing what mart's seed does, in one transaction: `begin`, `drop table`, `create
#     table` with mart's inferred types, `\copy ... csv header`, `analyze`, `commit`;
#   - a bare psql `\copy` into an empty table (truncated before, untimed): the physical
#     limit of the load alone;
#   - `dbt seed --full-refresh` (dbt-core 1.10 in DBT_VENV; skipped when absent), in the
#     first DBT_RUNS rounds only (it inserts in batches of statements and is slow).
# Prints every run, then min and median per loader and mart's ratios, with the load
# average before and after. Checks every table holds ROWS rows and that mart's rows
# equal psql's.
#
# Needs: bash, python3, psql, PostgreSQL on $MART_PG_HOST:$MART_PG_PORT (default
# 127.0.0.1:5432, user postgres, dbname postgres, trust auth); cargo unless MART_BIN.
#
# Settings (environment variables):
#   ROWS=1000000   rows in the CSV
#   RUNS=5         rounds (every loader once per round)
#   DBT_RUNS=1     rounds that also run dbt
#   MART_BIN=...   the mart binary to time (skips `cargo build --release -p mart`)
#   DBT_VENV=~/.cache/mart-suites/dbt-venv   virtualenv holding dbt-core + dbt-postgres
#   KEEP=1         keep the temp dir (its path is printed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=bench/timing.sh
source bench/timing.sh

ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-5}"
DBT_RUNS="${DBT_RUNS:-1}"
DBT_VENV="${DBT_VENV:-${HOME}/.cache/mart-suites/dbt-venv}"
host="${MART_PG_HOST:-127.0.0.1}"
port="${MART_PG_PORT:-5432}"
user="${MART_PG_USER:-postgres}"
db="${MART_PG_DBNAME:-postgres}"
schema="mart_bench_seed_$$"
psql_schema="${schema}_psql"
copy_schema="${schema}_copy"
dbt_schema="${schema}_dbt"

pg() { psql -qX -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" "$@"; }

work="$(mktemp -d)"
cleanup() {
  for s in "$schema" "$psql_schema" "$copy_schema" "$dbt_schema"; do
    pg -c "drop schema if exists \"$s\" cascade" >/dev/null 2>&1 || true
  done
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

mart="$(mart_binary)"
dbt=""
if [ -x "${DBT_VENV}/bin/dbt" ]; then
  dbt="${DBT_VENV}/bin/dbt"
else
  echo "(dbt not found in ${DBT_VENV}: dbt seed is skipped)"
fi

echo "==> generating $ROWS rows x 6 columns"
mkdir -p "$work/seeds"
python3 - "$ROWS" "$work/seeds/events.csv" <<'PY'
import sys, datetime
rows, path = int(sys.argv[1]), sys.argv[2]
start = datetime.date(2024, 1, 1)
days = [(start + datetime.timedelta(days=d)).isoformat() for d in range(366)]
labels = ["alpha", "beta", "gamma, delta", "epsilon", "zeta \"z\""]
with open(path, "w", newline="") as f:
    f.write("event_id,user_id,day,amount,is_paid,label\n")
    out = []
    for i in range(rows):
        label = labels[i % 5]
        if "," in label or '"' in label:
            label = '"' + label.replace('"', '""') + '"'
        out.append(f"{i},{(i * 7919) % 100003},{days[i % 366]},{(i % 10000) / 100:.2f},{'true' if i % 3 else 'false'},{label}\n")
        if len(out) == 100000:
            f.writelines(out)
            out = []
    f.writelines(out)
PY
ls -l "$work/seeds/events.csv" | awk '{printf "    %.1f MB\n", $5 / 1048576}'
csv="$work/seeds/events.csv"

# One project for mart and dbt; each gets its own schema through its own profiles dir.
cat >"$work/dbt_project.yml" <<EOF
name: bench
version: "1.0"
profile: bench
EOF
for tool in mart dbt; do
  target_schema="$schema"
  [ "$tool" = dbt ] && target_schema="$dbt_schema"
  mkdir -p "$work/profiles_$tool"
  cat >"$work/profiles_$tool/profiles.yml" <<EOF
bench:
  target: bench
  outputs:
    bench:
      type: postgres
      host: $host
      port: $port
      user: $user
      password: ""
      dbname: $db
      schema: $target_schema
      threads: 1
EOF
done

run_mart() {
  "$mart" seed --full-refresh --project-dir "$work" --profiles-dir "$work/profiles_mart" >"$work/mart.log"
}
run_dbt() {
  (cd "$work" && "$dbt" --quiet seed --full-refresh --profiles-dir "$work/profiles_dbt" \
    --target-path "$work/dbt_target" --log-path "$work/dbt_logs" >"$work/dbt.log")
}

# A first, untimed mart seed: its inferred types are the ones psql's table is created with.
run_mart
types=$(pg -At -c "select string_agg(format('%I %s', column_name, data_type), ', ' order by ordinal_position) \
  from information_schema.columns where table_schema = '$schema' and table_name = 'events'")
pg -c "create schema \"$psql_schema\"" -c "create schema \"$copy_schema\"" \
  -c "create table \"$copy_schema\".events ($types)"

run_psql() {
  pg -c "set client_min_messages = warning" -c "begin" -c "drop table if exists \"$psql_schema\".events" \
    -c "create table \"$psql_schema\".events ($types)" \
    -c "\\copy \"$psql_schema\".events from '$csv' with (format csv, header true)" \
    -c "analyze \"$psql_schema\".events" -c "commit"
}
run_copy() {
  pg -c "\\copy \"$copy_schema\".events from '$csv' with (format csv, header true)"
}

echo "==> $RUNS rounds, interleaved; $(load_average)"
mart_times=() psql_times=() copy_times=() dbt_times=()
for round in $(seq 1 "$RUNS"); do
  line="    round $round:"
  t=$(date +%s.%N); run_mart; s=$(seconds_since "$t"); mart_times+=("$s"); line+=" mart ${s}s"
  t=$(date +%s.%N); run_psql; s=$(seconds_since "$t"); psql_times+=("$s"); line+=", psql txn ${s}s"
  pg -c "truncate \"$copy_schema\".events"
  t=$(date +%s.%N); run_copy; s=$(seconds_since "$t"); copy_times+=("$s"); line+=", bare \\copy ${s}s"
  if [ -n "$dbt" ] && [ "$round" -le "$DBT_RUNS" ]; then
    t=$(date +%s.%N); run_dbt; s=$(seconds_since "$t"); dbt_times+=("$s"); line+=", dbt ${s}s"
  fi
  echo "$line"
done
echo "    $(load_average)"

count() { pg -At -c "select count(*) from \"$1\".events"; }
for s in "$schema" "$psql_schema" "$copy_schema"; do
  if [ "$(count "$s")" != "$ROWS" ]; then
    echo "$s.events holds $(count "$s") rows, expected $ROWS" >&2
    exit 1
  fi
done
differ=$(pg -At -c "select count(*) from ((select * from \"$schema\".events except all select * from \"$psql_schema\".events) union all (select * from \"$psql_schema\".events except all select * from \"$schema\".events)) d")
if [ "$differ" != 0 ]; then
  echo "mart's table and psql's differ in $differ rows" >&2
  exit 1
fi

read -r mart_min mart_med <<<"$(min_median "${mart_times[@]}")"
read -r psql_min psql_med <<<"$(min_median "${psql_times[@]}")"
read -r copy_min copy_med <<<"$(min_median "${copy_times[@]}")"
echo
echo "seed of $ROWS rows x 6 columns ($(du -m "$csv" | cut -f1) MB), $RUNS rounds"
echo "  mart types: $types"
printf '  %-38s %8s %9s\n' "loader" "min s" "median s"
printf '  %-38s %8s %9s\n' "mart seed" "$mart_min" "$mart_med"
printf '  %-38s %8s %9s\n' "psql create + \\copy + analyze, 1 txn" "$psql_min" "$psql_med"
printf '  %-38s %8s %9s\n' "psql bare \\copy" "$copy_min" "$copy_med"
if [ "${#dbt_times[@]}" -gt 0 ]; then
  read -r dbt_min dbt_med <<<"$(min_median "${dbt_times[@]}")"
  printf '  %-38s %8s %9s   (%s runs)\n' "dbt seed" "$dbt_min" "$dbt_med" "${#dbt_times[@]}"
  awk -v m="$mart_min" -v d="$dbt_min" 'BEGIN { printf "  dbt / mart: %.1fx (min)\n", d / m }'
fi
awk -v m="$mart_min" -v p="$psql_min" -v mm="$mart_med" -v pm="$psql_med" \
  'BEGIN { printf "  mart / psql txn:    %.2fx min, %.2fx median (goal: at most 1.10x)\n", m / p, mm / pm }'
awk -v m="$mart_min" -v p="$copy_min" -v mm="$mart_med" -v pm="$copy_med" \
  'BEGIN { printf "  mart / bare \\copy:  %.2fx min, %.2fx median\n", m / p, mm / pm }'
