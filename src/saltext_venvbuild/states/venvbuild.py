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

from saltext_venvbuild.core.options import OPTIONS

if typing.TYPE_CHECKING:
    __opts__: dict
    __salt__: dict

__virtualname__ = "venvbuild"


def __virtual__():
    if "venvbuild.install" in __salt__:
        return __virtualname__
    return False, "venvbuild: the venvbuild execution module is not available"


def _given(arguments):
    """The options among a state's ``arguments`` (its ``locals()``) that the user set,
    so module defaults and pillar stay in force."""
    return {key: value for key, value in arguments.items()
            if key in OPTIONS and value is not None}


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
    wheels_rebuild=None,
    rebuild=None,
    build_pkgs=None,
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
        Source constraints for the build: pins, ``name @ git+URL@REF``, and
        constraints files ``--constraint <URL or path>`` (upper-constraints).
    global_constraints
        Constraints applied ahead of ``constraints``, also to the builder environment.
    python
        Interpreter of the venv, a name on PATH or a path (default ``python3``).
    install_tool
        ``pip`` (default) or ``uv``.
    seed_tools
        Put the role's tools into the venv: pip (and uv with ``install_tool: uv``)
        and ``build_requirements``, built by the builder, installed from the manifest.
    package_state
        ``present`` (default) or ``latest`` (resolve again on each run).
    build_args
        List of extra arguments for ``pip wheel``, e.g.
        ``[--no-index, --find-links, /srv/sdists]``.
    default_build_args
        Arguments put before ``build_args`` (the role's ``venv_default_pip_build_args``).
    build_env
        Mapping of environment variables for the build.
    build_requirements
        What the builder environment holds besides pip (default
        ``[pbr, setuptools, wheel]``, the role's ``venv_build_requirements``).
    build_requirements_extra
        More of those (the role's ``venv_build_requirements_extra``).
    build_timeout
        Seconds a build may run before it is stopped with all it started (3600).
    wheels_rebuild
        Build the wheels again ignoring pip's caches; with ``rebuild`` also
        recreate the builder environment.
    rebuild
        Install a fresh venv even if the installed one is current.
    build_pkgs
        Distro packages needed to build the wheels, installed through Salt's
        ``pkg`` before a local build.
    pkgs_state
        ``present`` (default) or ``latest`` for build_pkgs/install_pkgs.
    pkgs_cache_valid_time
        Seconds the package database stays fresh before a refresh (apt; default 600).
    repo_path
        Local wheel repo, used when building locally (default: pillar
        ``venvbuild:repo:path`` or ``/srv/venvbuild``).
    release
        Release level of the repo layout: ``<repo>/<release>/<platform>/``.
    repo_user, repo_group
        Who may read what a local build publishes (the web server): the group
        (or the user's primary group) gets read access; only root writes.
    pip_noconf
        Ignore pip's configuration files (the role's ``venv_pip_upgrade_noconf``).
    uv_bin
        Path of the uv binary, when it is neither on PATH nor beside Salt.
    ca_bundle
        CA bundle for HTTPS repos and indexes: fetches, pip and uv.
    repo_url
        Install from the repo served at this URL (the role's ``openstack_repo_url``);
        with ``builder``/``builder_target`` too, the builder's mine entry still
        vouches for the manifest.
    manifest_sha256
        With ``repo_url`` and no builder: the sha256 the manifest must have.
    builder
        Minion id of the builder to install from, found through the mine.
    builder_target, builder_tgt_type
        Target expression (and its type, default ``glob``) matching the builders
        (the role's ``venv_build_group``); one serving this minion's platform key
        is chosen deterministically through the mine alias ``venvbuild_repo``.
        Match builders by id, pillar or nodegroup: a grain is the minion's own
        claim (a warning says so).
    builder_platforms
        ``{builder id glob: [platform key globs]}``: which builders may serve
        which platforms (the master's word; default: any matched builder).
    wheel_build
        ``True`` (default): with no builder configured, build on this minion.
        ``False``: never build here; fail without a builder or ``repo_url``.
    build_fallback
        Build on this minion when builders are configured but none serves its
        platform (default ``False``: fail, as the role does).
    wait_timeout
        Seconds to wait for the builder's manifest of this spec (default 300).
    request_build
        When the builder has not published this spec yet, ask it to build it
        now through peer publishing (``venvbuild.build_spec``; needs a master
        ``peer`` rule), instead of only waiting. Default False.
    install_args
        List of extra arguments for the install into the venv (none that
        install elsewhere: ``--target``, ``--prefix``, ``--user``... are refused).
    install_env
        Mapping of environment variables for the install.
    install_timeout
        Seconds creating or installing the venv may run (default 1800).
    keep_versions
        How many venv directories to keep, the live one included (default 2).
    adopt_existing
        A directory that is not a venv (or a foreign symlink) at ``name`` is
        moved aside (kept, never pruned) instead of refused. A venv made by
        other means is always moved aside and kept.
    install_pkgs
        Distro packages the venv needs at run time, installed through ``pkg``.
    symlink_pkgs
        Distro packages whose Python modules are linked into the venv (found with
        ``pkg.file_list``; top-level entries of site-/dist-packages only).
    facts_when_changed
        List of ``{section, option, value}`` set as grains ``<facts_dest>:<section>:<option>``
        and in ``<config dir>/facts.d/<facts_dest>.fact`` when the venv changed.
    facts_dest
        Name of the facts grain and file (default ``venvbuild``).
    """
    kwargs = _given(locals())  # first: every parameter, nothing else yet
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
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
    wheels_rebuild=None,
    rebuild=None,
    build_pkgs=None,
    pkgs_state=None,
    pkgs_cache_valid_time=None,
    repo_path=None,
    release=None,
    repo_user=None,
    repo_group=None,
    pip_noconf=None,
    uv_bin=None,
    ca_bundle=None,
):
    """
    Ensure the wheels and manifest of venv ``name``'s spec are published in the repo.

    name
        The venv id (``keystone``): manifests are named ``<name>-<spec id>.txt``.

    The other arguments are the options of :func:`installed` that decide or
    configure the build, with the same meaning; ``rebuild`` matters only with
    ``wheels_rebuild`` (recreate the builder environment). Reports changes only
    when a new or different manifest was published (or new wheels stored).
    """
    kwargs = _given(locals())  # first: every parameter, nothing else yet
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    _run(ret, "venvbuild.build_wheels", name, **kwargs)
    return ret


def absent(name):
    """
    Ensure no venv venvbuild installed is at ``name``, nor any version kept for
    rollback. What venvbuild did not install there (a directory, a foreign
    symlink) is refused, not removed.

    name
        Absolute path of the venv.
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    test = bool(__opts__.get("test"))
    try:
        status = __salt__["venvbuild.status"](name)
        removed = __salt__["venvbuild.remove"](name, test=test)
    except (CommandExecutionError, SaltInvocationError) as exc:
        ret["comment"] = str(exc)
        return ret
    if not removed:
        ret["result"] = True
        ret["comment"] = f"venv {name} is already absent"
        return ret
    ret["changes"] = {"removed": {"old": status["spec_id"] if status else None, "new": None,
                                  "paths": removed}}
    if test:
        ret["result"] = None
        ret["comment"] = f"would remove {', '.join(removed)}"
        return ret
    ret["result"] = True
    ret["comment"] = f"removed {', '.join(removed)}"
    return ret
