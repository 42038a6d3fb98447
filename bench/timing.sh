# shellcheck shell=bash
# Sourced by bench/seed.sh and bench/docs.sh: the mart binary to time, and the min /
# median summary of several timed runs.

# mart_binary: MART_BIN when set (no build), else `cargo build --release -p mart`; prints
# the path.
mart_binary() {
  if [ -n "${MART_BIN:-}" ]; then
    if [ ! -x "$MART_BIN" ]; then
      echo "MART_BIN=$MART_BIN is not an executable" >&2
      return 1
    fi
    printf '%s\n' "$MART_BIN"
    return
  fi
  echo "==> cargo build --release -p mart" >&2
  if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
    export PATH="${HOME}/.cargo/bin:${PATH}"
  fi
  # shellcheck source=scripts/lib/cargo.sh
  source scripts/lib/cargo.sh
  build_mart --release -q
}

# seconds_since START: wall seconds since START (a `date +%s.%N`), 3 decimals.
seconds_since() {
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

# min_median SECONDS...: "min median" of the runs.
min_median() {
  printf '%s\n' "$@" | sort -g | awk '{ t[NR] = $1 } END {
    m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    printf "%.3f %.3f\n", t[1], m }'
}

# load_average: the 1, 5 and 15 minute load averages and the core count.
load_average() {
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
}
