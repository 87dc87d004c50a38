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
predicts the same changes without running anything.
"""

import os
import typing

from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

if typing.TYPE_CHECKING:
    __opts__: dict
    __salt__: dict

__virtualname__ = "venvbuild"


def __virtual__():
    if "venvbuild.install" in __salt__:
        return __virtualname__
    return False, "venvbuild: the venvbuild execution module is not available"


def _given(**kwargs):
    """Only the arguments the user set, so module defaults and pillar stay in force."""
    return {key: value for key, value in kwargs.items() if value is not None}


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
    build_args=None,
    build_env=None,
    install_args=None,
    install_env=None,
    package_state=None,
    rebuild=None,
    wheels_rebuild=None,
    repo_path=None,
    repo_url=None,
    builder=None,
    builder_target=None,
    builder_tgt_type=None,
    wheel_build=None,
    wait_timeout=None,
    request_build=None,
    ca_bundle=None,
    pip_noconf=None,
    uv_bin=None,
    keep_versions=None,
    build_pkgs=None,
    install_pkgs=None,
    pkgs_state=None,
    pkgs_cache_valid_time=None,
    symlink_pkgs=None,
    facts_when_changed=None,
    facts_dest=None,
    release=None,
    repo_user=None,
    repo_group=None,
):
    """
    Ensure the venv at ``name`` holds exactly the wheels of its spec.

    name
        Absolute path of the venv (the role's ``venv_install_destination_path``).
        It becomes a symlink to a versioned directory beside it.
    venv_id
        The venv's id in the repo (manifest names); defaults to the basename of ``name``.
    packages
        List of requirements to install, e.g. ``[keystone==26.0.0, PyMySQL]``.
    default_packages
        Requirements merged into ``packages`` (for site-wide additions).
    constraints
        Source constraints for the build: pins, ``name @ git+URL@REF``.
    global_constraints
        Constraints applied ahead of ``constraints`` (global pins across venvs).
    python
        Interpreter of the venv, a name on PATH or a path (default ``python3``).
    install_tool
        ``pip`` (default) or ``uv``.
    build_args
        List of extra arguments for ``pip wheel``, e.g.
        ``[--no-index, --find-links, /srv/sdists]``.
    build_env
        Mapping of environment variables for the build.
    install_args
        List of extra arguments for the install into the venv.
    install_env
        Mapping of environment variables for the install.
    package_state
        ``present`` (default) or ``latest`` (resolve again on each run).
    rebuild
        Install a fresh venv even if the installed one is current.
    wheels_rebuild
        Build the wheels again ignoring published wheels and pip's cache.
    repo_path
        Local wheel repo, used when building locally (default: config
        ``venvbuild:repo:path`` or ``/srv/venvbuild``).
    repo_url
        Install from the repo served at this URL (the role's ``openstack_repo_url``).
    builder
        Minion id of the builder to install from, found through the mine.
    builder_target, builder_tgt_type
        Target expression (and its type, default ``glob``) matching the builders
        (the role's ``venv_build_group``); one serving this minion's platform key
        is chosen deterministically through the mine alias ``venvbuild_repo``.
    wheel_build
        When no builder serves this minion: ``True`` (default) builds wheels
        locally, ``False`` fails with an error.
    wait_timeout
        Seconds to wait for the builder's manifest of this spec (default 300).
    request_build
        When the builder has not published this spec yet, ask it to build it
        now through peer publishing (``publish.publish`` of
        ``venvbuild.build_wheels``; needs a master ``peer`` rule), instead of
        only waiting. Default False.
    ca_bundle
        CA bundle for HTTPS repos: used for the manifest fetch, pip and uv.
    pip_noconf
        Ignore pip's configuration files (the role's ``venv_pip_upgrade_noconf``).
    uv_bin
        Path of the uv binary, when it is neither on PATH nor beside Salt.
    keep_versions
        How many venv directories to keep, the live one included (default 2).
    build_pkgs
        Distro packages needed to build the wheels, installed through Salt's
        ``pkg`` before a local build.
    install_pkgs
        Distro packages the venv needs at run time, installed through ``pkg``.
    pkgs_state
        ``present`` (default) or ``latest`` for build_pkgs/install_pkgs.
    pkgs_cache_valid_time
        Seconds the package database stays fresh before a refresh (apt; default 600).
    symlink_pkgs
        Distro packages whose Python modules are linked into the venv (found with
        ``pkg.file_list``; top-level entries of site-/dist-packages only).
    facts_when_changed
        List of ``{section, option, value}`` set as grains ``<facts_dest>:<section>:<option>``
        and in ``<config dir>/facts.d/<facts_dest>.fact`` when the venv changed.
    facts_dest
        Name of the facts grain and file (default ``venvbuild``).
    release
        Release level of the repo layout: ``<repo>/<release>/<platform>/``.
    repo_user, repo_group
        Owner of what a local build writes into the repo.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    kwargs = _given(
        packages=packages, default_packages=default_packages, constraints=constraints,
        global_constraints=global_constraints, python=python, install_tool=install_tool,
        build_args=build_args, build_env=build_env, install_args=install_args,
        install_env=install_env, package_state=package_state, rebuild=rebuild,
        wheels_rebuild=wheels_rebuild, repo_path=repo_path, repo_url=repo_url, builder=builder,
        builder_target=builder_target, builder_tgt_type=builder_tgt_type, wheel_build=wheel_build,
        wait_timeout=wait_timeout, request_build=request_build, ca_bundle=ca_bundle,
        pip_noconf=pip_noconf, uv_bin=uv_bin, keep_versions=keep_versions, build_pkgs=build_pkgs,
        install_pkgs=install_pkgs, pkgs_state=pkgs_state,
        pkgs_cache_valid_time=pkgs_cache_valid_time, symlink_pkgs=symlink_pkgs,
        facts_when_changed=facts_when_changed, facts_dest=facts_dest, release=release,
        repo_user=repo_user, repo_group=repo_group,
    )
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
    build_args=None,
    build_env=None,
    package_state=None,
    wheels_rebuild=None,
    repo_path=None,
    pip_noconf=None,
    uv_bin=None,
    build_pkgs=None,
    pkgs_state=None,
    pkgs_cache_valid_time=None,
    release=None,
    repo_user=None,
    repo_group=None,
    ca_bundle=None,
):
    """
    Ensure the wheels and manifest of venv ``name``'s spec are published in the repo.

    name
        The venv id (``keystone``): manifests are named ``<name>-<spec id>.txt``.

    The other arguments are those of :func:`installed` that decide the build,
    and the builder's: ``build_pkgs`` (installed through ``pkg`` before a
    build), ``pkgs_state``, ``pkgs_cache_valid_time``, ``release`` (repo layout
    ``<repo>/<release>/<platform>``), ``repo_user``/``repo_group`` (owner of
    the published files), ``ca_bundle`` (for an HTTPS index or find-links).
    Reports changes only when a new or different manifest was published.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    kwargs = _given(
        packages=packages, default_packages=default_packages, constraints=constraints,
        global_constraints=global_constraints, python=python, install_tool=install_tool,
        build_args=build_args, build_env=build_env, package_state=package_state,
        wheels_rebuild=wheels_rebuild, repo_path=repo_path, pip_noconf=pip_noconf, uv_bin=uv_bin,
        build_pkgs=build_pkgs, pkgs_state=pkgs_state, pkgs_cache_valid_time=pkgs_cache_valid_time,
        release=release, repo_user=repo_user, repo_group=repo_group, ca_bundle=ca_bundle,
    )
    _run(ret, "venvbuild.build_wheels", name, **kwargs)
    return ret


def absent(name):
    """
    Ensure no venv is at ``name``, nor any version kept for rollback.

    name
        Absolute path of the venv.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    try:
        status = __salt__["venvbuild.status"](name)
    except CommandExecutionError as exc:
        ret["comment"] = str(exc)
        return ret
    exists = status is not None or os.path.lexists(name)
    if not exists:
        ret["result"] = True
        ret["comment"] = f"venv {name} is already absent"
        return ret
    old = status["spec_id"] if status else "unmanaged"
    if __opts__.get("test"):
        ret["result"] = None
        ret["changes"] = {"removed": {"old": old, "new": None}}
        ret["comment"] = f"venv {name} would be removed"
        return ret
    try:
        removed = __salt__["venvbuild.remove"](name)
    except CommandExecutionError as exc:
        ret["comment"] = str(exc)
        return ret
    ret["result"] = True
    ret["changes"] = {"removed": {"old": old, "new": None}}
    ret["comment"] = f"removed {', '.join(removed)}"
    return ret
