"""The venvbuild state module with mocked execution functions (salt-factories loader mock)."""

import inspect
from unittest import mock

import pytest
from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

import saltext_venvbuild.states.venvbuild as venvbuild_state
from saltext_venvbuild.core import options as core_options

SPEC = "0123456789abcdef"
PATH = "/opt/venvs/keystone"
CHANGES = {"venv": {"old": None, "new": SPEC}, "requirements": {"added": ["keystone"]}}


@pytest.fixture
def salt_mocks():
    """The state module's ``__salt__``; tests add the execution functions they need."""
    return {}


@pytest.fixture
def opts():
    return {"test": False}


@pytest.fixture
def configure_loader_modules(salt_mocks, opts):
    return {venvbuild_state: {"__salt__": salt_mocks, "__opts__": opts}}


def _install_result(changes, comment="done", spec_id=SPEC, warnings=None):
    out = {"name": PATH, "venv_id": "keystone", "spec_id": spec_id,
           "platform": "debian-12-x86_64-cp311", "changed": bool(changes),
           "changes": changes, "comment": comment}
    if warnings is not None:
        out["warnings"] = warnings
    return out


def _build_result(changes, comment, warnings=None):
    out = {"spec_id": SPEC, "platform": "debian-12-x86_64-cp311", "manifest_path": "/srv/m.txt",
           "changed": bool(changes), "changes": changes, "pins": None, "comment": comment}
    if warnings is not None:
        out["warnings"] = warnings
    return out


def test_virtual_needs_the_execution_module(salt_mocks):
    assert venvbuild_state.__virtual__()[0] is False
    salt_mocks["venvbuild.install"] = mock.Mock()
    assert venvbuild_state.__virtual__() == "venvbuild"


# -- signatures and documentation ---------------------------------------------------


def _named(function):
    """A state's parameters but its ``**other`` (which only catches unknown arguments)."""
    params = dict(inspect.signature(function).parameters)
    assert params.pop("other").kind is inspect.Parameter.VAR_KEYWORD
    return params


def test_installed_takes_exactly_name_venv_id_and_every_option():
    params = _named(venvbuild_state.installed)
    assert set(params) == {"name", "venv_id"} | set(core_options.OPTIONS)
    assert list(params)[:2] == ["name", "venv_id"]
    for name, param in params.items():
        assert param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        if name != "name":
            assert param.default is None, name  # unset arguments leave module defaults in force


def test_wheels_built_takes_exactly_name_and_the_build_options():
    params = _named(venvbuild_state.wheels_built)
    assert set(params) == {"name"} | set(core_options.BUILD_OPTIONS)
    assert list(params)[0] == "name"
    for name, param in params.items():
        if name != "name":
            assert param.default is None, name


def test_installed_refuses_unknown_arguments_saying_what_was_meant(salt_mocks):
    salt_mocks["venvbuild.install"] = mock.Mock()
    ret = venvbuild_state.installed(PATH, pakages=["keystone"], instal_tool="uv", zzz=1,
                                    __id__="keystone_venv", __pub_fun="state.apply")
    assert ret["result"] is False and ret["changes"] == {}
    assert ret["comment"].splitlines() == [
        "venvbuild.installed: unknown argument 'instal_tool'; did you mean 'install_tool'?",
        "venvbuild.installed: unknown argument 'pakages'; did you mean 'packages'?",
        f"venvbuild.installed: unknown argument 'zzz'; {core_options.OPTIONS_HINT}",
    ]
    salt_mocks["venvbuild.install"].assert_not_called()  # nothing runs


def test_wheels_built_refuses_install_options_and_typos(salt_mocks):
    salt_mocks["venvbuild.build_wheels"] = mock.Mock()
    ret = venvbuild_state.wheels_built("keystone", repo_url="http://b:8181", venv_id="k",
                                       pakages=["keystone"])
    assert ret["result"] is False
    assert ret["comment"].splitlines() == [
        "venvbuild.wheels_built: unknown argument 'pakages'; did you mean 'packages'?",
        "venvbuild.wheels_built: unknown argument 'repo_url'; repo_url is an option of "
        "venvbuild.installed, not of a build",
        "venvbuild.wheels_built: unknown argument 'venv_id'; a build's name is the venv id",
    ]
    salt_mocks["venvbuild.build_wheels"].assert_not_called()


def test_absent_takes_only_name():
    assert list(inspect.signature(venvbuild_state.absent).parameters) == ["name"]


