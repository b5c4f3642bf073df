"""Run a command, kill -9 it mid-run, and report how long anything it started outlives it (Linux).

    python tests/kill_harness.py RESULTS_DIR WHEN main|group COMMAND...

WHEN >= 0: kill once RESULTS_DIR holds that many *.json files; WHEN < 0: kill after -WHEN seconds;
WHEN = pN+S: kill S seconds after the command has started N processes (e.g. its workers, while they start up).
`main` kills only the command's own process (its workers, zygotes and sandboxes are left to die by
themselves), `group` its whole process group. This process is a child subreaper, so every orphan is
re-parented to it and can be found; it prints one JSON line: when it killed, how many processes there
were, how long the last one lived after the kill, and the command lines of any still alive after 30 s
(which it then kills).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def descendants() -> list[int]:
    """Pids of this process's living (not zombie) descendants."""
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                kids = [int(k) for k in open(f"/proc/{pid}/task/{task}/children").read().split()]
            except OSError:
                continue
            for kid in kids:
                try:
                    state = open(f"/proc/{kid}/stat").read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                if state not in ("Z", "X"):
                    found.append(kid)
                todo.append(kid)
    return found


def reap() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def main() -> None:
    results, when, how, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    started = None
    while time.monotonic() - t0 < 300 and proc.poll() is None:
        if when.startswith("p"):
            n, _, wait = when[1:].partition("+")
            if started is None and len(descendants()) - 1 >= int(n):
                started = time.monotonic()
            if started is not None and time.monotonic() - started >= float(wait or 0):
                break
        elif float(when) < 0:
            if time.monotonic() - t0 >= -float(when):
                break
        elif len([f for f in os.listdir(results) if f.endswith(".json")] if os.path.isdir(results) else []) >= float(when):
            break
        time.sleep(0.01)
    before = len(descendants())
    finished_first = proc.poll() is not None
    (os.killpg if how == "group" else os.kill)(proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    alive: list[int] = []
    while time.monotonic() - killed < 30:
        reap()
        alive = descendants()
        if not alive:
            break
        time.sleep(0.05)
    lived = time.monotonic() - killed
    names = []
    for pid in alive:
        try:
            names.append(open(f"/proc/{pid}/cmdline").read().replace("\0", " ")[:200])
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    reap()
    print(json.dumps({"killed_after_s": round(killed - t0, 2), "finished_first": finished_first,
                      "processes_at_kill": before, "last_one_lived_s": round(lived, 2), "survivors": names}))


if __name__ == "__main__":
    main()
