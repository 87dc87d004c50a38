"""core/runner.py: real subprocesses, bounded in time, logged without credentials."""

import contextlib
import os
import stat
import sys
import textwrap
import time

import pytest

from saltext_venvbuild.core import runner
from saltext_venvbuild.core.errors import BuildError
from saltext_venvbuild.core.errors import ToolError
from saltext_venvbuild.core.errors import UnsafePathError

PY = sys.executable
SECRET_URL = "https://user:secret@host.example/simple"


def py(code):
    return [PY, "-c", textwrap.dedent(code)]


def run(argv, error, what, log_path=None, **command):
    """runner.run of a Command made of ``argv`` and the keyword arguments."""
    return runner.run(runner.Command(argv, **command), error, what, log_path=log_path)


def gone(pid):
    """True once ``pid`` has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return True
    return fields[0] in ("Z", "X")


def wait_gone(pid, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def kill_leftovers():
    """Pids a test started; killed at the end if the code under test left them."""
    pids = []
    yield pids
    for pid in pids:
        if not gone(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


def test_run_returns_the_output():
    assert run(py("print('out'); import sys; print('err', file=sys.stderr)"),
                      ToolError, "thing") == "out\nerr\n"


def test_run_passes_env_and_cwd(tmp_path):
    out = run(py("import os; print(os.environ['VB_TEST'], os.getcwd())"), ToolError,
                     "thing", env={**os.environ, "VB_TEST": "here"}, cwd=str(tmp_path))
    assert out.split() == ["here", str(tmp_path)]


def test_run_has_no_stdin():
    assert run(py("import sys; print(repr(sys.stdin.read()))"), ToolError,
                      "thing") == "''\n"


def test_run_in_its_own_session():
    out = run(py("import os; print(os.getsid(0) == os.getpid())"), ToolError, "thing")
    assert out == "True\n"


def test_run_accepts_non_string_arguments(tmp_path):
    assert run([PY, "-c", "import sys; print(sys.argv[1:])", 3, tmp_path], ToolError,
                      "thing") == f"['3', '{tmp_path}']\n"


def test_non_zero_exit_raises_the_error_with_the_output_tail():
    code = """
        for n in range(100):
            print(f"line {n}")
        raise SystemExit(3)
    """
    with pytest.raises(BuildError) as info:
        run(py(code), BuildError, "building app")
    message = str(info.value)
    assert message.startswith(f"building app: {os.path.basename(PY)} exited 3; last output:\n")
    assert "line 99" in message
    assert "line 75" in message
    assert "line 74\n" not in message  # only the last 25 lines
    assert "full log" not in message


def test_the_error_carries_the_whole_output_with_credentials_hidden():
    """What core/retry.py reads to tell a network failure from a compile error."""
    code = """
        print("WARNING: Retrying after connection broken by: https://u:s3cret@mirror.example/simple/")
        for n in range(100):
            print(f"line {n}")
        raise SystemExit(1)
    """
    with pytest.raises(BuildError) as info:
        run(py(code), BuildError, "building app")
    assert "connection broken" not in str(info.value)  # beyond the tail
    assert "connection broken by: https://****@mirror.example/" in info.value.output
    assert "line 99" in info.value.output and "s3cret" not in info.value.output


def test_tail_is_bounded_in_characters():
    text = "\n".join("x" * 500 for _ in range(20))
    assert len(runner.tail(text)) <= 3000
    assert runner.tail("a\nb\n\n\n") == "a\nb"


def test_missing_executable_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "no-such-tool")
    with pytest.raises(ToolError, match=f"^installing: {missing} not found$"):
        run([missing, "install"], ToolError, "installing")


def test_not_executable_is_a_clear_error(tmp_path):
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(ToolError, match=f"installing: cannot run {script}: Permission denied"):
        run([str(script)], ToolError, "installing")


def test_missing_executable_with_credentials_in_its_path():
    with pytest.raises(ToolError) as info:
        run(["/nonexistent/https://user:secret@host/x"], ToolError, "thing")
    assert "secret" not in str(info.value)


def test_missing_cwd_is_not_reported_as_a_missing_executable(tmp_path):
    with pytest.raises(ToolError) as info:
        run([PY, "-c", "pass"], ToolError, "thing", cwd=str(tmp_path / "gone"))
    assert str(tmp_path / "gone") in str(info.value)


# -- timeouts --------------------------------------------------------------------------


def test_timeout_stops_the_whole_process_group(tmp_path, kill_leftovers):
    pidfile = tmp_path / "grandchild.pid"
    code = f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "1000"])
        with open({str(pidfile)!r}, "w") as handle:
            handle.write(str(child.pid))
        time.sleep(1000)
    """
    log_path = tmp_path / "build.log"
    started = time.monotonic()
    with pytest.raises(BuildError) as info:
        run(py(code), BuildError, "building app", timeout=1, log_path=str(log_path),
                   timeout_option="build_timeout")
    assert time.monotonic() - started < 20
    pid = int(pidfile.read_text())
    kill_leftovers.append(pid)
    message = str(info.value)
    assert message.startswith("building app: still running after 1 s; stopped it and every "
                              "process it started")
    assert f"(full log: {log_path})" in message
    assert message.endswith("; raise build_timeout if it needs longer")
    assert wait_gone(pid, 5), f"grandchild {pid} survived the timeout"
    assert "# exit -15 after" in log_path.read_text()


