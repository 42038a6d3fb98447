"""Compares what observe.py saw of mart and of dbt-core, one check per command's exit
code, node status, relation, table's constraints, source freshness, `ls` selection and
`show` query. Prints each difference and a closing `RESULT passed failed` line.

usage: compare.py MART.json DBT.json
"""
import json
import sys

with open(sys.argv[1]) as f:
    mart = json.load(f)
with open(sys.argv[2]) as f:
    dbt = json.load(f)

passed = failed = 0


def check(what, ours, theirs):
    global passed, failed
    if ours == theirs:
        passed += 1
    else:
        failed += 1
        print("DIFFERS {}:\n  mart: {}\n  dbt:  {}".format(
            what, json.dumps(ours, sort_keys=True), json.dumps(theirs, sort_keys=True)))


def keyed(what, ours, theirs, each):
    """One check per key of either side; `each` compares the two values of one key."""
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        check(what, ours, theirs)
        return
    for key in sorted(set(ours) | set(theirs)):
        each("{} {}".format(what, key), ours.get(key), theirs.get(key))


for step in dbt["steps"]:
    ours, theirs = mart["steps"].get(step, {}), dbt["steps"][step]
    check("exit code of '{}'".format(step), ours.get("exit"), theirs["exit"])
    keyed("'{}' result of".format(step), ours.get("nodes"), theirs["nodes"], check)

keyed("relation", mart["relations"], dbt["relations"], check)
keyed("constraints of", mart["constraints"], dbt["constraints"], check)
check("exit code of 'source freshness'", mart["freshness"]["exit"], dbt["freshness"]["exit"])
keyed("freshness of", mart["freshness"]["sources"], dbt["freshness"]["sources"], check)
keyed("ls", mart["listings"], dbt["listings"], check)
keyed("show", mart["show"], dbt["show"], check)

print("RESULT {} {}".format(passed, failed))
