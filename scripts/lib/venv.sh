#!/usr/bin/env bash
# A suite's Python virtualenv, cached outside the repo and installed once.

# suite_venv NAME CHECK PACKAGE...: prints the path of the virtualenv NAME under
# $MART_SUITE_CACHE (default ~/.cache/mart-suites), creating it (and installing
# python3-venv if Python lacks it) and pip-installing PACKAGE... unless the Python code
# CHECK already runs in it.
suite_venv() {
  local name="$1" check="$2"
  shift 2
  local cache="${MART_SUITE_CACHE:-${HOME}/.cache/mart-suites}"
  local venv="${cache}/${name}"
  if [ ! -x "${venv}/bin/python" ]; then
    mkdir -p "$cache"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      rm -rf "$venv"
      echo "[${name}] installing python3-venv" >&2
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
  fi
  if ! "${venv}/bin/python" -c "$check" 2>/dev/null; then
    "${venv}/bin/pip" install -q "$@" >&2
  fi
  printf '%s\n' "$venv"
}
