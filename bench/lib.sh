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

# hyperfine_mean JSON RUNS WARMUP COMMAND...: times COMMAND with hyperfine (RUNS runs after
# WARMUP warm-up runs, no shell) and prints "<mean> +- <stddev> ms"; JSON is a scratch file.
hyperfine_mean() {
  local json="$1" runs="$2" warmup="$3"
  shift 3
  hyperfine --style none --warmup "$warmup" --runs "$runs" --export-json "$json" \
    -N -- "$(printf '%q ' "$@")" >/dev/null
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("%.0f +- %.0f ms" % (r["mean"] * 1000, (r["stddev"] or 0) * 1000))' "$json"
}

# write_bench_profile DIR SCHEMA: DIR/profiles.yml with the generated project's profile
# `bench` for PostgreSQL on $MART_PG_HOST:$MART_PG_PORT as $MART_PG_USER in $MART_PG_DBNAME
# (default 127.0.0.1:5432, postgres, postgres; trust auth), in SCHEMA.
write_bench_profile() {
  cat >"$1/profiles.yml" <<PROFILE
bench:
  target: dev
  outputs:
    dev:
      type: postgres
      host: ${MART_PG_HOST:-127.0.0.1}
      port: ${MART_PG_PORT:-5432}
      user: ${MART_PG_USER:-postgres}
      password: ""
      dbname: ${MART_PG_DBNAME:-postgres}
      schema: $2
      threads: 4
PROFILE
}
