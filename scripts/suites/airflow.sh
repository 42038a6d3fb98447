#!/usr/bin/env bash
# The example project's DAG in a real Apache Airflow: a pinned Airflow in a virtualenv
# (cached outside the repo), the DAG loaded with DagBag (no import errors), every task id
# and every upstream/downstream edge checked against the mart DAG, the committed
# airflow/dags/mart_example.py checked to be current, then one `airflow dags test` run for
# one date on the local PostgreSQL (a schema of its own), after which the marts of that date
# exist. Before each run the upstream arrives as it would from other pipelines: the seeds'
# tables, then the raw server log and the Silver click log, generated small.
# Then astronomer-cosmos renders the same project from its manifest.json (LoadMode
# DBT_MANIFEST) with mart as its dbt executable, and runs it once (own schema) the same way.
# Every schema the suite created is dropped and checked gone.
# Ends with `airflow: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"

# The latest Airflow 3 and the Airflow 2 teams still run, each with the latest Cosmos.
read -r -a AIRFLOW_VERSIONS <<<"${AIRFLOW_VERSIONS:-2.10.5 3.3.2}"
COSMOS_VERSION="1.15.1"
suite_cache="${MART_SUITE_CACHE:-${HOME}/.cache/mart-suites}"
run_date="2024-08-20"
# The generated upstream logs: small, yet covering run_date (the generators' days are
# 2024-08-18 to 2024-08-21 KST for the server log, 2024-08-18 to 2024-08-24 for clicks).
server_log_rows=20000
click_log_rows=5000

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres
if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }
finish() {
  echo "airflow: ${passed} passed, ${failed} failed"
  [ "$failed" -eq 0 ]
}
psql_value() {
  psql -w -X -q -t -A -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
    -U "${MART_PG_USER:-postgres}" -d "${MART_PG_DBNAME:-postgres}" -c "$1" 2>&1 || true
}
# Passes when the count query $2 gives more than 0 rows.
rows_exist() {
  local rows
  rows="$(psql_value "$2")"
  if [[ "$rows" =~ ^[0-9]+$ ]] && [ "$rows" -gt 0 ]; then
    pass "$1: ${rows} rows after the run"
  else
    fail "$1 after the run: ${rows}"
  fi
}
# The marts of run_date in schema $1: the lecture project's, the fan-platform's, the Gold layer's.
marts_exist() {
  local days
  rows_exist "$1.analytics_variant_user_daily" "select count(*) from $1.analytics_variant_user_daily"
  rows_exist "$1.wv_server_log_base of ${run_date}" \
    "select count(*) from $1.wv_server_log_base where date_id = '${run_date}'"
  rows_exist "$1.wv_live_play of ${run_date}" \
    "select count(*) from $1.wv_live_play where date_id = '${run_date}'"
  rows_exist "$1.mart_daily_traffic of ${run_date}" \
    "select count(*) from $1.mart_daily_traffic where event_date = date '${run_date}'"
  # The daily run builds its KST day only, although the log holds four.
  days="$(psql_value "select string_agg(distinct date_id, ',') from $1.wv_server_log_base")"
  if [ "$days" = "$run_date" ]; then
    pass "$1.wv_server_log_base holds the day ${run_date} only"
  else
    fail "$1.wv_server_log_base holds the days: ${days}"
  fi
}
# The upstream of a daily run arrives in schema $1 for project $2: the seeds' tables (other
# pipelines' tables, here), then the raw server log and the Silver click log made from them.
upstream_arrives() {
  local log="${work}/upstream-$1.log"
  if MART_SCHEMA="$1" "$mart" seed --project-dir "$2" >"$log" 2>&1 &&
    MART_SCHEMA="$1" "$mart" run-operation generate_server_log --project-dir "$2" \
      --args "{rows: ${server_log_rows}}" >>"$log" 2>&1 &&
    MART_SCHEMA="$1" "$mart" run-operation generate_click_log --project-dir "$2" \
      --args "{rows: ${click_log_rows}}" >>"$log" 2>&1; then
    pass "upstream in $1: seeds, ${server_log_rows} server-log rows, ${click_log_rows} clicks"
  else
    fail "upstream in $1:"
    tail -20 "$log"
  fi
}
# Every task of the last run of DAG $1 succeeded.
run_succeeded() {
  local states not_success ran
  states="$("${venv}/bin/airflow" tasks states-for-dag-run "$1" \
    "$("${venv}/bin/python" -c "
from airflow.models import DagRun
print(DagRun.find(dag_id='$1')[0].run_id)")" --output plain 2>/dev/null || true)"
  not_success="$(echo "$states" | awk 'NR > 1 && $4 != "success" { print $3 " " $4 }' | paste -sd ',' -)"
  ran="$(echo "$states" | awk 'NR > 1 && $4 == "success"' | wc -l)"
  if [ -n "$states" ] && [ -z "$not_success" ]; then
    pass "$1: every task of the run succeeded (${ran} tasks)"
  else
    fail "$1: tasks not successful: ${not_success:-no task states}"
  fi
}

