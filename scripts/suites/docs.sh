#!/usr/bin/env bash
# End-to-end suite for `mart docs`: generates the site for the example project (seeded and
# run in its own schema, so column types come from the database catalog), for a copy of it
# whose description holds markup, and for a generated 10,000-model project; opens pages in
# headless Chromium (installed from Debian when missing), dumps their DOM and takes
# screenshots; checks page texts, that no script error reached the page (window.onerror
# writes data-js-error on <html>; console errors are read from Chromium's log), that
# markup in descriptions shows as text, and that `mart docs serve` answers on 127.0.0.1
# only. Ends with `docs: N passed, N failed`.
#
# Korean text must render: the suite installs a CJK font (fonts-noto-cjk) when the machine
# has none, and screenshots a page with a Korean description beside a copy whose Hangul is
# replaced by other Hangul of the same length: with no glyphs both draw the same empty
# boxes and the two screenshots are identical bytes.
#
# Screenshots land in $DOCS_SHOTS (default target/docs-e2e/): example-index.png,
# example-search.png, example-model.png, example-lineage.png, example-korean.png, 10k-index.png, 10k-model.png,
# 10k-lineage.png, 10k-folder.png.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo="$(pwd)"

if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME}/.cargo/bin/cargo" ]; then
  export PATH="${HOME}/.cargo/bin:${PATH}"
fi
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
ensure_postgres || exit 1

passed=0
failed=0
check() {
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - ${name}"
  else
    failed=$((failed + 1))
    echo "FAIL - ${name}"
  fi
}

missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
[ -n "$(fc-list :lang=ko 2>/dev/null)" ] || missing="${missing} fonts-noto-cjk"
if [ -n "$missing" ]; then
  echo "==> installing${missing:+ }${missing}"
  # shellcheck disable=SC2086 # one word per package
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || exit 1
fi

# shellcheck source=scripts/lib/cargo.sh
source scripts/lib/cargo.sh
mart="$(build_mart -q)" || exit 1
shots="${DOCS_SHOTS:-${repo}/target/docs-e2e}"
mkdir -p "$shots"
work="$(mktemp -d)"
schema="docs_e2e_$$"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  drop_schema_family "$schema"
  rm -rf "$work"
}
trap cleanup EXIT

# One headless Chromium run; its log (console messages included) goes to $work/chromium.log.
chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" --hide-scrollbars --enable-logging=stderr --v=0 \
    --virtual-time-budget=5000 "$@" 2>>"$work/chromium.log"
}
# dump URL OUT: the DOM after scripts ran.
dump() { chrome --dump-dom "$1" >"$2"; }
# shot URL PNG HEIGHT
shot() { chrome --window-size="1400,${3}" --screenshot="$2" "$1" >/dev/null; }
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
# The page's scripts ran to the end and raised nothing.
clean_page() { has "$1" 'data-ready="1"' && lacks "$1" 'data-js-error="'; }
bigger_than() { [ "$(stat -c %s "$1")" -gt "$2" ]; }
fails() { ! "$@"; }

# --- the example project, with the catalog of its own schema --------------------------
export MART_SCHEMA="$schema"
profiles="$work/profiles"
mkdir -p "$profiles"
cp profiles.example.yml "$profiles/profiles.yml"
export MART_PROFILES_DIR="$profiles"
# The fan-platform and Gold-layer logs are generated (small) after the seeds, as the demo does.
"$mart" seed >"$work/seed.log" 2>&1 &&
  "$mart" run-operation generate_server_log --args '{rows: 20000}' >>"$work/seed.log" 2>&1 &&
  "$mart" run-operation generate_click_log --args '{rows: 5000}' >>"$work/seed.log" 2>&1 &&
  "$mart" run >"$work/run.log" 2>&1
check "example: seed, generate the logs and run in ${schema}" [ $? -eq 0 ]
"$mart" docs generate >"$work/generate.log" 2>&1
check "example: docs generate exits 0" [ $? -eq 0 ]
site="${repo}/target/mart/docs"
check "example: generate reports the files it wrote" has "$work/generate.log" "to target/mart/docs"
check "example: a page per model file" [ "$(ls "$site/nodes" | grep -c '^model\.')" -eq "$(find models -name '*.sql' | wc -l)" ]

