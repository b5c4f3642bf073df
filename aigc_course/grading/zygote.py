"""The zygote: a warm process that forks one sandboxed submission process per request.

    grader worker (trusted: holds the tests)
      └─ zygote (trusted, holds NO tests and NO student code: imported torch/numpy/matplotlib once)
           └─ launcher (unshares the namespaces, see ``jail``)
                └─ submission process (PID 1 of its namespace; the student's code runs here)

Forking from a warm zygote saves the ~3 s of ``import torch`` per submission. A request carries
only the limits: the notebook's cells travel from the worker straight to the new process over
that process's own pipe, so no student's code is ever in memory that a later submission inherits.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from aigc_course.grading import wire
from aigc_course.grading.cgroup import PREFIX, Cgroups
from aigc_course.grading.jail import (
    LIBC,
    PR_SET_PDEATHSIG,
    Limits,
    bind_paths,
    child_main,
    probe_level,
    sandbox_uid,
    unshare_and_fork,
)
from aigc_course.grading.session import Session
from aigc_course.grading.worker import die_with, popen_dying_with_us


def _close_fds_except(keep: set[int]) -> None:
    """Close every open file descriptor of this process that is not in `keep`."""
    try:
        fds = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _reap(*_) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def zygote_main(sock_fd: int) -> None:
    """Serve fork requests from one grader worker until it goes away."""
    if LIBC is not None:  # first, before the slow imports: die with the worker, even one killed right now
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    import numpy  # noqa: F401  (warm imports shared by every submission)
    import torch

    torch.set_num_threads(1)
    w = torch.zeros(1, requires_grad=True)  # warm the lazy imports the exercises hit (optimisers, autograd)
    for opt in (torch.optim.SGD([w], lr=0.1), torch.optim.Adam([w])):
        (w * 2).sum().backward()
        opt.step()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass
    import aigc_course.data  # noqa: F401
    import aigc_course.grading.runner  # noqa: F401
    import aigc_course.losses  # noqa: F401

    as_root = os.geteuid() == 0
    sock = socket.socket(fileno=sock_fd)
    scratch = tempfile.mkdtemp(prefix="aigc-zygote-")  # empty mount points only; removed on exit
    os.chmod(scratch, 0o700)
    try:
        _serve_forks(sock, scratch, as_root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


COW_ALLOWANCE = 64 << 20


def _resident_bytes() -> int:
    try:
        return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


def _serve_forks(sock: socket.socket, scratch: str, as_root: bool) -> None:
    level = probe_level(scratch, as_root)
    binds = bind_paths()
    cgroups = Cgroups.probe()
    # a group is charged only for the memory its processes add: new pages, and the pages of the warm
    # interpreter they write to (copies on write; a few MB for a notebook, at most the interpreter's size)
    warm = min(_resident_bytes(), COW_ALLOWANCE)
    signal.signal(signal.SIGCHLD, _reap)  # reap launchers (waiting also counts their CPU time)
    whole = ([cgroups.kind] if cgroups else []) + (["own uid, RLIMIT_NPROC"] if level == "full" and as_root else [])
    sock.sendall(wire.dumps({"ready": True, "level": level, "whole": " + ".join(whole) or "per process only"}))
    reader = sock.makefile("rb")
    groups: list[list[str]] = []  # of earlier submissions, removed once their processes are gone
    try:
        _serve(sock, reader, scratch, as_root, level, binds, cgroups, warm, groups)
    finally:
        for dirs in groups:
            Cgroups.remove(dirs)


def _serve(sock, reader, scratch, as_root, level, binds, cgroups, warm, groups) -> None:
    n = 0
    for line in reader:
        req = json.loads(line)
        limits = Limits(**req["limits"])
        n += 1
        groups[:] = [dirs for dirs in groups if not Cgroups.remove(dirs, wait_s=0)]
        dirs: list[str] = []
        if cgroups is not None:
            try:  # + 1 task: the launcher waits inside the group
                dirs = cgroups.create(f"{PREFIX}{os.getpid()}-{n}", (limits.memory_mb << 20) + warm,
                                      limits.processes + 1)
                groups.append(dirs)
            except OSError as e:
                print(f"warning: no control group for this submission ({e}); per-process limits only",
                      file=sys.stderr, flush=True)
        root = os.path.join(scratch, f"root{n}")
        workdir = os.path.join(scratch, f"work{n}")
        os.makedirs(root)
        os.makedirs(workdir)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        pid_r, pid_w = os.pipe()
        zygote = os.getpid()
        launcher = os.fork()
        if launcher == 0:
            try:
                die_with(zygote)  # dies with the zygote, and takes the submission with it
                if dirs:
                    Cgroups.enter(dirs)  # before the fork: everything the submission starts is counted
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                # close EVERY other descriptor: the control socket must not leak to the student's code
                _close_fds_except({0, 1, 2, req_r, resp_w, out_w, pid_w})
                lifeline_r, lifeline_w = os.pipe()  # only this launcher holds the write end
                uid = sandbox_uid(os.getpid())
                child = unshare_and_fork(level, as_root)
                if child == 0:
                    os.close(pid_w)
                    os.close(lifeline_w)
                    if LIBC is not None:
                        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    # PID 1 of a new namespace sees no parent (getppid() is 0): EOF on the lifeline says it died
                    if select.select([lifeline_r], [], [], 0)[0]:
                        os._exit(1)
                    os.close(lifeline_r)
                    child_main(req_r, resp_w, out_w, limits, level, as_root, root, binds, workdir, uid)
                os.close(lifeline_r)
                os.write(pid_w, str(child).encode())
                os.close(pid_w)
                for fd in (req_r, resp_w, out_w):
                    os.close(fd)
                os.waitpid(child, 0)
            except BaseException as e:
                os.write(pid_w, f"-1 {e}".encode())
            os._exit(0)
        for fd in (req_r, resp_w, out_w, pid_w):
            os.close(fd)
        with os.fdopen(pid_r, "rb") as f:
            answer = f.read().decode(errors="replace")
        try:
            pid = int(answer)
        except ValueError:
            pid = -1
        msg = wire.dumps({"pid": pid, "level": level, "error": answer if pid <= 0 else "", "cgroup": dirs})
        socket.send_fds(sock, [msg], [req_w, resp_r, out_r])
        for fd in (req_w, resp_r, out_r):
            os.close(fd)


class Zygote:
    """A warm process that forks sandboxed submission processes for one grader worker."""

    def __init__(self):
        import aigc_course

        parent, child = socket.socketpair()
        # a minimal environment
        env = {k: v for k, v in os.environ.items() if k in ("AIGC_SANDBOX", "AIGC_CGROUP", "TMPDIR")}
        env.update(PATH="/usr/bin:/bin", LANG="C.UTF-8", HOME=tempfile.gettempdir(), OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(aigc_course.__file__))))
        self.proc = popen_dying_with_us([sys.executable, "-c",
                                      "import sys; from aigc_course.grading.zygote import zygote_main; "
                                      "zygote_main(int(sys.argv[1]))", str(child.fileno())],
                                        pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL)
        child.close()
        self.sock = parent
        self._level: str | None = None  # read lazily: the zygote warms up while the caller does other work
        self._whole = ""

    @property
    def level(self) -> str:
        """The isolation level the zygote achieved: 'full' (Linux jail) or 'basic'."""
        if self._level is None:
            ready = json.loads(self._recv()[0])
            self._level, self._whole = ready["level"], ready.get("whole", "")
        return self._level

    @property
    def whole_limits(self) -> str:
        """How a submission's processes are limited together: 'cgroup v1', 'own uid, RLIMIT_NPROC', ..."""
        _ = self.level
        return self._whole

    def _recv(self, maxfds: int = 0):
        data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, maxfds)
        if not data:
            raise RuntimeError("the sandbox zygote exited; see its error output above")
        return data, fds

    def spawn(self, cells: list[str], limits: Limits) -> Session:
        """Start a sandboxed process, send it `cells` over its own pipe; return the session to talk to it."""
        _ = self.level
        self.sock.sendall(wire.dumps({"limits": limits.__dict__}))
        data, fds = self._recv(3)
        info = json.loads(data)
        if info["pid"] <= 0:
            for fd in fds:
                os.close(fd)
            raise RuntimeError(f"could not start a sandbox: {info['error']}")
        session = Session(info["pid"], info["level"], *fds, limits=limits, cgroup=info.get("cgroup") or [])
        session.send_cells(cells)
        return session

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
