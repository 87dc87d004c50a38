"""Unit tests of saltext_venvbuild.core.interpreter: locating, probing, caching."""

import json
import os
import platform
import stat
import subprocess
import sys
import sysconfig

import pytest

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core import interpreter
from saltext_venvbuild.core.errors import InterpreterError
from saltext_venvbuild.core.errors import UnsafePathError
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
    """Record the subprocesses the interpreter module spawns (they still run)."""
    calls = []
    real_run = subprocess.run

    def run(*args, **kwargs):
        calls.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(interpreter.subprocess, "run", run)
    return calls


def _forbid_processes(monkeypatch):
    """From now on, fail the test if the interpreter module spawns a process."""

    def run(*args, **kwargs):
        raise AssertionError(f"a cached resolve spawned a process: {args[0]}")

    monkeypatch.setattr(interpreter.subprocess, "run", run)


def _prepare(directory, calls=None):
    """A ``prepare`` that makes the cache's directory as the callers do."""

    def prepare():
        if calls is not None:
            calls.append(directory)
        fsutil.ensure_dir(str(directory), "interpreter cache", 0o700)

    return prepare


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
        ({"implementation": "ironpython", "minor": 4}, "ip34"),
    ],
)
def test_interpreter_tag(changes, tag):
    assert _interp(**changes).tag == tag


def test_interpreter_is_immutable_and_has_no_describe():
    interp = _interp()
    with pytest.raises(AttributeError):
        interp.version = "3.12.0"
    assert not hasattr(interp, "describe")  # removed on purpose


# -- locate -------------------------------------------------------------------------


def test_locate_missing_name_names_path(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InterpreterError, match="not found in the directories of the minion's PATH") as info:
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
    cache_dir = tmp_path / "cache"
    cache = cache_dir / "interpreters.json"
    interp = interpreter.resolve(sys.executable, cache_file=str(cache), prepare=_prepare(cache_dir))
    # sys.executable is as the test runner was started (it may hold '..' or '//');
    # venvbuild runs the normalized path, which the child reports as its own.
    executable = os.path.abspath(sys.executable)
    assert interp.requested == sys.executable
    assert interp.executable == executable
    assert interp.implementation == sys.implementation.name
    assert interp.version == platform.python_version()
    assert (interp.major, interp.minor) == sys.version_info[:2]
    assert interp.machine == platform.machine()
    if sys.implementation.name == "cpython":
        assert interp.tag == EXPECTED_TAG

    data = json.loads(cache.read_text())
    assert len(data) == 1
    (entry,) = data.values()
    assert entry["executable"] == executable
    assert entry["executable_identity"][:2] == [executable, os.path.realpath(executable)]


def test_the_cache_file_is_owner_only(tmp_path):
    cache = tmp_path / "interpreters.json"
    old = os.umask(0)
    try:
        interpreter.resolve(sys.executable, cache_file=str(cache))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600


def test_an_existing_cache_file_becomes_owner_only(tmp_path):
    cache = tmp_path / "interpreters.json"
    interpreter.resolve(sys.executable, cache_file=str(cache))
    os.chmod(cache, 0o644)
    link = tmp_path / "python3"
    link.symlink_to(os.path.realpath(sys.executable))
    interpreter.resolve(str(link), cache_file=str(cache))  # a new entry: rewritten
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert len(json.loads(cache.read_text())) == 2


def test_resolve_without_the_directory_nor_prepare_writes_nothing(tmp_path):
    # Changed on purpose: resolve no longer creates the cache's directory itself.
    cache = tmp_path / "cache" / "interpreters.json"
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.executable == sys.executable
    assert (interp.major, interp.minor) == sys.version_info[:2]
    assert interp.version == platform.python_version()
    assert not (tmp_path / "cache").exists()
    assert os.listdir(tmp_path) == []


def test_prepare_is_called_before_writing(tmp_path):
    cache_dir = tmp_path / "state" / "cache"
    calls = []
    interpreter.resolve(
        sys.executable, cache_file=str(cache_dir / "i.json"), prepare=_prepare(cache_dir, calls)
    )
    assert calls == [cache_dir]
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert os.listdir(cache_dir) == ["i.json"]


