"""Unit tests of saltext_venvbuild.core.interpreter: locating, probing, caching."""

import json
import os
import platform
import subprocess
import sys
import sysconfig
from unittest import mock

import pytest

from saltext_venvbuild.core import interpreter
from saltext_venvbuild.core.errors import InterpreterError
from saltext_venvbuild.core.interpreter import Interpreter

EXPECTED_TAG = (
    f"cp{sys.version_info.major}{sys.version_info.minor}"
    f"{'t' if sysconfig.get_config_var('Py_GIL_DISABLED') else ''}"
)


def _script(path, body):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def wrapper(tmp_path):
    """A small executable script that runs this test's Python."""
    (tmp_path / "bin").mkdir()
    return _script(tmp_path / "bin" / "mypython", f'exec "{sys.executable}" "$@"')


@pytest.fixture
def probe_calls(monkeypatch):
    """Count the subprocesses the interpreter module spawns (they still run)."""
    spy = mock.Mock(wraps=subprocess.run)
    monkeypatch.setattr(interpreter.subprocess, "run", spy)
    return spy


# -- Interpreter --------------------------------------------------------------------


def _interp(**changes):
    fields = {
        "requested": "python3",
        "executable": "/usr/bin/python3.11",
        "implementation": "cpython",
        "version": "3.11.2",
        "major": 3,
        "minor": 11,
        "free_threaded": False,
        "machine": "x86_64",
    }
    fields.update(changes)
    return Interpreter(**fields)


@pytest.mark.parametrize(
    "changes, tag",
    [
        ({}, "cp311"),
        ({"major": 3, "minor": 13, "free_threaded": True}, "cp313t"),
        ({"implementation": "pypy", "minor": 10}, "pp310"),
        ({"implementation": "graalpy"}, "gr311"),
    ],
)
def test_interpreter_tag(changes, tag):
    assert _interp(**changes).tag == tag


def test_interpreter_describe():
    assert _interp().describe() == "/usr/bin/python3.11 (cpython 3.11.2, cp311)"


# -- locate -------------------------------------------------------------------------


def test_locate_missing_name_names_path(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InterpreterError, match="not found on the minion's PATH") as info:
        interpreter.locate("python3")
    assert f"({empty})" in str(info.value)
    assert "'python3'" in str(info.value)


def test_locate_name_on_path(tmp_path, monkeypatch, wrapper):
    monkeypatch.setenv("PATH", str(wrapper.parent))
    assert interpreter.locate("mypython") == str(wrapper)


def test_locate_missing_path(tmp_path):
    missing = str(tmp_path / "no" / "python3")
    with pytest.raises(InterpreterError, match="no executable file there") as info:
        interpreter.locate(missing)
    assert repr(missing) in str(info.value)


def test_locate_non_executable_file(tmp_path):
    path = tmp_path / "python3"
    path.write_text("not executable")
    with pytest.raises(InterpreterError, match="no executable file there"):
        interpreter.locate(str(path))


def test_locate_directory(tmp_path):
    with pytest.raises(InterpreterError, match="no executable file there"):
        interpreter.locate(str(tmp_path) + "/")


def test_locate_relative_path_is_made_absolute(wrapper, monkeypatch):
    monkeypatch.chdir(wrapper.parent.parent)
    assert interpreter.locate("bin/mypython") == str(wrapper)


@pytest.mark.parametrize("python", ["", "   ", None, 3])
def test_locate_refuses_empty_and_non_strings(python):
    with pytest.raises(InterpreterError, match="give an executable name or absolute path"):
        interpreter.locate(python)


# -- resolve with a real interpreter ------------------------------------------------


def test_resolve_real_interpreter(tmp_path):
    cache = tmp_path / "cache" / "interpreters.json"
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.requested == sys.executable
    assert interp.executable == sys.executable
    assert interp.implementation == sys.implementation.name
    assert interp.version == platform.python_version()
    assert (interp.major, interp.minor) == sys.version_info[:2]
    assert interp.machine == platform.machine()
    if sys.implementation.name == "cpython":
        assert interp.tag == EXPECTED_TAG

    data = json.loads(cache.read_text())
    assert len(data) == 1
    (entry,) = data.values()
    assert entry["executable"] == sys.executable
    assert entry["executable_identity"][:2] == [sys.executable, os.path.realpath(sys.executable)]


