"""The namespace jail: what a submission's process may see and use (runs in the forked child).

The submission process sees a fresh root file system built from read-only bind mounts of the
system and Python folders plus the ``aigc_course`` package alone (no course repository, no bundle,
no submissions, no grader output), an empty writable ``/work`` and ``/tmp``, its own ``/proc``,
no network interface but loopback, its own IPC and UTS namespaces and session, a clean
environment, and resource limits (CPU seconds, address space, file size, no core dumps). When the
grader runs as root the student's code also drops to a user of its own (``sandbox_uid``), whose
``RLIMIT_NPROC`` caps the processes and threads of that submission alone; memory and processes of a
submission as a whole are capped by a control group where one can be made (``cgroup``). Where namespaces are not
available (macOS, a container without the privilege) the isolation level is ``basic``: own
process and session, temporary folder, clean environment and limits only.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import sys
from dataclasses import dataclass

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
NOBODY = 65534
UID_BASE = 0x40000000  # as root, submission k runs as UID_BASE + its launcher's pid: a user of its own


def sandbox_uid(launcher_pid: int) -> int:
    """The uid a submission runs as when the grader is root: unique among the submissions running now."""
    return UID_BASE + launcher_pid


@dataclass
class Limits:
    """Resource limits of one submission process."""

    wall_s: float = 120.0      # running the notebook's cells
    question_s: float = 60.0   # one question's tests: a hang ends that question only
    cpu_s: int = 120           # CPU seconds (RLIMIT_CPU)
    memory_mb: int = 2048      # address space the student's code may add beyond the warm interpreter
    file_mb: int = 64          # largest file it may write (RLIMIT_FSIZE); its tmpfs folders hold 2x this
    processes: int = 64        # processes and threads of the submission as a whole (cgroup pids.max or RLIMIT_NPROC)


LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _check(ret: int, what: str) -> None:
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    def enc(s):
        return s.encode() if s is not None else None

    _check(LIBC.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def bind_paths() -> list[str]:
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


def build_root(root: str, binds: list[str], as_root: bool, tmpfs_mb: int, uid: int = NOBODY) -> None:
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
        os.chown(root + "/submission", uid, uid)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    os.makedirs(".old", exist_ok=True)
    _check(LIBC.syscall(SYS_PIVOT_ROOT, b".", b".old"), "pivot_root")
    os.chroot(".")
    _check(LIBC.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _write_id_maps(uid: int, gid: int) -> None:
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def _set_limits(limits: Limits, own_uid: bool = False) -> None:
    with open("/proc/self/status") if os.path.exists("/proc/self/status") else open(os.devnull) as f:
        vm = [int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")]
    r = resource
    r.setrlimit(r.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    r.setrlimit(r.RLIMIT_FSIZE, (limits.file_mb << 20, limits.file_mb << 20))
    r.setrlimit(r.RLIMIT_CORE, (0, 0))
    if own_uid:  # counts every process and thread of this uid, i.e. of this submission alone
        r.setrlimit(r.RLIMIT_NPROC, (limits.processes, limits.processes))
    if vm:  # address space: the warm interpreter plus the allowance
        cap = vm[0] + (limits.memory_mb << 20)
        r.setrlimit(r.RLIMIT_AS, (cap, cap))


def _clean_env(home: str) -> None:
    import aigc_course

    keep = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": "/tmp" if home == "/submission" else home,
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "student", "LOGNAME": "student", "MPLBACKEND": "Agg", "AIGC_GRADING": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "MPLCONFIGDIR": home, "AIGC_CACHE": home,
            "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(aigc_course.__file__)))}
    os.environ.clear()
    os.environ.update(keep)


def child_main(rfd: int, wfd: int, ofd: int, limits: Limits, level: str, as_root: bool, root: str,
               binds: list[str], workdir: str, uid: int = NOBODY) -> None:
    """The submission process: lock down, then read the notebook's cells from `rfd` and run them. Never returns.

    `as_root` says whether the grader really is root (then the student's code runs as `nobody`); it is
    decided before any user namespace, where everyone looks like uid 0. As root the student's code runs as
    `uid` (see ``sandbox_uid``), so that ``RLIMIT_NPROC`` counts this submission's processes only.
    """
    try:
        os.dup2(ofd, 1)
        os.dup2(ofd, 2)
        os.setsid()  # its own session and process group: kill(0, ...) reaches only the submission
        if level == "full":
            build_root(root, binds, as_root, tmpfs_mb=limits.file_mb * 2, uid=uid)
            os.chdir("/submission")
            if as_root:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            else:  # a nested user namespace locks the read-only mounts against remounting
                uid, gid = os.getuid(), os.getgid()
                _check(LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare (lock)")
                _write_id_maps(uid, gid)
            home = "/submission"
        else:
            os.chdir(workdir)
            home = workdir
        if LIBC is not None:
            LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _clean_env(home)
        _set_limits(limits, own_uid=level == "full" and as_root)
        import faulthandler

        faulthandler.enable()
        from aigc_course.grading.runner import serve

        serve(rfd, wfd)
        os._exit(0)
    except BaseException as e:
        try:
            os.write(2, f"sandbox setup failed: {type(e).__name__}: {e}\n".encode())
        finally:
            os._exit(70)


def unshare_and_fork(level: str, as_root: bool) -> int:
    """In the launcher: enter new namespaces, fork the submission process; return its pid (or 0 in it).

    The namespaces: mount (its own root), network (loopback only), PID (nothing outside is visible
    and everything inside dies with its PID 1), IPC (shared memory and message queues vanish with
    it) and UTS; plus a user namespace when the grader is not root.
    """
    if level == "full":
        flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
        uid, gid = os.getuid(), os.getgid()
        if not as_root:
            flags |= CLONE_NEWUSER
        _check(LIBC.unshare(flags), "unshare")
        if flags & CLONE_NEWUSER:
            _write_id_maps(uid, gid)
    return os.fork()


def probe_level(scratch: str, as_root: bool) -> str:
    """Return 'full' if this process can build the Linux jail, else 'basic' (checked in a throwaway child)."""
    if not sys.platform.startswith("linux") or SYS_PIVOT_ROOT is None or os.environ.get("AIGC_SANDBOX") == "basic":
        return "basic"
    root = os.path.join(scratch, "probe")
    os.makedirs(root)
    pid = os.fork()
    if pid == 0:
        try:
            g = unshare_and_fork("full", as_root)
            if g == 0:
                build_root(root, ["/usr"], as_root, 8)
                os._exit(0)
            _, status = os.waitpid(g, 0)
            os._exit(0 if status == 0 else 1)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return "full" if status == 0 else "basic"
