"""Run one submission's code in its own locked-down process and talk to it over pipes.

Layout (Linux):

    grader worker (trusted: holds the tests)
      └─ zygote (trusted, holds NO tests: imported torch/numpy/matplotlib once, forks per submission)
           └─ launcher (unshares mount, network and PID namespaces)
                └─ submission process (PID 1 of its namespace; the student's code runs here)

The submission process sees a fresh root file system built from read-only bind mounts of the
system and Python folders plus the ``aigc_course`` package alone (no course repository, no bundle,
no submissions, no grader output), an empty writable ``/work`` and ``/tmp``, its own ``/proc``,
no network interface but loopback, a clean environment, and resource limits (CPU seconds,
address space, file size, no core dumps). When the grader runs as root the student's code also
drops to user ``nobody``. Forking from a warm zygote saves the ~3 s of ``import torch`` per
submission. Where namespaces are not available (macOS, a container without the privilege) the
isolation level is ``basic``: own process, temporary folder, clean environment and limits only.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from aigc_course.grading import wire

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
NOBODY = 65534
_REAL_ROOT = False  # set in the zygote: is the grader really root (then the student becomes `nobody`)?
STDERR_KEEP = 16_000  # bytes of the submission's output kept (the last ones) for its feedback


@dataclass
class Limits:
    """Resource limits of one submission process."""

    wall_s: float = 120.0      # whole submission: notebook cells plus every test call
    cpu_s: int = 120           # CPU seconds (RLIMIT_CPU)
    memory_mb: int = 2048      # address space the student's code may add beyond the warm interpreter
    file_mb: int = 64          # largest file it may write (RLIMIT_FSIZE); its tmpfs folders hold 2x this


class SandboxDied(RuntimeError):
    """The submission's process ended, timed out or broke the protocol; the message says which."""


# --------------------------------------------------------------------------- jail (runs in the child)

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _check(ret: int, what: str) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    def enc(s):
        return s.encode() if s is not None else None

    _check(_libc.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _bind_paths() -> list[str]:
    """System and Python folders the submission may read (read-only); the course repo is excluded."""
    import aigc_course

    pkg = os.path.dirname(os.path.abspath(aigc_course.__file__))
    repo = os.path.dirname(pkg)
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", sys.prefix, sys.base_prefix,
             sys.exec_prefix, pkg]
    for p in sys.path:
        if p and os.path.isdir(p) and os.path.abspath(p) != repo and not os.path.abspath(repo).startswith(
                os.path.abspath(p) + os.sep):
            paths.append(os.path.abspath(p))
    out = []
    for p in paths:
        real = os.path.realpath(p)
        if os.path.isdir(real) and real != "/" and real not in out:
            out.append(real)
    return sorted(out, key=len)


def _statvfs_flags(path: str) -> int:
    f = os.statvfs(path).f_flag
    flags = 0
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC)):
        if f & st:
            flags |= ms
    for name, ms in (("ST_NOATIME", 1024), ("ST_NODIRATIME", 2048), ("ST_RELATIME", 1 << 21)):
        if f & getattr(os, name, 0):
            flags |= ms
    return flags


