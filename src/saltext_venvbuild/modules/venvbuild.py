"""Build Python wheels once and install them into virtualenvs.

The execution module ``venvbuild``: a thin Salt adapter over
:mod:`saltext_venvbuild.core`. It turns Salt arguments, pillar and grains into
core calls and core errors into ``CommandExecutionError``.

Arguments shared by most functions (the names of the pillar keys of a venv):

packages, default_packages
    Requirements to install (PEP 508 strings); ``default_packages`` are merged in.
constraints, global_constraints
    Constraints for the build (pins, ``name @ git+URL@REF``).
python
    Interpreter for the venv and its wheels (default ``python3``).
install_tool
    ``pip`` (default) or ``uv``.
build_args, build_env / install_args, install_env
    Extra arguments (a list) and environment (a mapping) for building / installing.
package_state
    ``present`` (default): build a spec once. ``latest``: resolve again on every
    run and publish a new manifest when newer versions are found.
rebuild
    Install a fresh venv even when the installed one is current.
wheels_rebuild
    Build the wheels again, ignoring published wheels and pip's cache.
repo_path, repo_url, release, repo_user, repo_group
    The local wheel repo (and its release level and owner); a remote repo URL.
builder, builder_target, builder_tgt_type, wheel_build, wait_timeout, request_build
    Which build minion to install from (through the mine) and what to do
    without one.
build_pkgs, install_pkgs, pkgs_state, pkgs_cache_valid_time, symlink_pkgs
    Distro packages through Salt's ``pkg``.
facts_when_changed, facts_dest
    Grains and a facts file set when a venv changed.
ca_bundle, pip_noconf, uv_bin, keep_versions
    Certificates, pip's config, where uv is, venv versions kept.

docs/mapping.md maps each to the python_venv_build role's variable.
"""

import glob
import json
import logging
import os
import typing

import salt.utils.platform
from salt.exceptions import CommandExecutionError

from saltext_venvbuild.core import builder as core_builder
from saltext_venvbuild.core import installer as core_installer
from saltext_venvbuild.core import interpreter as core_interpreter
from saltext_venvbuild.core import plan as core_plan
from saltext_venvbuild.core import remote as core_remote
from saltext_venvbuild.core import spec as core_spec
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import VenvbuildError
from saltext_venvbuild.core.manifest import diff_versions
from saltext_venvbuild.core.platform import platform_key
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.repo import list_platforms
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.utils import facts
from saltext_venvbuild.utils import options
from saltext_venvbuild.utils import pkgs
from saltext_venvbuild.utils import registry

if typing.TYPE_CHECKING:
    __opts__: dict
    __grains__: dict
    __salt__: dict
    __pillar__: dict

log = logging.getLogger(__name__)

__virtualname__ = "venvbuild"

MINE_ALIAS = "venvbuild_repo"  # the mine_functions alias of venvbuild.repo_info

OPTIONS = options.OPTIONS
DEFAULT_REPO_PATH = options.DEFAULT_REPO_PATH


def __virtual__():
    if salt.utils.platform.is_windows():
        return False, "venvbuild: POSIX only (it uses symlinks and flock)"
    return __virtualname__


# -- helpers: Salt in, core out ------------------------------------------------------


def _state_dir():
    return os.path.join(__opts__["cachedir"], "venvbuild")


def _options(kwargs):
    """Validate and default the keyword arguments of a call (utils/options.py)."""
    return options.validate(kwargs, __salt__["config.get"])


def _repo(opts, spec):
    return RepoLayout(opts["repo_path"], spec.platform, release=opts["release"],
                      owner=opts["repo_owner"])


def _distro_args(opts):
    """The distro packages a venv's stamp records: symlinked ones are ensured too."""
    return {"symlink_pkgs": opts["symlink_pkgs"],
            "install_pkgs": sorted(set(opts["install_pkgs"]) | set(opts["symlink_pkgs"]))}


def _interpreter(python):
    return core_interpreter.resolve(
        python, cache_file=os.path.join(_state_dir(), "interpreters.json")
    )


def _platform(interp):
    return platform_key(
        __grains__.get("os", "unknown"),
        __grains__.get("osrelease", "unknown"),
        __grains__.get("cpuarch") or interp.machine,
        interp.tag,
    )


