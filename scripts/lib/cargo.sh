# shellcheck shell=bash
# Sourced by scripts/demo.sh and the suites. Defines build_mart, which builds the mart
# binary and prints where cargo put it: the target folder is whatever cargo uses
# (CARGO_TARGET_DIR, build.target-dir in .cargo/config.toml, or ./target), so scripts
# never assume target/debug or target/release.

# build_mart [cargo build options...]: e.g. `mart="$(build_mart -q)"` or
# `mart="$(build_mart --release)"`. Progress and errors go to stderr; stdout is the path.
build_mart() {
  local messages exe
  messages="$(cargo build -p mart --bin mart --message-format=json-render-diagnostics "$@")" || return 1
  # The compiler-artifact message of the `mart` binary names its executable.
  exe="$(printf '%s\n' "$messages" |
    grep '"reason":"compiler-artifact"' |
    grep '"kind":\["bin"\]' |
    grep '"name":"mart"' |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
  if [ -z "$exe" ] || [ ! -x "$exe" ]; then
    printf 'build_mart: cargo did not report the mart executable\n' >&2
    return 1
  fi
  printf '%s\n' "$exe"
}