# Every model of the project (whatever it holds) has its page with its description: its
# text, as the page shows it once the Markdown (code spans, emphasis) is rendered.
"$mart" ls --resource-type model --output json --output-keys unique_id,description >"$work/models.jsonl"
described() {
  python3 - "$site" "$work/models.jsonl" <<'PY'
import html, json, re, sys
site, listing = sys.argv[1], sys.argv[2]
def words(t):
    return " ".join(t.split())
missing = []
for line in open(listing):
    node = json.loads(line)
    page = open(f"{site}/nodes/{node['unique_id']}.html").read()
    shown = words(html.unescape(re.sub(r"<[^>]+>", "", page)))
    if words(re.sub(r"`|\*\*", "", node["description"])) not in shown:
        missing.append(node["unique_id"])
print("   models without their description on their page:", missing or "none")
sys.exit(1 if missing else 0)
PY
}
check "example: every model page shows its description" described

dump "file://${site}/index.html" "$work/index.dom"
check "example index: scripts ran without errors" clean_page "$work/index.dom"
check "example index: models grouped by folder" has "$work/index.dom" '>models/dim</a>'
check "example index: lists the mart model" has "$work/index.dom" '>analytics_variant_user_daily</a>'
check "example index: lists seeds and macros" has "$work/index.dom" '>safe_divide</a>'

dump "file://${site}/index.html?q=dim_user" "$work/search.dom"
check "example search: finds dim_user first" has "$work/search.dom" '<a href="nodes/model.mart_example.dim_user.html">dim_user</a>'
check "example search: finds tests" has "$work/search.dom" '>not_null_dim_user_user_id</a>'
check "example search: scripts ran without errors" clean_page "$work/search.dom"

page="file://${site}/nodes/model.mart_example.analytics_variant_user_daily.html"
dump "$page" "$work/model.dom"
check "example model page: scripts ran without errors" clean_page "$work/model.dom"
check "example model page: description" has "$work/model.dom" 'A/B test summary, one row per variant, user and day'
check "example model page: materialization" has "$work/model.dom" '<dd>view</dd>'
check "example model page: type from the catalog" has "$work/model.dom" 'character varying(32)'
check "example model page: column description" has "$work/model.dom" 'Total purchases that day.'
check "example model page: column lineage" has "$work/model.dom" 'fact_user_event</a>.paidamount'
check "example model page: tests on it" has "$work/model.dom" 'accepted_values_analytics_variant_user_daily_gender'
check "example model page: compiled SQL" has "$work/model.dom" "\"${schema}\".\"fact_user_event\""
check "example model page: upstream" has "$work/model.dom" '<a href="../nodes/model.mart_example.dim_user.html">dim_user</a>'
check "example model page: neighbourhood graph" has "$work/model.dom" 'class="n model focus" data-name="analytics_variant_user_daily"'

