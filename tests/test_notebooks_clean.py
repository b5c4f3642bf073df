"""Stored notebooks are what a reader sees without running: executed in order, no errors, within budget metadata."""

import functools
import json
import re
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


@functools.cache
def _static_view():
    # tools/ is not a package: load tools/static_view.py once, by path
    import importlib.util

    spec = importlib.util.spec_from_file_location("static_view", ROOT / "tools" / "static_view.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_widgets_read_without_a_kernel(path):
    # GitHub shows a widget's text fallback: it must be the run's last state (a bar at 100%, the quiz's questions),
    # never the repr written when the widget was first displayed ("0/3000", "VBox(children=...").
    import nbformat

    nb = nbformat.read(path, as_version=4)
    assert _static_view().add_static_fallbacks(nb) == 0, (
        f"{path.name}: widget fallbacks are stale; run `python tools/static_view.py {path.relative_to(ROOT)}`")
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                assert not re.match(r"[HV]Box\(children=", text) and " 0%|" not in text, (path.name, text[:80])


def test_static_view_renders_a_finished_bar_and_a_quiz():
    import nbformat

    def model(name, **state):
        return {"model_name": name, "state": state}

    state = {
        "bar": model("HBoxModel", children=["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]),
        "l": model("HTMLModel", value="training\u2007GAN:\u2007100%"),
        "p": model("FloatProgressModel", value=40.0, max=40.0),
        "r": model("HTMLModel", value="\u200740/40\u2007[00:01&lt;00:00]"),
        "quiz": model("VBoxModel", children=["IPY_MODEL_q", "IPY_MODEL_a", "IPY_MODEL_s"]),
        "q": model("HTMLModel", value="<b>Q1.</b> Which?"),
        "a": model("RadioButtonsModel", _options_labels=["this", "that"], index=1, description="Q1"),
        "s": model("HTMLModel", value="<b>score: 1 / 1</b><br>well done"),
    }
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    view = "application/vnd.jupyter.widget-view+json"
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", {view: {"model_id": ref}, "text/plain": "VBox(children=(...))"}) for ref in ("bar", "quiz")])]
    assert _static_view().add_static_fallbacks(nb) == 2
    bar, quiz = (o["data"] for o in nb.cells[0].outputs)
    assert bar["text/plain"] == "training GAN: 100%|██████████| 40/40 [00:01<00:00]" and "text/html" not in bar
    assert quiz["text/plain"].splitlines() == ["Q1. Which?", "Q1", "  ( ) this", "  (x) that", "score: 1 / 1",
                                             "well done"]
    assert "<b>Q1.</b> Which?" in quiz["text/html"] and "(x) that" in quiz["text/html"]
    assert _static_view().add_static_fallbacks(nb) == 0   # a second pass changes nothing
