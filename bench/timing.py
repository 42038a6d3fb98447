#!/usr/bin/env python3
"""Times commands side by side: interleaved runs, min and median wall time, peak RSS.

Usage:
  bench/timing.py [--runs N] [--warmup W] [--cwd DIR] [--json FILE] \\
      LABEL -- COMMAND ... [;; LABEL -- COMMAND ...]...

Each round runs every command once, in the order given, so a machine that gets busier
during the benchmark slows all of them alike. Warm-up rounds are run first and not
counted. Wall time is measured around the child process; peak RSS is what GNU time
(/usr/bin/time) reports: a child forked from Python itself would count Python's pages
in its peak. The load average is printed before and after, since figures on a busy
machine are not comparable with a quiet one's.

Prints one line per command:
  LABEL: min 123 ms, median 130 ms, max RSS 45 MB (5 runs)
and, with --json, writes {label: {"min_ms", "median_ms", "rss_mb", "runs"}} to FILE.
A command that exits non-zero stops the benchmark (exit 1, with its stderr's end).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def parse(argv):
    opts = {"runs": 5, "warmup": 1, "cwd": None, "json": None}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        key = argv[i][2:]
        if key not in opts:
            sys.exit(f"timing.py: unknown option --{key}")
        value = argv[i + 1]
        opts[key] = int(value) if key in ("runs", "warmup") else value
        i += 2
    commands, current = [], None
    for arg in argv[i:]:
        if arg == ";;":
            current = None
        elif current is None:
            current = [arg, []]
            commands.append(current)
        elif arg == "--" and not current[1]:
            continue
        else:
            current[1].append(arg)
    if not commands or any(not cmd for _, cmd in commands):
        sys.exit(__doc__)
    return opts, commands


def run_once(command, cwd):
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as peak:
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *command]
        start = time.perf_counter()
        # stderr to a file, not a pipe: nothing is read until the process ends.
        code = subprocess.call(timed, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        wall = time.perf_counter() - start
        if code != 0:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace")[-4000:])
            sys.exit(f"timing.py: {' '.join(command)} exited with {code}")
        # In KiB.
        return wall * 1000, int(peak.read().split()[-1]) / 1024


def load():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def main():
    opts, commands = parse(sys.argv[1:])
    print(f"({load()} before)", flush=True)
    for _ in range(opts["warmup"]):
        for _, command in commands:
            run_once(command, opts["cwd"])
    walls = {label: [] for label, _ in commands}
    rss = {label: 0.0 for label, _ in commands}
    for _ in range(opts["runs"]):
        for label, command in commands:
            ms, mb = run_once(command, opts["cwd"])
            walls[label].append(ms)
            rss[label] = max(rss[label], mb)
    result = {}
    for label, _ in commands:
        result[label] = {
            "min_ms": round(min(walls[label])),
            "median_ms": round(statistics.median(walls[label])),
            "rss_mb": round(rss[label]),
            "runs": opts["runs"],
        }
        r = result[label]
        print(
            f"{label}: min {r['min_ms']} ms, median {r['median_ms']} ms, "
            f"max RSS {r['rss_mb']} MB ({r['runs']} runs)",
            flush=True,
        )
    print(f"({load()} after)", flush=True)
    if opts["json"]:
        with open(opts["json"], "w") as out:
            json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()
