from aigc_course.codegen import NGramModel, line_parses, parse_share, snippet_parse_share


def test_block_openers_and_continuations_parse_out_of_context():
    for line in ["def f(x):", "    return x + 1", "elif y > 2:", "else:", "except ValueError:", "x = [1, 2]"]:
        assert line_parses(line), line
    for line in ["def f(x", "x = = 2", "return )", "if x"]:
        assert not line_parses(line), line


def test_parse_share_counts_non_blank_lines():
    assert parse_share("x = 1\n\n y = (\nz = 2\n") == 2 / 3
    assert parse_share("") == 0.0


def test_snippet_parse_share_drops_each_snippets_cut_last_line():
    # the last lines ("y = (" and "retur") were cut by the length limit and are not scored
    assert snippet_parse_share(["x = 1\ny = (", "z = 2\nw = [\nretur"]) == 2 / 3


def test_ngram_sampling_is_deterministic_and_copies_at_high_order():
    text = "abcabcabcabd" * 10
    m = NGramModel(text, 4)
    assert m.sample("ab", 30, seed=1) == m.sample("ab", 30, seed=1)
    assert "abc" in m.sample("ab", 30, seed=1)
    assert NGramModel(text, 1).bits_per_char(text) > m.bits_per_char(text)
