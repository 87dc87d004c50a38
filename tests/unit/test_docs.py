"""The docs say what the code does: every option is documented where operators look,
and every test docs/mapping.md and docs/security.md name exists."""

import ast
import pathlib
import re

import pytest

from saltext_venvbuild.core.options import OPTIONS

TOP = pathlib.Path(__file__).resolve().parent.parent.parent
DOCS = TOP / "docs"
SHORT = {
    "role": "tests/functional/states/test_venvbuild_role_features.py",
    "fleet": "tests/functional/states/test_venvbuild_fleet.py",
    "trust": "tests/functional/states/test_venvbuild_trust.py",
    "lifecycle": "tests/functional/states/test_venvbuild_lifecycle.py",
}


def _tests_in(path):
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def _references(text):
    """(file, test name or None) of every test reference in a doc."""
    refs = []
    for match in re.finditer(r"`((?:tests/[\w/]+\.py)|role|fleet|trust|lifecycle)"
                             r"(?:::(test_\w+))?`", text):
        refs.append((SHORT.get(match.group(1), match.group(1)), match.group(2)))
    for match in re.finditer(r"`(test_venvbuild_\w+\.py|test_\w+\.py)::(test_\w+)`", text):
        refs.append((match.group(1), match.group(2)))
    for match in re.finditer(r"`::(test_\w+)`", text):
        refs.append((None, match.group(1)))
    return refs


def _find(filename):
    if filename.startswith("tests/"):
        return [TOP / filename]
    return sorted(TOP.glob(f"tests/**/{filename}"))


@pytest.mark.parametrize("doc", ["mapping.md", "security.md"])
def test_every_test_a_doc_names_exists(doc):
    text = (DOCS / doc).read_text()
    refs = _references(text)
    assert refs
    every = set().union(*(_tests_in(p) for p in TOP.glob("tests/**/test_*.py")))
    for filename, test in refs:
        if filename is None:
            assert test in every, f"{doc} names {test}, which no test file defines"
            continue
        paths = _find(filename)
        assert paths and all(p.exists() for p in paths), f"{doc} names {filename}, which is missing"
        if test:
            assert any(test in _tests_in(p) for p in paths), f"{doc}: {filename}::{test} is missing"


def test_every_option_is_in_the_usage_options_table():
    text = (DOCS / "usage.md").read_text()
    table = text.split("| group | options |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`(\w+)`", table))
    assert listed == set(OPTIONS)


def test_every_option_is_described_in_the_installed_state():
    from saltext_venvbuild.states import venvbuild as states  # pylint: disable=import-outside-toplevel

    doc = states.installed.__doc__
    for name in OPTIONS:
        assert re.search(rf"^    {name}\b", doc, re.M) or re.search(rf"^    [\w, ]*\b{name}\b", doc, re.M), name


def test_pillar_example_uses_only_known_keys():
    import yaml  # pylint: disable=import-outside-toplevel

    from saltext_venvbuild.utils import pillar  # pylint: disable=import-outside-toplevel

    text = (TOP / "pillar.example").read_text().replace("{{ grains['fqdn'] }}", "build01")
    data = yaml.safe_load(text)
    checked = pillar.read(data)
    assert pillar.venv_configs(checked)["demo"]["path"] == "/opt/venvs/demo"
    # The commented keys of the example are options too.
    commented = set(re.findall(r"^\s*#\s*([a-z_]+):", text, re.M)) - {"venvbuild"}
    known = set(OPTIONS) | set(pillar.TOP_KEYS) | set(pillar.REPO_KEYS) | set(pillar.BUILDER_KEYS) \
        | set(pillar.ORCH_KEYS) | set(pillar.NGINX_KEYS) | {"section", "option", "value", "build01",
                                                              "build02", "path"}
    assert commented <= known, commented - known
