#!/usr/bin/env bash
# Quick start 2: the whole test suite (formatting, lints, unit and integration tests, then
# the end-to-end suites in scripts/suites/). CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "==> cargo fmt --all -- --check"
cargo fmt --all -- --check
echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo test --workspace"
cargo test --workspace 2>&1 | tee "$log"

# End-to-end suites that need more than cargo (a browser, Airflow, Python readers of the
# artifacts). Each installs what it needs, exits non-zero on failure and ends with its own
# line `<suite>: N passed, N failed`.
for suite in scripts/suites/*.sh; do
  [ -e "$suite" ] || continue
  echo "==> ${suite}"
  bash "$suite" 2>&1 | tee -a "$log"
done

# One closing line for the whole run: cargo prints one per test binary (the last often a
# doc-test run with no tests), each suite one of its own.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     /^[a-z_-]+: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
