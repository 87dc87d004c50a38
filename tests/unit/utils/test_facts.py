"""utils/facts.py: the facts file, the grains and the change event of a changed venv.

The checks of ``facts_when_changed``/``facts_dest`` moved to the option table
(``core.options.check_facts``/``_facts_dest``, formerly ``facts.check``); they
are tested in depth in tests/unit/core/test_options.py, and the old assertions
about them are kept here at the end, against the new functions.
"""

import configparser
import logging
import os
import stat
from unittest import mock

import pytest

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import UnsafePathError
from saltext_venvbuild.core.options import _facts_dest
from saltext_venvbuild.core.options import check_facts
from saltext_venvbuild.utils import facts


def read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    return {section: dict(parser[section]) for section in parser.sections()}


# -- write_file ---------------------------------------------------------------------


def test_write_file_creates_the_directory_and_file(tmp_path):
    facts_dir = tmp_path / "facts.d"
    path = facts.write_file(str(facts_dir), "venvbuild", [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "spec_id", "value": "0123456789abcdef"},
        {"section": "nova", "option": "version", "value": "30.0.0"},
    ])
    assert path == str(facts_dir / "venvbuild.fact")
    assert read_ini(path) == {
        "keystone": {"version": "26.0.0", "spec_id": "0123456789abcdef"},
        "nova": {"version": "30.0.0"},
    }
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
    assert stat.S_IMODE(os.stat(facts_dir).st_mode) == 0o755


def test_write_file_creates_the_directory_through_fsutil_ensure_dir(tmp_path):
    facts_dir = str(tmp_path / "etc" / "facts.d")
    with mock.patch.object(facts.fsutil, "ensure_dir", wraps=fsutil.ensure_dir) as ensure_dir:
        facts.write_file(facts_dir, "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    # An existing directory keeps its mode (enforce=False): it is the admin's.
    ensure_dir.assert_called_once_with(facts_dir, "facts directory", 0o755, enforce=False)
    assert os.path.isdir(facts_dir)


def test_write_file_keeps_the_mode_of_an_existing_directory(tmp_path):
    facts_dir = tmp_path / "facts.d"
    facts_dir.mkdir(mode=0o700)
    facts.write_file(str(facts_dir), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    assert stat.S_IMODE(os.stat(facts_dir).st_mode) == 0o700


def test_write_file_refuses_a_directory_others_can_write(tmp_path):
    facts_dir = tmp_path / "facts.d"
    facts_dir.mkdir()
    os.chmod(facts_dir, 0o777)
    with pytest.raises(UnsafePathError, match="facts directory"):
        facts.write_file(str(facts_dir), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    assert list(facts_dir.iterdir()) == []


def test_write_file_merges_into_an_existing_file(tmp_path):
    existing = tmp_path / "venvbuild.fact"
    existing.write_text(
        "[keystone]\nversion = 25.0.0\nspec_id = aaaaaaaaaaaaaaaa\n\n"
        "[glance]\nversion = 29.0.0\n",
        encoding="utf-8",
    )
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "restart", "value": "yes"},
        {"section": "nova", "option": "version", "value": "30.0.0"},
    ])
    assert path == str(existing)
    assert read_ini(path) == {
        "keystone": {"version": "26.0.0", "spec_id": "aaaaaaaaaaaaaaaa", "restart": "yes"},
        "glance": {"version": "29.0.0"},
        "nova": {"version": "30.0.0"},
    }
    assert [p.name for p in tmp_path.iterdir()] == ["venvbuild.fact"]  # no temporary left


def test_write_file_keeps_values_literally(tmp_path):
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "app", "option": "progress", "value": "100%"},
        {"section": "app", "option": "ref", "value": "%(other)s"},
        {"section": "app", "option": "empty", "value": ""},
    ])
    assert read_ini(path) == {"app": {"progress": "100%", "ref": "%(other)s", "empty": ""}}


def test_write_file_with_no_facts_keeps_an_existing_file(tmp_path):
    (tmp_path / "venvbuild.fact").write_text("[a]\nb = c\n", encoding="utf-8")
    path = facts.write_file(str(tmp_path), "venvbuild", [])
    assert read_ini(path) == {"a": {"b": "c"}}


def test_write_file_keeps_the_case_of_option_names(tmp_path):
    (tmp_path / "venvbuild.fact").write_text("[App]\nBuildHost = b1\n", encoding="utf-8")
    path = facts.write_file(str(tmp_path), "venvbuild", [
        {"section": "App", "option": "Version", "value": "1.0"}])
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert "BuildHost = b1" in text
    assert "Version = 1.0" in text


def test_write_file_names_the_file_after_dest(tmp_path):
    path = facts.write_file(str(tmp_path), "openstack_venvs",
                            [{"section": "a", "option": "b", "value": "c"}])
    assert path == str(tmp_path / "openstack_venvs.fact")


