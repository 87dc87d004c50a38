"""Options that would make pip or uv write elsewhere, run other code or show a
secret, attacked for real through the state and execution modules.

The pillar is the master's word, but an option string must not redirect where
root writes (docs/usage.md, "Allowed options and variables"). Each attack
passes one such option or variable to a real ``venvbuild.installed`` state
that would otherwise build and install a new spec (so pip and uv would really
run with it), and checks that the state fails with an error naming the option,
that nothing appeared where the option points, and that the live venv, its
kept versions and the repo are exactly as they were. A control runs some of the
payloads by hand against the live venv to show they are real.

The secrets tests put values that cannot be used (a trailing newline from a
YAML block scalar, a tab, credentials with a raw space) into ``install_env``,
``build_env`` and ``build_args``, and check that no error, return, mine entry
(``fleet_info``), record or log line shows them.
"""

import copy
import json
import logging
import os
import subprocess

import pytest
from saltfactories.utils.functional import Loaders

from snapshots import tree

SECRET = "s3cr3t-options-attack"


@pytest.fixture(scope="module")
def live(loaders, tmp_path_factory, build_args):
    """A live venv (vbdep 1.0, installed with pip) and its built repo."""
    base = tmp_path_factory.mktemp("options-attack")
    args = {"packages": ["vbdep==1.0"], "build_args": build_args, "install_tool": "pip",
            "repo_path": str(base / "repo")}
    path = str(base / "venvs" / "app")
    ret = loaders.states.venvbuild.installed(name=path, **args)
    assert ret.result is True, ret.comment
    return {"path": path, "args": args, "base": base}


def snapshot(live):
    venvs = os.path.dirname(live["path"])
    return (os.readlink(live["path"]), tree(venvs), tree(live["args"]["repo_path"]))


@pytest.fixture
def elsewhere(tmp_path):
    """Where the attacks point: a marker file, a directory, code that leaves a marker."""
    markers = tmp_path / "markers"
    markers.mkdir()
    code = tmp_path / "code"
    code.mkdir()
    (code / "sitecustomize.py").write_text(
        f"open({str(markers / 'sitecustomize-ran')!r}, 'w').write('ran')\n")
    return {"marker": str(markers / "written"), "dir": str(markers / "dir"), "markers": markers,
            "code": str(code), "tmp": tmp_path}


def attack(states, live, elsewhere, named, **override):
    """Run the state with ``override`` (and a new spec, so pip and uv would run), in
    test mode and for real: it fails naming ``named`` and changes nothing anywhere."""
    before = snapshot(live)
    args = dict(live["args"], packages=["vbdep==1.1"])
    args.update(override)
    for test in (True, False):
        ret = states.venvbuild.installed(name=live["path"], test=test, **args)
        assert ret.result is False, (test, ret.comment)
        assert named in ret.comment, ret.comment
        assert ret.changes == {}
        assert os.listdir(elsewhere["markers"]) == [], "the attack wrote its marker"
    assert snapshot(live) == before
    return ret.comment


# -- install_args ------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["pip", "uv"])
@pytest.mark.parametrize("option, args", [
    ("--report", ["--report", "{marker}"]),
    ("--report", ["--report={marker}"]),
    ("--repor", ["--repor", "{marker}"]),  # pip reads it as --report
    ("--log", ["--log", "{marker}"]),
    ("--log-file", ["--log-file={marker}"]),
    ("--local-log", ["--local-log", "{marker}"]),
    ("--cache-dir", ["--cache-dir", "{dir}"]),
    ("--src", ["--src", "{dir}"]),
    ("--target", ["--target", "{dir}"]),
    ("-t", ["-qt{dir}"]),
    ("--prefix", ["--prefix={dir}"]),
    ("--root", ["--root", "{dir}"]),
    ("--root-user-action", ["--root-user-action", "ignore"]),
    ("--config-file", ["--config-file", "{marker}"]),
    ("--no-verify-hashes", ["--no-verify-hashes"]),
    ("-c", ["-c", "/etc/shadow"]),
])
def test_install_args_that_write_elsewhere_are_refused(states, live, elsewhere, tool, option,
                                                        args):
    args = [arg.format(**elsewhere) for arg in args]
    comment = attack(states, live, elsewhere, f"install_args (install_tool {tool}): {option} ",
                     install_args=args, install_tool=tool)
    assert "docs/usage.md" in comment or "constraints" in comment
    assert elsewhere["marker"] not in comment and "/etc/shadow" not in comment