def _spec(venv_id, opts, interp):
    return core_spec.VenvSpec.create(
        venv_id,
        packages=opts["packages"],
        default_packages=opts["default_packages"],
        constraints=opts["constraints"],
        global_constraints=opts["global_constraints"],
        build_args=opts["build_args"],
        platform=_platform(interp),
    )


def _fail(exc):
    raise CommandExecutionError(str(exc)) from None


def _venv_id_for(name, venv_id):
    return venv_id or os.path.basename(os.path.normpath(name or ""))


# -- public functions ---------------------------------------------------------------


def platform(python="python3"):
    """
    Return the platform key wheels are built and installed for with ``python``,
    and its parts.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.platform
        salt '*' venvbuild.platform python=/usr/bin/python3.12
    """
    try:
        interp = _interpreter(python)
    except VenvbuildError as exc:
        _fail(exc)
    return {
        "key": _platform(interp),
        "distro": __grains__.get("os"),
        "release": __grains__.get("osrelease"),
        "arch": __grains__.get("cpuarch") or interp.machine,
        "interpreter": interp.tag,
        "python": interp.executable,
        "python_version": interp.version,
    }


def spec_hash(venv_id, **kwargs):
    """
    Return the spec id of a venv: the content hash of its requirements,
    constraints, build arguments and platform key. Builder and targets compute
    the same id from the same pillar.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.spec_hash keystone packages='[keystone==26.0.0, PyMySQL]'
    """
    opts = _options(kwargs)
    try:
        return _spec(venv_id, opts, _interpreter(opts["python"])).spec_id
    except VenvbuildError as exc:
        _fail(exc)


def build_wheels(venv_id, test=False, **kwargs):
    """
    Build the wheels of a venv spec into the repo and publish its manifest.

    Does nothing when the spec's manifest is already published (unless
    ``wheels_rebuild`` or ``package_state: latest``). Returns the spec id, the
    manifest path, whether it changed and the pins.

    CLI Example:

    .. code-block:: bash

        salt builder venvbuild.build_wheels keystone packages='[keystone==26.0.0]'
        salt builder venvbuild.build_wheels keystone packages='[PyMySQL]' \\
            build_args='[--no-index, --find-links, /srv/sdists]'
    """
    opts = _options(kwargs)
    try:
        interp = _interpreter(opts["python"])
        spec = _spec(venv_id, opts, interp)
        return _build(spec, _repo(opts, spec), interp, opts, test)[0]
    except VenvbuildError as exc:
        _fail(exc)


def _build(spec, repo, interp, opts, test, manifest=None):
    """Build ``spec`` when needed; return ``(result dict, published manifest or None)``.

    ``manifest`` is the spec's manifest when the caller already read it.
    """
    manifest = manifest or repo.read_manifest(spec.venv_id, spec.spec_id)
    path = repo.manifest_path(spec.venv_id, spec.spec_id)
    base = {"spec_id": spec.spec_id, "platform": spec.platform, "manifest_path": path}
    missing = repo.missing_wheels(manifest) if manifest else []
    must_build = (
        manifest is None or missing or opts["wheels_rebuild"] or opts["package_state"] == "latest"
    )
    if not must_build:
        return dict(base, changed=False, changes={}, pins=manifest.versions(),
                    comment=f"manifest {manifest.filename} is published ({len(manifest.pins)} wheels)"
                    ), manifest
    if test:
        if manifest is None:
            changes = {"manifest": {"old": None, "new": os.path.basename(path)},
                       "requirements": list(spec.requirements)}
            comment = f"wheels for spec {spec.spec_id} would be built and its manifest published"
        elif missing:
            changes = {"wheels": {"missing": missing}}
            comment = f"{len(missing)} wheels of {manifest.filename} are missing and would be rebuilt"
        else:
            changes = {}
            comment = (f"manifest {manifest.filename} is published; a {opts['package_state']} "
                       "resolution or wheels_rebuild runs only outside test mode")
        return dict(base, changed=bool(changes), changes=changes, pins=None, comment=comment), manifest
    pkgs.ensure(__salt__, __grains__, opts["build_pkgs"], opts["pkgs_state"],
                opts["pkgs_cache_valid_time"], f"venv {spec.venv_id}: build_pkgs")
    result = core_builder.Builder(repo, interp, opts["install_tool"], _state_dir(),
                                  uv_bin=opts["uv_bin"]).build(
        spec, build_env=opts["build_env"], rebuild=opts["wheels_rebuild"] or bool(missing),
        pip_noconf=opts["pip_noconf"], ca_bundle=opts["ca_bundle"],
    )
    changes = {}
    if result.changed:
        changes["manifest"] = {"old": result.previous.sha256 if result.previous else None,
                               "new": result.manifest.sha256}
        pins = diff_versions(result.previous.versions() if result.previous else {},
                             result.manifest.versions())
        if pins:
            changes["packages"] = pins
    if result.new_wheels:
        changes["wheels"] = {"added": result.new_wheels}
    if result.replaced:
        changes.setdefault("wheels", {})["replaced"] = result.replaced
    return dict(
        base, changed=bool(changes), changes=changes, pins=result.manifest.versions(),
        seconds=round(result.seconds, 2),
        comment=(f"built {len(result.manifest.pins)} wheels ({len(result.new_wheels)} new) "
                 f"for spec {spec.spec_id} in {result.seconds:.1f} s"),
    ), result.manifest


