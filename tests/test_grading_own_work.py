"""No points without solving, and no question lost to another's hang: submissions that game the tests.

Each cheat is graded next to the honest instructor solution, which must keep full marks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aigc_course.grading import provenance
from aigc_course.grading.authoring import build_assignment
from aigc_course.grading.grade import grade_single, withhold_unconfirmed_public_points
from aigc_course.grading.jail import Limits
from tests.test_grading_breaches import add_cell

ROOT = Path(__file__).resolve().parents[1]
MATH = ROOT / "exercises" / "ex1_math.instructor.ipynb"
GAN = ROOT / "exercises" / "ex2_gan.instructor.ipynb"
LIMITS = Limits(wall_s=90, cpu_s=120, memory_mb=800, file_mb=8, question_s=30)   # roomy: a busy machine

# The red team's 30-line ex2 notebook: no GAN work at all, 10/10 before the hidden tests chose their own
# weights, inputs and samples.
GAN_CHEAT = """
import math
import torch
import torch.nn as nn
from aigc_course.losses import discriminator_loss as d_loss, generator_loss_nonsaturating as g_loss
from aigc_course.data import ring_of_gaussians


def make_models(seed=0):
    G = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    D = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1))
    for p in [*G.parameters(), *D.parameters()]:
        nn.init.zeros_(p)   # all-zero weights are a fixed point of the reference SGD step
    return G, D


def train_step(G, D, opt_G, opt_D, real, z):
    return 2 * math.log(2), math.log(2)   # the losses at zero logits


class FreshData(nn.Module):   # "generates" by handing back new samples of the data, ignoring z
    def forward(self, z):
        return ring_of_gaussians(len(z), seed=int(torch.randint(10**6, (1,))))[0]


def train_gan(steps=1000, seed=0):
    return FreshData()


G = train_gan()
"""

# ex1: constants that match the public tests' known inputs (4/10 before), and the package's own functions (5/10).
MATH_CONSTANTS = """
import math
import torch


def gaussian_kl(mu, logvar):
    return torch.zeros(len(mu))


def reparameterize(mu, logvar, eps):
    return mu


def elbo(x, logits, mu, logvar):
    return torch.full((len(x),), -x.shape[1] * math.log(2))


def optimal_discriminator(p_data, p_g):
    return torch.full_like(p_data, 0.5)


def value_at_optimum(p_data, p_g):
    return -math.log(4)
"""
MATH_REEXPORT = """
from aigc_course import losses
from aigc_course.losses import gaussian_kl, elbo


def reparameterize(mu, logvar, eps):
    return losses.reparameterize(mu, logvar) * 0 + mu + (0.5 * logvar).exp() * eps
"""
# q2's function hangs when the grader calls it; the notebook itself never does, so its cells finish.
MATH_HANG_IN_Q2 = """
def reparameterize(mu, logvar, eps):
    while True:
        pass