def _build_root(root: str, binds: list[str], as_root: bool, tmpfs_mb: int) -> None:
    """Mount a fresh tmpfs at `root`, bind the allowed folders read-only into it, and pivot into it."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode=755")
    for src in binds:
        dst = root + src
        if os.path.islink(dst) or os.path.exists(dst):
            continue  # already inside an earlier bind (e.g. site-packages under the venv)
        os.makedirs(dst, exist_ok=True)
        _mount(src, dst, None, MS_BIND | MS_REC)
        _mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | _statvfs_flags(src))
    os.makedirs(root + "/dev", exist_ok=True)
    for dev in ("null", "zero", "random", "urandom"):
        if os.path.exists("/dev/" + dev):
            open(f"{root}/dev/{dev}", "w").close()
            _mount("/dev/" + dev, f"{root}/dev/{dev}", None, MS_BIND)
    for d, mode in (("tmp", 0o1777), ("dev/shm", 0o1777), ("submission", 0o700)):
        os.makedirs(f"{root}/{d}", exist_ok=True)  # each its own small writable tmpfs
        _mount("tmpfs", f"{root}/{d}", "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_mb}m,mode={mode:o}")
    os.makedirs(f"{root}/proc", exist_ok=True)
    if as_root:
        os.chown(root + "/submission", NOBODY, NOBODY)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    os.makedirs(".old", exist_ok=True)
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b".old"), "pivot_root")
    os.chroot(".")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _write_id_maps(uid: int, gid: int) -> None:
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def _set_limits(limits: Limits) -> None:
    with open("/proc/self/status") if os.path.exists("/proc/self/status") else open(os.devnull) as f:
        vm = [int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")]
    r = resource
    r.setrlimit(r.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    r.setrlimit(r.RLIMIT_FSIZE, (limits.file_mb << 20, limits.file_mb << 20))
    r.setrlimit(r.RLIMIT_CORE, (0, 0))
    if vm:  # address space: the warm interpreter plus the allowance
        cap = vm[0] + (limits.memory_mb << 20)
        r.setrlimit(r.RLIMIT_AS, (cap, cap))


def _clean_env(home: str) -> None:
    import aigc_course

    keep = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp" if home == "/submission" else home,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "AIGC_GRADING": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "MPLCONFIGDIR": home, "AIGC_CACHE": home,
            "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(aigc_course.__file__)))}
    os.environ.clear()
    os.environ.update(keep)


def _child(cells: list[str], rfd: int, wfd: int, ofd: int, limits: Limits, level: str, root: str,
           binds: list[str], workdir: str) -> None:
    """The submission process: lock down, then run the student's code. Never returns."""
    try:
        os.dup2(ofd, 1)
        os.dup2(ofd, 2)
        if level == "full":
            as_root = _REAL_ROOT  # decided before any user namespace, where everyone looks like uid 0
            _build_root(root, binds, as_root, tmpfs_mb=limits.file_mb * 2)
            os.chdir("/submission")
            if as_root:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            else:  # a nested user namespace locks the read-only mounts against remounting
                uid, gid = os.getuid(), os.getgid()
                _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare (lock)")
                _write_id_maps(uid, gid)
            home = "/submission"
        else:
            os.setsid()
            os.chdir(workdir)
            home = workdir
        if _libc is not None:
            _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _clean_env(home)
        _set_limits(limits)
        import faulthandler

        faulthandler.enable()
        from aigc_course.grading.runner import serve

        serve(cells, rfd, wfd)
        os._exit(0)
    except BaseException as e:
        try:
            os.write(2, f"sandbox setup failed: {type(e).__name__}: {e}\n".encode())
        finally:
            os._exit(70)


# --------------------------------------------------------------------------- zygote


def _unshare_and_fork(level: str) -> int:
    """In the launcher: enter new namespaces, fork the submission process; return its pid (or 0 in it)."""
    if level == "full":
        flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID
        uid, gid = os.getuid(), os.getgid()
        if not _REAL_ROOT:
            flags |= CLONE_NEWUSER
        _check(_libc.unshare(flags), "unshare")
        if flags & CLONE_NEWUSER:
            _write_id_maps(uid, gid)
    return os.fork()


