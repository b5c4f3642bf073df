import pytest

from aigc_course.glossary import GLOSSARY, chinese, glossary_markdown, glossary_rows


def test_key_terms_carry_the_articles_chinese_terms():
    assert chinese("generative adversarial network (GAN)") == "生成对抗网络"
    assert chinese("variational autoencoder (VAE)") == "变分自编码器"
    assert chinese("pre-training") == "预训练"
    with pytest.raises(KeyError):
        chinese("not a term")


def test_english_terms_are_unique_and_every_row_is_complete():
    english = [en for en, _, _ in GLOSSARY]
    assert len(english) == len(set(english))
    assert all(en and zh and meaning for en, zh, meaning in GLOSSARY)


def test_markdown_table_has_one_line_per_chosen_term():
    table = glossary_markdown(["generator", "discriminator"])
    assert table.count("\n") == 3 and "生成器" in table and "判别器" in table
    assert len(glossary_rows()) == len(GLOSSARY)


def test_markdown_table_rows_have_exactly_three_cells_even_when_a_meaning_holds_a_bar():
    import re

    table = glossary_markdown()
    assert any("\\|" in line for line in table.splitlines()), "no row holds a | (the test would prove nothing)"
    for line in table.splitlines():
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        assert len(cells) == 3, line