def install(name, venv_id=None, test=False, **kwargs):
    """
    Install a venv at ``name`` from the wheels of its spec, idempotently.

    Where the wheels come from, in order: ``repo_url``; the builder ``builder``
    (a minion id) or one of ``builder_target``/``builder_tgt_type``, found
    through the mine (``venvbuild_repo``) and serving this minion's platform
    key; else, with ``wheel_build`` (the default), a local build into
    ``repo_path``. From a builder, the manifest is fetched over HTTP(S) (waiting
    up to ``wait_timeout`` seconds for it) and wheels are installed with
    ``--no-index --find-links <repo>/<platform>/wheels/`` and hashes required.

    A complete new venv is built beside the live one and switched to atomically;
    the previous one is kept for rollback. When the installed venv already is
    the spec, nothing runs: no subprocess, no mine lookup, no network.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.install /opt/venvs/keystone packages='[keystone==26.0.0]'
        salt '*' venvbuild.install /opt/venvs/keystone packages='[keystone==26.0.0]' \\
            builder_target='roles:venvbuild-builder' builder_tgt_type=grain
        salt '*' venvbuild.install /opt/venvs/tools packages='[ansible]' install_tool=uv test=True
    """
    opts = _options(kwargs)
    venv_id = _venv_id_for(name, venv_id)
    try:
        paths = core_installer.VenvPaths(name)
        interp = _interpreter(opts["python"])
        spec = _spec(venv_id, opts, interp)
        stamp = read_stamp(paths.path)
        alive = os.path.exists(os.path.join(paths.path, "bin", "python"))
        base = {"name": paths.path, "venv_id": venv_id, "spec_id": spec.spec_id,
                "platform": spec.platform}
        remote = bool(opts["repo_url"] or opts["builder"] or opts["builder_target"])
        latest = opts["package_state"] == "latest"
        forced = opts["rebuild"] or opts["wheels_rebuild"] or latest

        # The no-op path: files only. A remote repo's manifest for a spec id does
        # not change unless package_state is latest, so the spec id decides.
        distro_args = _distro_args(opts)
        if remote:
            current = alive and core_plan.is_current(stamp, spec, interp, **distro_args)
        else:
            manifest = _repo(opts, spec).read_manifest(spec.venv_id, spec.spec_id)
            current = alive and manifest is not None and core_plan.is_current(
                stamp, spec, interp, manifest.sha256, **distro_args)
        if current and not forced:
            if opts["pkgs_state"] == "latest" and distro_args["install_pkgs"]:
                return _upgrade_pkgs(base, paths, spec, opts, test)
            return dict(base, changed=False, changes={},
                        comment=f"venv {paths.path} is current (spec {spec.spec_id})")

        source = _find_source(opts, spec) if remote else None
        if source is None:
            return _install_local(base, paths, spec, interp, stamp, alive, opts, test, remote)
        return _install_remote(base, paths, spec, interp, stamp, alive, opts, test, source)
    except VenvbuildError as exc:
        _fail(exc)


def _upgrade_pkgs(base, paths, spec, opts, test):
    """A current venv with ``pkgs_state: latest``: only the distro packages may change."""
    names = _distro_args(opts)["install_pkgs"]
    if test:
        return dict(base, changed=False, changes={}, comment=(
            f"venv {paths.path} is current; install_pkgs with pkgs_state latest are "
            "upgraded only outside test mode"))
    upgraded = pkgs.ensure(__salt__, __grains__, names, "latest", opts["pkgs_cache_valid_time"],
                           f"venv {paths.path}: install_pkgs")
    changes = {"distro_packages": upgraded} if upgraded else {}
    return dict(base, changed=bool(changes), changes=changes,
                comment=f"venv {paths.path} is current (spec {spec.spec_id})"
                + (f"; upgraded {', '.join(sorted(upgraded))}" if upgraded else ""))


