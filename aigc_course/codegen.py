"""Generating code, measured: does a character model of Python source write lines that parse?

The metric is the **parse share**: the share of generated non-blank lines that Python's own parser
(``ast.parse``) accepts as a statement on its own. A line is judged out of its block, so small
repairs put it in a neutral context: a block opener (``def f(x):``, ``for ...:``) gets a ``pass``
body, ``elif``/``else``/``except``/``finally`` lines get the statement they continue, ``try:``
gets its ``except``, and a decorator line the function it decorates.
Lines inside a multi-line string or a bracket that spans lines fail, for real code as for
generated code, so the share of real held-out source is the ceiling to compare with.

The corpus is code only (`stdlib_code`): the standard-library modules parsed and written back by
``ast.unparse`` after the docstrings are removed (unparse drops the comments), so the model learns Python rather than the
English prose around it.

Parse share rewards copying: a "generator" that returns snippets of its training source verbatim parses
as well as real code. So every generator is also scored by its **novelty** (`novelty`): the share of its
snippets that do not occur verbatim in the training source (whole, or as any run of `span` characters).
"""

from __future__ import annotations

import ast
import warnings

from .text import stdlib_source

# The standard-library modules chapter 08 trains its code model on (450,000 characters of source, 230,000 of code).
CODE_MODULES = ("textwrap", "fractions", "statistics", "heapq", "bisect", "colorsys", "string", "calendar", "difflib",
                "pprint", "shlex", "csv", "fnmatch", "glob", "ipaddress", "dataclasses")

DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)   # nodes that can have a docstring
CONTINUATIONS = {"elif": "if x:\n    pass\n", "else": "if x:\n    pass\n",
                 "except": "try:\n    pass\n", "finally": "try:\n    pass\n"}


def stdlib_code(modules: tuple[str, ...] = CODE_MODULES) -> str:
    """Return the code of standard-library `modules` without comments and docstrings (via ``ast.unparse``)."""
    parts = []
    for name in modules:
        tree = ast.parse(stdlib_source((name,)))
        for node in ast.walk(tree):
            if isinstance(node, DOCUMENTED) and ast.get_docstring(node) is not None:
                node.body = node.body[1:] or [ast.Pass()]   # drop the docstring; keep the block valid
        parts.append(ast.unparse(tree))
    return "\n\n".join(parts)


def line_parses(line: str) -> bool:
    """Return True when `line`, taken out of its block (with the repairs above), parses as Python."""
    s = line.strip()
    if s.endswith(":"):
        s += "\n    pass"
    first = s.split(maxsplit=1)[0].rstrip(":") if s else ""
    s = CONTINUATIONS.get(first, "") + s
    if first == "try":
        s += "\nexcept Exception:\n    pass"
    elif s.startswith("@"):
        s += "\ndef f():\n    pass"
    try:
        with warnings.catch_warnings():   # generated text triggers SyntaxWarnings ("invalid decimal literal")
            warnings.simplefilter("ignore", SyntaxWarning)
            ast.parse(s)
    except (SyntaxError, ValueError):
        return False
    return True


def parse_share(text: str) -> float:
    """Return the share of the non-blank lines of `text` that parse on their own, in [0, 1] (0 if none)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return sum(map(line_parses, lines)) / len(lines) if lines else 0.0


def snippet_parse_share(snippets: list[str]) -> float:
    """Return the parse share of generated snippets, each without its last line (cut off mid-way by the length limit)."""
    return parse_share("\n".join(s.rsplit("\n", 1)[0] for s in snippets))


def real_snippets(text: str, count: int, length: int) -> list[str]:
    """Return `count` snippets of real code taken like generated ones: a newline, then `length` characters.

    The snippets start at the first newline at or after `count` evenly spaced points of `text`.
    """
    every = (len(text) - length - 1) // count
    starts = [text.find("\n", i * every) for i in range(count)]
    if every < 1 or min(starts) < 0 or max(starts) + length + 1 > len(text):
        raise ValueError(f"a text of {len(text):,} characters is too short for {count} snippets of {length}")
    return [text[s:s + length + 1] for s in starts]


def novelty(snippets: list[str], training_source: str, span: int | None = None) -> float:
    """Return the share of `snippets` not found verbatim in `training_source`, in [0, 1] (0 if there are none).

    span=None: a snippet counts as copied when the whole of it occurs in the source; span=k: when any k
    consecutive characters of it do (a snippet shorter than k counts as copied only if it occurs whole).
    """
    if not snippets:
        return 0.0
    if span is None:
        return sum(s not in training_source for s in snippets) / len(snippets)
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    seen = {training_source[i:i + span] for i in range(len(training_source) - span + 1)}

    def copied(s: str) -> bool:
        if len(s) < span:
            return s in training_source
        return any(s[i:i + span] in seen for i in range(len(s) - span + 1))

    return sum(not copied(s) for s in snippets) / len(snippets)
