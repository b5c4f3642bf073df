"""One instructor notebook -> a student notebook plus a grader bundle (public and hidden tests).

Markers in the instructor notebook's code cells:

    ### BEGIN SOLUTION        the lines up to END SOLUTION are the solution; the student gets
    ...                       `# YOUR CODE HERE` + `raise NotImplementedError(...)`, same indent
    ### END SOLUTION
    ### PUBLIC TESTS          (first line of a cell) tests the learner runs with check("q1");
                              the cell is kept, collapsed, in the student notebook
    ### HIDDEN TESTS          (first line of a cell) tests only the grader runs; removed from
                              the student notebook, stored in the bundle

Markdown cells may hold `<!-- BEGIN SOLUTION -->` ... `<!-- END SOLUTION -->` (removed for students).

The notebook's metadata may name, under "aigc_course": {"reference_modules": [...]}, course modules that
already solve a question (beyond those the hidden tests import): a submission that uses them earns no
points for the functions it was asked to write (see ``provenance``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import nbformat

from aigc_course.grading import provenance
from aigc_course.grading.check import collect_tests
from aigc_course.utils import write_atomic

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PUBLIC, HIDDEN = "### PUBLIC TESTS", "### HIDDEN TESTS"
BUNDLE_FORMAT = 1
_MD_SOLUTION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)


class AuthoringError(ValueError):
    """The instructor notebook's markers are malformed; the message names the cell."""


def cell_kind(source: str) -> str:
    """Return 'public', 'hidden' or 'code' from a code cell's first line."""
    first = source.lstrip().splitlines()[0].strip() if source.strip() else ""
    return {PUBLIC: "public", HIDDEN: "hidden"}.get(first, "code")


def strip_solution(source: str, where: str = "a cell") -> str:
    """Replace every BEGIN/END SOLUTION block by a stub that raises NotImplementedError."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise AuthoringError(f"{where}: nested {BEGIN}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError(\"replace this line with your code\")")
        elif stripped == END:
            if not inside:
                raise AuthoringError(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def remove_markers(source: str) -> str:
    """Return the instructor's code with the marker lines removed (the solution as it runs)."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def split_notebook(nb) -> tuple:
    """Return (student notebook, public test sources, hidden test sources)."""
    student = nbformat.v4.new_notebook(metadata=nb.metadata)
    public, hidden = [], []
    for i, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            kind = cell_kind(cell.source)
            if kind == "hidden":
                hidden.append(cell.source)
                continue
            if kind == "public":
                public.append(cell.source)
                new = nbformat.v4.new_code_cell(cell.source)
                new.metadata["jupyter"] = {"source_hidden": True}
                new.metadata["tags"] = ["public-tests"]
            else:
                new = nbformat.v4.new_code_cell(strip_solution(cell.source, f"cell {i}"))
            student.cells.append(new)
        elif cell.cell_type == "markdown":
            student.cells.append(nbformat.v4.new_markdown_cell(_MD_SOLUTION.sub("", cell.source)))
        else:
            student.cells.append(cell)
    return student, public, hidden


def code_cells(path: str | os.PathLike) -> list[str]:
    """Return the code the grader runs for a notebook: every code cell, test cells blanked, markers removed.

    Raises ValueError when the file is not a readable notebook.
    """
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:
        raise ValueError(f"not a valid notebook file ({type(e).__name__}: {str(e)[:200]})") from None
    cells = []
    for cell in nb.cells:
        source = cell.get("source", "")
        if cell.get("cell_type") == "code":
            ok = isinstance(source, str) and cell_kind(source) == "code"
            cells.append(remove_markers(source) if ok else "")  # keep numbering: "code cell 4" = the 4th
    return cells


def build_assignment(instructor: str | os.PathLike, out: str | os.PathLike) -> tuple[Path, Path]:
    """Write OUT/<name>.ipynb (for students) and OUT/<name>.grader/ (the bundle); return both paths."""
    instructor = Path(instructor)
    nb = nbformat.read(str(instructor), as_version=4)
    name = instructor.stem.removesuffix(".instructor").removesuffix("_instructor")
    student, public, hidden = split_notebook(nb)
    if not public and not hidden:
        raise AuthoringError(f"{instructor}: no cell starts with {PUBLIC} or {HIDDEN}")
    tests = collect_tests(public, hidden)
    questions: dict[str, float] = {}
    for t in tests:
        questions[t.question] = questions.get(t.question, 0.0) + t.points
    out = Path(out)
    student_path = out / f"{name}.ipynb"
    write_atomic(student_path, nbformat.writes(student))
    bundle = out / f"{name}.grader"
    bundle.mkdir(parents=True, exist_ok=True)
    os.chmod(bundle, 0o700)
    instructor_code = [c.source for c in nb.cells if c.cell_type == "code" and cell_kind(c.source) == "code"]
    given_code = [c.source for c in student.cells if c.cell_type == "code" and cell_kind(c.source) == "code"]
    meta = {"format": BUNDLE_FORMAT, "name": name,
            "questions": dict(sorted(questions.items(), key=lambda kv: _natural(kv[0]))),
            "public_tests": public, "hidden_tests": hidden,
            # points for the student's own work (see provenance): what a submission must define, and may not import
            "graded": sorted(provenance.solution_functions(instructor_code, BEGIN)),
            "reference_modules": sorted(set(provenance.reference_modules(hidden, given_code))
                                        | set(nb.metadata.get("aigc_course", {}).get("reference_modules", []))),
            "source_sha256": hashlib.sha256(instructor.read_bytes()).hexdigest()}
    write_atomic(bundle / "assignment.json", json.dumps(meta, indent=1), mode=0o600)
    return student_path, bundle


def _natural(name: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