def _find_source(opts, spec):
    """``{"url", "builder", "how"}`` of the repo to install from, or None."""
    if opts["repo_url"]:
        return {"url": opts["repo_url"], "builder": None, "how": "repo_url"}
    if opts["builder"]:
        target, tgt_type = opts["builder"], "glob"
    else:
        target, tgt_type = opts["builder_target"], opts["builder_tgt_type"]
    builders = __salt__["mine.get"](target, MINE_ALIAS, tgt_type=tgt_type) or {}
    chosen = core_remote.choose_builder(__opts__["id"], builders, spec.platform)
    if chosen is None:
        found = ", ".join(sorted(builders)) or "none"
        if not opts["wheel_build"]:
            raise SpecError(
                f"venv {spec.venv_id}: no builder serves platform {spec.platform} (mine "
                f"{MINE_ALIAS} of {tgt_type} {target!r}: {found}) and wheel_build is false; "
                f"build there first (salt -C '{target}' state.apply venvbuild.builder; "
                f"salt -C '{target}' mine.update) or set wheel_build: true to build locally"
            )
        log.info("venvbuild: no builder for %s among %s; building locally", spec.platform, found)
        return None
    builder_id, info = chosen
    return {"url": info["url"], "builder": builder_id, "how": f"builder {builder_id}"}


def _install_local(base, paths, spec, interp, stamp, alive, opts, test, remote):
    repo = _repo(opts, spec)
    manifest = repo.read_manifest(spec.venv_id, spec.spec_id)
    note = "no builder found, built locally; " if remote else ""
    if test:
        changes = core_plan.changes(stamp, spec, interp, manifest, rebuild=opts["rebuild"],
                                    **_distro_args(opts))
        return dict(base, changed=bool(changes), changes=changes, comment=_test_comment(
            paths, spec, manifest, changes, f"wheels for spec {spec.spec_id} would be built "
            "locally, then"))
    build, manifest = _build(spec, repo, interp, opts, test=False, manifest=manifest)
    return _install_manifest(base, paths, spec, interp, stamp, alive, opts, manifest,
                             repo.wheels_dir, f"{note}{build['comment']}")


def _install_remote(base, paths, spec, interp, stamp, alive, opts, test, source):
    url = core_remote.manifest_url(source["url"], spec.platform, spec.venv_id, spec.spec_id,
                                   release=opts["release"])
    distro_args = _distro_args(opts)
    if test:
        manifest = core_remote.fetch_manifest(url, ca_bundle=opts["ca_bundle"])
        changes = core_plan.changes(stamp, spec, interp, manifest, rebuild=opts["rebuild"],
                                    **distro_args)
        if manifest is not None and alive and not opts["rebuild"] and core_plan.is_current(
                stamp, spec, interp, manifest.sha256, **distro_args):
            changes = {}
        return dict(base, changed=bool(changes), changes=changes, comment=_test_comment(
            paths, spec, manifest, changes,
            f"the manifest is not on {source['how']} yet ({url}); once built"))
    target = source["builder"] or "<builder>"
    manifest = None
    if opts["request_build"] and source["builder"]:
        manifest = core_remote.fetch_manifest(url, ca_bundle=opts["ca_bundle"])
        if manifest is None:
            _request_build(source["builder"], spec, opts)
    manifest = manifest or core_remote.wait_for_manifest(
        url, opts["wait_timeout"], ca_bundle=opts["ca_bundle"],
        hint=f"(salt {target} state.apply venvbuild.builder)",
    )
    return _install_manifest(base, paths, spec, interp, stamp, alive, opts, manifest,
                             core_remote.wheels_url(source["url"], spec.platform, opts["release"]),
                             f"from {source['how']}")


# The options a builder needs to build the same spec (its repo is its own).
_BUILD_OPTIONS = ("packages", "default_packages", "constraints", "global_constraints",
                  "build_args", "build_env", "python", "install_tool", "package_state",
                  "pip_noconf", "build_pkgs", "pkgs_state", "release")