def test_an_option_of_the_other_tool_is_refused_before_anything_runs(states, live, elsewhere):
    attack(states, live, elsewhere, "install_args (install_tool pip): --link-mode ",
           install_args=["--link-mode", "symlink"], install_tool="pip")


# -- install_env / build_env ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["install_env", "build_env"])
@pytest.mark.parametrize("variable, value", [
    ("PIP_TARGET", "{dir}"), ("PIP_tArGeT", "{dir}"), ("PIP_PREFIX", "{dir}"),
    ("PIP_ROOT", "{dir}"), ("PIP_USER", "1"), ("PIP_SRC", "{dir}"), ("PIP_LOG", "{marker}"),
    ("PIP_REPORT", "{marker}"), ("PIP_CACHE_DIR", "{dir}"), ("PIP_WHEEL_DIR", "{dir}"),
    ("PIP_CONFIG_FILE", "{marker}"), ("PYTHONPATH", "{code}"), ("PYTHONHOME", "{dir}"),
    ("LD_PRELOAD", "{marker}"), ("LD_LIBRARY_PATH", "{dir}"), ("UV_CACHE_DIR", "{dir}"),
    ("UV_CONFIG_FILE", "{marker}"), ("UV_NO_VERIFY_HASHES", "1"), ("UV_PYTHON", "/usr/bin/python3"),
    ("HOME", "{dir}"), ("TMPDIR", "{dir}"), ("PATH", "{dir}"),
])
def test_variables_that_redirect_the_tools_are_refused(states, live, elsewhere, key, variable,
                                                        value):
    value = value.format(**elsewhere)
    comment = attack(states, live, elsewhere, f"{key}: {variable} is not allowed",
                     **{key: {variable: value}})
    assert str(elsewhere["tmp"]) not in comment


# -- build_args -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["build_args", "default_build_args"])
@pytest.mark.parametrize("option, args", [
    ("--src", ["--src", "{dir}"]),
    ("--cache-dir", ["--cache-dir={dir}"]),
    ("-w", ["-w", "{dir}"]),
    ("--wheel-dir", ["--wheel-dir={dir}"]),
    ("--wheel", ["--wheel", "{dir}"]),  # pip reads it as --wheel-dir
    ("--log", ["--log", "{marker}"]),
    ("--build-option", ["--build-option", "--build-base={dir}"]),
    ("-e", ["-e", "{code}"]),
    ("-r", ["-r", "/etc/shadow"]),
])
def test_build_args_that_write_elsewhere_are_refused(states, live, elsewhere, name, option, args):
    args = [arg.format(**elsewhere) for arg in args]
    override = {name: live["args"]["build_args"] + args} if name == "build_args" else {name: args}
    attack(states, live, elsewhere, f"{name}: {option} ", **override)


def test_build_args_are_refused_by_the_builder_function_too(modules, live, elsewhere):
    from salt.exceptions import SaltInvocationError  # pylint: disable=import-outside-toplevel

    before = snapshot(live)
    args = dict(live["args"], packages=["vbdep==1.1"],
                build_args=live["args"]["build_args"] + ["--src", elsewhere["dir"]])
    with pytest.raises(SaltInvocationError, match="build_args: --src "):
        modules.venvbuild.build_wheels("app", **args)
    assert snapshot(live) == before
    assert os.listdir(elsewhere["markers"]) == []


# -- the payloads are real ------------------------------------------------------------------


def test_the_payloads_work_when_run_by_hand(live, elsewhere):
    """What the attacks above would have done: the same options given to the live
    venv's pip by hand write where they point and run the planted code."""
    python = os.path.join(live["path"], "bin", "python")
    wheels = sorted(os.path.dirname(os.path.join(root, name))
                    for root, _dirs, files in os.walk(live["args"]["repo_path"])
                    for name in files if name.startswith("vbdep-1.0"))
    env = dict(os.environ, PYTHONPATH=elsewhere["code"])
    subprocess.run([python, "-c", "pass"], env=env, check=True)
    assert (elsewhere["markers"] / "sitecustomize-ran").exists()
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["--log", elsewhere["marker"], "list"], check=True, capture_output=True)
    assert os.path.exists(elsewhere["marker"])
    target = os.path.join(elsewhere["dir"], "site")
    subprocess.run(pip + ["install", "--no-index", "--find-links", wheels[0], "vbdep==1.0"],
                   env=dict(os.environ, PIP_tArGeT=target), check=True, capture_output=True)
    assert os.path.isdir(os.path.join(target, "vbdep")), "pip read PIP_tArGeT as PIP_TARGET"


# -- secrets ------------------------------------------------------------------------------

