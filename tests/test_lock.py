"""requirements.lock and pyproject.toml agree: every requirement is met by a pin with hashes.

`make lock` writes the lock from pyproject.toml; this fails when one was changed without the
other. Read from the two files and the venv's own package metadata: no network.
"""

import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from orchestration.settings import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"
PYPROJECT = PROJECT_ROOT / "pyproject.toml"


def pins(lock_text: str) -> dict[str, tuple[Requirement, list[str]]]:
    """Each locked package by its canonical name: its line as a requirement, and its hashes."""
    found = {}
    for line in lock_text.replace("\\\n", " ").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spec, *hashes = line.split("--hash=")
        requirement = Requirement(spec.strip())
        found[canonicalize_name(requirement.name)] = (requirement, [h.strip() for h in hashes])
    return found


def requirements(pyproject: dict) -> list[Requirement]:
    """The build backend, the dependencies and every extra's, as pyproject.toml names them."""
    project = pyproject["project"]
    texts = pyproject["build-system"]["requires"] + project["dependencies"]
    texts += [text for extra in project.get("optional-dependencies", {}).values() for text in extra]
    return [Requirement(text) for text in texts]


def extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What an extra (httpx[http2]) adds, from the installed package's metadata."""
    if not requirement.extras:
        return []
    added = []
    for text in metadata.requires(requirement.name) or []:
        needed = Requirement(text)
        if (
            needed.marker
            and any(needed.marker.evaluate({"extra": e}) for e in requirement.extras)
            and not needed.marker.evaluate({"extra": ""})
        ):
            needed.marker = None  # it applies here: the extra is asked for, the platform fits
            added.append(needed)
    return added


def disagreements(pyproject: dict, lock_text: str) -> list[str]:
    locked = pins(lock_text)
    found = [
        f"{name}: pinned as {requirement.specifier or 'nothing'}, with {len(hashes)} hashes"
        for name, (requirement, hashes) in locked.items()
        if len(requirement.specifier) != 1
        or next(iter(requirement.specifier)).operator != "=="
        or not hashes
        or not all(h.startswith("sha256:") for h in hashes)
    ]
    wanted = requirements(pyproject)
    wanted += [extra for requirement in wanted for extra in extra_requirements(requirement)]
    for requirement in wanted:
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        pin = locked.get(canonicalize_name(requirement.name))
        if pin is None:
            found.append(f"{requirement}: not in the lock")
            continue
        version = next(iter(pin[0].specifier)).version
        if not requirement.specifier.contains(version, prereleases=True):
            found.append(f"{requirement}: the lock has {version}")
    return found


def test_the_lock_meets_every_requirement_of_pyproject_with_hashes():
    pyproject = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))

    assert disagreements(pyproject, LOCK.read_text(encoding="utf-8")) == [], "run `make lock`"


def test_a_lock_that_disagrees_is_found_out():
    pyproject = {
        "build-system": {"requires": ["setuptools>=68"]},
        "project": {
            "dependencies": ["duckdb>=2.0,<2.1", "psycopg2-binary==2.9.13", "httpx[http2]"],
            "optional-dependencies": {"dev": ["pytest"]},
        },
    }
    lock = (
        "# a comment\n"
        "setuptools==84.2.1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "    # via a package\n"
        "duckdb==1.4.0 \\\n    --hash=sha256:cc\n"
        "psycopg2-binary==2.9.13 \\\n    --hash=sha256:dd\n"
        "httpx>=0.28\n"
    )

    assert disagreements(pyproject, lock) == [
        "httpx: pinned as >=0.28, with 0 hashes",
        "duckdb<2.1,>=2.0: the lock has 1.4.0",
        "pytest: not in the lock",
        "h2<5,>=3: not in the lock",
    ]
