#!/usr/bin/env python
"""Execute course notebooks top to bottom with nbclient, one progress line each.

  python tools/run_notebooks.py --out build            # `make book`: executed copies in build/, site in build/site/
  python tools/run_notebooks.py --inplace NB.ipynb ... # refresh stored outputs (`make refresh NB=...`)

Each notebook's time is printed against its budget (metadata "aigc_course"/"budget_s"),
so a chapter that drifts over budget is visible at once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from static_view import add_static_fallbacks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUDGET_S = 300
CELL_TIMEOUT_S = 450


def budget_of(nb) -> int:
    """Return the notebook's time budget in seconds (metadata aigc_course.budget_s, default 300)."""
    return int(nb.metadata.get("aigc_course", {}).get("budget_s", DEFAULT_BUDGET_S))


def execute(path: Path, cwd: Path | None = None):
    """Execute the notebook at `path` in a fresh kernel; return (notebook, seconds)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    t = time.perf_counter()
    # The kernel's own stderr (start-up chatter such as ipykernel's transport warning) goes to a log,
    # not the terminal; cell errors still arrive through the kernel protocol and fail the run.
    log = Path(tempfile.gettempdir()) / "aigc_course_kernel.log"
    with open(log, "ab") as stderr:
        try:
            client.execute(stderr=stderr)
        except Exception:
            # Keep what ran, with the failing cell's traceback, where the reader can open it.
            failed = ROOT / "build" / "failed" / path.name
            failed.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, failed)
            print(f"(partial run with the error saved to {failed.relative_to(ROOT)})", end=" ", flush=True)
            raise
    seconds = time.perf_counter() - t
    add_static_fallbacks(nb)   # progress bars at their last state, widgets readable without a kernel
    return nb, seconds


def course_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: all chapters)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--inplace", action="store_true", help="write outputs back into the notebooks")
    mode.add_argument("--out", type=Path, help="folder for executed notebooks and their HTML")
    args = parser.parse_args(argv)

    paths = args.notebooks or course_notebooks()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    failures, total = 0, 0.0
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.name} ...", end=" ", flush=True)
        try:
            nb, seconds = execute(path)
        except Exception as e:
            failures += 1
            print(f"FAILED: {type(e).__name__}: {str(e).strip().splitlines()[-1][:200] if str(e).strip() else ''}")
            continue
        total += seconds
        budget = budget_of(nb)
        flag = "ok" if seconds <= budget else "OVER BUDGET"
        print(f"{seconds:6.1f} s (budget {budget} s, {flag})", flush=True)
        if args.inplace:
            nbformat.write(nb, path)
        else:
            nbformat.write(nb, args.out / path.name)
    print(f"{len(paths) - failures}/{len(paths)} notebooks ran in {total:.0f} s"
          + (f" -> {args.out}" if args.out else ""))
    if args.out:
        from build_site import build_site

        pages = build_site(args.out / "site", args.out)
        print(f"offline site: {args.out / 'site' / 'index.html'} ({len(pages)} chapters)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
