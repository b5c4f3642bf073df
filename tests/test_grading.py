"""The exercises and the autograder: authoring, scoring, isolation, robustness and resuming."""

from __future__ import annotations

import csv
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aigc_course.grading.authoring import (
    AuthoringError,
    build_assignment,
    code_cells,
    strip_solution,
)
from aigc_course.grading.check import TEST_PRELUDE, collect_tests
from aigc_course.grading.grade import (
    grade_folder,
    grade_notebook,
    load_assignment,
    result_key,
)
from aigc_course.grading.jail import Limits
from aigc_course.grading.zygote import Zygote

check_module = importlib.import_module("aigc_course.grading.check")  # the module, not the check() function

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.instructor.ipynb"))
MATH = ROOT / "exercises" / "ex1_math.instructor.ipynb"
HOSTILE_LIMITS = Limits(wall_s=8, cpu_s=8, memory_mb=300, file_mb=8)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every assignment built once: name -> (instructor, student notebook, bundle)."""
    out = tmp_path_factory.mktemp("assigned")
    return {p.name.split(".")[0]: (p, *build_assignment(p, out)) for p in EXERCISES}


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def grade(path, bundle, zygote, limits=None):
    meta = load_assignment(bundle)
    tests = collect_tests(meta["public_tests"], meta["hidden_tests"])
    return grade_notebook(path, tests, meta["questions"], zygote, limits or Limits())


def with_cell(src_nb: Path, dest: Path, code: str, transform=None) -> Path:
    """Copy a notebook, optionally rewrite its code cells, and append one code cell."""
    nb = nbformat.read(str(src_nb), as_version=4)
    if transform:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = transform(cell.source)
    if code:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, str(dest))
    return dest


# --------------------------------------------------------------------------- authoring


def test_there_are_six_assignments_one_per_practice_area():
    assert [p.name.split(".")[0] for p in EXERCISES] == ["ex1_math", "ex2_gan", "ex3_vae", "ex4_applications",
                                                       "ex5_diffusion", "ex6_transformers"]


def test_stub_keeps_indentation_and_raises_not_implemented():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    stub = strip_solution(src)
    assert "return x + 1" not in stub
    ns: dict = {}
    exec(stub, ns)
    with pytest.raises(NotImplementedError):
        ns["f"](1)


def test_unbalanced_solution_markers_are_rejected():
    with pytest.raises(AuthoringError):
        strip_solution("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(AuthoringError):
        strip_solution("x = 1\n### END SOLUTION\n")


def test_student_notebook_has_no_solutions_and_no_hidden_tests(built):
    for _instructor, student, bundle in built.values():
        text = student.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        meta = load_assignment(bundle)
        assert meta["hidden_tests"] and meta["public_tests"]
        for src in meta["hidden_tests"]:
            body = [line for line in src.splitlines() if line.strip().startswith("def ")]
            assert not any(line in text for line in body), f"{student.name} leaks hidden test {body}"
        assert oct(bundle.stat().st_mode & 0o777) == "0o700"


# --------------------------------------------------------------------------- scoring


@pytest.mark.parametrize("name", [p.name.split(".")[0] for p in EXERCISES])
def test_instructor_solution_scores_full_marks_and_untouched_stub_scores_zero(name, built, zygote):
    instructor, student, bundle = built[name]
    solution = grade(instructor, bundle, zygote)
    failed = [(t["name"], t["message"]) for t in solution["tests"] if not t["passed"]]
    assert solution["total"] == solution["max_total"] > 0, failed
    assert solution["isolation"] in ("full", "basic")
    stub = grade(student, bundle, zygote)
    assert stub["total"] == 0, [t["name"] for t in stub["tests"] if t["passed"]]
    assert all(t["message"] for t in stub["tests"])


def test_sandbox_reports_its_isolation_level(zygote):
    assert zygote.level in ("full", "basic")
    if zygote.level != "full":  # e.g. macOS, or a container without CAP_SYS_ADMIN / user namespaces
        pytest.skip("the Linux jail is not available here: grading uses basic isolation (see exercises/README.md)")


def test_learner_check_reports_pass_and_fail(built, capsys, monkeypatch):
    instructor, _, bundle = built["ex1_math"]
    main = sys.modules["__main__"]
    for src in load_assignment(bundle)["public_tests"]:
        namespace: dict = {}
        exec(TEST_PRELUDE, namespace)
        exec(compile(src, "<public>", "exec"), namespace)
    monkeypatch.setattr(main, "gaussian_kl", lambda mu, logvar: 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(-1),
                        raising=False)
    monkeypatch.delenv("AIGC_GRADING", raising=False)
    check_module.check("q1")
    assert "q1: all public tests pass" in capsys.readouterr().out
    monkeypatch.setattr(main, "gaussian_kl", lambda mu, logvar: mu.sum(-1) + 1, raising=False)
    check_module.check("q1")
    out = capsys.readouterr().out
    assert "FAIL kl_of_the_prior_to_itself_is_zero" in out and "hint:" in out


# --------------------------------------------------------------------------- hostile submissions

ATTACKS = {
    "crash": "import ctypes\nctypes.string_at(0)",
    "hang": "while True:\n    pass",
    "sys_exit": "import sys\nsys.exit(0)",
    "os_exit": "import os\nos._exit(0)",
    "megabytes_of_output": "import os\nprint('x' * 30_000_000)\nos.write(1, b'y' * 30_000_000)",
    "memory_blowup": "blocks = []\nwhile True:\n    blocks.append(bytearray(50_000_000))",
    "monkeypatch_numpy_and_test_helpers": """