def _request_build(builder_id, spec, opts):
    """Ask the builder to build ``spec`` now, through peer publishing.

    Needs a master ``peer`` rule allowing ``venvbuild.build_wheels`` to the
    builder. Returns when the builder answered (or the publish timed out); the
    caller then fetches the manifest as usual, so a refused or failed request
    ends in the same clear "not found after N s" error as waiting would.
    """
    args = [spec.venv_id] + [
        f"{key}={json.dumps(opts[key])}" for key in _BUILD_OPTIONS if opts[key] not in (None, {}, ())
    ]
    log.info("venvbuild: asking builder %s to build %s spec %s", builder_id, spec.venv_id, spec.spec_id)
    answer = __salt__["publish.publish"](
        builder_id, "venvbuild.build_wheels", arg=args, timeout=int(opts["wait_timeout"]) or 1
    )
    result = (answer or {}).get(builder_id)
    if not isinstance(result, dict):
        log.warning("venvbuild: builder %s did not build %s: %r (is a master peer rule "
                    "allowing venvbuild.build_wheels in place?)", builder_id, spec.venv_id, result)
    elif result.get("spec_id") != spec.spec_id:
        log.warning("venvbuild: builder %s built spec %s, not %s: its interpreter or "
                    "platform differs", builder_id, result.get("spec_id"), spec.spec_id)
    return result


def _test_comment(paths, spec, manifest, changes, unbuilt):
    if not changes:
        return (f"venv {paths.path} is current; package_state latest / wheels_rebuild "
                "look for new wheels only outside test mode")
    if manifest is None:
        return f"{unbuilt} venv {paths.path} would be installed (pins known after the build)"
    return f"venv {paths.path} would be installed from {manifest.filename}"


def _install_manifest(base, paths, spec, interp, stamp, alive, opts, manifest, find_links, note):
    distro_args = _distro_args(opts)
    if alive and not opts["rebuild"] and core_plan.is_current(
            stamp, spec, interp, manifest.sha256, **distro_args):
        return dict(base, changed=False, changes={},
                    comment=f"venv {paths.path} is current (spec {spec.spec_id}); {note}")
    changes = core_plan.changes(stamp, spec, interp, manifest, rebuild=opts["rebuild"],
                                **distro_args)
    pkg_changes = pkgs.ensure(__salt__, __grains__, distro_args["install_pkgs"], opts["pkgs_state"],
                              opts["pkgs_cache_valid_time"], f"venv {paths.path}: install_pkgs")
    if pkg_changes:
        changes["distro_packages"] = pkg_changes
    links = pkgs.symlink_sources(__salt__, opts["symlink_pkgs"], interp)
    result = core_installer.install(
        manifest, manifest.sha256, find_links, interp, opts["install_tool"], paths.path,
        install_args=opts["install_args"], install_env=opts["install_env"],
        state_dir=_state_dir(), uv_bin=opts["uv_bin"], keep=opts["keep_versions"],
        ca_bundle=opts["ca_bundle"],
        pip_noconf=opts["pip_noconf"], links=links, **distro_args,
    )
    registry.register(_state_dir(), paths.path, spec.venv_id)
    announced = facts.announce(
        __salt__, _facts_dir(), spec.venv_id, opts["facts_dest"], opts["facts_when_changed"],
        {"path": paths.path, "old": stamp.spec_id if stamp else None, "new": spec.spec_id,
         "venv_dir": result.venv_dir, "changes": changes},
        bus_available=_event_bus_available(),
    )
    return dict(
        base, changed=True, changes=changes, venv_dir=result.venv_dir,
        seconds=round(result.seconds, 2), announced=announced,
        comment=(f"venv {paths.path} installed from {manifest.filename} "
                 f"({len(manifest.pins)} packages) in {result.seconds:.1f} s; {note}"),
    )


def _event_bus_available():
    """False for a masterless salt-call with no minion daemon (no event socket)."""
    if __opts__.get("file_client") != "local":
        return True
    sock_dir = __opts__.get("sock_dir") or ""
    return bool(glob.glob(os.path.join(sock_dir, "minion_event_*_pub.ipc")))


def _facts_dir():
    """``facts.d`` beside the minion's configuration file (the role's /etc/ansible/facts.d)."""
    conf = __opts__.get("conf_file") or os.path.join(__opts__.get("config_dir", "/etc/salt"), "minion")
    return os.path.join(os.path.dirname(conf), "facts.d")


