import json
import re
from pathlib import Path

import pytest

from aigc_course.glossary import GLOSSARY, chinese, glossary_markdown, glossary_rows


def test_chinese_lookup_raises_for_a_term_outside_the_glossary():
    with pytest.raises(KeyError):
        chinese("not a term")


def test_no_concept_has_two_chinese_terms_in_the_glossary():
    chinese_terms = [zh for _, zh, _ in GLOSSARY]
    assert len(chinese_terms) == len(set(chinese_terms))


OWN_NOTEBOOKS = ("00_welcome", "01_background", "02_core_concepts", "03_algorithms", "04_math", "09_summary")
# Chinese words a chapter might use for mode collapse; the course uses one of them, the glossary's.
MODE_COLLAPSE_VARIANTS = ("模式崩塌", "模式崩溃", "模式坍塌", "模式坍缩")


@pytest.mark.parametrize("name", OWN_NOTEBOOKS)
def test_notebook_uses_the_glossarys_chinese_term_for_mode_collapse_only(name):
    text = (Path(__file__).parents[1] / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
    used = {variant for variant in MODE_COLLAPSE_VARIANTS if variant in text}
    assert used <= {chinese("mode collapse")}, used


@pytest.mark.parametrize("name", OWN_NOTEBOOKS)
def test_every_glossary_term_in_a_notebook_heading_has_its_chinese_term_in_that_notebook(name):
    nb = json.loads((Path(__file__).parents[1] / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(cell["source"]) for cell in nb["cells"])
    markdown = "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown")
    headings = "\n".join(line for line in markdown.splitlines() if line.startswith("#")).lower()
    for en, zh, _ in GLOSSARY:
        short = re.sub(r" \(.*\)$", "", en).lower()        # "generative adversarial network (GAN)" -> without "(GAN)"
        if re.search(rf"\b{re.escape(short)}\b", headings):
            assert zh in text, f"{name}: heading names {en!r} but {zh} never appears"


def test_english_terms_are_unique_and_every_row_is_complete():
    english = [en for en, _, _ in GLOSSARY]
    assert len(english) == len(set(english))
    assert all(en and zh and meaning for en, zh, meaning in GLOSSARY)


def test_markdown_table_has_one_line_per_chosen_term():
    table = glossary_markdown(["generator", "discriminator"])
    assert table.count("\n") == 3 and "生成器" in table and "判别器" in table
    assert len(glossary_rows()) == len(GLOSSARY)


def test_markdown_table_rows_have_exactly_three_cells_even_when_a_meaning_holds_a_bar(monkeypatch):
    from aigc_course import glossary

    monkeypatch.setattr(glossary, "GLOSSARY", (*GLOSSARY, ("bar test", "竖线", "p(y | x) written with a bar")))
    table = glossary.glossary_markdown()
    assert "p(y \\| x)" in table
    for line in table.splitlines():
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        assert len(cells) == 3, line


def test_every_meaning_that_states_a_formula_is_written_in_latex_in_the_table():
    from aigc_course.glossary import MATH

    assert set(MATH) <= {en for en, _, _ in GLOSSARY}
    for en, _, meaning in GLOSSARY:
        if re.search(r"(?<!')\b[b-z]\b|=", meaning):          # a symbol such as x, z, p(x), or an equation
            assert en in MATH and "$" in MATH[en], f"{en!r} states a formula in plain text only"
        if en in MATH:
            # the LaTeX row says what the plain meaning (the dialogue's answer) says: every longer word recurs
            missing = [w for w in re.findall(r"[a-z]{5,}", meaning) if w not in MATH[en]]
            assert not missing, (en, missing)
            assert "|" not in MATH[en] and MATH[en].count("$") % 2 == 0, en
    assert "$" in glossary_markdown(["KL divergence"]) and "E_q" not in glossary_markdown(["KL divergence"])
