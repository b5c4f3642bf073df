"""The welcome chapter, run in JupyterLab in headless Chromium, as a learner would run it."""

import pytest

from .jupyterlab import error_outputs, open_notebook, run_all

pytestmark = pytest.mark.browser


def test_welcome_notebook_runs_in_jupyterlab_and_reports_pass(lab, page, artifacts):
    from tests.browser.conftest import PageProblems

    problems = PageProblems(page)
    open_notebook(page, lab, "00_welcome.ipynb")
    run_all(page, timeout_s=180)
    page.screenshot(path=str(artifacts / "lab_00_welcome.png"), full_page=False)
    text = page.locator(".jp-Notebook").inner_text()
    assert "PASS: your environment is ready." in text
    assert error_outputs(page) == []
    # The figure of real digits rendered as an image in the output area.
    assert page.locator(".jp-RenderedImage img").count() >= 1
    assert problems.errors == [], problems.errors