BAD_SECRETS = {
    # A YAML block scalar's trailing newline, in a proxy URL with credentials.
    "install_env": {"HTTP_PROXY": f"http://venvbuild:{SECRET}@proxy.example:3128\n"},
    # A tab pasted into a password that is no URL (nothing for redact to find).
    "build_env": {"UV_INDEX_PRIVATE_PASSWORD": f"{SECRET}\t"},
    # Credentials with a raw space: redact could not find them in a log line.
    "build_args": ["--extra-index-url", f"https://venvbuild:{SECRET} x@mirror.example/simple"],
}


def _shown(ret):
    return str(ret.raw) + ret.comment + str(ret.changes)


def _minion_log(caplog):
    """What Salt and venvbuild logged (not salt-factories' own record of each call,
    which repeats the test's arguments)."""
    return [f"{record.name} {record.getMessage()} {record.exc_text or ''}"
            for record in caplog.records if not record.name.startswith("saltfactories")]


@pytest.mark.parametrize("key", sorted(BAD_SECRETS))
def test_a_bad_secret_is_named_never_shown(states, modules, live, elsewhere, caplog, key):
    from salt.exceptions import SaltInvocationError  # pylint: disable=import-outside-toplevel

    caplog.set_level(logging.DEBUG)
    value = BAD_SECRETS[key]
    if key == "build_args":
        value = live["args"]["build_args"] + value
    named = "--extra-index-url" if key == "build_args" else next(iter(BAD_SECRETS[key]))
    comment = attack(states, live, elsewhere, named, **{key: value})
    assert "not shown" in comment
    ret = states.venvbuild.installed(name=live["path"], **dict(live["args"], **{key: value}))
    with pytest.raises(SaltInvocationError) as info:
        modules.venvbuild.install(live["path"], **dict(live["args"], **{key: value}))
    shown = [comment, _shown(ret), str(info.value), *_minion_log(caplog)]
    assert len(shown) > 10  # the state's own lines are there
    assert not any(SECRET in text for text in shown)


SECRET_PILLAR = {"venvbuild": {"venvs": {
    "proxied": {"path": "/opt/venvs-attack/proxied", "packages": ["vbdep"],
                "install_env": BAD_SECRETS["install_env"]},
    "keyed": {"path": "/opt/venvs-attack/keyed", "packages": ["vbdep"],
              "build_env": BAD_SECRETS["build_env"]},
    "mirrored": {"path": "/opt/venvs-attack/mirrored", "packages": ["vbdep"],
                 "build_args": BAD_SECRETS["build_args"]},
    "fine": {"path": "/opt/venvs-attack/fine", "packages": ["vbdep"],
             "install_env": {"HTTPS_PROXY": f"http://venvbuild:{SECRET}@proxy.example:3128"}},
}}}


@pytest.fixture(scope="module")
def pillar_loaders(minion_opts, tmp_path_factory):
    """A minion whose pillar holds SECRET_PILLAR (its own cachedir: a new Loaders
    empties the cachedir it is given)."""
    base = tmp_path_factory.mktemp("secret-pillar")
    roots = base / "pillar"
    roots.mkdir()
    (roots / "top.sls").write_text("base:\n  '*':\n    - venvbuild\n")
    (roots / "venvbuild.sls").write_text(json.dumps(SECRET_PILLAR))
    opts = copy.deepcopy(minion_opts)
    opts.update(pillar_roots={"base": [str(roots)]}, cachedir=str(base / "cache"))
    return Loaders(opts, loaded_base_name=f"{__name__}.secret_pillar")


def test_fleet_info_and_venv_configs_show_no_secret(pillar_loaders, caplog):
    """fleet_info is the mine entry every minion can read: a venv whose options are
    refused is there with the error, which names the key and shows no value."""
    caplog.set_level(logging.DEBUG)
    info = pillar_loaders.modules.venvbuild.fleet_info()
    assert set(info) == {"proxied", "keyed", "mirrored", "fine"}
    assert "install_env: HTTP_PROXY" in info["proxied"]["error"]
    assert "build_env: UV_INDEX_PRIVATE_PASSWORD" in info["keyed"]["error"]
    assert "--extra-index-url" in info["mirrored"]["error"]
    assert info["fine"]["wanted"] and "error" not in info["fine"]
    configs = pillar_loaders.modules.venvbuild.venv_configs()
    shown = [json.dumps(info), str(configs), *_minion_log(caplog)]
    assert not any(SECRET in text for text in shown)
    state_dir = os.path.join(pillar_loaders.opts["cachedir"], "venvbuild")
    for root, _dirs, files in os.walk(state_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                assert SECRET.encode() not in handle.read(), name