@pytest.mark.parametrize("content", [
    '{"json": "facts"}\n',
    "no section header = here\n",
    "[a]\nb = 1\nb = 2\n",  # a duplicate option
])
def test_write_file_over_a_non_ini_file_is_a_clear_error(tmp_path, content):
    existing = tmp_path / "venvbuild.fact"
    existing.write_text(content)
    with pytest.raises(SpecError, match="is not an INI file") as info:
        facts.write_file(str(tmp_path), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    assert str(existing) in str(info.value)
    assert "facts_dest" in str(info.value)
    assert existing.read_text() == content  # left as it was


def test_write_file_over_a_binary_file_is_a_clear_error(tmp_path):
    existing = tmp_path / "venvbuild.fact"
    existing.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(SpecError, match="is not an INI file"):
        facts.write_file(str(tmp_path), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    assert existing.read_bytes() == b"\xff\xfe\x00binary"


def test_write_file_does_not_write_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("[x]\ny = z\n")
    facts_dir = tmp_path / "facts.d"
    facts_dir.mkdir()
    (facts_dir / "venvbuild.fact").symlink_to(target)
    with pytest.raises(UnsafePathError, match="is a symlink"):
        facts.write_file(str(facts_dir), "venvbuild", [{"section": "a", "option": "b", "value": "c"}])
    assert target.read_text() == "[x]\ny = z\n"


# -- announce -----------------------------------------------------------------------


FACTS = [
    {"section": "keystone", "option": "version", "value": "26.0.0"},
    {"section": "keystone", "option": "changed", "value": "True"},
]
EVENT_DATA = {"path": "/opt/venvs/keystone", "old": None, "new": "0123456789abcdef",
              "venv_dir": "/opt/venvs/keystone-0123456789abcdef", "changes": {}}


def salt_functions(send=True):
    return {"grains.set": mock.Mock(return_value={"result": True}),
            "event.send": mock.Mock(return_value=send)}


def test_announce_sets_grains_writes_the_file_and_sends_the_event(tmp_path):
    salt = salt_functions()
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done == {
        "file": str(tmp_path / "venvbuild.fact"),
        "grains": ["venvbuild:keystone:changed", "venvbuild:keystone:version"],
        "event": "venvbuild/venv/keystone/changed",
    }
    assert salt["grains.set"].call_args_list == [
        mock.call("venvbuild:keystone:version", "26.0.0", force=True),
        mock.call("venvbuild:keystone:changed", "True", force=True),
    ]
    assert read_ini(done["file"]) == {"keystone": {"version": "26.0.0", "changed": "True"}}
    salt["event.send"].assert_called_once_with("venvbuild/venv/keystone/changed", EVENT_DATA)


def test_announce_uses_dest_for_the_grains_and_the_file(tmp_path):
    salt = salt_functions()
    done = facts.announce(salt, str(tmp_path), "keystone", "openstack", FACTS[:1], EVENT_DATA)
    assert done["file"] == str(tmp_path / "openstack.fact")
    assert done["grains"] == ["openstack:keystone:version"]
    salt["grains.set"].assert_called_once_with("openstack:keystone:version", "26.0.0", force=True)
    # The event tag is the venv's, whatever the facts' name.
    assert done["event"] == "venvbuild/venv/keystone/changed"


def test_announce_event_tag():
    assert facts.EVENT_TAG.format(venv_id="nova") == "venvbuild/venv/nova/changed"


def test_announce_without_an_event_bus_sends_nothing(tmp_path):
    salt = salt_functions()
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA,
                          bus_available=False)
    assert done["event"] is None
    salt["event.send"].assert_not_called()
    # The facts are still set.
    assert salt["grains.set"].call_count == 2
    assert done["file"] == str(tmp_path / "venvbuild.fact")
    assert os.path.isfile(done["file"])


def test_announce_without_an_event_bus_or_facts_does_nothing(tmp_path):
    salt = salt_functions()
    assert facts.announce(salt, str(tmp_path), "nova", "venvbuild", [], EVENT_DATA,
                          bus_available=False) == {"event": None}
    for function in salt.values():
        function.assert_not_called()


def test_announce_survives_an_event_bus_that_fails(tmp_path, caplog):
    salt = salt_functions()
    salt["event.send"].side_effect = Exception("Unable to connect to the minion event socket")
    with caplog.at_level(logging.WARNING, logger=facts.log.name):
        done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done["event"] is None
    salt["event.send"].assert_called_once_with("venvbuild/venv/keystone/changed", EVENT_DATA)
    assert done["grains"] == ["venvbuild:keystone:changed", "venvbuild:keystone:version"]
    assert any("venvbuild/venv/keystone/changed" in r.getMessage()
               and "Unable to connect to the minion event socket" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)


def test_announce_reports_no_event_when_event_send_returns_false(tmp_path):
    salt = salt_functions(send=False)
    done = facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    assert done["event"] is None


def test_announce_without_facts_only_sends_the_event(tmp_path):
    salt = salt_functions()
    for no_facts in ([], None):
        done = facts.announce(salt, str(tmp_path), "nova", "venvbuild", no_facts, EVENT_DATA)
        assert done == {"event": "venvbuild/venv/nova/changed"}
    salt["grains.set"].assert_not_called()
    assert list(tmp_path.iterdir()) == []
    assert salt["event.send"].call_args_list == [
        mock.call("venvbuild/venv/nova/changed", EVENT_DATA)] * 2


def test_announce_merges_facts_of_several_venvs(tmp_path):
    salt = salt_functions()
    facts.announce(salt, str(tmp_path), "keystone", "venvbuild",
                   [{"section": "keystone", "option": "version", "value": "26.0.0"}], EVENT_DATA)
    facts.announce(salt, str(tmp_path), "nova", "venvbuild",
                   [{"section": "nova", "option": "version", "value": "30.0.0"}], EVENT_DATA)
    assert read_ini(str(tmp_path / "venvbuild.fact")) == {
        "keystone": {"version": "26.0.0"}, "nova": {"version": "30.0.0"}}


def test_announce_over_a_non_ini_file_sets_no_grain_and_sends_no_event(tmp_path):
    (tmp_path / "venvbuild.fact").write_text('{"json": "facts"}\n')
    salt = salt_functions()
    with pytest.raises(SpecError, match="is not an INI file"):
        facts.announce(salt, str(tmp_path), "keystone", "venvbuild", FACTS, EVENT_DATA)
    salt["grains.set"].assert_not_called()
    salt["event.send"].assert_not_called()


# -- the facts announce receives (core.options.check_facts/_facts_dest, was facts.check) --


def test_check_defaults():
    assert check_facts(None) == []
    assert check_facts([]) == []
    assert _facts_dest("venvbuild", "facts_dest") == "venvbuild"


def test_check_normalizes_valid_facts():
    given = [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "restart_needed", "value": True},
        {"section": "nova-api", "option": "build.count", "value": 3},
    ]
    assert check_facts(given) == [
        {"section": "keystone", "option": "version", "value": "26.0.0"},
        {"section": "keystone", "option": "restart_needed", "value": "True"},
        {"section": "nova-api", "option": "build.count", "value": "3"},
    ]
    assert check_facts(tuple(given[:1])) == given[:1]
    assert _facts_dest("openstack_venvs", "facts_dest") == "openstack_venvs"