@pytest.mark.parametrize("option", sorted(core_options.OPTIONS))
def test_every_option_is_documented_in_installed(option):
    doc = inspect.getdoc(venvbuild_state.installed)
    assert option in doc


def test_installed_passes_every_option_it_is_given(salt_mocks):
    install = salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}))
    given = {name: f"value-{name}" for name in core_options.OPTIONS}
    venvbuild_state.installed(PATH, venv_id="keystone", **given)
    install.assert_called_once_with(PATH, venv_id="keystone", test=False, **given)


def test_wheels_built_passes_every_build_option_it_is_given(salt_mocks):
    build = salt_mocks["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result({}, "ok"))
    given = {name: f"value-{name}" for name in core_options.BUILD_OPTIONS}
    venvbuild_state.wheels_built("keystone", **given)
    build.assert_called_once_with("keystone", test=False, **given)


# -- installed ----------------------------------------------------------------------


def test_installed_passes_only_the_given_arguments(salt_mocks):
    install = salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}))
    venvbuild_state.installed(PATH, packages=["keystone==26.0.0"], install_tool="uv", rebuild=False)
    install.assert_called_once_with(
        PATH, venv_id=None, test=False,
        packages=["keystone==26.0.0"], install_tool="uv", rebuild=False,
    )


def test_installed_passes_venv_id(salt_mocks):
    install = salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}))
    venvbuild_state.installed("/opt/venvs/ks", venv_id="keystone", packages=["keystone"])
    assert install.call_args.kwargs["venv_id"] == "keystone"


def test_installed_real_run_with_changes(salt_mocks):
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result(CHANGES, "installed it"))
    status = salt_mocks["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    ret = venvbuild_state.installed(PATH, packages=["keystone"])
    assert ret == {"name": PATH, "result": True, "changes": CHANGES, "comment": "installed it"}
    status.assert_called_once_with(PATH)


@pytest.mark.parametrize("status", [None, {"spec_id": "ffffffffffffffff"}, {}])
def test_installed_fails_when_status_does_not_report_the_new_spec(salt_mocks, status):
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result(CHANGES, "installed it"))
    salt_mocks["venvbuild.status"] = mock.Mock(return_value=status)
    ret = venvbuild_state.installed(PATH, packages=["keystone"])
    assert ret["result"] is False
    assert ret["changes"] == CHANGES
    assert ret["comment"] == (
        "installed it; no errors, but the installed venv does not report the new spec id"
    )


def test_installed_no_op(salt_mocks):
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}, "venv is current"))
    status = salt_mocks["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed(PATH, packages=["keystone"])
    assert ret == {"name": PATH, "result": True, "changes": {}, "comment": "venv is current"}
    status.assert_not_called()


def test_installed_test_mode_with_changes(salt_mocks, opts):
    opts["test"] = True
    install = salt_mocks["venvbuild.install"] = mock.Mock(
        return_value=_install_result(CHANGES, "would be installed")
    )
    status = salt_mocks["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed(PATH, packages=["keystone"])
    assert ret == {"name": PATH, "result": None, "changes": CHANGES, "comment": "would be installed"}
    assert install.call_args.kwargs["test"] is True
    status.assert_not_called()


def test_installed_test_mode_no_op(salt_mocks, opts):
    opts["test"] = True
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}, "venv is current"))
    ret = venvbuild_state.installed(PATH, packages=["keystone"])
    assert ret["result"] is True
    assert ret["changes"] == {}
    assert ret["comment"] == "venv is current"


@pytest.mark.parametrize("error", [CommandExecutionError, SaltInvocationError])
def test_installed_error(salt_mocks, error):
    salt_mocks["venvbuild.install"] = mock.Mock(side_effect=error("python 'python9': not found"))
    status = salt_mocks["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed(PATH, packages=["keystone"], python="python9")
    assert ret == {"name": PATH, "result": False, "changes": {},
                   "comment": "python 'python9': not found"}
    status.assert_not_called()


def test_installed_copies_the_warnings(salt_mocks):
    warnings = ["builders are found by grain target 'roles:builder', which matches ..."]
    salt_mocks["venvbuild.install"] = mock.Mock(
        return_value=_install_result({}, "venv is current", warnings=warnings))
    ret = venvbuild_state.installed(PATH, packages=["keystone"], builder_target="roles:builder",
                                    builder_tgt_type="grain")
    assert ret == {"name": PATH, "result": True, "changes": {}, "comment": "venv is current",
                   "warnings": warnings}
    assert ret["warnings"] is not warnings  # a copy: the state's own list


def test_installed_copies_the_warnings_of_a_change_in_test_mode(salt_mocks, opts):
    opts["test"] = True
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result(
        CHANGES, "would be installed", warnings=("plain HTTP", "plain HTTP 2")))
    ret = venvbuild_state.installed(PATH, packages=["keystone"], repo_url="http://r")
    assert ret["result"] is None
    assert ret["warnings"] == ["plain HTTP", "plain HTTP 2"]