def remove(name):
    """
    Remove the venv at ``name`` with every version kept for rollback.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.remove /opt/venvs/keystone
    """
    try:
        removed = core_installer.remove(name)
    except VenvbuildError as exc:
        _fail(exc)
    registry.register(_state_dir(), core_installer.VenvPaths(name).path, None)
    return removed


def status(name):
    """
    Return what is installed at ``name``: its spec id, manifest hash, python,
    pinned versions, and the versions kept for rollback. ``None`` if no venv
    installed by venvbuild is there.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.status /opt/venvs/keystone
    """
    try:
        paths = core_installer.VenvPaths(name)
    except VenvbuildError as exc:
        _fail(exc)
    live = paths.live_dir()
    stamp = read_stamp(live) if live else None
    if stamp is None:
        return None
    out = stamp.as_dict()
    out["path"] = paths.path
    out["venv_dir"] = live
    out["versions_kept"] = paths.version_dirs()
    return out


def list_venvs():
    """
    List the venvs venvbuild installed on this minion, by path, with their venv
    id and spec id.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.list_venvs
    """
    out = {}
    for path, venv_id in sorted(registry.read(_state_dir()).items()):
        st = status(path)
        out[path] = {
            "venv_id": venv_id,
            "spec_id": st["spec_id"] if st else None,
            "installed": st is not None,
        }
    return out


def verify(name, deep=False):
    """
    Check the venv at ``name`` against its stamp: interpreter present, exactly
    the pinned distributions installed; with ``deep=True`` also every file's
    sha256 against its RECORD. Returns ``{"ok": bool, "problems": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.verify /opt/venvs/keystone
        salt '*' venvbuild.verify /opt/venvs/keystone deep=True
    """
    try:
        problems = core_installer.verify(name, deep=deep)
    except VenvbuildError as exc:
        _fail(exc)
    return {"ok": not problems, "problems": problems}


def repo_info():
    """
    Describe this minion's wheel repo for the mine: the URL it is served at
    (pillar ``venvbuild:repo:url``), its path, and the platform keys it serves:
    those it has published manifests for and those the venvs of its pillar are
    built for. Publish it with the mine alias ``venvbuild_repo``::

        mine_functions:
          venvbuild_repo:
            mine_function: venvbuild.repo_info

    CLI Example:

    .. code-block:: bash

        salt builder venvbuild.repo_info
    """
    path = __salt__["config.get"]("venvbuild:repo:path", DEFAULT_REPO_PATH)
    try:
        published = list_platforms(path)
    except VenvbuildError as exc:
        _fail(exc)
    configured = set()
    for venv_id, cfg in venv_configs().items():
        try:
            configured.add(_platform(_interpreter(cfg.get("python") or OPTIONS["python"])))
        except VenvbuildError as exc:
            log.warning("venvbuild.repo_info: venv %s: %s", venv_id, exc)
    return {
        "url": __salt__["config.get"]("venvbuild:repo:url", None),
        "path": path,
        "platforms": sorted(set(published) | configured),
        "published": published,
    }


def venv_configs():
    """
    Return the venvs of this minion's pillar (``venvbuild:venvs``), each merged
    over ``venvbuild:defaults``, with ``repo_path``/``repo_user``/``repo_group``
    from ``venvbuild:repo`` (``path``, ``user``, ``group``) and
    ``builder_target``/``builder_tgt_type`` from ``venvbuild:builder``
    unless the venv sets them: the arguments of one ``venvbuild.installed``
    state each (``path`` is its ``name``).

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.venv_configs
    """
    data = __salt__["pillar.get"]("venvbuild", {}) or {}
    defaults = data.get("defaults") or {}
    repo = data.get("repo") or {}
    builder = data.get("builder") or {}
    inherited = {
        "repo_path": repo.get("path"),
        "repo_user": repo.get("user"),
        "repo_group": repo.get("group"),
        "builder_target": builder.get("target"),
        "builder_tgt_type": builder.get("tgt_type"),
    }
    out = {}
    for venv_id, cfg in sorted((data.get("venvs") or {}).items()):
        merged = {key: value for key, value in inherited.items() if value is not None}
        merged.update(defaults)
        merged.update(cfg or {})
        if "path" not in merged:
            raise CommandExecutionError(
                f"pillar venvbuild:venvs:{venv_id}: no 'path'; set e.g. path: /opt/venvs/{venv_id}"
            )
        out[venv_id] = merged
    return out
