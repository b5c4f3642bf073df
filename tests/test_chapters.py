from pathlib import Path

from aigc_course.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]


def test_every_notebook_on_disk_is_in_the_chapter_map():
    on_disk = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]*.ipynb")}
    listed = {c.notebook for c in CHAPTERS}
    assert on_disk <= listed, f"add {sorted(on_disk - listed)} to aigc_course/chapters.py"


def test_readme_chapter_table_lists_every_chapter():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c.notebook for c in CHAPTERS if c.notebook not in readme]
    assert not missing, f"README.md's chapter table lacks {missing}"


def test_every_exercise_is_linked_from_the_chapter_it_practises():
    import json

    named = {c.exercise: c.notebook for c in CHAPTERS if c.exercise}
    on_disk = {p.name for p in (ROOT / "exercises").glob("*.instructor.ipynb")}
    assert set(named) == on_disk, (f"exercises without a chapter: {sorted(on_disk - set(named))}; "
                                   f"chapters naming a missing exercise: {sorted(set(named) - on_disk)}")
    for exercise, notebook in named.items():
        cells = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
        markdown = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert f"exercises/{exercise}" in markdown, f"{notebook} should point learners to exercises/{exercise}"
