#!/usr/bin/env bash
# Seed benchmark (SPEC §12: seeds within 1.5x of psql \copy): loads one generated CSV of
# ROWS rows and 6 columns (integer, integer, date, numeric, boolean, text) into the same
# PostgreSQL server twice, with `mart seed` and with `psql \copy`, and prints both wall
# times and their ratio.
#
# What it does:
#   1. generates the CSV (deterministic) and a one-seed project in a temp dir (removed at
#      the end unless KEEP=1);
#   2. builds mart with `cargo build --release -p mart`;
#   3. runs each loader RUNS times and keeps the fastest run: `mart seed --full-refresh`
#      (reads the file, infers the types, creates the table and COPYs in batches, in one
#      transaction) and `psql -c 'begin' -c 'truncate ...' -c '\copy ... csv header'
#      -c 'commit'` into a table created beforehand with the same types;
#   4. checks both tables hold ROWS rows, prints the table and drops the two schemas.
#
# Needs: bash, python3, cargo, psql, PostgreSQL on $MART_PG_HOST:$MART_PG_PORT
# (default 127.0.0.1:5432, user postgres, dbname postgres, trust auth).
#
# Settings (environment variables):
#   ROWS=1000000   rows in the CSV
#   RUNS=3         timed runs per loader (the fastest counts)
#   KEEP=1         keep the temp dir (its path is printed)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
host="${MART_PG_HOST:-127.0.0.1}"
port="${MART_PG_PORT:-5432}"
user="${MART_PG_USER:-postgres}"
db="${MART_PG_DBNAME:-postgres}"
schema="mart_bench_seed_$$"
psql_schema="${schema}_psql"

work="$(mktemp -d)"
cleanup() {
  psql -qX -h "$host" -p "$port" -U "$user" -d "$db" \
    -c "drop schema if exists \"$schema\" cascade" \
    -c "drop schema if exists \"$psql_schema\" cascade" >/dev/null 2>&1 || true
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

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

cat >"$work/dbt_project.yml" <<EOF
name: bench
profile: bench
EOF
cat >"$work/profiles.yml" <<EOF
bench:
  target: bench
  outputs:
    bench:
      type: postgres
      host: $host
      port: $port
      user: $user
      dbname: $db
      schema: $schema
      threads: 1
EOF

echo "==> cargo build --release -p mart"
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart --release -q)"

psql -qX -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" \
  -c "create schema \"$psql_schema\"" \
  -c "create table \"$psql_schema\".events (event_id integer, user_id integer, day date, amount numeric, is_paid boolean, label text)"

now() { date +%s.%N; }
best() { # best "<previous best or empty>" <seconds>
  if [ -z "$1" ] || awk -v a="$2" -v b="$1" 'BEGIN { exit !(a < b) }'; then echo "$2"; else echo "$1"; fi
}

mart_best=""
psql_best=""
for run in $(seq 1 "$RUNS"); do
  t0=$(now)
  "$mart" seed --full-refresh --project-dir "$work" --profiles-dir "$work" >"$work/mart.log"
  t1=$(now)
  psql -qX -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$user" -d "$db" \
    -c "begin" -c "truncate \"$psql_schema\".events" \
    -c "\\copy \"$psql_schema\".events from '$work/seeds/events.csv' with (format csv, header true)" \
    -c "commit"
  t2=$(now)
  m=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  p=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
  echo "    run $run: mart seed ${m}s, psql \\copy ${p}s"
  mart_best=$(best "$mart_best" "$m")
  psql_best=$(best "$psql_best" "$p")
done

count() {
  psql -qAtX -h "$host" -p "$port" -U "$user" -d "$db" -c "select count(*) from \"$1\".events"
}
mart_rows=$(count "$schema")
psql_rows=$(count "$psql_schema")
if [ "$mart_rows" != "$ROWS" ] || [ "$psql_rows" != "$ROWS" ]; then
  echo "row counts differ: mart $mart_rows, psql $psql_rows, expected $ROWS" >&2
  exit 1
fi
types=$(psql -qAtX -h "$host" -p "$port" -U "$user" -d "$db" -c \
  "select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position) from information_schema.columns where table_schema = '$schema' and table_name = 'events'")

echo
echo "seed of $ROWS rows x 6 columns (best of $RUNS)"
echo "  mart types: $types"
printf '  %-14s %8ss\n' "mart seed" "$mart_best" "psql \\copy" "$psql_best"
awk -v m="$mart_best" -v p="$psql_best" 'BEGIN { printf "  ratio mart/psql: %.2fx (goal: at most 1.50x)\n", m / p }'
