"""Data parallelism: two CPU processes under torchrun (gloo) must match one process on the whole batch.

The worker (tests/ddp_worker.py) trains under `torchrun --standalone --nproc_per_node 2`; the
reference runs here, in one process, on the concatenated batch of both ranks.
"""

import functools
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from aigc_course import distributed, engine, gan, load_checkpoint, vae
from aigc_course.judge import Judge, JudgeConfig

WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = WORKER.parents[1]
ENV = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "AIGC_DEVICE": "cpu"}


def torchrun(nproc: int, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    """Run `torchrun --standalone --nproc_per_node NPROC ARGS...` (a script, or -m MODULE) on the CPU."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--standalone", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, cwd=ROOT)


def first_traceback(stderr: str) -> str:
    """The worker's own Python traceback (torchrun's summary of the failure comes after it and says less)."""
    start = stderr.find("Traceback")
    return stderr[max(start, 0):][:4000]


def data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(64, 1, 28, 28, generator=g), torch.randint(10, (64,), generator=g)


def assert_same_parameters(a: torch.nn.Module, b: torch.nn.Module, atol: float = 1e-6) -> None:
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(p, q, atol=atol, rtol=1e-5), name


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Path:
    """One torchrun of two ranks, running every worker mode (starting processes is the slow part)."""
    out = tmp_path_factory.mktemp("ddp")
    result = torchrun(2, str(WORKER), str(out), "judge,gan,cgan,vae")
    assert result.returncode == 0, first_traceback(result.stderr)
    return out


def test_batch_slices_of_all_ranks_make_the_single_process_batch():
    whole = distributed.Context().batch_indices(100, 8, torch.Generator().manual_seed(5))
    parts = [distributed.Context(rank=r, world_size=4).batch_indices(100, 8, torch.Generator().manual_seed(5))
             for r in range(4)]
    assert torch.equal(torch.cat(parts), whole)


def test_a_batch_that_does_not_split_evenly_is_refused():
    with pytest.raises(ValueError, match="divisible"):
        distributed.Context(rank=0, world_size=3).shard(torch.zeros(8))


def test_ddp_step_on_two_processes_equals_one_step_on_the_whole_batch(two_ranks):
    torch.manual_seed(0)
    model = Judge(JudgeConfig(channels=4, features=16))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = data()
    idx = distributed.Context().batch_indices(len(x), 32, torch.Generator().manual_seed(2))
    loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert_same_parameters(load_checkpoint(two_ranks / "judge" / "model.pt"), model)


def test_gan_ddp_steps_equal_one_process_steps_for_both_g_and_d(two_ranks):
    torch.manual_seed(0)
    model = gan.build_model("gan")
    x, y = data()
    history = gan.train_gan(model, x, gan.Recipe(steps=2, batch_size=16), y=y, seed=3, progress=False)
    ddp, extra = load_checkpoint(two_ranks / "gan" / "model.pt", with_extra=True)
    # Two Adam steps of G and D: the second step sees the first step's update of both networks.
    assert_same_parameters(ddp.generator, model.generator)
    assert_same_parameters(ddp.discriminator, model.discriminator)
    for key in history:   # the logged losses are the means over both ranks: the whole batch's losses
        assert extra["history"][key] == pytest.approx(history[key], abs=1e-5), key


def test_gan_with_batch_norm_keeps_both_ranks_in_step(two_ranks):
    # Batch norm normalises each rank's share separately, so this is not the one-process model;
    # but DDP keeps the parameters of the two ranks identical, through the two D passes and the G pass.
    r0, r1 = (torch.load(two_ranks / "cgan" / f"rank{r}.pt") for r in (0, 1))
    start = gan.build_model("cgan").state_dict()
    for name in r0:
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(r0[name], r1[name]), name
    assert not torch.equal(r0["generator.project.0.weight"], start["generator.project.0.weight"])   # it did train
    assert sorted(p.name for p in (two_ranks / "cgan").iterdir()) == ["model.pt", "rank0.pt", "rank1.pt"]


def test_vae_ddp_steps_equal_one_process_steps(two_ranks):
    torch.manual_seed(0)
    model = vae.VAE(vae.VAEConfig(hidden=32, latent_dim=4))
    x, _ = data()
    config = vae.TrainConfig(steps=2, batch_size=16, lr=1e-2, final_lr=1e-3, warmup=2, seed=3)
    history = vae.train_vae(model, x, config, progress=False)
    ddp, extra = load_checkpoint(two_ranks / "vae" / "model.pt", with_extra=True)
    assert_same_parameters(ddp, model)
    for key in history:
        assert extra["history"][key] == pytest.approx(history[key], abs=1e-4), key


def test_rank_0_alone_writes_the_checkpoint(two_ranks):
    for mode in ("judge", "gan", "vae"):
        assert [p.name for p in (two_ranks / mode).iterdir()] == ["model.pt"]


def test_a_failing_rank_ends_the_whole_run_with_an_error(tmp_path):
    # Rank 1 raises after its first GAN step; rank 0 is then waiting for it inside a gradient all-reduce.
    t = time.perf_counter()
    result = torchrun(2, str(WORKER), str(tmp_path), "gan", "fail-rank-1", timeout=180)
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr
    assert time.perf_counter() - t < 180   # torchrun stopped rank 0: no rank hangs
    assert not (tmp_path / "gan" / "model.pt").exists()


def test_the_cli_trains_under_torchrun_and_resumes_in_one_process(tmp_path):
    result = torchrun(2, "-m", "aigc_course.cli", "train", "gan", "--steps", "3", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, first_traceback(result.stderr)
    assert result.stdout.count("checkpoint:") == 1               # rank 0 reports
    assert [p.name for p in tmp_path.iterdir()] == ["gan.pt"]    # and alone writes
    _, extra = load_checkpoint(tmp_path / "gan.pt", with_extra=True)
    assert extra["world_size"] == 2 and extra["steps"] == 3 and len(extra["history"]["d_loss"]) == 3
    gan.train("gan", steps=5, out=tmp_path, progress=False, resume=tmp_path / "gan.pt")
    _, extra = load_checkpoint(tmp_path / "gan.pt", with_extra=True)
    assert extra["steps"] == 5 and len(extra["history"]["d_loss"]) == 5


class Interrupted(Exception):
    pass


def interrupt_at(step_to_stop: int, step: int, history: dict) -> None:
    if step >= step_to_stop:
        raise Interrupted


@pytest.mark.parametrize("module, kind, loop, every", [(gan, "gan", "train_gan", "every"),
                                                       (vae, "vae", "train_vae", "every")])
def test_an_interrupted_run_resumed_ends_where_an_uninterrupted_run_ends(tmp_path, monkeypatch, module, kind,
                                                                       loop, every):
    whole = module.train(kind, steps=6, seed=1, out=tmp_path / "whole", progress=False, save_every=3)
    # Interrupt the second run two steps past its checkpoint at step 3 (work after a checkpoint is lost).
    original = getattr(module, loop)
    monkeypatch.setattr(module, loop, functools.partial(original, callback=functools.partial(interrupt_at, 4),
                                                        **{every: 1}))
    with pytest.raises(Interrupted):
        module.train(kind, steps=6, seed=1, out=tmp_path / "cut", progress=False, save_every=3)
    monkeypatch.setattr(module, loop, original)
    assert load_checkpoint(tmp_path / "cut" / f"{kind}.pt", with_extra=True)[1]["steps"] == 3
    resumed = module.train(kind, steps=6, seed=1, out=tmp_path / "cut", progress=False, save_every=3,
                           resume=tmp_path / "cut" / f"{kind}.pt")
    (a, ea), (b, eb) = (load_checkpoint(p, with_extra=True) for p in (whole, resumed))
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name
    assert ea["history"] == eb["history"]


def test_resume_refuses_a_finished_run_and_a_checkpoint_of_another_model(tmp_path):
    path = gan.train("gan", steps=2, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="already trained 2 of 2"):
        gan.train("gan", steps=2, out=tmp_path, progress=False, resume=path)
    with pytest.raises(ValueError, match="not a resumable checkpoint"):
        vae.train("vae", steps=2, out=tmp_path, progress=False, resume=path)


def test_run_steps_calls_back_every_k_steps_done_and_after_the_last_one():
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen, history = [], {"loss": []}
    run = engine.Run.local(model)
    for step in run.steps(7, history, model=model, optimizers=[opt], rng=torch.Generator(), progress=False,
                          callback=lambda done, h: seen.append((done, len(h["loss"]), model.training)), every=3):
        run.log(history, float(step))
    assert seen == [(3, 3, False), (6, 6, False), (7, 7, False)]   # numbered by steps done, model in eval mode
    assert history["loss"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and not model.training


def test_run_steps_resumes_at_the_saved_step_with_the_saved_history_and_random_stream():
    def draws(run: engine.Run, g: torch.Generator) -> dict:
        model = torch.nn.Linear(2, 1)
        history = {"draw": []}
        for _ in run.steps(4, history, model=model, optimizers=[torch.optim.SGD(model.parameters(), lr=0.1)], rng=g,
                           progress=False):
            run.log(history, torch.rand(1, generator=g).item())
        return history

    saved = []
    whole = draws(engine.Run(save=saved.append, save_every=2), torch.Generator().manual_seed(0))
    assert [s["step"] for s in saved] == [2, 4] and saved[0]["history"]["draw"] == whole["draw"][:2]
    resumed = draws(engine.Run(state=saved[0]), torch.Generator().manual_seed(99))   # the saved stream wins
    assert resumed == whole
