"""Idempotent venvs built from wheels.

.. code-block:: yaml

    keystone_venv:
      venvbuild.installed:
        - name: /opt/venvs/keystone
        - packages:
          - keystone==26.0.0
          - PyMySQL
        - install_tool: uv

    keystone:
      service.running:
        - watch:
          - venvbuild: keystone_venv

``installed`` reports changes only when the venv's content changed, so a
``watch``/``onchanges`` consumer restarts a service only then; ``test=True``
predicts the same changes without running anything. Every argument other than
``name`` and ``venv_id`` is an option of the venv, with the same name as its
pillar key (see docs/usage.md and ``salt-call sys.doc venvbuild``).
"""

import typing

from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

from saltext_venvbuild.core.options import BUILD_OPTIONS
from saltext_venvbuild.core.options import OPTIONS
from saltext_venvbuild.core.options import parameter_docs
from saltext_venvbuild.core.options import unknown_keys

if typing.TYPE_CHECKING:
    __opts__: dict
    __salt__: dict

__virtualname__ = "venvbuild"

# The arguments each state takes; anything else gets a "did you mean" (_refused).
_INSTALLED_ARGS = frozenset(OPTIONS) | {"name", "venv_id"}
_BUILT_ARGS = frozenset(BUILD_OPTIONS) | {"name"}
_NOT_BUILD_ARGS = dict(
    {key: f"{key} is an option of venvbuild.installed, not of a build"
     for key in OPTIONS if key not in BUILD_OPTIONS},
    venv_id="a build's name is the venv id")


def __virtual__():
    if "venvbuild.install" in __salt__:
        return __virtualname__
    return False, "venvbuild: the venvbuild execution module is not available"


def _given(arguments):
    """The options among a state's ``arguments`` (its ``locals()``) that the user set,
    so module defaults and pillar stay in force."""
    return {key: value for key, value in arguments.items()
            if key in OPTIONS and value is not None}


def _refused(ret, state, other, accepted, instead=None):
    """Fail ``ret`` if the state was given arguments it does not take (``other``, its
    ``**kwargs``): one line each, with the argument most likely meant. Salt itself
    would abort the whole run and print ``state.apply``'s usage instead."""
    unknown = [key for key in other if not str(key).startswith("__")]
    problems = unknown_keys(unknown, accepted, f"venvbuild.{state}", "argument", instead=instead)
    ret["comment"] = "\n".join(problems)
    return bool(problems)


def _run(ret, func, *args, **kwargs):
    """Call an execution function; fill ``ret``; return its result (None on error)."""
    test = bool(__opts__.get("test"))
    try:
        res = __salt__[func](*args, test=test, **kwargs)
    except (CommandExecutionError, SaltInvocationError) as exc:
        ret["result"] = False
        ret["comment"] = str(exc)
        return None
    ret["changes"] = res["changes"]
    ret["comment"] = res["comment"]
    ret["result"] = None if (test and res["changes"]) else True
    if res.get("warnings"):
        ret["warnings"] = list(res["warnings"])
    return res


def installed(
    name,
    venv_id=None,
    packages=None,
    default_packages=None,
    constraints=None,
    global_constraints=None,
    python=None,
    install_tool=None,
    seed_tools=None,
    package_state=None,
    build_args=None,
    default_build_args=None,
    build_env=None,
    build_requirements=None,
    build_requirements_extra=None,
    build_timeout=None,
    retries=None,
    retry_delay=None,
    wheels_rebuild=None,
    rebuild=None,
    build_pkgs=None,
    base_pkgs=None,
    pkgs_state=None,
    pkgs_cache_valid_time=None,
    repo_path=None,
    release=None,
    repo_user=None,
    repo_group=None,
    pip_noconf=None,
    uv_bin=None,
    ca_bundle=None,
    repo_url=None,
    manifest_sha256=None,
    builder=None,
    builder_target=None,
    builder_tgt_type=None,
    builder_platforms=None,
    wheel_build=None,
    build_fallback=None,
    wait_timeout=None,
    request_build=None,
    install_args=None,
    install_env=None,
    install_timeout=None,
    keep_versions=None,
    adopt_existing=None,
    install_pkgs=None,
    symlink_pkgs=None,
    facts_when_changed=None,
    facts_dest=None,
    **other,
):
    """
    Ensure the venv at ``name`` holds exactly the wheels of its spec.

    .. code-block:: yaml

        keystone_venv:
          venvbuild.installed:
            - name: /opt/venvs/keystone
            - packages:
              - keystone==26.0.0
              - PyMySQL
            - global_constraints:
              - --constraint https://releases.openstack.org/constraints/upper/2025.2
            - install_tool: uv
            - builder: build01

    name
        Absolute path of the venv (the role's ``venv_install_destination_path``).
        It becomes a symlink to a versioned directory beside it.
    venv_id
        The venv's id in the repo (manifest names); defaults to the basename of ``name``.
<options>
    """
    kwargs = _given(locals())  # first: every parameter, nothing else yet
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if _refused(ret, "installed", other, _INSTALLED_ARGS):
        return ret
    res = _run(ret, "venvbuild.install", name, venv_id=venv_id, **kwargs)
    if res and res["changes"] and not __opts__.get("test"):
        # Re-read what is now installed: the switch must have taken.
        status = __salt__["venvbuild.status"](name)
        if not status or status.get("spec_id") != res["spec_id"]:
            ret["result"] = False
            ret["comment"] += "; no errors, but the installed venv does not report the new spec id"
    return ret


