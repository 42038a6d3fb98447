"""Time from a command's start to its first SQL statement, measured on the wire.

Usage: first_sql.py --listen PORT [--runs N] -- COMMAND...

Runs a small TCP proxy on 127.0.0.1:PORT in front of PostgreSQL ($PGHOST:$PGPORT,
default 127.0.0.1:5432); the command's profile must point at PORT. For each run it notes
the time just before starting the command and the time the proxy sees the first
simple-Query ('Q') or extended-protocol Parse ('P') message on any connection (the
SSL request, the startup packet and authentication come before it and do not count).
Prints one line: `median <ms> min <ms> max <ms> (N runs)`. Exits 1 if a run sent no SQL
or the command failed.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--listen", type=int, required=True)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("command", nargs=argparse.REMAINDER)
args = parser.parse_args()
command = args.command[1:] if args.command[:1] == ["--"] else args.command
upstream = (os.environ.get("PGHOST", "127.0.0.1"), int(os.environ.get("PGPORT", "5432")))

first_sql = {"t": None}
lock = threading.Lock()


def pump(src, dst, watch):
    """Copies src to dst; on the client side, parses messages to spot the first query."""
    buffer = b""
    started = False  # past the startup packet
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if watch:
                buffer += data
                while True:
                    if not started:
                        if len(buffer) < 8:
                            break
                        length = int.from_bytes(buffer[:4], "big")
                        code = int.from_bytes(buffer[4:8], "big")
                        if len(buffer) < length:
                            break
                        buffer = buffer[length:]
                        # 80877103: SSLRequest, 80877104: GSSENCRequest; else startup.
                        started = code not in (80877103, 80877104)
                        continue
                    if len(buffer) < 5:
                        break
                    kind = buffer[:1]
                    length = int.from_bytes(buffer[1:5], "big")
                    if len(buffer) < 1 + length:
                        break
                    if kind in (b"Q", b"P"):
                        with lock:
                            if first_sql["t"] is None:
                                first_sql["t"] = time.monotonic()
                    buffer = buffer[1 + length :]
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener):
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(upstream)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=pump, args=(client, server, True), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, False), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", args.listen))
listener.listen(64)
threading.Thread(target=serve, args=(listener,), daemon=True).start()

times = []
for _ in range(args.runs):
    first_sql["t"] = None
    start = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
        print(f"command failed with exit code {done.returncode}: {' '.join(command)}")
        sys.exit(1)
    if first_sql["t"] is None:
        print(f"no SQL statement seen: {' '.join(command)}")
        sys.exit(1)
    times.append((first_sql["t"] - start) * 1000)
print(
    f"median {statistics.median(times):.0f} ms  min {min(times):.0f} ms  "
    f"max {max(times):.0f} ms  ({len(times)} runs)"
)
