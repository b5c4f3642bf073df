"""Driving JupyterLab as a learner does: open a notebook, wait for the kernel, run cells, read outputs."""

from __future__ import annotations

import time

KERNEL_IDLE = "#jp-main-statusbar >> text=Idle"


def open_notebook(page, lab, name: str, timeout_s: float = 90):
    """Open notebooks/`name` in JupyterLab and wait until its kernel reports Idle."""
    url, token, _ = lab
    page.goto(f"{url}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    page.wait_for_selector(KERNEL_IDLE, timeout=timeout_s * 1000)


def run_all(page, timeout_s: float = 240):
    """Run every cell from the Run menu and wait until none is pending and the kernel is idle."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    wait_until_done(page, timeout_s)


def wait_until_done(page, timeout_s: float = 240):
    """Wait until no cell shows the pending prompt [*] and the status bar says Idle."""
    deadline = time.time() + timeout_s
    time.sleep(1.0)
    while time.time() < deadline:
        pending = page.locator(".jp-InputPrompt", has_text="[*]").count()
        if pending == 0 and page.locator(KERNEL_IDLE).count() > 0:
            return
        time.sleep(0.5)
    raise TimeoutError(f"cells still running after {timeout_s} s")


def error_outputs(page) -> list[str]:
    """Return the text of every error output (tracebacks) on the page."""
    return page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Error"), '
                        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()


def run_code_in_new_cell(page, code: str, timeout_s: float = 120):
    """Append a code cell at the end of the notebook, type `code` into it and run it."""
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # command mode: insert a cell below
    page.keyboard.press("Enter")  # edit mode
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    wait_until_done(page, timeout_s)


def slider(page, description: str):
    """The slider widget whose label reads `description` (the last one on the page)."""
    return page.locator(".widget-slider", has=page.locator(".widget-label", has_text=description)).last


def nudge_slider(page, description: str, presses: int = 3, key: str = "ArrowRight") -> None:
    """Move a slider with the keyboard as a learner can: focus its handle, press `key` `presses` times."""
    handle = slider(page, description).locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    time.sleep(0.3)


def slider_readout(page, description: str) -> str:
    """The value the slider shows next to it."""
    return slider(page, description).locator(".widget-readout").inner_text()


def wait_for_change(read, before, timeout_s: float = 60):
    """Poll `read()` until it differs from `before`; return the new value (or the old one at timeout)."""
    deadline = time.time() + timeout_s
    now = read()
    while now == before and time.time() < deadline:
        time.sleep(0.5)
        now = read()
    return now
