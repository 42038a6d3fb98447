#!/usr/bin/env bash
# End-to-end suite: dbt tooling reads mart's artifacts. Builds the example project into a
# schema of its own, then parses target/manifest.json with dbt-artifacts-parser's
# parse_manifest_v12, run_results.json with parse_run_results_v6 and catalog.json (from
# `mart docs generate`) with parse_catalog_v1 (from PyPI, in a
# virtualenv cached outside the repo), and checks them against what `mart ls` says.
# Ends with `artifacts: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi

# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
venv="$(suite_venv artifacts-venv 'import dbt_artifacts_parser' dbt-artifacts-parser)"

# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)"

work="$(mktemp -d)"
schema="mart_suite_artifacts_$$"
cleanup() {
  drop_schema_family "$schema"
  rm -rf "$work"
}
trap cleanup EXIT

cp -r project.yml models seeds macros snapshots tests "$work/"
cp profiles.example.yml "$work/profiles.yml"
export MART_SCHEMA="$schema"
# A password the server does not ask for (trust auth): it must never reach an artifact.
export MART_PG_PASSWORD="artifact-secret-marker"
cd "$work"

# The whole example: seeds, the generated fan-platform and Gold-layer logs (small), then
# every model, snapshot and test.
"$mart" seed --profiles-dir . > build.log
"$mart" run-operation generate_server_log --profiles-dir . --args '{rows: 20000}' >> build.log
"$mart" run-operation generate_click_log --profiles-dir . --args '{rows: 5000}' >> build.log
"$mart" build --profiles-dir . >> build.log
cp target/mart/manifest.json build-manifest.json
cp target/mart/run_results.json build-run-results.json
"$mart" docs generate --profiles-dir . >> build.log
cp target/mart/catalog.json catalog.json
cp target/mart/manifest.json docs-manifest.json
"$mart" ls --profiles-dir . --output json --output-keys unique_id,resource_type,depends_on > ls.jsonl
# Break one business rule: its test fails with the row count, and the artifact says so.
psql -w -X -q -h "${MART_PG_HOST:-127.0.0.1}" -p "${MART_PG_PORT:-5432}" \
  -U "${MART_PG_USER:-postgres}" -d "${MART_PG_DBNAME:-postgres}" \
  -c "update ${schema}.fact_user_event set paidamount = 7 where ctid in (select ctid from ${schema}.fact_user_event where purchased = 0 limit 3)"
"$mart" test --profiles-dir . -s test_type:singular > test.log || true
cp target/mart/run_results.json test-run-results.json

# A project with a semantic layer (semantic model, metrics, saved query, time spine): its
# manifest and semantic_manifest.json are checked too.
mkdir -p semantic/models
cat > semantic/dbt_project.yml <<'YML'
name: shop
profile: mart_example
YML
cp profiles.yml semantic/profiles.yml
echo "select 1 as order_id, current_date as ordered_at, 10.0 as amount" > semantic/models/orders.sql
echo "select current_date as date_day" > semantic/models/time_spine_daily.sql
cat > semantic/models/semantic.yml <<'YML'
version: 2
models:
  - name: time_spine_daily
    time_spine: {standard_granularity_column: date_day}
    columns: [{name: date_day, granularity: day}]
semantic_models:
  - name: orders
    model: ref('orders')
    defaults: {agg_time_dimension: ordered_at}
    entities: [{name: order, type: primary, expr: order_id}]
    dimensions: [{name: ordered_at, type: time, type_params: {time_granularity: day}}]
    measures: [{name: order_total, agg: sum, expr: amount}]
metrics:
  - {name: revenue, label: Revenue, type: simple, type_params: {measure: order_total}}
  - {name: revenue_x2, label: Twice, type: derived, type_params: {expr: revenue * 2, metrics: [revenue]}}
saved_queries:
  - name: daily
    query_params: {metrics: [revenue], group_by: ["TimeDimension('order__ordered_at', 'day')"]}
    exports: [{name: daily_export, config: {export_as: table}}]