dump "file://${site}/lineage.html" "$work/lineage.dom"
check "example lineage: scripts ran without errors" clean_page "$work/lineage.dom"
drawn="$("$mart" ls --resource-type model seed snapshot source | wc -l)"
check "example lineage: all ${drawn} nodes drawn" [ "$(grep -o '<g class="n ' "$work/lineage.dom" | wc -l)" -eq "$drawn" ]
check "example lineage: a legend of the kinds" has "$work/lineage.dom" '<span class="swatch seed"></span>20 seeds</li>'
check "example lineage: seeds load the tables their sources read" has "$work/lineage.dom" 'class="loads"><title>wv_live loads the table of wv_live</title>'
check "example lineage: the first column holds the seeds" has "$work/lineage.dom" '<text class="layer" x="10" y="24">seeds · sources</text>'
check "example lineage: every box says its kind" has "$work/lineage.dom" '<text class="tag" x="'
# Every name fits its box: the longest is drawn whole, no box is wider than the limit.
check "example lineage: the longest name fits" has "$work/lineage.dom" '>community_log_v_member_migration</text>'
widest() { grep -o '<rect x="[0-9]*" y="[0-9]*" width="[0-9]*"' "$1" | grep -o '[0-9]*"$' | tr -d '"' | sort -n | tail -1; }
check "example lineage: boxes at most 320 px wide" [ "$(widest "$work/lineage.dom")" -le 320 ]

shot "file://${site}/index.html" "$shots/example-index.png" 900
shot "file://${site}/index.html?q=dim_user" "$shots/example-search.png" 700
shot "$page" "$shots/example-model.png" 1800
shot "file://${site}/lineage.html" "$shots/example-lineage.png" 600

# Korean renders: the description's Hangul against other Hangul of the same length.
korean="${site}/nodes/model.mart_example.wv_live_play.html"
check "korean: the description is on the page" has "$korean" '위버스 라이브 시청 — live viewing.'
check "korean: the font stack names a CJK font" has "${site}/assets/site.css" '"Noto Sans CJK KR"'
sed 's/위버스 라이브 시청/가나다 라마바 사아/' "$korean" >"${site}/nodes/korean-control.html"
shot "file://${korean}" "$shots/example-korean.png" 500
shot "file://${site}/nodes/korean-control.html" "$work/korean-control.png" 500
rm -f "${site}/nodes/korean-control.html"
check "korean: Hangul is drawn as glyphs, not empty boxes" fails cmp -s "$shots/example-korean.png" "$work/korean-control.png"

for png in example-index example-search example-model example-lineage example-korean; do
  check "screenshot ${png}.png" bigger_than "$shots/${png}.png" 10000
done

# --- markup in a description shows as text ------------------------------------------------
copy="$work/escaped"
mkdir -p "$copy"
cp -r project.yml models seeds macros "$copy/"
payload='<script>document.title="PWNED"</script><img src=x onerror="document.body.setAttribute(\x27data-pwned\x27,1)">'
python3 - "$copy/models/mart/_mart.yml" "$payload" <<'EOF'
import sys
path, payload = sys.argv[1], sys.argv[2].replace("\\x27", "'")
lines = open(path).read().split("\n")
# The model's description is a folded block: the payload opens its first line.
at = next(i for i, l in enumerate(lines) if l.strip() == "description: >") + 1
indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
lines[at] = indent + payload + " " + lines[at].lstrip()
open(path, "w").write("\n".join(lines))
EOF
(cd "$copy" && "$mart" docs generate --empty-catalog >"$work/escaped.log" 2>&1)
check "escaping: docs generate exits 0" [ $? -eq 0 ]
dump "file://${copy}/target/mart/docs/nodes/model.mart_example.analytics_variant_user_daily.html" "$work/escaped.dom"
check "escaping: the markup shows as text" has "$work/escaped.dom" '&lt;script&gt;document.title="PWNED"&lt;/script&gt;&lt;img src=x'
check "escaping: no injected script ran" lacks "$work/escaped.dom" '<title>PWNED'
check "escaping: no injected handler ran" lacks "$work/escaped.dom" 'data-pwned="1"'
check "escaping: scripts ran without errors" clean_page "$work/escaped.dom"

# --- mart docs serve ---------------------------------------------------------------------
"$mart" docs serve --port 0 >"$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 50); do
  port="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f3)"
  [ -n "$port" ] && break
  sleep 0.1
done
check "serve: prints its 127.0.0.1 address" [ -n "$port" ]
if [ -n "$port" ]; then
  code="$(curl -s -o "$work/served.html" -w '%{http_code}' "http://127.0.0.1:${port}/")"
  check "serve: / is the index" [ "$code" = 200 ]
  check "serve: the index names the project" has "$work/served.html" '<h1>mart_example</h1>'
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/nodes/model.mart_example.dim_user.html")"
  check "serve: a node page" [ "$code" = 200 ]
  code="$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/../../project.yml")"
  check "serve: nothing outside the site" [ "$code" = 404 ]
  addr="$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)"
  if [ -n "$addr" ]; then
    check "serve: not reachable on ${addr}" fails curl -s -m 2 -o /dev/null "http://${addr}:${port}/"
  fi
  dump "http://127.0.0.1:${port}/index.html?q=fact" "$work/served.dom"
  check "serve: search works over http" has "$work/served.dom" '>fact_user_event</a>'
fi
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=""

# --- a generated 10,000-model project -------------------------------------------------------
gen="${repo}/../shared/bench/gen_project.py"
[ -f "$gen" ] || gen=/work/shared/bench/gen_project.py
big="$work/p10k"
python3 "$gen" --models 10000 --out "$big" >/dev/null
start=$(date +%s%N)
(cd "$big" && env -u MART_PROFILES_DIR "$mart" docs generate --empty-catalog >"$work/big.log" 2>&1)
check "10k: docs generate exits 0" [ $? -eq 0 ]
ms=$((($(date +%s%N) - start) / 1000000))
bsite="$big/target/docs"
echo "   10k: $(grep -o 'Wrote.*' "$work/big.log") (wall ${ms} ms, debug build)"
check "10k: a page per model" [ "$(ls "$bsite/nodes" | grep -c '^model\.')" -eq 10000 ]
largest="$(find "$bsite" -type f -printf '%s\n' | sort -n | tail -1)"
echo "   10k: largest file ${largest} bytes"
check "10k: no file over 1 MB" [ "$largest" -lt 1000000 ]