"""


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("assigned")
    return {"math": build_assignment(MATH, out), "gan": build_assignment(GAN, out)}


def test_the_bundle_names_the_functions_to_write_and_the_references_to_leave_alone(bundles):
    import json

    meta = json.loads((bundles["gan"][1] / "assignment.json").read_text())
    assert meta["graded"] == ["d_loss", "g_loss", "train_gan", "train_step"]
    assert meta["reference_modules"] == ["aigc_course.losses"]   # aigc_course.data is given code: allowed


@pytest.mark.slow
def test_a_gan_notebook_with_no_gan_work_scores_nothing_and_the_solution_keeps_full_marks(bundles, tmp_path):
    student, bundle = bundles["gan"]
    cheat = add_cell(student, tmp_path / "cheat.ipynb", GAN_CHEAT)
    honest, faked = grade_single([GAN, cheat], bundle, LIMITS)
    assert honest["total"] == honest["max_total"] == 10
    assert faked["total"] == 0, [(t["name"], t["message"]) for t in faked["tests"] if t["score"]]
    messages = " ".join(t["message"] for t in faked["tests"])
    assert "aigc_course.losses" in messages          # why q1 earns nothing is said, not hidden


@pytest.mark.slow
def test_ex1_constants_and_reexports_score_nothing(bundles, tmp_path):
    student, bundle = bundles["math"]
    constants = add_cell(student, tmp_path / "constants.ipynb", MATH_CONSTANTS)
    reexport = add_cell(student, tmp_path / "reexport.ipynb", MATH_REEXPORT)
    honest, c, r = grade_single([MATH, constants, reexport], bundle, LIMITS)
    assert honest["total"] == 10
    assert c["total"] == 0, [(t["name"], t["message"]) for t in c["tests"] if t["score"]]
    assert r["total"] == 0, [(t["name"], t["message"]) for t in r["tests"] if t["score"]]


def test_public_points_count_only_when_a_hidden_test_of_the_question_passes():
    def result(q, hidden, passed):
        return {"question": q, "hidden": hidden, "passed": passed, "score": 1.0 if passed else 0.0, "message": ""}

    results = [result("q1", False, True), result("q1", True, False), result("q1", True, False),   # a constant
               result("q2", False, True), result("q2", True, False), result("q2", True, True),    # a partial bug
               result("q3", False, True)]                                                         # no hidden tests
    withhold_unconfirmed_public_points(results)
    assert [r["score"] for r in results] == [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    assert "constant could match" in results[0]["message"] and not results[0]["passed"]


@pytest.mark.slow
def test_a_hang_in_one_questions_tests_costs_that_question_only(bundles, tmp_path):
    student, bundle = bundles["math"]
    hang = add_cell(MATH, tmp_path / "hang.ipynb", MATH_HANG_IN_Q2)   # the solution, with q2 replaced
    (rec,) = grade_single([hang], bundle, LIMITS)
    per_q = {q: s["score"] for q, s in rec["questions"].items()}
    assert per_q["q2"] == 0
    assert {q: per_q[q] for q in ("q1", "q3", "q4")} == {q: rec["questions"][q]["points"] for q in ("q1", "q3", "q4")}
    assert any("fresh run" in n for n in rec["notes"])


def test_static_reading_finds_reexports_bindings_and_module_names_in_strings():
    graded = {"elbo", "gaussian_kl", "reparameterize"}
    forbidden = ["aigc_course.losses"]
    assert provenance.borrowed(["def elbo(x):\n    return x\n"], graded, forbidden) == {}
    assert set(provenance.borrowed(["import importlib\nm = importlib.import_module('aigc_course.losses')"],
                                   graded, forbidden)) == graded
    assert set(provenance.borrowed(["import aigc_course\nf = aigc_course.losses.elbo"], graded, forbidden)) == graded
    assert set(provenance.borrowed(["elbo = lambda x: x"], graded, forbidden)) == {"elbo"}
    assert set(provenance.borrowed(["from math import exp as gaussian_kl"], graded, forbidden)) == {"gaussian_kl"}
    assert provenance.borrowed(["def broken(:"], graded, forbidden) == {}   # a cell that cannot run earns nothing
    assert provenance.names_used_by_tests("student.elbo(x); student.get('G'); student.has(\"H\")") == {"elbo", "G", "H"}


# ex6: chapter 12's own attention and LoRA layer re-exported (10/10 without the rule: the heads are written honestly),
# and PyTorch's fused attention called in place of the formula.
TRANSFORMERS = ROOT / "exercises" / "ex6_transformers.instructor.ipynb"
TRANSFORMERS_REEXPORT = """
from aigc_course.gpt import attention
from aigc_course.lora import LoRALinear


def split_heads(x, n_head):
    b, length, c = x.shape
    return x.reshape(b, length, n_head, c // n_head).transpose(1, 2)


def merge_heads(y):
    b, h, length, d = y.shape
    return y.transpose(1, 2).reshape(b, length, h * d)
"""
TRANSFORMERS_FUSED = """
import torch.nn.functional as F


def attention(q, k, v, causal=False):
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
"""


@pytest.mark.slow
def test_ex6_reexports_of_chapter_12_and_pytorchs_fused_attention_score_nothing(tmp_path):
    student, bundle = build_assignment(TRANSFORMERS, tmp_path / "assigned")
    import json

    meta = json.loads((bundle / "assignment.json").read_text())
    assert meta["graded"] == ["LoRALinear", "attention", "merge_heads", "split_heads"]
    assert meta["reference_modules"] == ["aigc_course.gpt", "aigc_course.lora", "scaled_dot_product_attention"]
    reexport = add_cell(student, tmp_path / "reexport.ipynb", TRANSFORMERS_REEXPORT)
    fused = add_cell(student, tmp_path / "fused.ipynb", TRANSFORMERS_FUSED)
    honest, r, f = grade_single([TRANSFORMERS, reexport, fused], bundle, LIMITS)
    assert honest["total"] == honest["max_total"] == 10
    for rec in (r, f):
        assert rec["total"] == 0, [(t["name"], t["message"]) for t in rec["tests"] if t["score"]]
    assert "aigc_course.gpt" in " ".join(t["message"] for t in r["tests"])
    assert "scaled_dot_product_attention" in " ".join(t["message"] for t in f["tests"])