def test_check_refuses_extra_keys_now():
    # Changed on purpose: an unknown key in a fact was ignored, it is refused now.
    with pytest.raises(SpecError, match="needs exactly section, option and value"):
        check_facts([{"section": "keystone", "option": "v", "value": "1", "extra": "x"}])


@pytest.mark.parametrize("dest", ["etc/venvbuild", "/etc/ansible/facts.d/x", "../x", "a b", "",
                                  ".hidden", None, 3, "venvbuild\n"])
def test_check_refuses_a_dest_that_is_not_a_file_name(dest):
    with pytest.raises(SpecError, match="facts_dest"):
        _facts_dest(dest, "facts_dest")


@pytest.mark.parametrize("value", [{"section": "a", "option": "b", "value": "c"}, "a=b", 3])
def test_check_refuses_facts_that_are_not_a_list(value):
    with pytest.raises(SpecError, match="facts_when_changed must be a list"):
        check_facts(value)


@pytest.mark.parametrize(
    "fact",
    [
        {"section": "keystone", "option": "version"},
        {"section": "keystone", "value": "1"},
        {"option": "version", "value": "1"},
        "keystone.version=1",
        ["keystone", "version", "1"],
    ],
)
def test_check_refuses_incomplete_facts(fact):
    with pytest.raises(SpecError, match="needs exactly section, option and value"):
        check_facts([fact])


@pytest.mark.parametrize(
    "key, bad",
    [
        ("section", "my section"),
        ("section", "a]b"),
        ("section", "a:b"),  # ':' separates the grain's levels
        ("section", ""),
        ("section", 3),
        ("section", "keystone\n"),
        ("option", "an option"),
        ("option", "a=b"),
        ("option", "-x"),
        ("option", None),
        ("option", "version\n"),
    ],
)
def test_check_refuses_sections_and_options_that_are_not_simple_names(key, bad):
    fact = {"section": "keystone", "option": "version", "value": "1", key: bad}
    with pytest.raises(SpecError) as exc:
        check_facts([fact])
    assert str(exc.value) == f"facts_when_changed: {key} {bad!r} is not a simple name"
