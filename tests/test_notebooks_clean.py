"""Stored notebooks are what a reader sees without running: executed in order, no errors, within budget metadata."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ is empty"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert all(counts), f"{path.name}: some code cells were never run; refresh with `make refresh NB={path}`"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: cells were run out of order; refresh it"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: stored with an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_states_its_time_budget_and_opens_with_goals(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    budget = nb["metadata"].get("aigc_course", {}).get("budget_s")
    # at most 6 minutes a chapter on 2 cores: the whole course then re-executes within make test's time
    assert isinstance(budget, int) and 0 < budget <= 360, f"{path.name}: metadata aigc_course.budget_s missing or over 360"
    assert nb["cells"][0]["cell_type"] == "markdown", f"{path.name}: open with what the learner will do"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_enough_to_read_online(path):
    assert path.stat().st_size < 8_000_000, f"{path.name}: shrink figures (dpi, fewer frames)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_has_no_control_characters_from_unescaped_latex(path):
    # "\frac" or "\bar" written in a non-raw Python string become form feed and backspace.
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        bad = sorted({repr(ch) for ch in text if ord(ch) < 32 and ch not in "\n\t"})
        assert not bad, f"{path.name}: control characters {bad} in a {cell['cell_type']} cell (unescaped LaTeX?)"