@pytest.mark.parametrize("warnings", [None, []])
def test_installed_without_warnings_has_no_warnings_key(salt_mocks, warnings):
    salt_mocks["venvbuild.install"] = mock.Mock(return_value=_install_result({}, warnings=warnings))
    assert "warnings" not in venvbuild_state.installed(PATH, packages=["keystone"])


# -- wheels_built -------------------------------------------------------------------


def test_wheels_built_passes_only_the_given_arguments(salt_mocks):
    build = salt_mocks["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result({}, "published"))
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"], build_args=["--no-index"])
    build.assert_called_once_with("keystone", test=False, packages=["keystone"], build_args=["--no-index"])
    assert ret == {"name": "keystone", "result": True, "changes": {}, "comment": "published"}


def test_wheels_built_with_changes(salt_mocks):
    changes = {"manifest": {"old": None, "new": "a" * 64}}
    salt_mocks["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result(changes, "built 3 wheels"))
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret == {"name": "keystone", "result": True, "changes": changes, "comment": "built 3 wheels"}


def test_wheels_built_test_mode(salt_mocks, opts):
    opts["test"] = True
    changes = {"manifest": {"old": None, "new": "keystone-x.txt"}}
    build = salt_mocks["venvbuild.build_wheels"] = mock.Mock(
        return_value=_build_result(changes, "would be built")
    )
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret["result"] is None
    assert ret["changes"] == changes
    assert build.call_args.kwargs["test"] is True


def test_wheels_built_test_mode_no_op(salt_mocks, opts):
    opts["test"] = True
    salt_mocks["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result({}, "published"))
    assert venvbuild_state.wheels_built("keystone", packages=["keystone"])["result"] is True


@pytest.mark.parametrize("error", [CommandExecutionError, SaltInvocationError])
def test_wheels_built_error(salt_mocks, error):
    salt_mocks["venvbuild.build_wheels"] = mock.Mock(
        side_effect=error("building wheels failed: see the log")
    )
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret == {"name": "keystone", "result": False, "changes": {},
                   "comment": "building wheels failed: see the log"}


def test_wheels_built_copies_the_warnings(salt_mocks):
    salt_mocks["venvbuild.build_wheels"] = mock.Mock(
        return_value=_build_result({}, "published", warnings=["w"]))
    assert venvbuild_state.wheels_built("keystone", packages=["keystone"])["warnings"] == ["w"]


# -- absent -------------------------------------------------------------------------


def test_absent_when_already_absent(salt_mocks, tmp_path):
    path = str(tmp_path / "keystone")
    salt_mocks["venvbuild.status"] = mock.Mock(return_value=None)
    remove = salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": [], "kept": []})
    ret = venvbuild_state.absent(path)
    assert ret == {"name": path, "result": True, "changes": {},
                   "comment": f"venv {path} is already absent"}
    remove.assert_called_once_with(path, test=False)


def test_absent_when_already_absent_in_test_mode(salt_mocks, opts, tmp_path):
    opts["test"] = True
    path = str(tmp_path / "keystone")
    salt_mocks["venvbuild.status"] = mock.Mock(return_value=None)
    remove = salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": [], "kept": []})
    ret = venvbuild_state.absent(path)
    assert ret == {"name": path, "result": True, "changes": {},
                   "comment": f"venv {path} is already absent"}
    remove.assert_called_once_with(path, test=True)


def test_absent_test_mode(salt_mocks, opts, tmp_path):
    opts["test"] = True
    path = str(tmp_path / "keystone")
    versions = str(tmp_path / ".keystone.versions")
    status = salt_mocks["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    remove = salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": [path, versions], "kept": []})
    ret = venvbuild_state.absent(path)
    assert ret == {"name": path, "result": None,
                   "changes": {"removed": {"old": SPEC, "new": None, "paths": [path, versions]}},
                   "comment": f"would remove {path}, {versions}"}
    status.assert_called_once_with(path)
    remove.assert_called_once_with(path, test=True)


def test_absent_removes_the_venv(salt_mocks, tmp_path):
    path = str(tmp_path / "keystone")
    salt_mocks["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    remove = salt_mocks["venvbuild.remove"] = mock.Mock(
        return_value={"removed": [path, str(tmp_path / ".keystone.versions")], "kept": []}
    )
    ret = venvbuild_state.absent(path)
    remove.assert_called_once_with(path, test=False)
    assert ret == {"name": path, "result": True,
                   "changes": {"removed": {"old": SPEC, "new": None,
                                           "paths": [path, str(tmp_path / ".keystone.versions")]}},
                   "comment": f"removed {path}, {tmp_path}/.keystone.versions"}


def test_absent_test_mode_predicts_the_changes_of_the_real_run(salt_mocks, opts, tmp_path):
    path = str(tmp_path / "keystone")
    removed = [path, str(tmp_path / ".keystone.versions")]
    salt_mocks["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": removed, "kept": []})
    opts["test"] = True
    predicted = venvbuild_state.absent(path)
    opts["test"] = False
    done = venvbuild_state.absent(path)
    assert predicted["changes"] == done["changes"]
    assert (predicted["result"], done["result"]) == (None, True)
    assert salt_mocks["venvbuild.remove"].call_args_list == [
        mock.call(path, test=True), mock.call(path, test=False)]


def test_absent_removes_kept_versions_without_a_live_venv(salt_mocks, tmp_path):
    # Only the versions directory is left (the link is gone): status knows no spec.
    path = str(tmp_path / "keystone")
    versions = str(tmp_path / ".keystone.versions")
    salt_mocks["venvbuild.status"] = mock.Mock(return_value=None)
    remove = salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": [versions],
                                                                      "kept": []})
    ret = venvbuild_state.absent(path)
    remove.assert_called_once_with(path, test=False)
    assert ret["result"] is True
    assert ret["changes"] == {"removed": {"old": None, "new": None, "paths": [versions]}}
    assert ret["comment"] == f"removed {versions}"