# Airflow $1 and Cosmos in a virtualenv of their own. A marker written after the install,
# so an interrupted install is redone, not reused.
install_airflow() {
  local venv="${suite_cache}/airflow-$1"
  local installed="apache-airflow==$1 astronomer-cosmos==${COSMOS_VERSION}"
  if [ "$(cat "${venv}/.mart-installed" 2>/dev/null)" != "$installed" ]; then
    echo "==> installing ${installed} into ${venv}"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "${venv}/bin/pip" install -q --upgrade pip
    # Airflow first, then Cosmos against it: resolved together, pip backtracks for minutes.
    "${venv}/bin/pip" install -q "apache-airflow==$1"
    "${venv}/bin/pip" install -q "astronomer-cosmos==${COSMOS_VERSION}"
    echo "$installed" >"${venv}/.mart-installed"
  fi
}
for version in "${AIRFLOW_VERSIONS[@]}"; do
  install_airflow "$version"
done

echo "==> cargo build -p mart"
# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)"

work="$(mktemp -d)"
[ -n "${KEEP_WORK:-}" ] && echo "work folder: ${work}"
schema="airflow_suite_$$"
export MART_SCHEMA="$schema"
# Every schema of the suite starts with its name: the target schemas and the ones the
# project puts next to them (_raw_data, _we_mart, _weverse2, _service_log, _silver,
# _snapshots, ...).
suite_schemas="select nspname from pg_namespace where nspname = '${schema}' or nspname like '${schema}\\_%'"
drop_schemas() { drop_schema_family "$schema"; }
trap 'drop_schemas; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

# The profile of the example project, from the environment (never the repo's profiles.yml).
mkdir -p "${work}/profiles"
cp profiles.example.yml "${work}/profiles/profiles.yml"
export MART_PROFILES_DIR="${work}/profiles"

# 1. The committed DAG is what the documented command writes today.
cp airflow/dags/mart_example.py "${work}/committed.py"
"$mart" airflow --out airflow/dags >/dev/null
if cmp -s airflow/dags/mart_example.py "${work}/committed.py"; then
  pass "airflow/dags/mart_example.py is current"
else
  fail "airflow/dags/mart_example.py differs from 'mart airflow --out airflow/dags':"
  diff "${work}/committed.py" airflow/dags/mart_example.py || true
  cp "${work}/committed.py" airflow/dags/mart_example.py
fi

# Steps 2 to 4 in Airflow $1: its virtualenv, a folder and a schema of its own (Airflow 2
# in the suite's schema, Airflow 3 in `<schema>_af3`).
airflow_round() {
venv="${suite_cache}/airflow-$1"
round="${work}/airflow-$1"
mkdir -p "$round"
case "$1" in
  2.*) rschema="$schema" ;;
  *) rschema="${schema}_af${1%%.*}" ;;
esac
export MART_SCHEMA="$rschema"
# No example DAGs (Airflow 3's DagBag takes no include_examples).
export AIRFLOW__CORE__LOAD_EXAMPLES=False
echo "==> Airflow $1 (schema ${rschema})"
# The committed file loads as it is, its project folder being this checkout.
committed_check="$(AIRFLOW_HOME="${round}/airflow-home" "${venv}/bin/python" -c "
import os, sys
from airflow.models import DagBag
bag = DagBag(dag_folder='airflow/dags')
dag = bag.dags.get('mart_example')
flags = dag.tasks[0].bash_command if dag else ''
print('result:', 'ok' if not bag.import_errors and '--project-dir $repo ' in flags else bag.import_errors or flags)
" 2>/dev/null | sed -n 's/^result: //p' || true)"
if [ "$committed_check" = ok ]; then
  pass "airflow/dags/mart_example.py loads and points at this checkout"
