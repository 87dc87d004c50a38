"""Unit tests of the venvbuild state module with mocked __salt__ and __opts__."""

import types
from unittest import mock

import pytest
from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

import saltext_venvbuild.states.venvbuild as venvbuild_state

SPEC = "0123456789abcdef"


@pytest.fixture
def salt(monkeypatch):
    """The module's __salt__ and __opts__; tests fill __salt__ with mocks."""
    dunders = types.SimpleNamespace(salt={}, opts={"test": False})
    monkeypatch.setattr(venvbuild_state, "__salt__", dunders.salt, raising=False)
    monkeypatch.setattr(venvbuild_state, "__opts__", dunders.opts, raising=False)
    return dunders


def _install_result(changes, comment="done", spec_id=SPEC):
    return {"name": "/opt/venvs/keystone", "venv_id": "keystone", "spec_id": spec_id,
            "platform": "debian-12-x86_64-cp311", "changed": bool(changes),
            "changes": changes, "comment": comment}


CHANGES = {"venv": {"old": None, "new": SPEC}, "requirements": {"added": ["keystone"]}}


def test_virtual_needs_the_execution_module(salt):
    assert venvbuild_state.__virtual__()[0] is False
    salt.salt["venvbuild.install"] = mock.Mock()
    assert venvbuild_state.__virtual__() == "venvbuild"


# -- installed ----------------------------------------------------------------------


def test_installed_passes_only_the_given_arguments(salt):
    install = salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result({}))
    venvbuild_state.installed(
        "/opt/venvs/keystone", packages=["keystone==26.0.0"], install_tool="uv", rebuild=False
    )
    install.assert_called_once_with(
        "/opt/venvs/keystone", venv_id=None, test=False,
        packages=["keystone==26.0.0"], install_tool="uv", rebuild=False,
    )


def test_installed_passes_venv_id(salt):
    install = salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result({}))
    venvbuild_state.installed("/opt/venvs/ks", venv_id="keystone", packages=["keystone"])
    assert install.call_args.kwargs["venv_id"] == "keystone"


def test_installed_real_run_with_changes(salt):
    salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result(CHANGES, "installed it"))
    status = salt.salt["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"])
    assert ret == {"name": "/opt/venvs/keystone", "result": True, "changes": CHANGES,
                   "comment": "installed it"}
    status.assert_called_once_with("/opt/venvs/keystone")


@pytest.mark.parametrize("status", [None, {"spec_id": "ffffffffffffffff"}, {}])
def test_installed_fails_when_status_does_not_report_the_new_spec(salt, status):
    salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result(CHANGES, "installed it"))
    salt.salt["venvbuild.status"] = mock.Mock(return_value=status)
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"])
    assert ret["result"] is False
    assert ret["changes"] == CHANGES
    assert ret["comment"] == (
        "installed it; no errors, but the installed venv does not report the new spec id"
    )


def test_installed_no_op(salt):
    salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result({}, "venv is current"))
    status = salt.salt["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"])
    assert ret == {"name": "/opt/venvs/keystone", "result": True, "changes": {},
                   "comment": "venv is current"}
    status.assert_not_called()


def test_installed_test_mode_with_changes(salt):
    salt.opts["test"] = True
    install = salt.salt["venvbuild.install"] = mock.Mock(
        return_value=_install_result(CHANGES, "would be installed")
    )
    status = salt.salt["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"])
    assert ret == {"name": "/opt/venvs/keystone", "result": None, "changes": CHANGES,
                   "comment": "would be installed"}
    assert install.call_args.kwargs["test"] is True
    status.assert_not_called()


def test_installed_test_mode_no_op(salt):
    salt.opts["test"] = True
    salt.salt["venvbuild.install"] = mock.Mock(return_value=_install_result({}, "venv is current"))
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"])
    assert ret["result"] is True
    assert ret["changes"] == {}
    assert ret["comment"] == "venv is current"


@pytest.mark.parametrize("error", [CommandExecutionError, SaltInvocationError])
def test_installed_error(salt, error):
    salt.salt["venvbuild.install"] = mock.Mock(side_effect=error("python 'python9': not found"))
    status = salt.salt["venvbuild.status"] = mock.Mock()
    ret = venvbuild_state.installed("/opt/venvs/keystone", packages=["keystone"], python="python9")
    assert ret == {"name": "/opt/venvs/keystone", "result": False, "changes": {},
                   "comment": "python 'python9': not found"}
    status.assert_not_called()


# -- wheels_built -------------------------------------------------------------------


def _build_result(changes, comment):
    return {"spec_id": SPEC, "platform": "debian-12-x86_64-cp311", "manifest_path": "/srv/m.txt",
            "changed": bool(changes), "changes": changes, "pins": None, "comment": comment}