YML
(cd semantic && "$mart" parse --profiles-dir . > ../semantic.log)
cp semantic/target/manifest.json semantic-manifest.json
cp semantic/target/semantic_manifest.json semantic-semantic-manifest.json

"${venv}/bin/python" - <<'PY'
import json
import pathlib

from dbt_artifacts_parser.parser import parse_catalog_v1, parse_manifest_v12, parse_run_results_v6

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def load(path):
    with open(path) as f:
        return json.load(f)


raw_manifest = load("build-manifest.json")
raw_results = load("build-run-results.json")
raw_test_results = load("test-run-results.json")
ls = [json.loads(line) for line in open("ls.jsonl") if line.strip()]
raw_catalog = load("catalog.json")
docs_manifest = load("docs-manifest.json")

manifest = run_results = test_results = None
try:
    manifest = parse_manifest_v12(raw_manifest)
    check("manifest.json parses as manifest v12", True)
except Exception as e:  # noqa: BLE001 - the parser's error is the finding
    check("manifest.json parses as manifest v12", False, str(e)[:2000])
try:
    run_results = parse_run_results_v6(raw_results)
    check("run_results.json (build) parses as run_results v6", True)
except Exception as e:  # noqa: BLE001
    check("run_results.json (build) parses as run_results v6", False, str(e)[:2000])
try:
    test_results = parse_run_results_v6(raw_test_results)
    check("run_results.json (failing test) parses as run_results v6", True)
except Exception as e:  # noqa: BLE001
    check("run_results.json (failing test) parses as run_results v6", False, str(e)[:2000])

if manifest is not None:
    ls_ids = {row["unique_id"] for row in ls}
    manifest_ids = set(manifest.nodes) | set(manifest.sources)
    check("node count equals mart ls", len(manifest_ids) == len(ls_ids) == len(ls),
          f"{len(manifest_ids)} vs {len(ls_ids)}")
    check("node ids equal mart ls", manifest_ids == ls_ids, str(manifest_ids ^ ls_ids))
    ls_edges = {(p, row["unique_id"]) for row in ls for p in row["depends_on"]["nodes"]}
    parent_edges = {(p, child) for child, parents in manifest.parent_map.items() for p in parents}
    check("parent_map edges equal mart ls depends_on", parent_edges == ls_edges,
          f"{len(parent_edges)} vs {len(ls_edges)}")
    child_edges = {(parent, c) for parent, children in manifest.child_map.items() for c in children}
    check("child_map is parent_map reversed", child_edges == parent_edges)
    depends = {(p, uid) for uid, n in manifest.nodes.items()
               for p in (getattr(n.depends_on, "nodes", None) or [])}
    check("depends_on.nodes agree with parent_map", depends <= parent_edges and
          all(uid in manifest.parent_map for uid in manifest.nodes))
    by_type = {}
    for n in manifest.nodes.values():
        by_type.setdefault(getattr(n.resource_type, "value", n.resource_type), []).append(n)
    counts = {k: len(v) for k, v in by_type.items()}
    check("28 models, 20 seeds, 1 snapshot, 212 tests",
          counts == {"model": 28, "seed": 20, "snapshot": 1, "test": 212}, str(counts))
    generic = [n for n in by_type.get("test", []) if getattr(n, "test_metadata", None)]
    # dbt attaches a generic test to the model, seed or snapshot it is declared on; one
    # declared on a source (named source_...) has none.
    wrong = [n.unique_id for n in generic
             if bool(n.attached_node) == n.name.startswith("source_")]
    check("197 generic tests with test_metadata; attached_node on those of a node",
          len(generic) == 197 and not wrong, f"{len(generic)} generic: {wrong[:5]}")
    names = {n.name for n in by_type.get("test", [])}
    check("dbt test names", {"not_null_dim_user_user_id", "unique_dim_user_user_id",
                            "relationships_fact_user_event_user_id__user_id__ref_dim_user_",
                            "accepted_values_dim_user_variant_id__control__test"} <= names)
    model = manifest.nodes["model.mart_example.dim_user"]
    check("model fields", model.config.materialized == "table" and model.path == "dim/dim_user.sql"
          and model.fqn == ["mart_example", "dim", "dim_user"] and "user_id" in model.columns
          and model.raw_code.strip() != "" and bool(model.compiled_code))
    check("macros listed", "macro.mart_example.safe_divide" in manifest.macros)
    text = json.dumps(raw_manifest) + json.dumps(raw_results)
    check("no secret in the artifacts", "artifact-secret-marker" not in text)
    saved = [str(p) for p in pathlib.Path("target").rglob("*")
             if p.is_file() and b"artifact-secret-marker" in p.read_bytes()]
    check("no secret in any file under target/ (the saved parse too)", not saved, str(saved))