def test_timeout_without_a_hint(kill_leftovers):
    with pytest.raises(ToolError) as info:
        run(py("import time; time.sleep(1000)"), ToolError, "x", timeout=1)
    assert str(info.value) == "x: still running after 1 s; stopped it and every process it started"


def test_timeout_kills_what_ignores_sigterm(tmp_path, monkeypatch, kill_leftovers):
    monkeypatch.setattr(runner, "_GRACE", 0.5)
    pidfile = tmp_path / "pid"
    code = f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with open({str(pidfile)!r}, "w") as handle:
            handle.write(str(os.getpid()))
        print("ready", flush=True)
        time.sleep(1000)
    """
    started = time.monotonic()
    with pytest.raises(ToolError, match="still running after 1 s"):
        run(py(code), ToolError, "x", timeout=1)
    assert time.monotonic() - started < 20
    pid = int(pidfile.read_text())
    kill_leftovers.append(pid)
    assert wait_gone(pid, 5)


def test_a_fast_command_is_not_hurt_by_a_timeout():
    assert run(py("print('quick')"), ToolError, "x", timeout=60) == "quick\n"


# -- the log ---------------------------------------------------------------------------


def test_log_gets_command_and_output_appended(tmp_path):
    log_path = tmp_path / "build.log"
    run(py("print('first run')"), ToolError, "x", log_path=str(log_path))
    with pytest.raises(ToolError, match=f"exited 2 \\(full log: {log_path}\\); last output"):
        run(py("print('second run'); raise SystemExit(2)"), ToolError, "x",
                   log_path=str(log_path))
    text = log_path.read_text()
    assert text.startswith(f"$ {PY} -c print('first run')\nfirst run\n")
    assert "# exit 0 after" in text
    assert "second run\n" in text
    assert "# exit 2 after" in text
    assert text.index("first run") < text.index("second run")
    assert stat.S_IMODE(os.stat(log_path).st_mode) == 0o600


def test_log_is_created_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        run(py("pass"), ToolError, "x", log_path=str(tmp_path / "l.log"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "l.log").st_mode) == 0o600


def test_log_refuses_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_text("precious\n")
    (tmp_path / "build.log").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symlink"):
        run(py("print('x')"), ToolError, "x", log_path=str(tmp_path / "build.log"))
    assert target.read_text() == "precious\n"


def test_credentials_never_reach_the_log_or_the_message(tmp_path):
    log_path = tmp_path / "build.log"
    code = f"""
        import sys
        print("Looking in indexes: " + sys.argv[1])
        print("ERROR: cannot reach {SECRET_URL}/pkg/", file=sys.stderr)
        raise SystemExit(1)
    """
    with pytest.raises(BuildError) as info:
        run(py(code) + [SECRET_URL], BuildError, "building", log_path=str(log_path))
    text = log_path.read_text()
    message = str(info.value)
    for where in (text, message):
        assert "secret" not in where
        assert "user:" not in where
    assert "https://****@host.example/simple" in text
    assert "https://****@host.example/simple/pkg/" in message


def test_credentials_never_reach_a_timeout_log(tmp_path):
    log_path = tmp_path / "build.log"
    code = """
        import sys, time
        print(sys.argv[1], flush=True)
        time.sleep(1000)
    """
    with pytest.raises(ToolError) as info:
        run(py(code) + [SECRET_URL], ToolError, "x", timeout=1, log_path=str(log_path))
    assert "secret" not in log_path.read_text()
    assert "https://****@host.example" in log_path.read_text()
    assert "secret" not in str(info.value)


def test_credentials_never_reach_the_message_when_the_tail_cuts_a_url():
    # One long line whose last 3000 characters start right after "https://".
    line = "x" * 100 + SECRET_URL
    line += "y" * (3000 - len(line) + len("x" * 100 + "https://"))
    code = f"""
        print({line!r})
        raise SystemExit(1)
    """
    with pytest.raises(BuildError) as info:
        run(py(code), BuildError, "building")
    assert "secret" not in str(info.value)


def test_what_a_tool_creates_is_writable_by_root_alone_whatever_the_callers_umask(tmp_path):
    # salt-call run with umask 002 would make group-writable venvs: code a group
    # could change, and a venv directory venvbuild does not take for its own.
    made = tmp_path / "made"
    old = os.umask(0o002)
    try:
        runner.run(runner.Command([sys.executable, "-c",
                                   f"import os; os.mkdir({str(made)!r}); "
                                   f"open({str(made / 'f')!r}, 'w').close()"]),
                   ToolError, "making")
    finally:
        os.umask(old)
    assert stat.S_IMODE(made.stat().st_mode) == 0o755
    assert stat.S_IMODE((made / "f").stat().st_mode) == 0o644
