#!/usr/bin/env python
"""How long does grading a class take? Grade N generated submissions of one assignment.

    python benchmarks/bench_grading.py                       # 100 submissions of ex1_math (5 hang), 2 workers
    python benchmarks/bench_grading.py --assignment ex2_gan --n 10 --hangs 0

The submissions are the instructor's solution, the untouched stub, a solution with one wrong
formula, and a solution that prints a lot, in rotation; `--hangs` of them (spread over the class)
hang instead, alternately in a notebook cell (costs --timeout) and inside a graded function (costs
that question's --question-timeout; the next question is graded in a fresh run). Prints wall-clock
seconds (total and per submission) and the CPU seconds of the grader and everything it started.
Hangs cost wall-clock time, not CPU: on a shared machine the quiet-machine estimate is the CPU
seconds / workers plus the hangs' waiting. Target: 100 submissions with 5 hanging in at most 180 s
on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import nbformat

from aigc_course.grading.authoring import build_assignment, remove_markers
from aigc_course.grading.grade import grade_folder
from aigc_course.grading.jail import Limits

ROOT = Path(__file__).resolve().parents[1]


HANG_IN_A_CELL = "while True:\n    pass"


def hang_in_a_function(sol) -> str:
    """A cell that redefines the first graded function of the solution so that it never returns."""
    import ast

    from aigc_course.grading.authoring import BEGIN

    for cell in sol.cells:
        if cell.cell_type != "code" or BEGIN not in cell.source:
            continue
        for node in ast.parse(remove_markers(cell.source)).body:
            if isinstance(node, ast.FunctionDef):
                args = ", ".join(a.arg for a in node.args.args)
                return f"import time\ndef {node.name}({args}):\n    while True:\n        time.sleep(0.1)"
    raise ValueError("no graded function found")


def make_submissions(instructor: Path, student: Path, folder: Path, n: int, hangs: int = 0) -> None:
    """Write n notebooks: solution, stub, one wrong formula, noisy solution, in rotation; `hangs` of them hang."""
    sol = nbformat.read(str(instructor), as_version=4)
    stub = nbformat.read(str(student), as_version=4)
    hanging = {round((j + 0.5) * n / hangs) for j in range(hangs)} if hangs else set()
    for i in range(n):
        kind = i % 4
        if i in hanging:
            nb = nbformat.from_dict(sol)
            cell = HANG_IN_A_CELL if len(hanging & set(range(i))) % 2 == 0 else hang_in_a_function(sol)
            nb.cells.append(nbformat.v4.new_code_cell(cell))
            nbformat.write(nb, str(folder / f"student{i:03d}.ipynb"))
            continue
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
    ap.add_argument("--hangs", type=int, default=5, help="submissions that hang (default 5)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds for a notebook's cells (default 30)")
    ap.add_argument("--question-timeout", type=float, default=10.0, help="seconds for one question's tests")
    args = ap.parse_args()
    instructor = ROOT / "exercises" / f"{args.assignment}.instructor.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        student, bundle = build_assignment(instructor, tmp / "assigned")
        subs = tmp / "subs"
        subs.mkdir()
        make_submissions(instructor, student, subs, args.n, args.hangs)
        limits = Limits(wall_s=args.timeout, question_s=args.question_timeout,
                        cpu_s=int(args.timeout + args.question_timeout) + 5)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        summary = grade_folder(subs, bundle, tmp / "out", workers=args.workers, limits=limits, progress=False)
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(cpu0, cpu1, strict=True))
        totals = sorted({line.split(",")[-3] for line in (tmp / "out" / "grades.csv").read_text().splitlines()[1:]})
    print(f"{args.assignment}: graded {summary['graded']} submissions ({args.hangs} hanging; --timeout "
          f"{args.timeout:g}, --question-timeout {args.question_timeout:g}) with {args.workers} workers "
          f"(isolation: {', '.join(summary['isolation'])}; distinct totals {totals})")
    idle = (args.hangs // 2) * args.question_timeout  # the sleeping hangs wait without using the CPU
    quiet = (cpu + idle) / args.workers
    print(f"wall {wall:.1f} s = {wall / args.n:.2f} s per submission; CPU {cpu:.1f} s; sleeping hangs {idle:g} s "
          f"-> quiet-machine estimate {quiet:.1f} s ({quiet / args.n:.2f} s per submission)")
    print(f"target: 100 submissions <= 180 s on 2 cores -> {'OK' if quiet <= 180 * args.n / 100 else 'OVER'}")


if __name__ == "__main__":
    main()