def test_second_resolve_does_not_spawn_a_process(tmp_path):
    cache = str(tmp_path / "interpreters.json")
    first = interpreter.resolve(sys.executable, cache_file=cache)
    with mock.patch(
        "saltext_venvbuild.core.interpreter.subprocess.run",
        side_effect=AssertionError("a cached resolve spawned a process"),
    ):
        second = interpreter.resolve(sys.executable, cache_file=cache)
    assert second == first


def test_resolve_without_cache_probes_every_time(probe_calls):
    first = interpreter.resolve(sys.executable)
    second = interpreter.resolve(sys.executable)
    assert first == second
    assert probe_calls.call_count == 2


def test_changed_file_identity_triggers_a_new_probe(tmp_path, wrapper, probe_calls):
    cache = tmp_path / "interpreters.json"
    first = interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert first.requested == str(wrapper)
    assert first.executable == sys.executable  # the real interpreter, not the wrapper
    assert probe_calls.call_count == 1

    interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert probe_calls.call_count == 1  # cached

    st = os.stat(wrapper)
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    again = interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert probe_calls.call_count == 2  # new identity: probed again
    assert again == first

    # The stale entry for the same executable is dropped, not accumulated.
    data = json.loads(cache.read_text())
    assert len(data) == 1
    assert json.loads(next(iter(data)))[2] == os.stat(wrapper).st_mtime_ns

    interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert probe_calls.call_count == 2


def test_rewritten_wrapper_is_probed_again(tmp_path, wrapper, probe_calls):
    cache = str(tmp_path / "interpreters.json")
    interpreter.resolve(str(wrapper), cache_file=cache)
    # Same mtime is not enough to hide a content change of another size.
    st = os.stat(wrapper)
    wrapper.write_text(wrapper.read_text() + "# a longer script\n")
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns))
    interpreter.resolve(str(wrapper), cache_file=cache)
    assert probe_calls.call_count == 2


def test_unreadable_cache_costs_only_a_probe(tmp_path, probe_calls):
    cache = tmp_path / "interpreters.json"
    cache.write_text("{not json")
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.executable == sys.executable
    assert probe_calls.call_count == 1
    assert len(json.loads(cache.read_text())) == 1


def test_cache_with_a_foreign_entry_costs_only_a_probe(tmp_path):
    cache = tmp_path / "interpreters.json"
    cache.write_text(json.dumps({"junk": 1}))
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.executable == sys.executable


def test_two_links_to_one_interpreter_keep_their_own_executable(tmp_path):
    cache = str(tmp_path / "interpreters.json")
    link_a = tmp_path / "a" / "python3"
    link_b = tmp_path / "b" / "python3"
    for link in (link_a, link_b):
        link.parent.mkdir()
        link.symlink_to(os.path.realpath(sys.executable))
    assert interpreter.probe(str(link_b))["executable"] == str(link_b)
    assert interpreter.resolve(str(link_a), cache_file=cache).executable == str(link_a)
    assert interpreter.resolve(str(link_b), cache_file=cache).executable == str(link_b)


# -- probe failures (real subprocesses of small scripts) ----------------------------


def test_failing_interpreter(tmp_path):
    bad = _script(tmp_path / "python3", 'echo "boom: broken install" >&2; exit 3')
    with pytest.raises(InterpreterError, match="exited 3 when asked for its version: boom: broken install"):
        interpreter.resolve(str(bad))


def test_interpreter_with_unexpected_output(tmp_path):
    bad = _script(tmp_path / "python3", "echo 'Python 2.7.18'")
    with pytest.raises(InterpreterError, match="unexpected answer"):
        interpreter.resolve(str(bad))


def test_python2_is_refused(tmp_path):
    info = {"executable": str(tmp_path / "python2"), "implementation": "cpython",
            "version": "2.7.18", "major": 2, "minor": 7, "machine": "x86_64"}
    old = _script(tmp_path / "python2", f"echo '{json.dumps(info)}'")
    cache = tmp_path / "interpreters.json"
    with pytest.raises(InterpreterError, match="is Python 2.7.18; need Python 3"):
        interpreter.resolve(str(old), cache_file=str(cache))
    assert not cache.exists()
