# shellcheck shell=bash
# Sourced by the benchmarks that generate projects: cargo on PATH, and GEN_PROJECT set to
# ../shared/bench/gen_project.py beside the repo unless given (exits 2 when it is missing).

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

GEN_PROJECT="${GEN_PROJECT:-$(pwd)/../shared/bench/gen_project.py}"
if [ ! -f "$GEN_PROJECT" ]; then
  echo "gen_project.py not found at ${GEN_PROJECT}; set GEN_PROJECT" >&2
  exit 2
fi