def test_wheels_built_passes_only_the_given_arguments(salt):
    build = salt.salt["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result({}, "published"))
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"], build_args=["--no-index"])
    build.assert_called_once_with("keystone", test=False, packages=["keystone"], build_args=["--no-index"])
    assert ret == {"name": "keystone", "result": True, "changes": {}, "comment": "published"}


def test_wheels_built_with_changes(salt):
    changes = {"manifest": {"old": None, "new": "a" * 64}}
    salt.salt["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result(changes, "built 3 wheels"))
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret == {"name": "keystone", "result": True, "changes": changes, "comment": "built 3 wheels"}


def test_wheels_built_test_mode(salt):
    salt.opts["test"] = True
    changes = {"manifest": {"old": None, "new": "keystone-x.txt"}}
    build = salt.salt["venvbuild.build_wheels"] = mock.Mock(
        return_value=_build_result(changes, "would be built")
    )
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret["result"] is None
    assert ret["changes"] == changes
    assert build.call_args.kwargs["test"] is True


def test_wheels_built_test_mode_no_op(salt):
    salt.opts["test"] = True
    salt.salt["venvbuild.build_wheels"] = mock.Mock(return_value=_build_result({}, "published"))
    assert venvbuild_state.wheels_built("keystone", packages=["keystone"])["result"] is True


def test_wheels_built_error(salt):
    salt.salt["venvbuild.build_wheels"] = mock.Mock(
        side_effect=CommandExecutionError("building wheels failed: see the log")
    )
    ret = venvbuild_state.wheels_built("keystone", packages=["keystone"])
    assert ret == {"name": "keystone", "result": False, "changes": {},
                   "comment": "building wheels failed: see the log"}


# -- absent -------------------------------------------------------------------------


def test_absent_when_already_absent(salt, tmp_path):
    path = str(tmp_path / "keystone")
    salt.salt["venvbuild.status"] = mock.Mock(return_value=None)
    remove = salt.salt["venvbuild.remove"] = mock.Mock()
    ret = venvbuild_state.absent(path)
    assert ret == {"name": path, "result": True, "changes": {},
                   "comment": f"venv {path} is already absent"}
    remove.assert_not_called()


def test_absent_test_mode(salt, tmp_path):
    salt.opts["test"] = True
    path = str(tmp_path / "keystone")
    salt.salt["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    remove = salt.salt["venvbuild.remove"] = mock.Mock()
    ret = venvbuild_state.absent(path)
    assert ret == {"name": path, "result": None,
                   "changes": {"removed": {"old": SPEC, "new": None}},
                   "comment": f"venv {path} would be removed"}
    remove.assert_not_called()


def test_absent_removes_the_venv(salt, tmp_path):
    path = str(tmp_path / "keystone")
    salt.salt["venvbuild.status"] = mock.Mock(return_value={"spec_id": SPEC})
    remove = salt.salt["venvbuild.remove"] = mock.Mock(
        return_value=[path, str(tmp_path / ".keystone.versions")]
    )
    ret = venvbuild_state.absent(path)
    remove.assert_called_once_with(path)
    assert ret == {"name": path, "result": True,
                   "changes": {"removed": {"old": SPEC, "new": None}},
                   "comment": f"removed {path}, {tmp_path}/.keystone.versions"}


def test_absent_removes_an_unmanaged_path(salt, tmp_path):
    path = tmp_path / "keystone"
    path.mkdir()
    salt.salt["venvbuild.status"] = mock.Mock(return_value=None)
    remove = salt.salt["venvbuild.remove"] = mock.Mock(return_value=[str(path)])
    ret = venvbuild_state.absent(str(path))
    remove.assert_called_once_with(str(path))
    assert ret["result"] is True
    assert ret["changes"] == {"removed": {"old": "unmanaged", "new": None}}


def test_absent_remove_error(salt, tmp_path):
    path = tmp_path / "keystone"
    path.mkdir()
    salt.salt["venvbuild.status"] = mock.Mock(return_value=None)
    salt.salt["venvbuild.remove"] = mock.Mock(
        side_effect=CommandExecutionError("is a directory but not a venv; refusing to delete it")
    )
    ret = venvbuild_state.absent(str(path))
    assert ret == {"name": str(path), "result": False, "changes": {},
                   "comment": "is a directory but not a venv; refusing to delete it"}


def test_absent_status_error(salt):
    salt.salt["venvbuild.status"] = mock.Mock(side_effect=CommandExecutionError("venv path 'x': must be absolute"))
    remove = salt.salt["venvbuild.remove"] = mock.Mock()
    ret = venvbuild_state.absent("x")
    assert ret["result"] is False
    assert ret["comment"] == "venv path 'x': must be absolute"
    remove.assert_not_called()
