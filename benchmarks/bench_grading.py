#!/usr/bin/env python
"""How long does grading a class take? Grade N generated submissions of one assignment.

    python benchmarks/bench_grading.py                       # 100 submissions of ex1_math, 2 workers
    python benchmarks/bench_grading.py --assignment ex2_gan --n 10

The submissions are the instructor's solution, the untouched stub, a solution with one wrong
formula, and a solution that prints a lot, in rotation. Prints wall-clock seconds (total and per
submission) and the CPU seconds of the grader and everything it started; on a shared machine,
CPU seconds / workers estimates the wall-clock time on a quiet one. Target: 100 submissions in
at most 180 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import nbformat

from aigc_course.grading.authoring import build_assignment
from aigc_course.grading.grade import grade_folder

ROOT = Path(__file__).resolve().parents[1]


def make_submissions(instructor: Path, student: Path, folder: Path, n: int) -> None:
    """Write n notebooks: solution, stub, one wrong formula, noisy solution, in rotation."""
    sol = nbformat.read(str(instructor), as_version=4)
    stub = nbformat.read(str(student), as_version=4)
    for i in range(n):
        kind = i % 4
        nb = stub if kind == 1 else nbformat.from_dict(sol)
        if kind == 2:  # a classic slip: drop the 1/2 (or the first '0.5 *' wherever it appears)
            for cell in nb.cells:
                if cell.cell_type == "code" and "0.5 *" in cell.source and "TESTS" not in cell.source:
                    cell.source = cell.source.replace("0.5 *", "1.0 *", 1)
                    break
        if kind == 3:
            nb = nbformat.from_dict(nb)
            nb.cells.append(nbformat.v4.new_code_cell("for i in range(2000):\n    print('step', i)"))
        nbformat.write(nb, str(folder / f"student{i:03d}.ipynb"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", default="ex1_math")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    instructor = ROOT / "exercises" / f"{args.assignment}.instructor.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        student, bundle = build_assignment(instructor, tmp / "assigned")
        subs = tmp / "subs"
        subs.mkdir()
        make_submissions(instructor, student, subs, args.n)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        summary = grade_folder(subs, bundle, tmp / "out", workers=args.workers, progress=False)
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(cpu0, cpu1, strict=True))
        totals = sorted({line.split(",")[-3] for line in (tmp / "out" / "grades.csv").read_text().splitlines()[1:]})
    print(f"{args.assignment}: graded {summary['graded']} submissions with {args.workers} workers "
          f"(isolation: {', '.join(summary['isolation'])}; distinct totals {totals})")
    print(f"wall {wall:.1f} s = {wall / args.n:.2f} s per submission; CPU {cpu:.1f} s "
          f"-> quiet-machine estimate {cpu / args.workers:.1f} s ({cpu / args.workers / args.n:.2f} s per submission)")
    print(f"target: 100 submissions <= 180 s on 2 cores -> {'OK' if cpu / args.workers <= 180 * args.n / 100 else 'OVER'}")


if __name__ == "__main__":
    main()
