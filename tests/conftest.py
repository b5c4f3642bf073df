import pytest


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty course cache folder for this test only."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("AIGC_CACHE", str(folder))
    monkeypatch.delenv("AIGC_DATA", raising=False)
    return folder
