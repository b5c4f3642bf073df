import ast
import warnings

import pytest

from aigc_course.codegen import (
    line_parses,
    novelty,
    parse_share,
    real_snippets,
    snippet_parse_share,
    stdlib_code,
)


def test_block_openers_and_continuations_parse_out_of_context():
    for line in ["def f(x):", "    return x + 1", "elif y > 2:", "else:", "except ValueError:", "x = [1, 2]"]:
        assert line_parses(line), line
    for line in ["def f(x", "x = = 2", "return )", "if x"]:
        assert not line_parses(line), line


def test_try_and_decorator_lines_get_the_block_they_need():
    for line in ["try:", "    @classmethod", "@property"]:
        assert line_parses(line), line
    assert not line_parses("@")


def test_garbage_is_judged_without_syntax_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert line_parses("x = 1if y else 2")   # valid, but the parser warns "invalid decimal literal"


def test_stdlib_code_drops_docstrings_and_comments_and_still_parses():
    code = stdlib_code(("colorsys",))
    assert code == stdlib_code(("colorsys",))
    assert "#" not in code and '"""' not in code
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)):
            assert ast.get_docstring(node) is None
    assert "def rgb_to_hsv" in code
    assert parse_share(code) == 1.0   # ast.unparse writes one statement per line


def test_real_snippets_start_at_line_starts_and_fail_clearly_on_short_text():
    text = "".join(f"x{i} = {i}\n" for i in range(200))
    snippets = real_snippets(text, 10, 20)
    assert len(snippets) == 10 and all(s.startswith("\n") and len(s) == 21 for s in snippets)
    assert snippet_parse_share(snippets) == 1.0
    with pytest.raises(ValueError, match="too short"):
        real_snippets("x = 1\n", 10, 20)


def test_parse_share_counts_non_blank_lines():
    assert parse_share("x = 1\n\n y = (\nz = 2\n") == 2 / 3
    assert parse_share("") == 0.0


def test_snippet_parse_share_drops_each_snippets_cut_last_line():
    # the last lines ("y = (" and "retur") were cut by the length limit and are not scored
    assert snippet_parse_share(["x = 1\ny = (", "z = 2\nw = [\nretur"]) == 2 / 3


def test_novelty_counts_snippets_not_copied_from_the_training_source():
    source = "def f(x):\n    return x + 1\n\ndef g(y):\n    return y * 2\n"
    copied, fresh = "\n    return x + 1", "\n    return z - 3"
    assert novelty([copied, fresh], source) == 0.5
    assert novelty(real_snippets(source * 20, 5, 12), source * 20) == 0.0   # real training snippets: all copies
    assert novelty([], source) == 0.0


def test_novelty_with_a_span_flags_any_copied_run():
    source = "def f(x):\n    return x + 1\n"
    partly = "\n    return x + 1 if ok else q(z)"   # not found whole, but 12 of its characters are copied
    assert novelty([partly], source) == 1.0
    assert novelty([partly], source, span=12) == 0.0
    assert novelty(["zzzz zzzz zzzz"], source, span=5) == 1.0
    assert novelty(["x + 1"], source, span=12) == 0.0          # shorter than the span: judged whole
    with pytest.raises(ValueError):
        novelty(["x"], source, span=0)
