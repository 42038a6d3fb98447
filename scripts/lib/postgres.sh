# shellcheck shell=bash
# Sourced by scripts/demo.sh, scripts/test.sh and the suites. Defines ensure_postgres, which makes sure
# a PostgreSQL server answers on 127.0.0.1 (or $MART_PG_HOST) for the postgres user and
# that the database $MART_PG_DBNAME (default postgres) is there: installs PostgreSQL from
# Debian's packages if missing, starts the cluster, allows trust auth on the loopback
# addresses, and waits until it answers. A server that answers but lacks the database is
# not reconfigured: ensure_postgres says how to create the database, or creates it when
# called as `ensure_postgres --create-db`. Idempotent; needs root to install.

_pg_log() { printf '[postgres] %s\n' "$*" >&2; }

# _pg_psql DB ARGS...: psql against database DB as the configured user, no password prompt.
_pg_psql() {
  local db="$1"
  shift
  PGCONNECT_TIMEOUT=5 psql -w -X -q \
    -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
    -U "${MART_PG_USER:-postgres}" -d "$db" "$@"
}

_pg_answers() {
  _pg_psql "${MART_PG_DBNAME:-postgres}" -c 'select 1' >/dev/null 2>&1
}

# Whether the server answers at all: through a database that is always there. Its
# answer, unlike psql's error text, does not depend on the server's language.
_pg_server_answers() {
  local db
  for db in postgres template1; do
    if _pg_psql "$db" -c 'select 1' >/dev/null 2>&1; then
      _pg_reachable_db="$db"
      return 0
    fi
  done
  return 1
}

# The server answers; make sure $MART_PG_DBNAME exists (create it if $1 is --create-db).
_pg_ensure_database() {
  local host="${MART_PG_HOST:-127.0.0.1}" port="${MART_PG_PORT:-5432}"
  local user="${MART_PG_USER:-postgres}" db="${MART_PG_DBNAME:-postgres}" found
  # Through stdin: psql substitutes variables there, not in -c.
  found="$(_pg_psql "$_pg_reachable_db" -At -v db="$db" 2>/dev/null \
    <<<"select 1 from pg_database where datname = :'db'" || true)"
  if [ "$found" = 1 ]; then
    local why
    why="$(_pg_psql "$db" -c 'select 1' 2>&1 >/dev/null || true)"
    _pg_log "PostgreSQL answers on ${host}:${port} and database \"${db}\" exists, but connecting to it fails: ${why}"
    return 1
  fi
  if [ "${1:-}" = --create-db ]; then
    _pg_log "database \"${db}\" does not exist on ${host}:${port}; creating it"
    _pg_psql "$_pg_reachable_db" -v ON_ERROR_STOP=1 -v db="$db" \
      <<<'create database :"db"' >/dev/null || return 1
    _pg_answers
    return
  fi
  _pg_log "PostgreSQL answers on ${host}:${port}, but database \"${db}\" (MART_PG_DBNAME) does not exist."
  _pg_log "Create it: createdb -h ${host} -p ${port} -U ${user} '${db}'   (or unset MART_PG_DBNAME to use postgres)"
  return 1
}

ensure_postgres() {
  local host="${MART_PG_HOST:-127.0.0.1}" port="${MART_PG_PORT:-5432}"
  if command -v psql >/dev/null 2>&1 && _pg_answers; then
    _pg_log "PostgreSQL answers on ${host}:${port}; nothing to do"
    return 0
  fi
  if command -v psql >/dev/null 2>&1 && _pg_server_answers; then
    _pg_ensure_database "$@"
    return
  fi
  case "$host" in
    127.0.0.1 | localhost | ::1) ;;
    *)
      _pg_log "PostgreSQL is not answering on ${host}:${port} (MART_PG_HOST is not local, so nothing is installed)"
      return 1
      ;;
  esac

  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
    _pg_log "installing PostgreSQL from Debian's packages (apt-get install postgresql)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
  fi

  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | head -1 || true)"
  if [ -z "$version" ] || [ ! -d "/etc/postgresql/${version}/main" ]; then
    version="${version:-$(ls /usr/lib/postgresql | sort -V | tail -1)}"
    _pg_log "creating cluster ${version}/main"
    pg_createcluster "$version" main
  fi

  local hba="/etc/postgresql/${version}/main/pg_hba.conf"
  if grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+(md5|scram-sha-256|password|peer|ident)' "$hba"; then
    _pg_log "setting trust auth for 127.0.0.1/32 and ::1/128 in ${hba}"
    sed -E -i.mart-backup \
      's#^([[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+)(md5|scram-sha-256|password|peer|ident)#\1trust#' \
      "$hba"
  fi

  if pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    _pg_log "cluster ${version}/main is running; reloading its configuration"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  else
    _pg_log "starting cluster ${version}/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi

  local i
  for i in $(seq 1 30); do
    if _pg_answers; then
      _pg_log "PostgreSQL answers on ${host}:${port}"
      return 0
    fi
    if _pg_server_answers; then
      _pg_ensure_database "$@"
      return
    fi
    sleep 1
  done
  _pg_log "PostgreSQL did not answer on ${host}:${port} after 30 s; see /var/log/postgresql/"
  return 1
}

# Drops schema $1 and every schema named `$1_*` (the example project writes its seeds,
# sources, logs and snapshots to `<target schema>_<name>`). Never fails.
drop_schema_family() {
  PGCONNECT_TIMEOUT=10 psql -w -X -q \
    -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
    -U "${MART_PG_USER:-postgres}" -d "${MART_PG_DBNAME:-postgres}" \
    -v family="$1" >/dev/null 2>&1 <<'SQL' || true
SELECT format('DROP SCHEMA %I CASCADE', nspname)
FROM pg_namespace
WHERE nspname = :'family' OR nspname LIKE replace(:'family', '_', '\_') || '\_%'
\gexec
SQL
}