else
  fail "airflow/dags/mart_example.py: ${committed_check}"
fi

# 2. The DAG Airflow runs: this checkout's project and mart binary, the suite's profile.
# No retries: a failing task fails the run at once (`dags test` waits out retry delays).
"$mart" airflow --out "${round}/dags" --project-dir "$repo" --mart-path "$mart" --retries 0
# `mart parse` writes manifest.json (dbt's v12 schema) without touching the database.
"$mart" parse --project-dir "$repo" >/dev/null
manifest="${repo}/target/mart/manifest.json"

export AIRFLOW_HOME="${round}/airflow-home"
export AIRFLOW__CORE__DAGS_FOLDER="${round}/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=False
export AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING
export PYTHONWARNINGS=ignore

cat >"${round}/check_dag.py" <<'PY'
"""Checks the DagBag against manifest.json; prints one `ok:`/`FAILED:` line per check."""
import json
import sys

from airflow.models import DagBag

dags_folder, manifest_file = sys.argv[1], sys.argv[2]
results = []


def check(ok, what):
    results.append(ok)
    print(("ok: " if ok else "FAILED: ") + what)


bag = DagBag(dag_folder=dags_folder)
check(not bag.import_errors, f"DagBag import errors: {bag.import_errors or 'none'}")
dag = bag.dags.get("mart_example")
check(dag is not None, "DAG mart_example loaded")
if dag is not None:
    import airflow

    # Airflow 3 moved BashOperator to the standard provider; the DAG imports it there.
    module = type(dag.tasks[0]).__module__
    want = "airflow.providers.standard" if airflow.__version__.startswith("3.") else "airflow.operators"
    check(module.startswith(want), f"Airflow {airflow.__version__}: BashOperator from {module}")
if dag is None:
    print(f"checks: {sum(results)} passed, {len(results) - sum(results)} failed")
    sys.exit(0)

manifest = json.load(open(manifest_file))
nodes = {**manifest["nodes"], **manifest["sources"]}
parent_map = manifest["parent_map"]

KIND = {"seed": "seed", "snapshot": "snapshot"}


def build_kind(node):
    if node["resource_type"] == "model":
        return None if node["config"].get("materialized") == "ephemeral" else "run"
    return KIND.get(node["resource_type"])


# A source declared over a seed's table comes after the seed.
seed_at = {
    (n["schema"].lower(), n["alias"].lower()): uid
    for uid, n in manifest["nodes"].items()
    if n["resource_type"] == "seed"
}


def parents(uid):
    found = [p for p in parent_map.get(uid, []) if p in nodes]
    node = nodes[uid]
    if node["resource_type"] == "source":
        seed = seed_at.get((node["schema"].lower(), node["identifier"].lower()))
        found += [seed] if seed else []
    return found


folded_memo = {}


def folded(uid):
    """The nearest task-building nodes upstream of uid (through ephemerals)."""
    if uid not in folded_memo:
        found = set()
        for p in parents(uid):
            found |= {p} if build_kind(nodes[p]) else folded(p)
        folded_memo[uid] = found
    return folded_memo[uid]


def ancestors(uid):
    seen, todo = set(), list(parents(uid))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(parents(p))
    return seen


name = {uid: n["name"] for uid, n in nodes.items()}
by_name = {n["name"]: uid for uid, n in nodes.items() if n["resource_type"] != "source"}
builders = {uid for uid, n in nodes.items() if build_kind(n)}
build_task = {uid: f"{name[uid]}_{build_kind(nodes[uid])}" for uid in builders}

def graph_ancestors(uid):
    """Ancestors as mart's selectors see the graph (manifest parents only)."""
    seen, todo = set(), list(parent_map.get(uid, []))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(parent_map.get(p, []))
    return seen


def tests_of(uid, mode):
    """The tests `--select <uid's name> --indirect-selection <mode>` adds, as dbt defines them."""
    touching = [
        t
        for t, n in nodes.items()
        if n["resource_type"] == "test" and uid in parent_map.get(t, [])
    ]
    if mode == "eager":
        return touching
    if mode == "cautious":
        return [t for t in touching if set(parent_map[t]) == {uid}]
    if mode == "buildable":
        above = graph_ancestors(uid)
        return [t for t in touching if all(p == uid or p in above for p in parent_map[t])]
    raise SystemExit(f"unknown --indirect-selection {mode}")