import numpy as np
import torch
import aigc_course.grading.check as c
np.isclose = lambda *a, **k: np.ones(np.shape(a[0]), bool)
np.allclose = torch.allclose = lambda *a, **k: True
c.assert_close = c.assert_shape = lambda *a, **k: None
c.run_test = lambda t, s: {"passed": True, "score": t.points}
def gaussian_kl(mu, logvar): return None
def reparameterize(mu, logvar, eps): return None
def elbo(x, logits, mu, logvar): return None
def optimal_discriminator(p, q): return None
def value_at_optimum(p, q): return None
""",
    "fake_results_on_the_grading_channel": """
import os, json
full = {"score": 10, "tests": [], "total": 10}
for fd in range(3, 64):
    try:
        os.write(fd, b'{"event": "ready", "errors": []}\\n' + b'{"ok": 10.0}\\n' * 20)
    except OSError:
        pass
for path in ["results.json", "/tmp/results.json", os.path.expanduser("~/results.json")]:
    try:
        open(path, "w").write(json.dumps(full))
    except OSError:
        pass
""",
    "read_hidden_tests_and_solutions": """
import json, os, time
def steal(path):
    try:
        nb = json.load(open(path))
    except Exception:
        return
    for cell in nb.get("cells") or []:
        src = "".join(cell["source"]) if isinstance(cell.get("source"), list) else cell.get("source", "")
        if cell.get("cell_type") == "code" and "TESTS" not in src:
            try:
                exec(src, globals())
            except Exception:
                pass
for path in PATHS:
    steal(path)
start = time.time()
for folder, _, files in os.walk("/"):
    if time.time() - start > 2:
        break
    for f in files:
        if f.endswith(".instructor.ipynb") or f == "assignment.json":
            steal(os.path.join(folder, f))
