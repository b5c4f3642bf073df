#!/usr/bin/env python
"""Render executed notebooks into an offline course site: index.html + one page per chapter.

  python tools/build_site.py build/site [NOTEBOOK_DIR]   # default NOTEBOOK_DIR: notebooks/ (stored outputs)

`make book` calls this on the freshly executed notebooks. Nothing on the pages comes from
the network: MathJax is copied from the `jupyter-server-mathjax` package, figures are inline
PNGs, and interactive widgets (which need a live kernel) become a short note.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<p class="aigc-widget-note"><em>Interactive widget: open this notebook in JupyterLab '
               "(<code>make lab</code>) to use it.</em></p>")
PROGRESS = re.compile(r"\d+%\|")
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"

# jupyter-server-mathjax ships MathJax 2 with the STIX-Web fonts only (as the classic notebook used it).
MATHJAX_FONTS = """
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
"""
PAGE_CSS = """
<style>
  .aigc-nav { font-family: sans-serif; padding: 8px 16px; background: #f4f6fa; border-bottom: 1px solid #d0d7e2;
              display: flex; gap: 24px; }
  .aigc-nav a { text-decoration: none; }
  .aigc-widget-note { color: #555; }
</style>
"""


def static_widgets(nb) -> None:
    """Replace live widget outputs: progress bars vanish (their summary line stays), others get a note."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                if PROGRESS.search(str(data.get("text/plain", ""))):
                    continue
                out["data"] = {"text/html": WIDGET_NOTE}
            kept.append(out)
        cell["outputs"] = kept


FONT_AWESOME_CDN = re.compile(r'<link[^>]+href="https?://[^"]*font-awesome[^"]*"[^>]*>')
FONT_AWESOME_FALLBACK = """<style>
.anim-buttons .fa { font-style: normal; font-family: sans-serif; }
.fa-play:before { content: "\\25B6"; } .fa-pause:before { content: "\\23F8"; }
.fa-step-forward:before { content: "\\25B6|"; } .fa-step-backward:before { content: "|\\25C0"; }
.fa-fast-forward:before { content: "\\25B6\\25B6|"; } .fa-fast-backward:before { content: "|\\25C0\\25C0"; }
.fa-minus:before { content: "\\2212"; } .fa-plus:before { content: "+"; }
</style>"""


def _nav(chapters: list, index: int) -> str:
    links = ['<a href="index.html">&#8962; Course index</a>']
    if index > 0:
        prev = chapters[index - 1]
        links.insert(0, f'<a href="{Path(prev).stem}.html">&larr; {html.escape(Path(prev).stem)}</a>')
    if index + 1 < len(chapters):
        nxt = chapters[index + 1]
        links.append(f'<a href="{Path(nxt).stem}.html">{html.escape(Path(nxt).stem)} &rarr;</a>')
    return f'<nav class="aigc-nav">{" ".join(links)}</nav>'


def render_page(nb, nav: str) -> str:
    """Return one chapter as a self-contained HTML page (local MathJax, no CDN scripts)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", mathjax_url=MATHJAX_URL, require_js_url="")
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace('<script src=""></script>', "")  # require.js serves only live widgets
    body = re.sub(r'href="(\d\d_[\w-]+)\.ipynb', r'href="\1.html', body)  # links between chapters
    body = body.replace("<head>", "<head>" + MATHJAX_FONTS, 1).replace("</head>", PAGE_CSS + "</head>", 1)
    body = re.sub(r"(<body[^>]*>)", r"\1" + nav, body, count=1)
    # matplotlib's JS animations link Font Awesome from a CDN for their buttons' icons: drop the link and
    # draw the icons they use with plain characters, so the player works offline.
    if FONT_AWESOME_CDN.search(body):
        body = FONT_AWESOME_CDN.sub("", body).replace("</head>", FONT_AWESOME_FALLBACK + "</head>", 1)
    remote = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', body)
    if remote:
        raise RuntimeError(f"page would load from the network: {remote}")
    return body


def index_page(pages: list[str]) -> str:
    """Return the course index: the chapter table with links to the rendered chapters."""
    from aigc_course.chapters import CHAPTERS

    rows = []
    for ch in CHAPTERS:
        stem = Path(ch.notebook).stem
        name = f'<a href="{stem}.html">{html.escape(ch.title)}</a>' if ch.notebook in pages else html.escape(ch.title) + " (planned)"
        rows.append(f"<tr><td>{stem[:2]}</td><td>{name}</td><td>{html.escape(ch.section)}</td>"
                    f"<td>{html.escape(ch.learner_does)}</td></tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AIGC from principles to practice</title>
<style>
 body {{ font-family: sans-serif; max-width: 980px; margin: 40px auto; line-height: 1.5; color: #222; }}
 table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd; padding: 6px 10px; text-align: left; }}
</style></head>
<body>
<h1>AIGC from principles to practice</h1>
<p>GANs, VAEs and their applications, every claim runnable and checked, trained from scratch on a laptop CPU.
This is the offline copy of the course: each page is a chapter executed top to bottom. To run and change the
code, open the notebooks in JupyterLab (<code>make lab</code>).</p>
<table><thead><tr><th>#</th><th>chapter</th><th>article section</th><th>what you do</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def build_site(site: Path, notebook_dir: Path) -> list[Path]:
    """Write index.html, one page per notebook in `notebook_dir` and the MathJax files into `site`."""
    import jupyter_server_mathjax

    site.mkdir(parents=True, exist_ok=True)
    mathjax = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (site / "mathjax" / "MathJax.js").exists():
        shutil.copytree(mathjax, site / "mathjax", dirs_exist_ok=True)
    notebooks = sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb"))
    names = [p.name for p in notebooks]
    written = []
    for i, path in enumerate(notebooks):
        nb = nbformat.read(path, as_version=4)
        static_widgets(nb)
        page = site / f"{path.stem}.html"
        page.write_text(render_page(nb, _nav(names, i)), encoding="utf-8")
        written.append(page)
    (site / "index.html").write_text(index_page(names), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__)
        return 2
    site = Path(argv[0])
    notebook_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "notebooks"
    pages = build_site(site, notebook_dir)
    print(f"site: {len(pages)} chapter pages + index.html in {site}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