# Which test task runs each test, read from the DAG (the command's --select list: test
# names, or a node and the indirect selection that adds its tests).
tasks = {t.task_id: t for t in dag.tasks}
test_home = {}
for task_id, task in tasks.items():
    words = task.bash_command.split()
    if words[1] == "test":
        select = words[words.index("--select") + 1 : words.index("--project-dir")]
        if "--indirect-selection" in select:
            at = select.index("--indirect-selection")
            check(at == 1, f"{task_id} selects one node's tests")
            select = [name[t] for t in tests_of(by_name.get(select[0]), select[at + 1])]
        home = by_name.get(task_id[: -len("_test")])
        for test in select:
            test_home[by_name.get(test)] = home
tests = [uid for uid, n in nodes.items() if n["resource_type"] == "test" and folded(uid)]
homes = set()
for t in tests:
    home = test_home.get(t)
    latest = {p for p in folded(t) if not any(p in ancestors(q) for q in folded(t) if q != p)}
    check(home in latest, f"test {name[t]} runs after its last parent ({home})")
    homes.add(home)

expected = {build_task[uid]: uid for uid in builders}
expected.update({f"{name[h]}_test": h for h in homes if h})
check(set(tasks) == set(expected), f"task ids: {len(tasks)} tasks, {len(expected)} expected")


def done(uid):
    return f"{name[uid]}_test" if uid in homes else build_task[uid]


edges = 0
for task_id, uid in sorted(expected.items()):
    task = tasks.get(task_id)
    if task is None:
        continue
    if task_id == build_task.get(uid):
        want = {done(p) for p in folded(uid)}
        kind = build_kind(nodes[uid])
        check(
            task.bash_command.split()[1:4] == [kind, "--select", name[uid]]
            and "--vars '{date_id: " in task.bash_command,
            f"{task_id} runs 'mart {kind} --select {name[uid]} --vars ...'",
        )
    else:
        want = {build_task[uid]} | {
            done(p) for t in tests if test_home.get(t) == uid for p in folded(t) if p != uid
        }
    edges += len(want)
    check(task.upstream_task_ids == want, f"{task_id} upstream {sorted(want)}")
    downstream = {t for t, other in tasks.items() if task_id in other.upstream_task_ids}
    check(task.downstream_task_ids == downstream, f"{task_id} downstream {sorted(downstream)}")
print(f"checked {len(tasks)} tasks and {edges} edges")
PY

echo "==> DagBag"
"${venv}/bin/python" "${round}/check_dag.py" "${round}/dags" "$manifest" >"${round}/check.log" 2>"${round}/check.err" || true
cat "${round}/check.log"
if ! grep -q '^checked ' "${round}/check.log"; then
  fail "the DagBag check did not finish:"
  tail -20 "${round}/check.err"
fi
passed=$((passed + $(grep -c '^ok: ' "${round}/check.log" || true)))
failed=$((failed + $(grep -c '^FAILED: ' "${round}/check.log" || true)))

# 3. One run of the whole DAG for one date.
echo "==> airflow dags test mart_example ${run_date}"
upstream_arrives "$rschema" "$repo"
"${venv}/bin/airflow" db migrate >"${round}/db.log" 2>&1 || { tail -20 "${round}/db.log"; fail "airflow db migrate"; finish; }
if AIRFLOW__LOGGING__LOGGING_LEVEL=INFO "${venv}/bin/airflow" dags test mart_example "$run_date" >"${round}/run.log" 2>&1; then
  pass "airflow dags test exited 0"
else
  fail "airflow dags test exited non-zero"
fi
run_succeeded mart_example
if grep -q -- "--vars '{date_id: ${run_date}}'" "${round}/run.log"; then
  pass "tasks ran with --vars '{date_id: ${run_date}}'"
else
  fail "no task ran with --vars '{date_id: ${run_date}}'"
fi

marts_exist "$rschema"

