"""Wall time and peak RSS of whole commands, run interleaved.

Usage: whole_command.py --runs N -- NAME COMMAND... [::: NAME COMMAND...]

Each COMMAND runs as given, without a shell. Round after
round, each command runs once in the order given (so a change of the machine's load
touches all alike), N rounds. Prints, per command, one line:
`NAME: wall min <ms> median <ms>, peak RSS min <MiB> median <MiB> (N runs)`; the peak RSS is
the process's largest resident set, as GNU time (/usr/bin/time) reports it.
Exits 1 if a run fails.
"""
import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("commands", nargs=argparse.REMAINDER)
args = parser.parse_args()
words = args.commands[1:] if args.commands[:1] == ["--"] else args.commands
commands = []
while words:
    end = words.index(":::") if ":::" in words else len(words)
    if end < 2:
        sys.exit("expected NAME COMMAND... [::: NAME COMMAND...]")
    commands.append((words[0], words[1:end]))
    words = words[end + 1 :]

walls = {name: [] for name, _ in commands}
rss = {name: [] for name, _ in commands}
for _ in range(args.runs):
    for name, argv in commands:
        # stderr to a file, not a pipe: nothing is read until the process ends. The peak
        # RSS through GNU time: a child forked from Python would count Python's pages.
        with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as peak:
            timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv]
            start = time.perf_counter()
            code = subprocess.call(timed, stdout=subprocess.DEVNULL, stderr=errors)
            walls[name].append((time.perf_counter() - start) * 1000)
            if code != 0:
                errors.seek(0)
                text = errors.read().decode(errors="replace")
                sys.exit(f"{name} failed ({code}): {shlex.join(argv)}\n{text}")
            # In KiB.
            rss[name].append(int(peak.read().split()[-1]) / 1024)

for name, _ in commands:
    w, r = walls[name], rss[name]
    print(
        f"{name}: wall min {min(w):.0f} ms median {statistics.median(w):.0f} ms, "
        f"peak RSS min {min(r):.0f} MiB median {statistics.median(r):.0f} MiB ({len(w)} runs)"
    )
