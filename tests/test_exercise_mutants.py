"""Public checks that teach: each exercise's typical mistakes are caught, most by check("qN"), all by the grader.

Every mutant in tests/exercise_mutants.py is the instructor's solution with one typical mistake. Each is run
(in this process: the code is ours) up to the end of its question's section, and that question's tests
are run on it as the grader runs them. The public tests must catch at least 80% of a question's mutants,
and always with a hint that names what to look at; the hidden tests must catch every one.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

from aigc_course.grading.authoring import cell_kind, remove_markers, split_notebook
from aigc_course.grading.check import LocalStudent, collect_tests, run_test
from tests.exercise_mutants import MUTANTS

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
PUBLIC_SHARE = 0.8


def sections(path: Path) -> tuple[list[tuple[str, str]], list]:
    """Return ([(question, code)] for each code cell, in order: the question whose section holds it) and the tests."""
    nb = nbformat.read(str(path), as_version=4)
    question, cells = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.match(r"##\s*(q\d+)\b", cell.source)
            question = m.group(1) if m else question
        elif cell.cell_type == "code" and cell_kind(cell.source) == "code":
            cells.append((question, remove_markers(cell.source)))
    _, public, hidden = split_notebook(nb)
    return cells, collect_tests(public, hidden)


def run_question(cells: list[tuple[str, str]], tests: list, question: str, edits=()) -> dict[str, list[dict]]:
    """Run the code up to the end of `question`'s section with `edits` applied; return its public/hidden results."""
    order = [q for q, _ in cells]
    last = max(i for i, q in enumerate(order) if q == question)
    code = [src for _, src in cells[: last + 1]]
    for old, new in edits:
        hits = [i for i, src in enumerate(code) if old in src]
        assert len(hits) == 1 and code[hits[0]].count(old) == 1, f"{old!r} must occur once in the solution"
        code[hits[0]] = code[hits[0]].replace(old, new)
    namespace: dict = {"__name__": "__main__"}
    for src in code:
        try:
            exec(compile(src, "<cell>", "exec"), namespace)
        except Exception:
            pass  # a mutant that breaks a cell is graded like a student's notebook: the tests say what failed
    student = LocalStudent(namespace)
    results = [run_test(t, student) for t in tests if t.question == question]
    return {"public": [r for r in results if not r["hidden"]], "hidden": [r for r in results if r["hidden"]]}


CASES = [(ex, q) for ex in MUTANTS for q in MUTANTS[ex]]


@pytest.mark.slow
@pytest.mark.parametrize("exercise, question", CASES, ids=[f"{e}-{q}" for e, q in CASES])
def test_public_checks_catch_most_typical_mistakes_and_hidden_tests_catch_all(exercise, question, monkeypatch):
    monkeypatch.setenv("AIGC_GRADING", "1")   # the notebooks' own check("qN") calls stay quiet
    mutants = MUTANTS[exercise][question]
    assert len(mutants) >= 5, "keep at least five typical mistakes per question"
    cells, tests = sections(ROOT / "exercises" / f"{exercise}.instructor.ipynb")
    solution = run_question(cells, tests, question)
    assert all(r["passed"] for r in solution["public"] + solution["hidden"]), \
        [r["name"] for r in solution["public"] + solution["hidden"] if not r["passed"]]
    caught_public, missed_hidden = [], []
    for name, edits in mutants:
        res = run_question(cells, tests, question, edits)
        failed = [r for r in res["public"] if not r["passed"]]
        if failed:
            caught_public.append(name)
            assert all(r["hint"] or r["points"] == 0 for r in failed), f"{name}: a public failure without a hint"
        if all(r["passed"] for r in res["hidden"]):
            missed_hidden.append(name)
    share = len(caught_public) / len(mutants)
    missed_public = sorted({n for n, _ in mutants} - set(caught_public))
    assert share >= PUBLIC_SHARE, f"public checks caught {share:.0%}; missed: {missed_public}"
    assert not missed_hidden, f"hidden tests missed: {missed_hidden}"
