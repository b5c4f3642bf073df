#!/usr/bin/env python
"""Give each stored widget a static fallback, so a notebook read without a kernel shows what the run left.

A widget's output holds the widget (for Jupyter, which draws it from the saved widget state) and a plain-text
fallback. The fallback ipywidgets writes is the widget's repr at the moment it was displayed: a progress bar at
``0/3000`` and a quiz as ``VBox(children=(HTML(...``. That is what GitHub and other static viewers show. This tool
rebuilds the fallback from the widget state saved at the end of the run:

* a tqdm bar (an HBox of HTML, FloatProgress, HTML) becomes its final text line, ``training: 100%|##########| ...``;
* any other widget gets an HTML rendering of its last state (texts, pictures, the options of each control, with the
  chosen one marked) and a plain-text one.

  python tools/static_view.py notebooks/05_gan.ipynb ...   # rewrite the fallbacks of stored notebooks in place

`run_notebooks.py` calls `add_static_fallbacks` after every execution.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import nbformat

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
NOTE = "<p><i>A static copy of the widget as the run left it; run the notebook to use it.</i></p>"


def _text(markup: str) -> str:
    """Plain text of an HTML fragment: line breaks and block ends kept as new lines, other tags dropped, entities
    decoded, tqdm's figure spaces made plain spaces."""
    text = re.sub(r"<br\s*/?>|</(p|div|li|h[1-6]|tr)>", "\n", markup, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\u2007", " ").strip("\n")


class _Renderer:
    def __init__(self, state: dict):
        self.state = state

    def model(self, ref: str) -> dict:
        return self.state[ref.removeprefix("IPY_MODEL_")]

    def children(self, model: dict) -> list[dict]:
        return [self.model(c) for c in model["state"].get("children", [])]

    def progress_line(self, model: dict) -> str | None:
        """The text of a tqdm bar (HBox: HTML, FloatProgress, HTML), or None if `model` is not one."""
        kids = self.children(model)
        if model["model_name"] != "HBoxModel" or [k["model_name"] for k in kids] != ["HTMLModel", "FloatProgressModel",
                                                                                     "HTMLModel"]:
            return None
        left, bar, right = kids
        value, top = bar["state"].get("value", 0), bar["state"].get("max", 100) or 1
        filled = max(0, min(10, round(10 * value / top)))
        return f"{_text(left['state']['value'])}|{'█' * filled}{' ' * (10 - filled)}|{_text(right['state']['value'])}"

    def render(self, model: dict) -> tuple[str, str]:
        """(HTML, plain text) of one widget and everything inside it."""
        s, name = model["state"], model["model_name"]
        label = s.get("description") or ""
        if "children" in s:
            parts = [self.render(k) for k in self.children(model)]
            sep_html, sep_text = ("<br>", "\n") if name != "HBoxModel" else (" ", "  ")
            return (f"<div>{sep_html.join(h for h, _ in parts if h)}</div>",
                    sep_text.join(t for _, t in parts if t))
        if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):
            value = s.get("value", "")
            return (value if name != "LabelModel" else html.escape(value)), _text(value)
        if name == "ImageModel":
            data = next((b["data"] for b in model.get("buffers", []) if b.get("path") == ["value"]), "")
            fmt = s.get("format", "png")
            return (f'<img src="data:image/{fmt};base64,{data}" alt="{html.escape(label or "picture")}">' if data
                    else "", "[picture]")
        if "_options_labels" in s and name == "DropdownModel":   # a closed list: only the choice shows
            chosen = s.get("index")
            value = "" if chosen is None else s["_options_labels"][chosen]
            return f"{html.escape(label)}: {html.escape(value)}", f"{label}: {value}"
        if "_options_labels" in s:   # radio buttons and other open lists: every option, the chosen one marked
            options, chosen = s["_options_labels"], s.get("index")
            marks = [("(x) " if i == chosen else "( ) ") + o for i, o in enumerate(options)]
            return (f"<b>{html.escape(label)}</b><br>" + "<br>".join(html.escape(m) for m in marks),
                    "\n".join([label, *("  " + m for m in marks)]).strip("\n"))
        if name == "ButtonModel":
            return f"<button disabled>{html.escape(label)}</button>", f"[{label}]"
        if "value" in s:
            return f"{html.escape(label)}: {html.escape(str(s['value']))}", f"{label}: {s['value']}"
        return "", ""


def add_static_fallbacks(nb) -> int:
    """Rewrite the text (and, for widgets other than progress bars, HTML) fallback of every widget output in `nb`
    from its saved widget state; return how many outputs were rewritten. Outputs whose widget has no saved state
    are left alone."""
    state = nb.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    renderer, changed = _Renderer(state), 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            ref = data.get(VIEW, {}).get("model_id")
            if ref not in state:
                continue
            model = renderer.model(ref)
            line = renderer.progress_line(model)
            if line is not None:
                new = {"text/plain": line}
            else:
                markup, text = renderer.render(model)
                new = {"text/plain": text, "text/html": NOTE + markup}
            if any(data.get(k) != v for k, v in new.items()):
                data.update(new)
                changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        n = add_static_fallbacks(nb)
        if n:
            nbformat.write(nb, path)
        print(f"{path}: {n} widget outputs given a static fallback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