def test_prepare_is_not_called_on_a_cache_hit(tmp_path, monkeypatch):
    cache = str(tmp_path / "i.json")
    first = interpreter.resolve(sys.executable, cache_file=cache)
    calls = []
    _forbid_processes(monkeypatch)
    second = interpreter.resolve(sys.executable, cache_file=cache, prepare=lambda: calls.append(1))
    assert second == first
    assert calls == []


def test_prepare_is_not_called_without_a_cache_file():
    calls = []
    interp = interpreter.resolve(sys.executable, prepare=lambda: calls.append(1))
    assert interp.executable == sys.executable
    assert calls == []


@pytest.mark.parametrize(
    "error", [UnsafePathError("state dir: /x is owned by uid 12345"), PermissionError(13, "denied")]
)
def test_a_failing_prepare_costs_only_the_cache(tmp_path, error):
    cache = tmp_path / "i.json"

    def prepare():
        raise error

    interp = interpreter.resolve(sys.executable, cache_file=str(cache), prepare=prepare)
    assert interp.executable == sys.executable
    assert not cache.exists()


def test_a_prepare_bug_is_not_hidden(tmp_path):
    def prepare():
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        interpreter.resolve(sys.executable, cache_file=str(tmp_path / "i.json"), prepare=prepare)


def test_the_cache_replaces_a_planted_symlink(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep")
    cache = tmp_path / "i.json"
    cache.symlink_to(target)
    interpreter.resolve(sys.executable, cache_file=str(cache))
    assert not cache.is_symlink()
    assert len(json.loads(cache.read_text())) == 1
    assert target.read_text() == "keep"


def test_second_resolve_does_not_spawn_a_process(tmp_path, monkeypatch):
    cache = str(tmp_path / "interpreters.json")
    first = interpreter.resolve(sys.executable, cache_file=cache)
    _forbid_processes(monkeypatch)
    second = interpreter.resolve(sys.executable, cache_file=cache)
    assert second == first


def test_resolve_without_cache_probes_every_time(probe_calls):
    first = interpreter.resolve(sys.executable)
    second = interpreter.resolve(sys.executable)
    assert first == second
    assert len(probe_calls) == 2


def test_changed_file_identity_triggers_a_new_probe(tmp_path, wrapper, probe_calls):
    cache = tmp_path / "interpreters.json"
    first = interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert first.requested == str(wrapper)
    assert first.executable == sys.executable  # the real interpreter, not the wrapper
    assert len(probe_calls) == 1

    interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert len(probe_calls) == 1  # cached

    st = os.stat(wrapper)
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    again = interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert len(probe_calls) == 2  # new identity: probed again
    assert again == first

    # The stale entry for the same executable is dropped, not accumulated.
    data = json.loads(cache.read_text())
    assert len(data) == 1
    assert json.loads(next(iter(data)))[2] == os.stat(wrapper).st_mtime_ns

    interpreter.resolve(str(wrapper), cache_file=str(cache))
    assert len(probe_calls) == 2


def test_rewritten_wrapper_is_probed_again(tmp_path, wrapper, probe_calls):
    cache = str(tmp_path / "interpreters.json")
    interpreter.resolve(str(wrapper), cache_file=cache)
    # Same mtime is not enough to hide a content change of another size.
    st = os.stat(wrapper)
    wrapper.write_text(wrapper.read_text() + "# a longer script\n")
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns))
    interpreter.resolve(str(wrapper), cache_file=cache)
    assert len(probe_calls) == 2


def test_a_replaced_real_executable_behind_an_unchanged_wrapper_is_probed_again(tmp_path, probe_calls):
    # The wrapper (a shim) stays as it is; the interpreter it runs is replaced.
    real = tmp_path / "real-python"
    real.symlink_to(os.path.realpath(sys.executable))
    shim = _script(tmp_path / "shim", f'exec "{real}" "$@"')
    cache = str(tmp_path / "interpreters.json")
    first = interpreter.resolve(str(shim), cache_file=cache)
    assert first.executable == str(real)
    interpreter.resolve(str(shim), cache_file=cache)
    assert len(probe_calls) == 1
    real.unlink()
    _script(real, f'exec "{sys.executable}" "$@"')  # another file at the executable's path
    interpreter.resolve(str(shim), cache_file=cache)
    assert len(probe_calls) == 2


