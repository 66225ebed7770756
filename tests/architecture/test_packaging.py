"""Every package of the source is installed: pyproject.toml lists packages by hand, and
one left out would be missing from a wheel while the editable install still finds it."""
from __future__ import annotations

from source_tree import REPO, setuptools_config


def test_every_package_folder_is_listed_in_pyproject():
    config = setuptools_config()
    found = set()
    for package, folder in config["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            name = ".".join((package, *rel.parts))
            if not any(name.startswith(other + ".") or name == other for other in config["package-dir"]
                       if other != package and other.startswith(package + ".")):
                found.add(name)
    assert found == set(config["packages"]), {"not listed": sorted(found - set(config["packages"])),
                                              "listed, not found": sorted(set(config["packages"]) - found)}
