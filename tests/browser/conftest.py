"""Fixtures for tests that look at the course the way a learner does: in JupyterLab, in a real browser.

Chromium is Debian's (`/usr/bin/chromium`, installed by `make test` where apt-get is available);
Playwright drives it through `executable_path`, so no browser is downloaded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config, items):
    reason = None
    if chromium_path() is None:
        reason = "no chromium on PATH (make test installs Debian's chromium where apt-get is available)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (pip install -e '.[test]')"
    for item in items:
        if "browser" in item.keywords and reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


class PageProblems:
    """Collects what a learner would see go wrong: JavaScript errors and failed requests."""

    def __init__(self, page, ignore_failed=()):
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        # about:blank is MathJax's own scratch frame, not a load from anywhere.
        ignore = ("about:blank", *ignore_failed)
        page.on("requestfailed", lambda r: None if any(r.url.startswith(s) for s in ignore)
                else self.failed.append(f"{r.url} ({r.failure})"))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A JupyterLab server on a free loopback port, on a copy of the notebooks; yields (url, token, root)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "course"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    dirs = {name: base / name.lower() for name in
            ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR",
             "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR")}
    for d in dirs.values():
        d.mkdir()
    news = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "PYTHONPATH": str(ROOT)}
    port, token = _free_port(), secrets.token_hex(16)
    log = open(base / "lab.log", "wb")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabServerApp.open_browser=False"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("JupyterLab did not start:\n" + (base / "lab.log").read_text()[-3000:]) from None
            time.sleep(0.5)
    yield url, token, root
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def shut_down_kernels(lab) -> None:
    """Shut down every kernel of the lab server (a learner's closed tab leaves its kernel running)."""
    url, token, _ = lab
    with urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=10) as r:
        kernels = json.load(r)
    for kernel in kernels:
        request = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture(autouse=True)
def _kernels_end_with_their_test(request):
    """Each browser test's kernel ends with it, so trained models do not pile up in memory on one server."""
    yield
    if "lab" in request.fixturenames:
        shut_down_kernels(request.getfixturevalue("lab"))

