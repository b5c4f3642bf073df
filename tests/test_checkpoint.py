from dataclasses import dataclass

import pytest
import torch
from torch import nn

from aigc_course import CheckpointError, load_checkpoint, save_checkpoint
from aigc_course.judge import Judge, JudgeConfig


@dataclass
class TinyConfig:
    width: int = 4
    sizes: tuple = (1, 2)


class Tiny(nn.Module):
    def __init__(self, config: TinyConfig):
        super().__init__()
        self.config = config
        self.layer = nn.Linear(config.width, 1)


def test_round_trip_rebuilds_the_model_without_knowing_its_class(tmp_path):
    torch.manual_seed(0)
    judge = Judge(JudgeConfig(channels=4, features=8))
    path = save_checkpoint(tmp_path / "judge.pt", judge, steps=12, history={"loss": [1.0, 0.5]})
    loaded, extra = load_checkpoint(path, with_extra=True)
    assert type(loaded) is Judge and loaded.config == judge.config
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(loaded(x), judge.eval()(x))
    assert extra == {"steps": 12, "history": {"loss": [1.0, 0.5]}}
    assert not loaded.training


def test_model_without_dataclass_config_is_refused(tmp_path):
    with pytest.raises(TypeError, match="dataclass"):
        save_checkpoint(tmp_path / "x.pt", nn.Linear(2, 2))


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "judge.pt", Judge(JudgeConfig(channels=4, features=8)))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated or not made by"):
        load_checkpoint(path)


def test_foreign_torch_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a course checkpoint"):
        load_checkpoint(path)


def test_missing_file_gives_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")


def test_classes_outside_the_package_are_refused(tmp_path):
    # A test-module class stands in for anything outside aigc_course (os.system, say).
    path = save_checkpoint(tmp_path / "tiny.pt", Tiny(TinyConfig()))
    with pytest.raises(CheckpointError, match="only classes from aigc_course"):
        load_checkpoint(path)


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "judge.pt", Judge(JudgeConfig(channels=4, features=8)))
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        save_checkpoint(path, Judge(JudgeConfig(channels=4, features=8)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["judge.pt"]