dump "file://${bsite}/index.html" "$work/big-index.dom"
check "10k index: scripts ran without errors" clean_page "$work/big-index.dom"
check "10k index: folders of each layer" has "$work/big-index.dom" '>models/mart/g000</a>'
dump "file://${bsite}/index.html?q=mart_00042" "$work/big-search.dom"
check "10k search: finds a model among 10,000" has "$work/big-search.dom" '<a href="nodes/model.bench_project.mart_00042.html">mart_00042</a>'
dump "file://${bsite}/lineage.html" "$work/big-lineage.dom"
check "10k lineage: scripts ran without errors" clean_page "$work/big-lineage.dom"
check "10k lineage: one box per folder, not per node" [ "$(grep -o '<g class="n ' "$work/big-lineage.dom" | wc -l)" -lt 200 ]
check "10k lineage: a layer overview" has "$work/big-lineage.dom" '<text class="detail" x="'
check "10k lineage: layers in the order data flows" grep -q 'data-name="seeds".*data-name="source:raw".*data-name="models/src".*data-name="models/stg".*data-name="models/dim".*data-name="models/fct".*data-name="models/mart"' "$work/big-lineage.dom"
check "10k lineage: edges between layers counted" grep -qE '<title>models/src feeds models/stg \([0-9]+ edges\)</title>' "$work/big-lineage.dom"
check "10k lineage: folders in a column per layer" has "$work/big-lineage.dom" '<text class="layer" x="10" y="24">seeds</text>'
check "10k lineage: folders sorted by name" grep -q 'data-name="models/stg/g000".*data-name="models/stg/g001".*data-name="models/stg/g029"' "$work/big-lineage.dom"
check "10k lineage: a folder box counts its edges" grep -qE '100 models · [0-9]+ in · [0-9]+ out' "$work/big-lineage.dom"
check "10k lineage: a folder box opens its expanded graph" has "$work/big-lineage.dom" 'href="folders/model.models~2fstg~2fg003.html#lineage"'
bfolder="file://${bsite}/folders/model.models~2fstg~2fg003.html"
dump "$bfolder" "$work/big-folder.dom"
check "10k folder: scripts ran without errors" clean_page "$work/big-folder.dom"
check "10k folder: expanded into its models" has "$work/big-folder.dom" 'models/stg/g003 expanded into its 100 models, among the'
check "10k folder: its models drawn" [ "$(grep -o '<g class="n model"' "$work/big-folder.dom" | wc -l)" -eq 100 ]
check "10k folder: neighbouring folders in their layer's column" has "$work/big-folder.dom" '>models/src</text>'
bpage="file://${bsite}/nodes/model.bench_project.mart_00001.html"
dump "$bpage" "$work/big-model.dom"
check "10k model page: scripts ran without errors" clean_page "$work/big-model.dom"
check "10k model page: neighbourhood graph" has "$work/big-model.dom" 'class="n model focus" data-name="mart_00001"'
check "10k model page: column lineage" grep -qE 'fct_[0-9]+</a>\.amount' "$work/big-model.dom"
shot "file://${bsite}/index.html" "$shots/10k-index.png" 900
shot "$bpage" "$shots/10k-model.png" 1000
shot "file://${bsite}/lineage.html" "$shots/10k-lineage.png" 1000
shot "$bfolder" "$shots/10k-folder.png" 1000
for png in 10k-index 10k-model 10k-lineage 10k-folder; do
  check "screenshot ${png}.png" bigger_than "$shots/${png}.png" 10000
done

# Console errors of every page opened above (Chromium logs them as CONSOLE lines).
if grep -E 'CONSOLE.*(Uncaught|Error)' "$work/chromium.log" >"$work/console-errors.log"; then
  cat "$work/console-errors.log"
  check "browser console: no errors" false
else
  check "browser console: no errors" true
fi
echo "   screenshots: ${shots}"
echo "docs: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
