"""Grader workers: trusted processes that hold the tests and grade one submission at a time.

    grading command (grade_folder)
      └─ worker (this module; started by ``start``)   one per --workers
           └─ zygote ─ launcher ─ submission            see ``zygote``

Every process in that chain dies with its parent, at once, however the parent ends (kill -9 of the
grading command's main process included): each one asks the kernel for SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``), set in the child before anything else runs (before ``exec`` for the worker and
the zygote), and then checks that its parent is still the one that started it, since a parent that died
before the request would never send the signal. A worker is a plain subprocess speaking JSON lines over
two pipes, not a ``multiprocessing`` pool process: a pool process imports the main module and the
package before it runs any code of ours, and lived on, orphaned, when the command was killed in those
seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from aigc_course.grading.jail import LIBC, PR_SET_PDEATHSIG


def die_with(parent: int) -> None:
    """In a child: be killed when `parent` dies; exit now if it already has. (Linux; a no-op elsewhere.)"""
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)


def popen_dying_with_us(cmd: list[str], **kwargs) -> subprocess.Popen:
    """`subprocess.Popen(cmd)` whose process is killed when this one dies, from before its first instruction."""
    parent = os.getpid()
    return subprocess.Popen(cmd, preexec_fn=(lambda: die_with(parent)) if LIBC is not None else None, **kwargs)


class Worker:
    """The grading command's handle on one worker process: send a notebook path, read its result record."""

    def __init__(self, setup: dict):
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        self.proc = popen_dying_with_us(
            [sys.executable, "-c", "import sys; from aigc_course.grading.worker import main; "
                                   "main(int(sys.argv[1]), int(sys.argv[2]))", str(req_r), str(resp_w)],
            pass_fds=(req_r, resp_w), stdin=subprocess.DEVNULL)
        os.close(req_r)
        os.close(resp_w)
        self.reader = os.fdopen(self.resp_r, "rb")
        self.job: str | None = None
        self._send(setup)

    def _send(self, msg: dict) -> None:
        data = (json.dumps(msg) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.req_w, view):]

    def submit(self, path: str) -> None:
        self.job = path
        self._send({"path": path})

    def receive(self) -> dict:
        """The reply to the job sent last: {"rec": ...} or {"error": ...} (also when the worker died)."""
        line = self.reader.readline()
        self.job = None
        if not line:
            code = self.proc.wait()
            return {"error": f"the grader's worker process ended (exit status {code})"}
        return json.loads(line)

    def close(self) -> None:
        try:
            os.close(self.req_w)  # end of input: the worker closes its zygote and exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.close()


def main(req_fd: int, resp_fd: int) -> None:
    """The worker: read the setup, then grade each notebook path it is sent until its input ends."""
    from aigc_course.grading.zygote import Zygote

    zygote = Zygote()  # first, so that it warms up while this process imports torch and reads the tests
    requests = os.fdopen(req_fd, "rb")
    replies = os.fdopen(resp_fd, "wb", buffering=0)
    import torch

    from aigc_course.grading.check import collect_tests
    from aigc_course.grading.grade import grade_notebook
    from aigc_course.grading.jail import Limits

    torch.set_num_threads(1)
    setup = json.loads(requests.readline())
    tests = collect_tests(setup["public"], setup["hidden"])
    limits = Limits(**setup["limits"])
    try:
        for line in requests:
            path = json.loads(line)["path"]
            try:
                reply = {"rec": grade_notebook(path, tests, setup["questions"], zygote, limits, setup["rules"])}
            except Exception as e:  # the grader failed, not the submission: the command retries on its next run
                reply = {"error": f"{type(e).__name__}: {e}"}
            replies.write((json.dumps(reply) + "\n").encode())
    finally:
        zygote.close()
