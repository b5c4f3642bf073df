"""The code that runs INSIDE a submission's sandboxed process (untrusted territory).

It executes the notebook's code cells one by one (an error in one cell is recorded and the next
cell still runs), then answers the grader's requests over a pipe: call a function of the
notebook, call a method of an object it returned, read a value. Everything it sends back is
plain data (see ``wire``); objects that are not data stay here and the grader gets a handle.
Nothing in this process decides a score: the student's code could rewrite any of this file's
behaviour, so the grader treats every reply as untrusted data.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import sys
import types

from aigc_course.grading import wire
from aigc_course.grading.errors import describe

OUTPUT_CAP = 1 << 20  # bytes of print() kept per process; the rest is dropped


class CappedWriter(io.TextIOBase):
    """A text stream that forwards at most `cap` characters, then drops the rest."""

    def __init__(self, raw, cap: int = OUTPUT_CAP):
        self.raw, self.left, self.dropped = raw, cap, False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self.left > 0:
            part = s[: self.left]
            self.left -= len(part)
            try:
                self.raw.write(part)
                self.raw.flush()
            except Exception:
                pass
            if len(part) < len(s) and not self.dropped:
                self.dropped = True
                self.raw.write("\n[output truncated by the grader]\n")
                self.raw.flush()
        return len(s)

    def flush(self) -> None:
        pass


_MAGIC = re.compile(r"^(\s*)[%!]", re.MULTILINE)


def strip_magics(source: str) -> str:
    """Turn IPython magics (`%matplotlib`, `!pip`) into no-ops; drop `%%` cell magics entirely."""
    if source.lstrip().startswith("%%"):
        return ""
    return _MAGIC.sub(lambda m: m.group(1) + "pass  # ", source)


def serve(rfd: int, wfd: int) -> None:
    """Read the notebook's cells from the grader, run them, then answer its requests until it says bye."""
    out = os.fdopen(wfd, "wb", buffering=0)
    inp = os.fdopen(rfd, "rb")
    cells = wire.loads(inp.readline())["cells"]

    def send(msg: dict) -> None:
        out.write(wire.dumps(msg))

    sys.stdout = CappedWriter(sys.__stdout__)
    sys.stderr = CappedWriter(sys.__stderr__)
    handles: dict[int, object] = {}

    def to_handle(obj) -> int:
        handles[len(handles) + 1] = obj
        return len(handles)

    def from_handle(hid: int, _type: str):
        return handles[hid]

    main = types.ModuleType("__main__")  # the notebook's globals, as in a kernel
    sys.modules["__main__"] = main
    ns = main.__dict__
    ns["__builtins__"] = builtins
    errors = []
    for i, source in enumerate(cells):
        send({"event": "cell", "index": i})
        try:
            exec(compile(strip_magics(source), f"<cell {i + 1}>", "exec"), ns)
        except BaseException as e:  # SystemExit and KeyboardInterrupt too: the next cell still runs
            errors.append({"cell": i + 1, "error": describe(e)})
    send({"event": "ready", "errors": errors})

    for line in inp:
        req: dict = {}
        try:
            req = wire.loads(line)
            op, name = req.get("op"), req.get("name", "")
            if op == "bye":
                break
            args = wire.decode(req.get("args", []), from_handle)
            kwargs = wire.decode(req.get("kwargs", {"__dict__": {}}), from_handle)
            if op == "has":
                result = name in ns
            elif op == "get":
                result = ns[name]
            elif op == "call":
                if name not in ns:
                    raise NameError(f"the notebook defines no `{name}` (renamed or deleted?)")
                result = ns[name](*args, **kwargs)
            elif op == "method":
                result = getattr(handles[req["handle"]], name)(*args, **kwargs)
            elif op == "call_handle":
                result = handles[req["handle"]](*args, **kwargs)
            else:
                raise ValueError(f"unknown request {op!r}")
            send({"id": req.get("id"), "ok": wire.encode(result, to_handle)})
        except BaseException as e:
            send({"id": req.get("id"), "error": describe(e)})
