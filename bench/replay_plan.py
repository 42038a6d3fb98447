#!/usr/bin/env python3
"""Writes the psql replay of a mart run: the statements mart ran (target/run), grouped by
DAG level and split over THREADS sessions per level, each node in its own transaction, as
mart runs them. Nodes whose run_results message is VIEW UNCHANGED sent nothing and are
left out.

usage: replay_plan.py TARGET_COPY THREADS OUT_DIR
TARGET_COPY holds manifest.json, run_results.json and run/ of the run to replay. Writes
OUT_DIR/<level>/<session>.sql (levels and sessions zero-padded, in order).
"""
import json
import os
import sys

target, threads, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
manifest = json.load(open(os.path.join(target, "manifest.json")))
results = json.load(open(os.path.join(target, "run_results.json")))["results"]
ran = [r["unique_id"] for r in results if r["status"] == "success" and r["message"] != "VIEW UNCHANGED"]
nodes = manifest["nodes"]
running = set(ran)
level = {}


def depth(uid):
    if uid not in level:
        parents = [p for p in nodes[uid]["depends_on"]["nodes"] if p in running]
        level[uid] = 1 + max((depth(p) for p in parents), default=-1)
    return level[uid]


for uid in ran:
    depth(uid)
by_level = {}
for uid in sorted(ran):
    by_level.setdefault(level[uid], []).append(uid)
for lvl, uids in sorted(by_level.items()):
    folder = os.path.join(out, "%04d" % lvl)
    os.makedirs(folder)
    sessions = [[] for _ in range(threads)]
    for i, uid in enumerate(uids):
        node = nodes[uid]
        path = os.path.join(target, "run", node["package_name"], node["original_file_path"])
        sessions[i % threads].append("begin;\n" + open(path).read() + "\ncommit;\n")
    for i, statements in enumerate(sessions):
        if statements:
            with open(os.path.join(folder, "%02d.sql" % i), "w") as f:
                f.write("".join(statements))
