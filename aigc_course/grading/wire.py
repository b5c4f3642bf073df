"""Plain-data encoding between the grader and a student's process: JSON lines, arrays as base64.

Only these cross the pipe: None, bool, int, float, str, lists, tuples, dicts with str keys,
NumPy arrays and torch tensors (numeric dtypes), and opaque handles to objects that stay in the
student's process. ``decode`` validates everything it reads, so a student's process cannot
send the grader anything but data (no pickle, no code).
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

MAX_DEPTH = 32
MAX_MESSAGE_BYTES = 16 * 2**20  # one JSON line
DTYPES = {"bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"}


class WireError(ValueError):
    """Raised when a message is not valid plain data."""


class Handle:
    """An object that stays in the student's process; the grader sees only its id and type name."""

    def __init__(self, hid: int, type_name: str):
        self.hid, self.type_name = hid, type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} in the submission's process>"


def _is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "numpy")


def encode(value: Any, to_handle=None, depth: int = 0) -> Any:
    """Return a JSON-ready form of `value`; objects that are not data go through `to_handle` (or fail)."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        return encode(value.item(), to_handle, depth + 1)
    if _is_tensor(value) or isinstance(value, np.ndarray):
        kind = "torch" if _is_tensor(value) else "numpy"
        if kind == "torch":
            t = value.detach().cpu()
            if str(t.dtype) == "torch.bfloat16":
                t = t.float()
            arr = t.contiguous().numpy()
        else:
            arr = np.ascontiguousarray(value)
        if arr.dtype.name not in DTYPES:
            raise WireError(f"arrays of dtype {arr.dtype} cannot be sent")
        return {"__array__": base64.b64encode(arr.tobytes()).decode("ascii"), "dtype": arr.dtype.name,
                "shape": list(arr.shape), "kind": kind}
    if isinstance(value, (list, tuple)):
        items = [encode(v, to_handle, depth + 1) for v in value]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("dict keys must be strings")
        return {"__dict__": {k: encode(v, to_handle, depth + 1) for k, v in value.items()}}
    if isinstance(value, Handle):
        return {"__handle__": value.hid}
    if to_handle is not None:
        return {"__handle__": to_handle(value), "type": type(value).__name__[:80]}
    raise WireError(f"a {type(value).__name__} cannot be sent")


def decode(obj: Any, from_handle=None, depth: int = 0) -> Any:
    """Return the value that `obj` (parsed JSON) encodes, validating types, dtypes and shapes."""
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, list):
        return [decode(v, from_handle, depth + 1) for v in obj]
    if not isinstance(obj, dict) or len(obj) == 0:
        raise WireError("malformed value")
    if "__float__" in obj:
        text = obj["__float__"]
        if text not in ("nan", "inf", "-inf"):
            raise WireError("malformed float")
        return float(text)
    if "__tuple__" in obj:
        if not isinstance(obj["__tuple__"], list):
            raise WireError("malformed tuple")
        return tuple(decode(v, from_handle, depth + 1) for v in obj["__tuple__"])
    if "__dict__" in obj:
        d = obj["__dict__"]
        if not isinstance(d, dict):
            raise WireError("malformed dict")
        return {str(k): decode(v, from_handle, depth + 1) for k, v in d.items()}
    if "__array__" in obj:
        return _decode_array(obj)
    if "__handle__" in obj:
        hid = obj["__handle__"]
        if not isinstance(hid, int) or isinstance(hid, bool):
            raise WireError("malformed handle")
        type_name = str(obj.get("type", "object"))[:80]
        return from_handle(hid, type_name) if from_handle else Handle(hid, type_name)
    raise WireError("malformed value")


def _decode_array(obj: dict) -> Any:
    dtype, shape, kind = obj.get("dtype"), obj.get("shape"), obj.get("kind")
    if dtype not in DTYPES or kind not in ("torch", "numpy"):
        raise WireError("array of an unsupported dtype")
    if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                              for s in shape) or len(shape) > 16:
        raise WireError("malformed array shape")
    try:
        raw = base64.b64decode(obj["__array__"], validate=True)
    except Exception as e:
        raise WireError("malformed array data") from e
    if len(raw) != math.prod(shape) * np.dtype(dtype).itemsize:
        raise WireError("array data does not match its shape")
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if kind == "torch":
        import torch

        return torch.from_numpy(arr)
    return arr


def dumps(message: dict) -> bytes:
    """Return one message as a JSON line (bytes)."""
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def _nesting(line: bytes) -> int:
    """Return an upper bound of the bracket depth of a JSON line (brackets inside strings count too)."""
    depth = deepest = 0
    for b in line.translate(None, _NOT_BRACKETS):
        depth += 1 if b in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def loads(line: bytes) -> dict:
    """Parse one JSON line into a dict, or raise WireError."""
    if len(line) > MAX_MESSAGE_BYTES:
        raise WireError("message too large")
    if _nesting(line) > 4 * MAX_DEPTH:
        raise WireError("message nested too deeply")
    try:
        msg = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise WireError("not JSON") from e
    if not isinstance(msg, dict):
        raise WireError("not a message")
    return msg
