"""Runs one tool (mart or dbt) through the parity project's command sequence and writes
what came out as JSON: each command's exit code and per-node statuses, the relations
built (columns, types, a row checksum), the contract's constraints, source freshness,
`ls` selections and `show` rows. compare.py lays two such files side by side.

usage: observe.py TOOL BINARY PROJECT_DIR SCHEMA OUT.json
"""
import json
import os
import subprocess
import sys

import psycopg2

tool, binary, project, schema, out = sys.argv[1:6]

# The commands in order; each later one sees what the earlier ones built.
STEPS = [
    ("seed", ["seed", "--full-refresh"]),
    ("run", ["run"]),
    ("build", ["build"]),
    ("broken contract", ["run", "-s", "contract_broken"]),
    ("failing unit test", ["test", "-s", "tag:broken,test_type:unit"]),
    ("unit tests", ["test", "-s", "test_type:unit"]),
    ("tests of a model", ["test", "-s", "customer_totals"]),
    ("vars override", ["run", "-s", "stg_orders", "--vars", "{min_amount: 6}"]),
]

# Selections listed with `ls`: methods, YAML selectors, indirect selection, graph operators.
LISTINGS = [
    ["-s", "tag:finance"],
    ["--selector", "finance"],
    ["--selector", "staging_and_children"],
    ["--selector", "marts_without_tests"],
    ["-s", "test_type:unit"],
    ["-s", "test_type:data"],
    ["-s", "test_type:singular"],
    ["-s", "test_name:unique"],
    ["-s", "test_name:accepted_values"],
    ["-s", "stg_orders", "--indirect-selection", "cautious"],
    ["-s", "stg_orders", "--indirect-selection", "buildable"],
    ["-s", "stg_orders", "--indirect-selection", "empty"],
    ["-s", "+customer_totals", "--resource-type", "model"],
    ["-s", "source:raw+", "--exclude", "tag:broken"],
    ["-s", "config.materialized:table"],
    ["-s", "resource_type:unit_test"],
    ["-s", "path:models/staging", "--output", "path"],
    ["-s", "@stg_customers", "--resource-type", "model", "seed"],
    ["--resource-type", "source"],
    ["-s", "version:latest"],
    ["-s", "version:prerelease"],
    ["-s", "version:none", "--resource-type", "model"],
    ["-s", "dim_country"],
    ["-s", "dim_country.v2"],
    ["-s", "access:private"],
    ["-s", "access:public"],
    ["-s", "group:finance"],
]

SHOW = [
    "select * from {{ ref('country_report') }} order by 1",
    "select id, status, amount from {{ ref('stg_orders') }} order by id",
    "select customer_id, total_cents from {{ ref('customer_totals') }} order by 1",
]


def run(args):
    """Runs the tool in the project; returns its exit code and combined output."""
    env = dict(os.environ, DBT_PROFILES_DIR=project, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    proc = subprocess.run(
        [binary, *args, "--profiles-dir", project], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def node_results():
    with open(os.path.join(project, "target", "run_results.json")) as f:
        results = json.load(f)["results"]
    return {
        r["unique_id"]: {"status": r["status"], "failures": r.get("failures")}
        for r in results
    }


def show_rows(output):
    """The rows of `show --output json`: the JSON object in the output (after log lines)."""
    start = output.find("{")
    if start < 0:
        return {"error": output[-400:]}
    try:
        shown, _ = json.JSONDecoder().raw_decode(output[start:])
    except ValueError:
        return {"error": output[-400:]}
    return shown.get("show")


conn = psycopg2.connect(
    host=os.environ["PARITY_HOST"], port=os.environ["PARITY_PORT"],
    user=os.environ["PARITY_USER"], dbname=os.environ["PARITY_DBNAME"],
    password=os.environ.get("DBT_ENV_SECRET_PARITY_PASS") or None)
conn.autocommit = True
cur = conn.cursor()


def relations():
    cur.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind in ('r', 'v', 'm') order by 1", (schema,))
    found = {}
    for name, kind in cur.fetchall():
        cur.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name))
        columns = cur.fetchall()
        row = "row({})::text".format(
            ", ".join('t."{}"'.format(c.replace('"', '""')) for c, _ in columns))
        cur.execute(
            "select count(*), md5(coalesce(string_agg(h, '' order by h), '')) "
            'from (select md5({}) as h from "{}"."{}" t) rows'.format(row, schema, name))
        count, digest = cur.fetchone()
        found[name] = {"kind": kind, "columns": columns, "rows": count, "digest": digest}
    return found


def constraints():
    cur.execute(
        "select c.relname, k.contype, "
        "  coalesce((select array_agg(a.attname order by a.attname) from pg_attribute a "
        "            where a.attrelid = k.conrelid and a.attnum = any(k.conkey)), '{}'), "
        "  case when k.contype = 'c' then pg_get_constraintdef(k.oid) end "
        "from pg_constraint k join pg_class c on c.oid = k.conrelid "
        "join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s", (schema,))
    by_table = {}
    for table, kind, columns, definition in cur.fetchall():
        by_table.setdefault(table, []).append([kind, list(columns), definition])
    cur.execute(
        "select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and a.attnotnull and a.attnum > 0 and c.relkind = 'r'", (schema,))
    for table, column in cur.fetchall():
        by_table.setdefault(table, []).append(["not null", [column], None])
    return {table: sorted(items, key=json.dumps) for table, items in by_table.items()}


observed = {"steps": {}, "listings": {}, "show": {}}
for name, args in STEPS:
    code, output = run(args)
    entry = {"exit": code}
    try:
        entry["nodes"] = node_results()
    except (OSError, ValueError, KeyError) as why:
        entry["nodes"] = "no run_results.json: {}".format(why)
    observed["steps"][name] = entry
    if os.environ.get("PARITY_VERBOSE"):
        print("--- {} {}: exit {}\n{}".format(tool, name, code, output[-3000:]), file=sys.stderr)
observed["relations"] = relations()
observed["constraints"] = constraints()

code, output = run(["source", "freshness", "-s", "source:*"])
try:
    with open(os.path.join(project, "target", "sources.json")) as f:
        freshness = {r["unique_id"]: r["status"] for r in json.load(f)["results"]}
except (OSError, ValueError, KeyError) as why:
    freshness = "no sources.json: {}".format(why)
observed["freshness"] = {"exit": code, "sources": freshness}

for args in LISTINGS:
    code, output = run(["ls", "--quiet", *args])
    lines = sorted(line.strip() for line in output.splitlines() if line.strip())
    observed["listings"][" ".join(args)] = {"exit": code, "lines": lines}

for sql in SHOW:
    code, output = run(["show", "--inline", sql, "--limit", "3", "--output", "json", "--quiet"])
    observed["show"][sql] = {"exit": code, "rows": show_rows(output)}

with open(out, "w") as f:
    json.dump(observed, f, indent=1, sort_keys=True, default=str)
