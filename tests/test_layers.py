"""The layers contract (.importlinter) places every app of the project.

scripts/test.sh runs import-linter on it before pytest; this test makes sure a new app cannot slip
past it by not being named: each project app in INSTALLED_APPS, and each top-level package of the
repository, must stand in a layer (the development tools instead in the contract that keeps every
app from importing them).
"""
import configparser
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

CONTRACT_FILE = Path(settings.BASE_DIR) / ".importlinter"
NOT_LAYERED = {"tests", "devtools"}  # tests import anything; devtools has its own contract below


def _contract() -> configparser.ConfigParser:
    config = configparser.ConfigParser(inline_comment_prefixes=(";",))
    assert config.read(CONTRACT_FILE), f"{CONTRACT_FILE} is missing"
    return config


def _names(value: str) -> list[str]:
    return [name for name in re.split(r"[\s|:]+", value) if name]


def _layered() -> list[str]:
    return _names(_contract()["importlinter:contract:layers"]["layers"])


def test_the_contract_is_a_layers_contract_over_the_root_packages():
    config = _contract()
    layers = config["importlinter:contract:layers"]
    assert layers["type"] == "layers"
    assert set(_names(config["importlinter"]["root_packages"])) == set(_layered()) | {"devtools"}
    assert len(_layered()) == len(set(_layered())), "an app stands in one layer only"


def test_every_project_app_stands_in_a_layer():
    base = Path(settings.BASE_DIR).resolve()
    # The virtual environment may live inside the checkout (.venv): installed apps are not the project's.
    project_apps = {config.name for config in apps.get_app_configs()
                    if base in Path(config.path).resolve().parents and "site-packages" not in Path(config.path).parts}
    assert project_apps, "no project app found"
    assert project_apps - set(_layered()) == set()


def test_every_top_level_package_stands_in_a_layer():
    base = Path(settings.BASE_DIR)
    packages = {path.parent.name for path in base.glob("*/__init__.py")} - NOT_LAYERED
    assert packages - set(_layered()) == set()


def test_no_app_may_import_the_development_tools():
    forbidden = _contract()["importlinter:contract:no-devtools"]
    assert forbidden["type"] == "forbidden"
    assert _names(forbidden["forbidden_modules"]) == ["devtools"]
    assert set(_names(forbidden["source_modules"])) == set(_layered())
