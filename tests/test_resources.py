from aigc_course.resources import (
    ARTICLE_ERRATA,
    REFERENCES,
    cite,
    cited_in,
    errata_markdown,
    get,
    references_markdown,
)


def test_every_reference_is_complete_and_keys_are_unique():
    keys = [r.key for r in REFERENCES]
    assert len(keys) == len(set(keys))
    for r in REFERENCES:
        assert r.authors and r.title and r.venue and r.link and 1950 < r.year < 2030


def test_improved_techniques_is_salimans_2016_not_dutta_2019():
    r = get("salimans2016improved")
    assert r.year == 2016 and r.authors.startswith("Tim Salimans") and "1606.03498" in r.link
    assert "Dutta" not in "".join(x.authors for x in REFERENCES)
    assert any("Dutta" in said for said, _ in ARTICLE_ERRATA)


def test_markdown_helpers():
    assert cite("kingma2013vae").startswith("Diederik P. Kingma, Max Welling (2013)")
    assert references_markdown("chapter 08").count("\n") >= 5
    assert errata_markdown().count("**The article says**") == len(ARTICLE_ERRATA)


def _course_text() -> dict[str, str]:
    import json
    from pathlib import Path

    root = Path(__file__).parents[1]
    texts = {}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts[path.name] = "\n".join("".join(c["source"]) for c in cells)
    for path in sorted((root / "aigc_course").rglob("*.py")):
        texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def test_every_work_cited_in_the_course_is_in_the_resource_table_with_its_year():
    import re

    cited = re.compile(r"([A-Z][a-zA-Z\-]+) (?:et al\.|and [A-Z][a-zA-Z\-]+|& [A-Z][a-zA-Z\-]+),? \(?((?:19|20)\d\d)\)?")
    article_errors = {("Dutta", 2019)}            # the article's wrong citation, quoted in its erratum box
    missing = []
    for name, text in _course_text().items():
        for m in cited.finditer(text):
            surname, year = m.group(1), int(m.group(2))
            if (surname, year) in article_errors:
                continue
            # the year of first release, or the year of the venue it appeared in (arXiv 2015, ICLR 2016)
            if not any(surname in r.authors and (r.year == year or str(year) in r.venue) for r in REFERENCES):
                missing.append(f"{name}: {m.group(0)}")
    assert not missing, missing


def test_no_erratum_is_listed_twice():
    said = [s for s, _ in ARTICLE_ERRATA]
    assert len(said) == len(set(said))
    import json
    from pathlib import Path

    nb = Path(__file__).parents[1] / "notebooks" / "09_summary.ipynb"
    markdown = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "markdown")
    assert "**The article says**" not in markdown, "09's errata are rendered from resources.ARTICLE_ERRATA only"


def test_every_timeline_milestone_is_in_the_resource_table_with_a_consistent_year():
    from aigc_course.timeline import milestones

    for m in milestones():
        refs = cited_in(m.citation)
        assert refs, f"chapter 01's milestone {m.model!r} cites a work missing from the resource table"
        assert all(m.year == r.year or str(m.year) in r.venue for r in refs), (m.model, m.year, refs)