# 4. astronomer-cosmos: manifest load mode, mart as the dbt executable. Cosmos wants a
# dbt_project.yml, so it gets a copy of the project with project.yml under that name.
echo "==> astronomer-cosmos ${COSMOS_VERSION}"
cosmos_project="${round}/cosmos-project"
mkdir -p "$cosmos_project"
cp -r models seeds macros snapshots tests analyses "$cosmos_project/"
cp project.yml "${cosmos_project}/dbt_project.yml"
"$mart" parse --project-dir "$cosmos_project" >/dev/null
cat >"${round}/dags/mart_example_cosmos.py" <<PY
# An Airflow DAG that astronomer-cosmos renders from mart's manifest.json; tasks call mart.
from datetime import datetime
from pathlib import Path

from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, LoadMode, TestIndirectSelection

dag = DbtDag(
    dag_id="mart_example_cosmos",
    project_config=ProjectConfig(
        dbt_project_path="${cosmos_project}",
        manifest_path="${cosmos_project}/target/mart/manifest.json",
        project_name="mart_example",
    ),
    profile_config=ProfileConfig(
        profile_name="mart_example",
        target_name="dev",
        profiles_yml_filepath=Path("${work}/profiles/profiles.yml"),
    ),
    execution_config=ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        dbt_executable_path="${mart}",
        # A test task runs the tests of its node only; relationships tests whose other
        # side is built later would fail under dbt's eager default.
        test_indirect_selection=TestIndirectSelection.CAUTIOUS,
    ),
    render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, emit_datasets=False),
    operator_args={"vars": {"date_id": "{{ ds }}"}},
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
)
PY
"${venv}/bin/python" - "${round}/dags" "${cosmos_project}/target/mart/manifest.json" >"${round}/cosmos-check.log" 2>"${round}/cosmos-check.err" <<'PY' || true
import json
import sys

from airflow.models import DagBag

bag = DagBag(dag_folder=sys.argv[1])
manifest = json.load(open(sys.argv[2]))
print(("ok: " if not bag.import_errors else "FAILED: ") + f"cosmos DagBag import errors: {bag.import_errors or 'none'}")
dag = bag.dags.get("mart_example_cosmos")
if dag is None:
    print("FAILED: cosmos DAG mart_example_cosmos not loaded")
    sys.exit(0)
ids = {t.task_id for t in dag.tasks}
for node in manifest["nodes"].values():
    if node["resource_type"] in ("model", "seed"):
        kind = "seed" if node["resource_type"] == "seed" else "run"
        wanted = {f"{node['name']}.{kind}", f"{node['name']}_{kind}"}
        print(("ok: " if ids & wanted else "FAILED: ") + f"cosmos task for {node['unique_id']}")
print(f"cosmos: {len(dag.tasks)} tasks")
PY
cat "${round}/cosmos-check.log"
grep -q '^cosmos: ' "${round}/cosmos-check.log" || { fail "the cosmos DagBag check did not finish"; tail -20 "${round}/cosmos-check.err"; }
passed=$((passed + $(grep -c '^ok: ' "${round}/cosmos-check.log" || true)))
failed=$((failed + $(grep -c '^FAILED: ' "${round}/cosmos-check.log" || true)))
upstream_arrives "${rschema}_cosmos" "$cosmos_project"
if MART_SCHEMA="${rschema}_cosmos" AIRFLOW__LOGGING__LOGGING_LEVEL=INFO \
  "${venv}/bin/airflow" dags test mart_example_cosmos "$run_date" >"${round}/cosmos-run.log" 2>&1; then
  pass "airflow dags test mart_example_cosmos exited 0"
else
  fail "airflow dags test mart_example_cosmos exited non-zero"
  grep -E "error|Error" "${round}/cosmos-run.log" | head -20 || true
fi
run_succeeded mart_example_cosmos
marts_exist "${rschema}_cosmos"

}

for version in "${AIRFLOW_VERSIONS[@]}"; do
  airflow_round "$version"
done
export MART_SCHEMA="$schema"

echo "==> schemas the suite created: $(psql_value "${suite_schemas} order by 1" | paste -sd ' ' -)"
drop_schemas
left="$(psql_value "select count(*) from (${suite_schemas}) as s")"
if [ "$left" = 0 ]; then
  pass "every schema of the suite dropped"
else
  fail "schemas of the suite left after the drop: ${left}"
fi
finish