""",
}


@pytest.fixture(scope="module")
def hostile(built, zygote, tmp_path_factory):
    """Grade every attack once (built on the untouched math stub); return name -> result."""
    instructor, student, bundle = built["ex1_math"]
    folder = tmp_path_factory.mktemp("hostile")
    paths = [str(MATH), str(bundle / "assignment.json"), str(instructor)]
    results = {}
    for name, code in ATTACKS.items():
        code = code.replace("PATHS", repr(paths))
        results[name] = grade(with_cell(student, folder / f"{name}.ipynb", code), bundle, zygote, HOSTILE_LIMITS)
    bad = folder / "invalid_json.ipynb"
    bad.write_text('{"cells": [ this is not JSON')
    results["invalid_json"] = grade(bad, bundle, zygote, HOSTILE_LIMITS)
    results["stub"] = grade(student, bundle, zygote, HOSTILE_LIMITS)
    return results


@pytest.mark.parametrize("attack", [*ATTACKS, "invalid_json"])
def test_hostile_submission_scores_no_more_than_the_untouched_stub(attack, hostile):
    if attack == "read_hidden_tests_and_solutions" and hostile[attack]["isolation"] == "basic":
        # the control: without the Linux jail this attack works, which shows the test has teeth
        assert hostile[attack]["total"] > 0
        pytest.skip("basic isolation cannot hide the instructor's files (documented limit)")
    assert hostile[attack]["total"] <= hostile["stub"]["total"] == 0, hostile[attack]["tests"]


@pytest.mark.parametrize("attack, reason", [
    ("hang", "time limit"), ("crash", "ended"), ("os_exit", "ended"),
    ("invalid_json", "not a valid notebook"), ("fake_results_on_the_grading_channel", "forged"),
])
def test_feedback_gives_the_reason_for_a_zero(attack, reason, hostile):
    text = " ".join(hostile[attack]["notes"]) + " ".join(t["message"] for t in hostile[attack]["tests"])
    assert reason in text, text


def test_grader_keeps_only_a_bounded_tail_of_huge_output(hostile):
    assert len(hostile["megabytes_of_output"]["output_tail"]) <= 4000


def test_memory_blowup_is_stopped_by_the_memory_limit(hostile):
    errors = " ".join(e["error"] for e in hostile["memory_blowup"]["cell_errors"]) + " ".join(
        hostile["memory_blowup"]["notes"])
    assert "MemoryError" in errors or "memory" in errors, errors


def test_renamed_or_deleted_function_scores_zero_on_that_question_only(built, zygote, tmp_path):
    instructor, _, bundle = built["ex1_math"]
    renamed = with_cell(instructor, tmp_path / "renamed.ipynb", "",
                        transform=lambda s: s.replace("def gaussian_kl(", "def my_kl(").replace(
                            "- gaussian_kl(", "- my_kl("))
    deleted = with_cell(instructor, tmp_path / "deleted.ipynb", "del optimal_discriminator")
    r = grade(renamed, bundle, zygote)
    assert r["questions"]["q1"]["score"] == 0 and r["questions"]["q2"]["score"] == r["questions"]["q2"]["points"]
    assert any("defines no `gaussian_kl`" in t["message"] for t in r["tests"])
    d = grade(deleted, bundle, zygote)
    assert d["questions"]["q4"]["score"] == 0 and d["questions"]["q1"]["score"] == d["questions"]["q1"]["points"]


def test_solution_that_exits_at_the_end_still_gets_its_marks(built, zygote, tmp_path):
    instructor, _, bundle = built["ex1_math"]
    r = grade(with_cell(instructor, tmp_path / "exits.ipynb", "import sys\nsys.exit(1)"), bundle, zygote)
    assert r["total"] == r["max_total"]


# --------------------------------------------------------------------------- a whole folder


def test_grading_a_folder_writes_csv_feedback_and_gradescope_without_hidden_source(built, tmp_path):
    instructor, student, bundle = built["ex1_math"]
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_bytes(instructor.read_bytes())
    (subs / "bob.ipynb").write_bytes(student.read_bytes())
    (subs / "carol").mkdir()
    (subs / "carol" / "submission.ipynb").write_text("not a notebook")
    out = tmp_path / "out"
    faker = with_cell(student, subs / "mallory.ipynb",
                      f"import json\nopen({str(out / 'results' / (result_key('mallory') + '.json'))!r}, 'w').write("
                      f"json.dumps({{'total': 10}}))")
    assert faker.exists()
    summary = grade_folder(subs, bundle, out, workers=2, roster=["alice", "bob", "carol", "dave", "mallory"],
                           progress=False)
    assert summary["missing"] == ["dave"]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "mallory", "dave"]
    scores = {r["student"]: float(r["total"]) for r in rows}
    assert scores == {"alice": 10, "bob": 0, "carol": 0, "mallory": 0, "dave": 0}
    assert {"q1", "q2", "q3", "q4", "total", "status"} <= set(rows[0])
    gs = json.loads((out / "gradescope" / result_key("alice") / "results.json").read_text())
    assert gs["score"] == 10 and all(t["score"] == t["max_score"] for t in gs["tests"])
    hidden_lines = {line.strip() for src in load_assignment(bundle)["hidden_tests"] for line in src.splitlines()
                    if len(line.strip()) > 12 and not line.strip().startswith(("from ", "import ", "@test", "#"))}
    for student_name in ("alice", "bob", "carol", "mallory"):
        key = result_key(student_name)
        for path in (out / "feedback" / f"{key}.md", out / "gradescope" / key / "results.json"):
            text = path.read_text()
            leaked = [line for line in hidden_lines if line in text]
            assert not leaked, f"{path.name} shows hidden test source: {leaked[:2]}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kill harness reads /proc (Linux)")
def test_kill_9_at_any_point_leaves_no_grading_process_and_the_rerun_is_exact(built, tmp_path):
    """kill -9 of the command's main process (during start-up, then mid-run) and of its whole group (mid-run).

    After each kill nothing the command started may live more than a few seconds (workers, zygotes and
    sandboxes die with their parents), and the final run grades exactly the rest: no row lost or
    duplicated, no finished submission graded again.
    """
    instructor, student, bundle = built["ex1_math"]
    subs = tmp_path / "subs"
    subs.mkdir()
    names = [f"s{i:02d}" for i in range(6)]
    for i, name in enumerate(names):
        pause = 0.3 if i < 2 else 1.5  # the later ones are slow, so a kill surely lands mid-run
        with_cell(instructor if i % 2 else student, subs / f"{name}.ipynb", f"import time\ntime.sleep({pause})")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "aigc_course.cli", "grade", str(subs), "--assignment", str(bundle),
           "--out", str(out), "--workers", "2", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished: dict[str, str] = {}
    for when, how in (("p2", "main"), (1, "group"), (3, "main")):  # p2: as soon as its workers start
        run = subprocess.run([sys.executable, str(ROOT / "tests" / "kill_harness.py"), str(out / "results"),
                              str(when), how, *cmd], env=env, capture_output=True, text=True, timeout=400)
        report = json.loads(run.stdout.strip().splitlines()[-1])
        assert report["survivors"] == [] and report["last_one_lived_s"] < 10, (when, how, report)
        now = {p.name: json.loads(p.read_text())["graded_at"] + str(p.stat().st_mtime_ns)
               for p in (out / "results").glob("*.json")}
        assert all(now[k] == v for k, v in finished.items()), "a finished submission was graded again"
        finished = now
    assert len(finished) < len(names), "the last kill should land in the middle of the run"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = {p.name: json.loads(p.read_text())["graded_at"] + str(p.stat().st_mtime_ns)
             for p in (out / "results").glob("*.json")}
    assert all(after[k] == v for k, v in finished.items()), "finished submissions were graded again"
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == names
    assert {r["student"]: float(r["total"]) for r in rows} == {n: (10.0 if i % 2 else 0.0) for i, n in enumerate(names)}
    assert not list(out.glob("**/.*.tmp"))


def test_code_cells_skip_test_cells_and_reject_broken_files(built, tmp_path):
    _, student, _ = built["ex1_math"]
    assert not any("@test(" in c for c in code_cells(student))
    broken = tmp_path / "b.ipynb"
    broken.write_text("{")
    with pytest.raises(ValueError, match="not a valid notebook"):
        code_cells(broken)
