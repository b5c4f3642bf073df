"""grading.wire, the validator of every message a submission's process sends the grader."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aigc_course.grading import wire


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_plain_data_survives_the_round_trip_with_its_types():
    value = {"a": [1, 2.5, None, True, "s"], "t": (1, (2, 3)), "inf": float("inf")}
    assert roundtrip(value) == value
    assert isinstance(roundtrip((1, 2)), tuple)


def test_arrays_and_tensors_keep_dtype_shape_and_kind():
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = roundtrip(arr)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32 and (back == arr).all()
    t = roundtrip(torch.ones(2, 2, dtype=torch.int64))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.int64 and t.shape == (2, 2)


def test_objects_that_are_not_data_become_handles_or_are_refused():
    with pytest.raises(wire.WireError):
        wire.encode(object())
    handle = wire.decode(wire.encode(object(), to_handle=lambda obj: 7))
    assert isinstance(handle, wire.Handle) and handle.hid == 7


@pytest.mark.parametrize("obj, why", [
    ({"__array__": "AAAA", "dtype": "object", "shape": [1], "kind": "numpy"}, "unsupported dtype"),
    ({"__array__": "AAAA", "dtype": "float32", "shape": [2], "kind": "numpy"}, "does not match"),
    ({"__array__": "!!", "dtype": "uint8", "shape": [1], "kind": "numpy"}, "malformed array data"),
    ({"__array__": "", "dtype": "uint8", "shape": [-1], "kind": "numpy"}, "malformed array shape"),
    ({"__float__": "1e999"}, "malformed float"),
    ({"__handle__": True}, "malformed handle"),
    ({"__pickle__": "x"}, "malformed value"),
    ({}, "malformed value"),
])
def test_malformed_values_are_refused_with_the_reason(obj, why):
    with pytest.raises(wire.WireError, match=why):
        wire.decode(obj)


def test_deep_nesting_is_refused_before_parsing_not_by_a_recursion_error():
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.loads(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.decode(json.loads("[" * (wire.MAX_DEPTH + 5) + "]" * (wire.MAX_DEPTH + 5)))


def test_oversized_and_non_json_lines_are_refused():
    with pytest.raises(wire.WireError, match="too large"):
        wire.loads(b" " * (wire.MAX_MESSAGE_BYTES + 1))
    for line in (b"not json", b"[1, 2]", b"\xff\xfe"):
        with pytest.raises(wire.WireError):
            wire.loads(line)
    assert wire.loads(wire.dumps({"id": "x", "ok": 1})) == {"id": "x", "ok": 1}
