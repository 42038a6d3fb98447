#!/usr/bin/env bash
# End-to-end suite of the scripts' shared functions: build_mart finds the binary wherever
# cargo puts it (CARGO_TARGET_DIR included), and ensure_postgres tells a missing database
# from a server that does not answer, without touching the server's configuration.
# Ends with `scripts_lib: N passed, N failed`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres || exit 1

passed=0
failed=0
check() {
  local what="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: ${what}" >&2
  fi
}

# build_mart: the executable cargo reports, inside the target folder cargo uses.
mart="$(build_mart -q)"
target_dir="$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
check "build_mart prints an executable" test -x "$mart"
check "the executable is under cargo's target folder ${target_dir}" \
  test "${mart#"${target_dir}"/}" != "$mart"
check "the executable is mart" bash -c '"$1" --version | grep -q "^mart "' _ "$mart"

# ensure_postgres: a missing database is reported by name, with how to create it.
missing="mart_suite_missing_$$"
hba="$(psql -w -X -At -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
  -U "${MART_PG_USER:-postgres}" -d postgres -c 'show hba_file' 2>/dev/null || true)"
hba_before="$(cksum "$hba" 2>/dev/null || true)"
out="$(MART_PG_DBNAME="$missing" ensure_postgres 2>&1)"
rc=$?
check "a missing database fails ensure_postgres" test "$rc" -ne 0
check "the message names the missing database" \
  grep -q "database \"${missing}\" (MART_PG_DBNAME) does not exist" <<<"$out"
check "the message says how to create it" grep -q "createdb .* '${missing}'" <<<"$out"
check "pg_hba.conf is left alone" test "$(cksum "$hba" 2>/dev/null || true)" = "$hba_before"
check "no server restart or reload was attempted" bash -c '! grep -Eq "starting cluster|reloading|trust auth" <<<"$1"' _ "$out"

# ...and created when the caller asks for it.
out="$(MART_PG_DBNAME="$missing" ensure_postgres --create-db 2>&1)"
check "--create-db creates the database" test $? -eq 0
check "--create-db says so" grep -q "database \"${missing}\" does not exist .*; creating it" <<<"$out"
answers_as() { MART_PG_DBNAME="$1" _pg_answers; }
check "the database answers afterwards" answers_as "$missing"
psql -w -X -q -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
  -U "${MART_PG_USER:-postgres}" -d postgres -c "drop database if exists \"${missing}\"" >/dev/null 2>&1

echo "scripts_lib: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
