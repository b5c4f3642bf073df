"""Memory and task limits for a submission as a whole: one control group per submission (Linux).

``RLIMIT_AS`` bounds each process; a submission that forks four children of 250 MB each passes a
300 MB per-process limit. A control group bounds the submission's processes together: the launcher
moves itself into a fresh group (one in the ``memory`` and one in the ``pids`` hierarchy of cgroup v1,
or one cgroup v2 group with both controllers) before it forks the submission, so everything the
submission starts is counted, and a fork beyond ``pids.max`` fails with EAGAIN while memory beyond
the limit is reclaimed or OOM-killed inside the group only. Groups are made under the zygote's own
groups (so any limit an administrator set above still holds) and removed when the submission ends;
the next zygote removes those a killed one left behind.

Used where the grader may create groups: root with cgroup v1 controllers mounted (most containers),
or a cgroup v2 group whose ``memory`` and ``pids`` controllers are delegated to the grader. Elsewhere
``probe`` returns None and the jail falls back to per-process limits plus, as root, a task limit per
submission through a uid of its own (``RLIMIT_NPROC``); see exercises/README.md.
"""

from __future__ import annotations

import os
import re
import time

PREFIX = "aigc-grade-"


def _mounts() -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """Return ({v1 controller: (mount root, mount point)}, (root, point) of cgroup2 or None)."""
    v1: dict[str, tuple[str, str]] = {}
    v2 = None
    try:
        lines = open("/proc/self/mountinfo").read().splitlines()
    except OSError:
        return v1, v2
    for line in lines:
        fields = line.split()
        if " - " not in line:
            continue
        pre, post = line.split(" - ", 1)
        fstype, _source, opts = (post.split() + ["", "", ""])[:3]
        root, point = fields[3], fields[4]
        if fstype == "cgroup":
            for opt in opts.split(","):
                if opt in ("memory", "pids"):
                    v1[opt] = (root, point)
        elif fstype == "cgroup2":
            v2 = (root, point)
    return v1, v2


def _own_paths() -> dict[str, str]:
    """Return {controller or '' for v2: this process's group path} from /proc/self/cgroup."""
    paths: dict[str, str] = {}
    try:
        for line in open("/proc/self/cgroup").read().splitlines():
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                paths[c] = path
    except (OSError, ValueError):
        pass
    return paths


def _join(mount: tuple[str, str], path: str) -> str:
    root, point = mount
    if root != "/" and (path + "/").startswith(root.rstrip("/") + "/"):
        path = path[len(root.rstrip("/")):]
    return os.path.join(point, path.lstrip("/"))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _read_int(path: str, key: str | None = None) -> int | None:
    try:
        text = open(path).read()
    except OSError:
        return None
    if key is None:
        return int(text.split()[0]) if text.split() and text.split()[0].isdigit() else None
    m = re.search(rf"^{key} (\d+)$", text, re.MULTILINE)
    return int(m.group(1)) if m else None