@pytest.mark.parametrize("test", [False, True])
def test_absent_names_what_it_keeps(salt_mocks, opts, tmp_path, test):
    opts["test"] = test
    path = str(tmp_path / "keystone")
    own = str(tmp_path / ".keystone.versions" / f"{SPEC}-20240101T000000Z")
    adopted = str(tmp_path / ".keystone.versions" / "preexisting-20240101T000000Z")
    salt_mocks["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    salt_mocks["venvbuild.remove"] = mock.Mock(return_value={"removed": [path, own],
                                                             "kept": [adopted]})
    ret = venvbuild_state.absent(path)
    assert ret["result"] is (None if test else True)
    assert ret["changes"] == {"removed": {"old": SPEC, "new": None, "paths": [path, own],
                                          "kept": [adopted]}}
    assert ret["comment"].startswith(f"{'would remove' if test else 'removed'} {path}, {own}; "
                                     f"kept {adopted} (not made by venvbuild")


@pytest.mark.parametrize("test", [False, True])
@pytest.mark.parametrize("error", [CommandExecutionError, SaltInvocationError])
def test_absent_remove_refusal(salt_mocks, opts, tmp_path, error, test):
    opts["test"] = test
    path = tmp_path / "keystone"
    path.mkdir()
    salt_mocks["venvbuild.status"] = mock.Mock(return_value=None)
    salt_mocks["venvbuild.remove"] = mock.Mock(
        side_effect=error("venvbuild did not create what is there (dir: not its own link); "
                          "refusing to remove it")
    )
    ret = venvbuild_state.absent(str(path))
    assert ret == {"name": str(path), "result": False, "changes": {},
                   "comment": "venvbuild did not create what is there (dir: not its own link); "
                              "refusing to remove it"}


@pytest.mark.parametrize("error", [CommandExecutionError, SaltInvocationError])
def test_absent_status_error(salt_mocks, error):
    salt_mocks["venvbuild.status"] = mock.Mock(side_effect=error("venv path 'x': must be absolute"))
    remove = salt_mocks["venvbuild.remove"] = mock.Mock()
    ret = venvbuild_state.absent("x")
    assert ret["result"] is False
    assert ret["changes"] == {}
    assert ret["comment"] == "venv path 'x': must be absolute"
    remove.assert_not_called()
