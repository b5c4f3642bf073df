"""The offline course site (`make book` -> build/site/) opened from file:// in headless Chromium."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, PageProblems

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site rendered from the stored (executed) notebooks, as `make book` renders fresh ones."""
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), str(out)], check=True, capture_output=True)
    return out


def _wait_for_mathjax(page):
    page.wait_for_function("() => !window.MathJax || !window.MathJax.Hub || MathJax.Hub.queue.pending === 0"
                           " && MathJax.Hub.queue.running === 0", timeout=30_000)


def test_index_lists_the_chapters_and_links_work_offline(site, page, artifacts):
    problems = PageProblems(page)
    page.goto((site / "index.html").as_uri())
    page.screenshot(path=str(artifacts / "site_index.png"))
    links = page.locator("table a")
    assert links.count() >= 1
    assert "AIGC from principles to practice" in page.title()
    links.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("00_welcome.html")
    assert problems.failed == [] and problems.errors == []


def has_math(page: Path) -> bool:
    """True when the chapter's notebook has LaTeX in a Markdown cell."""
    nb = json.loads((ROOT / "notebooks" / f"{page.stem}.ipynb").read_text(encoding="utf-8"))
    return any("$" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _chapters_to_check(site: Path) -> list[Path]:
    """The welcome page and the math chapter (or the next chapter while that one is not written)."""
    pages = sorted(site.glob("[0-9][0-9]_*.html"))
    maths = [p for p in pages if p.stem.startswith("04")]
    return pages[:1] + (maths or pages[1:2])


def test_chapters_render_figures_and_math_with_no_failed_request(site, page, artifacts):
    for chapter in _chapters_to_check(site):
        # Known gap: MathJax 2's HTML-CSS output asks for two TeX web fonts (Script, AMS) that
        # jupyter-server-mathjax does not ship (it ships STIX-Web only); the math still renders from STIX-Web.
        problems = PageProblems(page, ignore_failed=(f"{(site / 'mathjax/fonts/HTML-CSS/TeX/otf').as_uri()}/",))
        page.goto(chapter.as_uri())
        page.wait_for_load_state("load")
        _wait_for_mathjax(page)
        page.screenshot(path=str(artifacts / f"site_{chapter.stem}.png"))
        images = page.locator(".jp-RenderedImage img")
        assert images.count() >= 1, f"{chapter.name}: no figures"
        widths = images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
        assert min(widths) > 0, f"{chapter.name}: a figure failed to load"
        if has_math(chapter):
            assert page.locator(".MathJax_CHTML, .MathJax, mjx-container").count() > 0, f"{chapter.name}: math not typeset"
        assert problems.failed == [], problems.failed
        assert problems.errors == [], problems.errors
        assert page.locator("nav.aigc-nav a", has_text="Course index").count() == 1
