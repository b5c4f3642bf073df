from aigc_course.resources import (
    ARTICLE_ERRATA,
    REFERENCES,
    cite,
    errata_markdown,
    get,
    references_markdown,
)


def test_every_reference_is_complete_and_keys_are_unique():
    keys = [r.key for r in REFERENCES]
    assert len(keys) == len(set(keys))
    for r in REFERENCES:
        assert r.authors and r.title and r.venue and r.link and 1990 < r.year < 2030


def test_improved_techniques_is_salimans_2016_not_dutta_2019():
    r = get("salimans2016improved")
    assert r.year == 2016 and r.authors.startswith("Tim Salimans") and "1606.03498" in r.link
    assert "Dutta" not in "".join(x.authors for x in REFERENCES)
    assert any("Dutta" in said for said, _ in ARTICLE_ERRATA)


def test_markdown_helpers():
    assert cite("kingma2013vae").startswith("Diederik P. Kingma, Max Welling (2013)")
    assert references_markdown("chapter 08").count("\n") >= 5
    assert errata_markdown().count("**The article says**") == len(ARTICLE_ERRATA)
