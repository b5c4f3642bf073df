"""Points for the student's own work: which functions a question grades, and which code may not be borrowed.

Two ways to score without solving, both found by a red team, both decided here from source text only
(the grader reads the submission; it never trusts what the submission's process says about itself):

- **Re-exporting the reference.** The course's package already holds reference versions of several
  exercise functions (``aigc_course.losses.elbo``, ...). The hidden tests import them to compare; a
  submission that imports them too (``from aigc_course.losses import elbo``, or by name in a string for
  ``importlib``) has not written the function. The forbidden modules are derived, not listed by hand:
  the course modules the hidden tests import, minus those the student notebook's own given code uses.
- **Binding instead of defining.** A graded function (one whose body the instructor marked as the
  solution) must be defined with ``def`` or ``class`` in the submission, not assigned or imported.

A determined student can still obtain reference code in ways no static reading catches (decoding a
module name at run time, copying the package's source by hand); the hidden tests' random inputs and
the exercises' questions that the package does not answer are the other half of the defence.
"""

from __future__ import annotations

import ast
import re

_STUDENT_ATTR = re.compile(r"\bstudent\.(?:get|has)\(\s*[\"'](\w+)[\"']|\bstudent\.(\w+)")


def names_used_by_tests(source: str) -> frozenset[str]:
    """Return the notebook names a test cell's source asks the student for (`student.f(...)`, `student.get("G")`)."""
    return frozenset(a or b for a, b in _STUDENT_ATTR.findall(source)) - {"get", "has"}


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def imported_course_modules(sources: list[str]) -> set[str]:
    """Return the `aigc_course...` modules imported anywhere in `sources` (cells that do not parse are skipped)."""
    found: set[str] = set()
    for src in sources:
        tree = _parse(src)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("aigc_course"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aigc_course"):
                found.add(node.module)
    return found


def solution_functions(sources: list[str], begin: str) -> set[str]:
    """Return the names of the functions and classes whose body holds a `begin` solution marker."""
    names: set[str] = set()
    for src in sources:
        tree = _parse(src)
        lines = src.splitlines()
        for node in tree.body if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                body = lines[node.lineno - 1: node.end_lineno]
                if any(line.strip() == begin for line in body):
                    names.add(node.name)
    return names


def reference_modules(hidden_tests: list[str], given_code: list[str]) -> list[str]:
    """Return the course modules a submission may not use: those the hidden tests import, minus the given code's."""
    allowed = imported_course_modules(given_code) | {"aigc_course", "aigc_course.grading", "aigc_course.grading.check"}
    return sorted(imported_course_modules(hidden_tests) - allowed)


def borrowed(cells: list[str], graded: set[str], forbidden: list[str]) -> dict[str, str]:
    """Return {graded name: why it earns no points} for a submission's code cells.

    A name is listed when the submission imports a forbidden module (every graded name is then listed:
    any of them may call into it), or when the name is bound at the top level other than by def/class.
    """
    why: dict[str, str] = {}
    trees = [(i, _parse(src)) for i, src in enumerate(cells, 1)]
    for i, tree in trees:
        if tree is None:
            continue
        for node in ast.walk(tree):
            mods: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                mods = [node.value]
            elif isinstance(node, ast.Attribute):
                mods = [ast.unparse(node)] if isinstance(node.value, (ast.Name, ast.Attribute)) else []
            for mod in mods:
                hit = next((f for f in forbidden if mod == f or mod.startswith(f + ".") or f in mod), None)
                if hit:
                    for name in graded:
                        why.setdefault(name, f"code cell {i} uses {hit}, the course's reference for this "
                                              "exercise: the points are for writing it yourself")
    for i, tree in trees:
        for node in tree.body if tree else ():
            targets: list[str] = []
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    targets += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = [(a.asname or a.name).split(".")[0] for a in node.names]
            for name in set(targets) & graded:
                why.setdefault(name, f"code cell {i} binds `{name}` without defining it with def or class: "
                                     "write the function itself")
    return why