catalog = None
try:
    catalog = parse_catalog_v1(raw_catalog)
    check("catalog.json parses as catalog v1", True)
except Exception as e:  # noqa: BLE001
    check("catalog.json parses as catalog v1", False, str(e)[:2000])

if catalog is not None:
    built = {uid for uid, n in docs_manifest["nodes"].items()
             if n["resource_type"] in ("model", "seed", "snapshot")
             and n["config"].get("materialized") != "ephemeral"}
    check("catalog has every built model, seed and snapshot", set(catalog.nodes) == built,
          str(set(catalog.nodes) ^ built))
    check("catalog has the sources whose tables exist",
          set(catalog.sources) <= set(docs_manifest["sources"]) and len(catalog.sources) > 0,
          str(len(catalog.sources)))
    dim_user = catalog.nodes["model.mart_example.dim_user"]
    check("catalog columns carry types and positions",
          dim_user.metadata.type == "BASE TABLE" and "user_id" in dim_user.columns
          and sorted(c.index for c in dim_user.columns.values())
          == list(range(1, len(dim_user.columns) + 1)), str(dim_user.metadata))
    check("catalog errors are null", raw_catalog["errors"] is None)
    check("every node lists the macros it calls as macro unique ids",
          all(m.startswith("macro.") and m in docs_manifest["macros"]
              for n in docs_manifest["nodes"].values() for m in n["depends_on"]["macros"]))

if run_results is not None:
    statuses = {}
    for r in run_results.results:
        s = getattr(r.status, "value", r.status)
        statuses[s] = statuses.get(s, 0) + 1
    # 20 seeds, the 19 models that are not ephemeral and the snapshot; every test passes.
    check("build results: 40 success, 212 pass", statuses == {"success": 40, "pass": 212},
          str(statuses))
    check("results have timing and execution_time",
          all(len(r.timing) == 2 and r.execution_time >= 0 for r in run_results.results))
    check("models carry compiled_code",
          all(r.compiled_code for r in run_results.results if r.unique_id.startswith("model.")))

if test_results is not None:
    failing = [r for r in test_results.results if getattr(r.status, "value", r.status) == "fail"]
    check("the broken rule fails with 3 failures",
          [(r.unique_id, r.failures) for r in failing]
          == [("test.mart_example.assert_paid_amount_only_for_purchases", 3)],
          str([(r.unique_id, r.failures) for r in failing]))

raw_semantic = load("semantic-manifest.json")
try:
    semantic = parse_manifest_v12(raw_semantic)
    check("a manifest with a semantic layer parses as manifest v12", True)
    check("its semantic models, metrics and saved queries",
          (sorted(semantic.semantic_models), sorted(semantic.metrics), sorted(semantic.saved_queries))
          == (["semantic_model.shop.orders"], ["metric.shop.revenue", "metric.shop.revenue_x2"],
              ["saved_query.shop.daily"]))
except Exception as e:  # noqa: BLE001
    check("a manifest with a semantic layer parses as manifest v12", False, str(e)[:2000])
sm = load("semantic-semantic-manifest.json")
check("semantic_manifest.json has dbt's sections",
      sorted(sm) == ["metrics", "project_configuration", "saved_queries", "semantic_models"]
      and len(sm["project_configuration"]["time_spines"]) == 1)

print(f"artifacts: {passed} passed, {failed} failed")
raise SystemExit(1 if failed else 0)
PY
