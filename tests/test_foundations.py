"""The shared helpers every chapter leans on: stratified subsets, the one atomic write, the run-time line."""

import os

import numpy as np
import pytest
import torch

from aigc_course.data import load_digits, stratified_indices
from aigc_course.utils import atomic_write, runtime_summary, write_atomic


def test_stratified_indices_draw_every_class_equally_from_a_sorted_split():
    _, y = load_digits("test")
    assert torch.equal(y[:32], torch.zeros(32, dtype=torch.long)), "the split is class-sorted: a prefix is one digit"
    idx = stratified_indices(y, 32, seed=0)
    counts = torch.bincount(y[idx], minlength=10)
    assert len(set(idx.tolist())) == 32
    assert counts.min() == 3 and counts.max() == 4


def test_stratified_indices_are_seeded():
    y = np.repeat(np.arange(10), 50)
    assert torch.equal(stratified_indices(y, 25, seed=1), stratified_indices(y, 25, seed=1))
    assert not torch.equal(stratified_indices(y, 25, seed=1), stratified_indices(y, 25, seed=2))


def test_stratified_indices_top_up_when_a_class_runs_short():
    y = np.array([0] * 2 + [1] * 20)
    idx = stratified_indices(y, 10, seed=0)
    assert len(set(idx.tolist())) == 10 and (y[idx.numpy()] == 0).sum() == 2


def test_stratified_indices_refuse_more_items_than_exist():
    with pytest.raises(ValueError, match="asked for 11 of 10"):
        stratified_indices(np.arange(10), 11)


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.bin"
    write_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.bin"], "no temporary file is left behind"


def test_write_atomic_replaces_the_file_and_sets_its_mode(tmp_path):
    target = tmp_path / "sub" / "grades.csv"
    write_atomic(target, "a,b\n", mode=0o600)
    assert target.read_text() == "a,b\n" and (target.stat().st_mode & 0o777) == 0o600


def test_runtime_summary_states_the_budget_verdict():
    assert "within its budget of 100000 s" in runtime_summary(100_000)
    assert "over its budget of 0 s" in runtime_summary(0)


def test_runtime_summary_judges_a_busy_machine_by_cpu_time_and_says_so():
    quiet = runtime_summary(300, wall_s=250, cpu_s=240, threads=1)
    assert "within its budget of 300 s" in quiet and "busy" not in quiet
    busy = runtime_summary(300, wall_s=900, cpu_s=400, threads=2)        # 200 s per thread: the cores were shared
    assert "machine was busy" in busy and "4.5x" in busy and "200 s per thread" in busy and "within the budget" in busy
    slow = runtime_summary(300, wall_s=900, cpu_s=700, threads=2)        # 350 s per thread: slow on any machine
    assert "over its budget of 300 s" in slow and "by CPU time too" in slow and "busy" not in slow
