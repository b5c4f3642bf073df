"""The grader's end of one submission process: send requests, read validated replies, kill it."""

from __future__ import annotations

import errno
import os
import secrets
import select
import signal
import time

from aigc_course.grading import wire
from aigc_course.grading.cgroup import Cgroups
from aigc_course.grading.errors import SandboxDied, StudentError
from aigc_course.grading.jail import Limits

STDERR_KEEP = 16_000  # bytes of the submission's output kept (the last ones) for its feedback


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Session:
    """The grader's end of one submission process: send requests, read validated replies."""

    def __init__(self, pid: int, level: str, req_w: int, resp_r: int, out_r: int, limits: Limits,
                 cgroup: list[str] | None = None):
        self.pid, self.level, self.limits = pid, level, limits
        self.cgroup = cgroup or []  # the submission's control groups (see ``cgroup``), if it has any
        self.usage: dict = {}
        self.req_w, self.resp_r, self.out_r = req_w, resp_r, out_r
        self.deadline = time.monotonic() + limits.wall_s
        self.output = bytearray()
        self.output_bytes = 0
        self._pending = b""
        self.dead: str | None = None
        self.cell = 0
        self.cell_errors: list[dict] = []

    # -- low level
    def _drain_output(self) -> None:
        try:
            chunk = os.read(self.out_r, 1 << 16)
        except OSError:
            chunk = b""
        if not chunk:
            os.close(self.out_r)
            self.out_r = -1
            return
        self.output_bytes += len(chunk)
        self.output += chunk[-STDERR_KEEP:]
        if len(self.output) > STDERR_KEEP:  # keep the tail: a crash explains itself at the end
            del self.output[: len(self.output) - STDERR_KEEP]

    def _die(self, reason: str) -> SandboxDied:
        if self.dead is None:
            self.dead = reason
            self.kill()
        return SandboxDied(self.dead)

    def _read_message(self) -> dict:
        while b"\n" not in self._pending:
            if len(self._pending) > wire.MAX_MESSAGE_BYTES:
                raise self._die("the submission sent an oversized message to the grader")
            left = self.deadline - time.monotonic()
            if left <= 0:
                if self.cell is not None:
                    raise self._die(f"time limit of {self.limits.wall_s:g} s exceeded while running code cell "
                                    f"{self.cell + 1}")
                raise self._die(f"time limit of {self.limits.question_s:g} s for one question's tests exceeded")
            fds = [self.resp_r] + ([self.out_r] if self.out_r >= 0 else [])
            ready, _, _ = select.select(fds, [], [], min(left, 1.0))
            if self.out_r in ready:
                self._drain_output()
            if self.resp_r in ready:
                chunk = os.read(self.resp_r, 1 << 20)
                if not chunk:
                    raise self._die(self._exit_reason())
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        try:
            return wire.loads(line)
        except wire.WireError as e:
            raise self._die(f"the submission corrupted the grading channel ({e})") from None

    def _exit_reason(self) -> str:
        self._drain_for(0.2)
        where = f"while running code cell {self.cell + 1}" if self.cell is not None else "during the tests"
        tail = self.output_text()[-3000:].strip().splitlines()
        fatal = [line for line in tail if line.startswith("Fatal Python error")]
        last = f"; {fatal[-1][:200]}" if fatal else (f"; its last output: {tail[-1][:200]!r}" if tail else "")
        if self.cgroup and Cgroups.report(self.cgroup).get("oom_kills"):
            return (f"the submission's process ended {where}: its processes together reached the memory limit "
                    f"of {self.limits.memory_mb} MB{last}")
        return f"the submission's process ended {where} (exit, crash or memory limit){last}"

    def _drain_for(self, seconds: float) -> None:
        """Read what the process printed for at most `seconds` (a flood cannot stall the grader)."""
        end = time.monotonic() + seconds
        while self.out_r >= 0 and time.monotonic() < end:
            if not select.select([self.out_r], [], [], max(0.0, end - time.monotonic()))[0]:
                return
            self._drain_output()

    def output_text(self) -> str:
        """What the submission printed (its last STDERR_KEEP bytes), noting how much came before."""
        text = self.output.decode(errors="replace")
        if self.output_bytes > len(self.output):
            text = f"[... {self.output_bytes - len(self.output):,} earlier bytes of output not kept]\n" + text
        return text

    # -- protocol
    def send_cells(self, cells: list[str]) -> None:
        """Send the notebook's code cells, the first message the submission process reads."""
        try:
            _write_all(self.req_w, wire.dumps({"cells": list(cells)}))
        except OSError:
            self._die(self._exit_reason())

    def wait_ready(self) -> list[dict]:
        """Wait until every notebook cell has run; return the cells that raised."""
        while True:
            msg = self._read_message()
            if msg.get("event") == "cell" and isinstance(msg.get("index"), int):
                self.cell = msg["index"]
            elif msg.get("event") == "ready":
                self.cell = None
                errors = msg.get("errors")
                if isinstance(errors, list):
                    self.cell_errors = [{"cell": str(e.get("cell"))[:10], "error": str(e.get("error"))[:300]}
                                        for e in errors[:20] if isinstance(e, dict)]
                return self.cell_errors
            else:
                raise self._die("the submission sent the grader a message it did not ask for")

    def start_question(self) -> None:
        """Give the next question's tests their own time limit (`limits.question_s`)."""
        self.deadline = time.monotonic() + self.limits.question_s

    def request(self, op: str, name: str = "", args=(), kwargs=None, handle: int | None = None):
        """Send one request; return the decoded reply, or raise StudentError / SandboxDied."""
        if self.dead:
            raise SandboxDied(self.dead)
        nonce = secrets.token_hex(8)  # a reply must echo it: blind forgeries on the pipe are caught
        msg = {"op": op, "name": name, "id": nonce, "args": wire.encode(list(args)),
               "kwargs": wire.encode(dict(kwargs or {}))}
        if handle is not None:
            msg["handle"] = handle
        try:
            _write_all(self.req_w, wire.dumps(msg))
        except OSError:
            raise self._die(self._exit_reason()) from None
        reply = self._read_message()
        if reply.get("id") != nonce:
            raise self._die("the submission sent the grader a reply it did not ask for (a forged message)")
        if "error" in reply:
            raise StudentError(str(reply["error"])[:600])
        if "ok" not in reply:
            raise self._die("the submission sent the grader a malformed reply")
        try:
            return wire.decode(reply["ok"], lambda hid, t: RemoteObject(self, hid, t))
        except wire.WireError as e:
            raise StudentError(f"the value returned is not plain data ({e})") from None

    def kill(self) -> None:
        try:
            if self.level == "full":
                os.kill(self.pid, signal.SIGKILL)  # PID 1 of its namespace: everything inside dies with it
            else:
                os.killpg(self.pid, signal.SIGKILL)
        except OSError as e:
            if e.errno not in (errno.ESRCH, errno.EPERM):
                raise
        for _ in range(3 if self.cgroup and self.level != "full" else 0):  # basic: detached processes too
            for pid in Cgroups.pids(self.cgroup):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def close(self) -> None:
        """Say bye, then make sure the process is gone and the pipes are closed."""
        if not self.dead:
            try:
                os.write(self.req_w, wire.dumps({"op": "bye"}))
            except OSError:
                pass
        self.kill()
        self._drain_for(0.5)
        if self.cgroup:  # what the submission used as a whole, read before the zygote removes its groups
            self.usage = Cgroups.report(self.cgroup)
        for fd in (self.req_w, self.resp_r, self.out_r):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.req_w = self.resp_r = self.out_r = -1


class RemoteObject(wire.Handle):
    """A grader-side stand-in for an object living in the submission's process."""

    def __init__(self, session: Session, hid: int, type_name: str):
        super().__init__(hid, type_name)
        self._session, self._hid = session, hid

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._session.request("method", name, args, kwargs, handle=self._hid)

    def __call__(self, *args, **kwargs):
        return self._session.request("call_handle", "", args, kwargs, handle=self._hid)

    def __repr__(self) -> str:
        return f"<{self.type_name} in the submission's process>"


class RemoteStudent:
    """What a test calls `student`: `student.f(x)` runs the notebook's `f` in the sandbox."""

    def __init__(self, session: Session):
        self._session = session

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._session.request("call", name, args, kwargs)

    def get(self, name: str):
        """Return the value of the notebook's global `name` (plain data or a handle)."""
        return self._session.request("get", name)

    def has(self, name: str) -> bool:
        """Return True when the notebook defines `name`."""
        return bool(self._session.request("has", name))
