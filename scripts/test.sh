#!/usr/bin/env bash
# Quick start 2: the whole test suite (formatting, lints, unit and integration tests).
# CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

echo "==> cargo fmt --all -- --check"
cargo fmt --all -- --check
echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo test --workspace"
cargo test --workspace