def probe_level(scratch: str) -> str:
    """Return 'full' if this process can build the Linux jail, else 'basic' (checked in a throwaway child)."""
    if not sys.platform.startswith("linux") or SYS_PIVOT_ROOT is None or os.environ.get("AIGC_SANDBOX") == "basic":
        return "basic"
    root = os.path.join(scratch, "probe")
    os.makedirs(root)
    pid = os.fork()
    if pid == 0:
        try:
            g = _unshare_and_fork("full")
            if g == 0:
                _build_root(root, ["/usr"], _REAL_ROOT, 8)
                os._exit(0)
            _, status = os.waitpid(g, 0)
            os._exit(0 if status == 0 else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return "full" if status == 0 else "basic"


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

    global _REAL_ROOT
    _REAL_ROOT = os.geteuid() == 0
    sock = socket.socket(fileno=sock_fd)
    scratch = tempfile.mkdtemp(prefix="aigc-zygote-")  # empty mount points only; removed on exit
    os.chmod(scratch, 0o700)
    try:
        _serve_forks(sock, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _serve_forks(sock: socket.socket, scratch: str) -> None:
    level = probe_level(scratch)
    binds = _bind_paths()
    signal.signal(signal.SIGCHLD, _reap)  # reap launchers (waiting also counts their CPU time)
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    sock.sendall(wire.dumps({"ready": True, "level": level}))
    reader = sock.makefile("rb")
    n = 0
    for line in reader:
        req = json.loads(line)
        limits = Limits(**req["limits"])
        n += 1
        root = os.path.join(scratch, f"root{n}")
        workdir = os.path.join(scratch, f"work{n}")
        os.makedirs(root)
        os.makedirs(workdir)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        pid_r, pid_w = os.pipe()
        launcher = os.fork()
        if launcher == 0:
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                # close EVERY other descriptor: the control socket must not leak to the student's code
                _close_fds_except({0, 1, 2, req_r, resp_w, out_w, pid_w})
                child = _unshare_and_fork(level)
                if child == 0:
                    os.close(pid_w)
                    if _libc is not None:
                        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    _child(req["cells"], req_r, resp_w, out_w, limits, level, root, binds, workdir)
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
        msg = wire.dumps({"pid": pid, "level": level, "error": answer if pid <= 0 else ""})
        socket.send_fds(sock, [msg], [req_w, resp_r, out_r])
        for fd in (req_w, resp_r, out_r):
            os.close(fd)


# --------------------------------------------------------------------------- grader side


class Zygote:
    """A warm process that forks sandboxed submission processes for one grader worker."""

    def __init__(self):
        import aigc_course

        parent, child = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "AIGC_SANDBOX", "TMPDIR")}
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(aigc_course.__file__))))
        self.proc = subprocess.Popen([sys.executable, "-c",
                                      "import sys; from aigc_course.grading.sandbox import zygote_main; "
                                      "zygote_main(int(sys.argv[1]))", str(child.fileno())],
                                     pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL)
        child.close()
        self.sock = parent
        self._level: str | None = None  # read lazily: the zygote warms up while the caller does other work

    @property
    def level(self) -> str:
        """The isolation level the zygote achieved: 'full' (Linux jail) or 'basic'."""
        if self._level is None:
            self._level = json.loads(self._recv()[0])["level"]
        return self._level

    def _recv(self, maxfds: int = 0):
        data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, maxfds)
        if not data:
            raise RuntimeError("the sandbox zygote exited; see its error output above")
        return data, fds

    def spawn(self, cells: list[str], limits: Limits) -> Session:
        """Start a sandboxed process that runs `cells`; return the session to talk to it."""
        _ = self.level
        self.sock.sendall(wire.dumps({"cells": cells, "limits": limits.__dict__}))
        data, fds = self._recv(3)
        info = json.loads(data)
        if info["pid"] <= 0:
            for fd in fds:
                os.close(fd)
            raise RuntimeError(f"could not start a sandbox: {info['error']}")
        return Session(info["pid"], info["level"], *fds, limits=limits)

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Session:
    """The grader's end of one submission process: send requests, read validated replies."""

    def __init__(self, pid: int, level: str, req_w: int, resp_r: int, out_r: int, limits: Limits):
        self.pid, self.level, self.limits = pid, level, limits
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
                where = f" while running code cell {self.cell + 1}" if self.cell is not None else ""
                raise self._die(f"time limit of {self.limits.wall_s:g} s exceeded{where}")
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
                    self.cell_errors = [e for e in errors if isinstance(e, dict)][:100]
                return self.cell_errors
            else:
                raise self._die("the submission sent the grader a message it did not ask for")

    def request(self, op: str, name: str = "", args=(), kwargs=None, handle: int | None = None):
        """Send one request; return the decoded reply, or raise StudentError / SandboxDied."""
        from aigc_course.grading.check import StudentError

        if self.dead:
            raise SandboxDied(self.dead)
        nonce = secrets.token_hex(8)  # a reply must echo it: blind forgeries on the pipe are caught
        msg = {"op": op, "name": name, "id": nonce, "args": wire.encode(list(args)),
               "kwargs": wire.encode(dict(kwargs or {}))}
        if handle is not None:
            msg["handle"] = handle
        try:
            os.write(self.req_w, wire.dumps(msg))
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

    def close(self) -> None:
        """Say bye, then make sure the process is gone and the pipes are closed."""
        if not self.dead:
            try:
                os.write(self.req_w, wire.dumps({"op": "bye"}))
            except OSError:
                pass
        self.kill()
        self._drain_for(0.5)
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