def wheels_built(
    name,
    packages=None,
    default_packages=None,
    constraints=None,
    global_constraints=None,
    python=None,
    install_tool=None,
    seed_tools=None,
    package_state=None,
    build_args=None,
    default_build_args=None,
    build_env=None,
    build_requirements=None,
    build_requirements_extra=None,
    build_timeout=None,
    retries=None,
    retry_delay=None,
    wheels_rebuild=None,
    rebuild=None,
    build_pkgs=None,
    base_pkgs=None,
    pkgs_state=None,
    pkgs_cache_valid_time=None,
    repo_path=None,
    release=None,
    repo_user=None,
    repo_group=None,
    pip_noconf=None,
    uv_bin=None,
    ca_bundle=None,
    **other,
):
    """
    Ensure the wheels and manifest of venv ``name``'s spec are published in the repo.
    Reports changes only when a new or different manifest was published (or new
    wheels stored); ``rebuild`` matters only with ``wheels_rebuild``.

    .. code-block:: yaml

        keystone_wheels:
          venvbuild.wheels_built:
            - name: keystone
            - packages:
              - keystone==26.0.0
              - PyMySQL
            - build_pkgs:
              - gcc
              - python3-dev

    name
        The venv id (``keystone``): manifests are named ``<name>-<spec id>.txt``.
<build options>
    """
    kwargs = _given(locals())  # first: every parameter, nothing else yet
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if _refused(ret, "wheels_built", other, _BUILT_ARGS, _NOT_BUILD_ARGS):
        return ret
    _run(ret, "venvbuild.build_wheels", name, **kwargs)
    return ret


installed.__doc__ = installed.__doc__.replace("<options>\n", parameter_docs())
wheels_built.__doc__ = wheels_built.__doc__.replace("<build options>\n",
                                                    parameter_docs(BUILD_OPTIONS))


def absent(name):
    """
    Ensure no venv venvbuild installed is at ``name``, nor any version it made
    and kept for rollback. What venvbuild did not install there (a directory, a
    foreign symlink) is refused, not removed. What ``adopt_existing`` (or a venv
    made by other means) moved aside is kept where it is, and the comment says
    where (``test=True`` says the same).

    name
        Absolute path of the venv.

    .. code-block:: yaml

        keystone_venv_gone:
          venvbuild.absent:
            - name: /opt/venvs/keystone
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    test = bool(__opts__.get("test"))
    try:
        status = __salt__["venvbuild.status"](name)
        plan = __salt__["venvbuild.remove"](name, test=test)
    except (CommandExecutionError, SaltInvocationError) as exc:
        ret["comment"] = str(exc)
        return ret
    removed, kept = plan["removed"], plan["kept"]
    note = (f"; kept {', '.join(kept)} (not made by venvbuild: moved aside by adopt_existing or "
            "found there; remove it yourself if it is no longer needed)" if kept else "")
    if not removed:
        ret["result"] = True
        ret["comment"] = f"venv {name} is already absent{note}"
        return ret
    ret["changes"] = {"removed": {"old": status["spec_id"] if status else None, "new": None,
                                  "paths": removed}}
    if kept:
        ret["changes"]["removed"]["kept"] = kept
    if test:
        ret["result"] = None
        ret["comment"] = f"would remove {', '.join(removed)}{note}"
        return ret
    ret["result"] = True
    ret["comment"] = f"removed {', '.join(removed)}{note}"
    return ret
