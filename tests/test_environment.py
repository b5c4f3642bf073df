"""environment.yml (conda) and pyproject.toml (pip) must name the same dependencies and ranges."""

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(_split(r) for r in reqs)


def conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = {}
    for item in env["dependencies"]:
        entries = item["pip"] if isinstance(item, dict) else [item]
        for entry in entries:
            if entry.startswith("-e") or entry in ("pip",) or entry.startswith("python"):
                continue
            name, spec = _split(entry)
            found[name] = spec
    return found


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    assert conda_requirements() == pip_requirements()


def test_environment_yml_installs_the_course_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip_section


def test_declared_torch_ranges_admit_the_reference_versions():
    from packaging.specifiers import SpecifierSet

    reqs = pip_requirements()
    assert "2.14.1" in SpecifierSet(reqs["torch"])
    assert "0.29.1" in SpecifierSet(reqs["torchvision"])