class Cgroups:
    """Where this process may make per-submission groups, and how (cgroup v1 or v2)."""

    def __init__(self, version: int, bases: dict[str, str]):
        self.version, self.bases = version, bases  # v1: {"memory": dir, "pids": dir}; v2: {"": dir}
        self.kind = f"cgroup v{version}"

    @classmethod
    def probe(cls) -> Cgroups | None:
        """Return the groups this process can create with both limits, or None (then: fall back)."""
        if os.environ.get("AIGC_CGROUP") == "off":
            return None
        v1, v2 = _mounts()
        own = _own_paths()
        candidates = []
        if "memory" in v1 and "pids" in v1:
            candidates.append(cls(1, {c: _join(v1[c], own.get(c, "/")) for c in ("memory", "pids")}))
        if v2 is not None and "" in own:
            candidates.append(cls(2, {"": _join(v2, own[""])}))
        for cg in candidates:
            cg.remove_stale()
            try:
                dirs = cg.create(f"{PREFIX}{os.getpid()}-probe", 64 << 20, 8)
            except OSError:
                continue
            cg.remove(dirs)
            return cg
        return None

    def create(self, name: str, memory_bytes: int, tasks: int) -> list[str]:
        """Make the groups `name` with these limits; return their folders (raise OSError if not possible)."""
        dirs = [os.path.join(base, name) for base in self.bases.values()]
        try:
            for d in dirs:
                os.mkdir(d)
            if self.version == 1:
                mem, pids = dirs
                _write(f"{mem}/memory.limit_in_bytes", str(memory_bytes))
                if os.path.exists(f"{mem}/memory.memsw.limit_in_bytes"):  # no way around it through swap
                    _write(f"{mem}/memory.memsw.limit_in_bytes", str(memory_bytes))
                _write(f"{pids}/pids.max", str(tasks))
            else:
                (d,) = dirs
                wanted = {"memory", "pids"}
                if not wanted <= set(open(f"{d}/cgroup.controllers").read().split()):
                    parent = os.path.dirname(d)  # fails (EBUSY) when the parent group holds processes itself
                    _write(f"{parent}/cgroup.subtree_control", "+memory +pids")
                _write(f"{d}/memory.max", str(memory_bytes))
                if os.path.exists(f"{d}/memory.swap.max"):
                    _write(f"{d}/memory.swap.max", "0")
                _write(f"{d}/pids.max", str(tasks))
        except OSError:
            self.remove(dirs, wait_s=0)
            raise
        return dirs

    @staticmethod
    def enter(dirs: list[str]) -> None:
        """Move this process into the groups (its children are then born inside)."""
        for d in dirs:
            _write(f"{d}/cgroup.procs", str(os.getpid()))

    @staticmethod
    def report(dirs: list[str]) -> dict:
        """Peak memory (MB), peak tasks, OOM kills and refused forks of the groups so far (None: unknown)."""
        if len(dirs) == 2:  # cgroup v1: a memory and a pids group
            mem, pids = dirs
            peak = _read_int(f"{mem}/memory.max_usage_in_bytes")
            ooms = _read_int(f"{mem}/memory.oom_control", "oom_kill")
        else:
            mem = pids = dirs[0]
            peak = _read_int(f"{mem}/memory.peak")
            ooms = _read_int(f"{mem}/memory.events", "oom_kill")
        return {"memory_peak_mb": None if peak is None else round(peak / 2**20, 1),
                "tasks_peak": _read_int(f"{pids}/pids.peak"), "oom_kills": ooms,
                "forks_refused": _read_int(f"{pids}/pids.events", "max")}

    @staticmethod
    def pids(dirs: list[str]) -> list[int]:
        """The processes in the groups now (as this process's PID namespace numbers them)."""
        try:
            return [int(p) for p in open(f"{dirs[-1]}/cgroup.procs").read().split()]
        except (OSError, ValueError, IndexError):
            return []

    @staticmethod
    def remove(dirs: list[str], wait_s: float = 2.0) -> bool:
        """Remove the groups once their processes are gone (waiting up to `wait_s`); return True when done."""
        end = time.monotonic() + wait_s
        left = [d for d in dirs if os.path.isdir(d)]
        while left:
            for d in list(left):
                try:
                    os.rmdir(d)
                    left.remove(d)
                except FileNotFoundError:
                    left.remove(d)
                except OSError:
                    pass
            if not left or time.monotonic() >= end:
                break
            time.sleep(0.02)
        return not left

    def remove_stale(self) -> None:
        """Remove groups left by zygotes that no longer run (killed with -9)."""
        for base in self.bases.values():
            try:
                names = os.listdir(base)
            except OSError:
                continue
            for name in names:
                m = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
                if m and not os.path.exists(f"/proc/{m.group(1)}"):
                    try:
                        os.rmdir(os.path.join(base, name))
                    except OSError:
                        pass
