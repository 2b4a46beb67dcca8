"""What the distributions declare: the Pythons they claim, and the oldest dependencies CI tests."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.paths import ROOT

PYPROJECTS = sorted(
    [ROOT / "pyproject.toml", *ROOT.glob("*/pyproject.toml"), *ROOT.glob("instrumentors/*/pyproject.toml")]
)
OLDEST = ROOT / "requirements" / "oldest.txt"


def _array(pyproject: Path, key: str) -> list[str]:
    """The strings of the top-level TOML array ``key = [...]`` in ``pyproject`` (tomllib is 3.11+)."""
    text = pyproject.read_text()
    found = re.search(rf"^{key} = \[(.*)\]$", text, flags=re.M) or re.search(
        rf"^{key} = \[$(.*?)^\]", text, flags=re.S | re.M
    )
    assert found, f"{pyproject} has no {key}"
    return re.findall(r'"([^"]+)"', found.group(1))


def _python_classifiers(pyproject: Path) -> list[str]:
    prefix = "Programming Language :: Python :: 3."
    return [c.removeprefix("Programming Language :: Python :: ") for c in _array(pyproject, "classifiers")
            if c.startswith(prefix) and c[len(prefix):].isdigit()]


def test_every_distribution_names_the_same_pythons_and_this_one_among_them() -> None:
    assert len(PYPROJECTS) >= 3  # the core and its two instrumentors at least
    claimed = {str(path.relative_to(ROOT)): _python_classifiers(path) for path in PYPROJECTS}
    assert all(versions == claimed["pyproject.toml"] for versions in claimed.values()), claimed
    # `make test-pythons` runs the suite on each Python it finds: one not named here is untested so far.
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert this in claimed["pyproject.toml"], f"tested on Python {this}: add its classifier to every pyproject.toml"


def test_oldest_pins_the_floor_of_every_opentelemetry_and_wrapt_requirement() -> None:
    pins: dict[str, str] = {}
    for line in OLDEST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name] = spec.version
    floors: dict[str, set[str]] = {}
    for path in PYPROJECTS:
        for line in _array(path, "dependencies"):
            requirement = Requirement(line)
            if requirement.name.startswith("opentelemetry-") or requirement.name == "wrapt":
                (floor,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
                floors.setdefault(requirement.name, set()).add(floor)
    assert floors.keys() == pins.keys()
    for name, found in floors.items():
        assert len(found) == 1, f"{name} has different floors across the pyproject.toml files: {found}"
        (floor,) = found
        assert Version(pins[name]) == Version(floor), (
            f"requirements/oldest.txt pins {name}=={pins[name]}, the pyproject floor is {floor}"
        )