def test_unreadable_cache_costs_only_a_probe(tmp_path, probe_calls):
    cache = tmp_path / "interpreters.json"
    cache.write_text("{not json")
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.executable == sys.executable
    assert len(probe_calls) == 1
    assert len(json.loads(cache.read_text())) == 1


@pytest.mark.parametrize("content", [{"junk": 1}, [1, 2], "text", {"k": {"executable": 5}}])
def test_cache_with_a_foreign_entry_costs_only_a_probe(tmp_path, content):
    cache = tmp_path / "interpreters.json"
    cache.write_text(json.dumps(content))
    interp = interpreter.resolve(sys.executable, cache_file=str(cache))
    assert interp.executable == sys.executable
    data = json.loads(cache.read_text())
    assert "junk" not in data  # malformed entries are not kept


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


def test_two_wrappers_of_one_interpreter_are_both_cached(tmp_path, probe_calls):
    cache = str(tmp_path / "interpreters.json")
    one = _script(tmp_path / "python-one", f'exec "{sys.executable}" "$@"')
    two = _script(tmp_path / "python-two-longer", f'exec "{sys.executable}" "$@"')
    interpreter.resolve(str(one), cache_file=cache)
    interpreter.resolve(str(two), cache_file=cache)
    assert len(probe_calls) == 2
    # A no-op run resolving both again must not spawn a process.
    interpreter.resolve(str(one), cache_file=cache)
    interpreter.resolve(str(two), cache_file=cache)
    assert len(probe_calls) == 2


# -- probe failures (real subprocesses of small scripts) ----------------------------


def test_failing_interpreter(tmp_path):
    bad = _script(tmp_path / "python3", 'echo "boom: broken install" >&2; exit 3')
    with pytest.raises(InterpreterError, match="exited 3 when asked for its version: boom: broken install"):
        interpreter.resolve(str(bad))


def test_interpreter_with_unexpected_output(tmp_path):
    bad = _script(tmp_path / "python3", "echo 'Python 2.7.18'")
    with pytest.raises(InterpreterError, match="unexpected answer"):
        interpreter.resolve(str(bad))


def test_interpreter_with_no_output(tmp_path):
    bad = _script(tmp_path / "python3", "true")
    with pytest.raises(InterpreterError, match="unexpected answer"):
        interpreter.resolve(str(bad))


def test_python2_is_refused(tmp_path):
    info = {"executable": str(tmp_path / "python2"), "implementation": "cpython",
            "version": "2.7.18", "major": 2, "minor": 7, "machine": "x86_64"}
    old = _script(tmp_path / "python2", f"echo '{json.dumps(info)}'")
    cache = tmp_path / "interpreters.json"
    calls = []
    with pytest.raises(InterpreterError, match="is Python 2.7.18; need Python 3"):
        interpreter.resolve(str(old), cache_file=str(cache), prepare=lambda: calls.append(1))
    assert not cache.exists()
    assert calls == []


def test_an_unusable_sys_executable_is_refused(tmp_path):
    info = {"executable": str(tmp_path / "gone"), "implementation": "cpython",
            "version": "3.11.2", "major": 3, "minor": 11, "machine": "x86_64"}
    odd = _script(tmp_path / "python3", f"echo '{json.dumps(info)}'")
    cache = tmp_path / "interpreters.json"
    with pytest.raises(InterpreterError, match="its sys.executable is unusable"):
        interpreter.resolve(str(odd), cache_file=str(cache))
    assert not cache.exists()


def test_a_hanging_interpreter_times_out(tmp_path):
    slow = _script(tmp_path / "python3", "exec sleep 30")
    with pytest.raises(InterpreterError, match="did not answer within 1 s"):
        interpreter.probe(str(slow), timeout=1)


def test_probe_runs_isolated(tmp_path, monkeypatch):
    # -I: no PYTHON* variables, no user site, no current directory on sys.path.
    (tmp_path / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    info = interpreter.probe(sys.executable)
    assert info["major"] == sys.version_info.major
