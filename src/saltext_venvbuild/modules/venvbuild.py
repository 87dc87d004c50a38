"""Build Python wheels once and install them into virtualenvs.

The execution module ``venvbuild``: a thin Salt adapter over
:mod:`saltext_venvbuild.core`. It turns Salt arguments, pillar and grains into
a :class:`~saltext_venvbuild.core.workflow.Workflow` and core errors into Salt
errors: bad input is a ``SaltInvocationError``, a failure while working a
``CommandExecutionError``; both carry a sentence that names the thing, the
cause and the next step.

Every option of a venv (``packages``, ``python``, ``install_tool``,
``build_args``...) is described in :mod:`saltext_venvbuild.core.options` and
in ``docs/usage.md``; ``docs/mapping.md`` maps each to the role's variable.

Why this module is longer than the project's others: Salt loads one module per
virtual name, and each of its public functions documents its own parameters
and CLI examples for ``salt-call sys.doc venvbuild``. The logic is in the core
(:mod:`~saltext_venvbuild.core.workflow`); what is here turns Salt into calls.
"""

import functools
import glob
import logging
import os
import typing

import salt.utils.platform
from salt.exceptions import CommandExecutionError
from salt.exceptions import SaltInvocationError

import saltext_venvbuild
from saltext_venvbuild.core import fleet as core_fleet
from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core import installer as core_installer
from saltext_venvbuild.core import interpreter as core_interpreter
from saltext_venvbuild.core import layout as core_layout
from saltext_venvbuild.core import names
from saltext_venvbuild.core import options as core_options
from saltext_venvbuild.core import prune as core_prune
from saltext_venvbuild.core import registry
from saltext_venvbuild.core import retry as core_retry
from saltext_venvbuild.core import rollback as core_rollback
from saltext_venvbuild.core import spec as core_spec
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import VenvbuildError
from saltext_venvbuild.core.platform import key_release
from saltext_venvbuild.core.platform import platform_key
from saltext_venvbuild.core.repo import list_platforms
from saltext_venvbuild.core.repo import published_manifests
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.core.text import redact
from saltext_venvbuild.core.trust import MINE_ALIAS
from saltext_venvbuild.core.workflow import Hooks
from saltext_venvbuild.core.workflow import Workflow
from saltext_venvbuild.utils import facts
from saltext_venvbuild.utils import pillar as pillar_util
from saltext_venvbuild.utils import pkgs

if typing.TYPE_CHECKING:
    __opts__: dict
    __grains__: dict
    __salt__: dict
    __pillar__: dict

log = logging.getLogger(__name__)

__virtualname__ = "venvbuild"

FLEET_ALIAS = "venvbuild_venvs"  # the mine_functions alias of venvbuild.fleet_info


def __virtual__():
    if salt.utils.platform.is_windows():
        return False, "venvbuild: POSIX only (it uses symlinks and flock)"
    return __virtualname__


# -- helpers: Salt in, core out ------------------------------------------------------


def _salt_errors(func):
    """Core errors become Salt errors: bad input SaltInvocationError, failures
    CommandExecutionError; a stray OSError gets its file named, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SpecError as exc:
            raise SaltInvocationError(str(exc)) from None
        except VenvbuildError as exc:
            raise CommandExecutionError(str(exc)) from None
        except OSError as exc:
            where = f" {redact(str(exc.filename))}:" if exc.filename else ""
            raise CommandExecutionError(
                f"venvbuild.{func.__name__}:{where} {redact(str(exc.strerror or exc))}; check "
                "the path, its permissions and free space"
            ) from None

    return wrapper


def _state_dir():
    return os.path.join(__opts__["cachedir"], "venvbuild")


def _ensure_state_dir():
    return fsutil.ensure_dir(_state_dir(), "venvbuild state directory", 0o700)


def _options(kwargs):
    """Check and default the keyword arguments of a call (core/options.py)."""
    repo_path = __salt__["config.get"]("venvbuild:repo:path", core_options.DEFAULT_REPO_PATH)
    return core_options.validate(kwargs, repo_path)


def _interpreter(python):
    return core_interpreter.resolve(
        python, cache_file=os.path.join(_state_dir(), "interpreters.json"),
        prepare=_ensure_state_dir,
    )


def _platform_parts(interp):
    distro = __grains__.get("os") or ""
    release = key_release(distro, __grains__.get("osrelease"), __grains__.get("osmajorrelease"))
    return distro, release, __grains__.get("cpuarch") or interp.machine


def _platform(interp):
    return platform_key(*_platform_parts(interp), interp.tag)


def _spec(venv_id, opts, interp):
    cache = core_spec.SpecCache(os.path.join(_state_dir(), "specs.json"), prepare=_ensure_state_dir)
    return core_spec.VenvSpec.from_options(venv_id, opts, _platform(interp), cache=cache)


def _workflow(venv_id, opts):
    interp = _interpreter(opts["python"])
    spec = _spec(venv_id, opts, interp)
    return Workflow(_state_dir(), opts, interp, spec, _hooks(opts))


def _hooks(opts):
    def ensure_pkgs(names, state, valid, what):
        return pkgs.ensure(__salt__, __grains__, names, state, valid, what,
                           policy=core_retry.Policy(opts["retries"], opts["retry_delay"]))

    def installed_pkgs():
        return pkgs.installed_names(__salt__)

    def symlink_sources(names, interp):
        return pkgs.symlink_sources(__salt__, names, interp)

    def mine_get(target, tgt_type):
        return __salt__["mine.get"](target, MINE_ALIAS, tgt_type=tgt_type)

    def request_build(builder_id, venv_id, spec_id, platform_key):
        return _request_build(builder_id, venv_id, spec_id, platform_key, opts["wait_timeout"])

    def announce(venv_id, data):
        return facts.announce(__salt__, _facts_dir(), venv_id, opts["facts_dest"],
                              opts["facts_when_changed"], data,
                              bus_available=_event_bus_available())

    return Hooks(minion_id=__opts__["id"], os_family=__grains__.get("os_family") or "",
                 ensure_pkgs=ensure_pkgs, installed_pkgs=installed_pkgs,
                 symlink_sources=symlink_sources, mine_get=mine_get,
                 request_build=request_build, mine_update=_mine_update, announce=announce)


def _venv_id_for(name, venv_id):
    return venv_id if venv_id is not None else os.path.basename(os.path.normpath(name or ""))


def _connected():
    """True when a master is there to talk to (not a masterless salt-call)."""
    return __opts__.get("file_client") != "local" and not __opts__.get("local")


# The mine aliases venvbuild's functions are published under, and the functions.
MINE_FUNCTIONS = {MINE_ALIAS: "venvbuild.repo_info", FLEET_ALIAS: "venvbuild.fleet_info"}


def _mine_update():
    """Publish this minion's venvbuild mine entries now (after a build or an install
    changed something), those of them the minion publishes at all (its
    ``mine_functions`` has the alias)."""
    if not _connected():
        return
    configured = __salt__["config.get"]("mine_functions", {}) or {}
    wanted = {alias: {"mine_function": function}  # fresh dicts: mine.update consumes them
              for alias, function in MINE_FUNCTIONS.items() if alias in configured}
    if wanted:
        __salt__["mine.update"](mine_functions=wanted)


def _request_build(builder_id, venv_id, spec_id, platform_key, wait_timeout):
    """Ask for this spec of this minion's own pillar to be built now.

    First the master's runner ``venvbuild.request`` (a ``peer_run`` rule): it
    recompiles this minion's pillar (the master knows who asks), starts the
    build on a builder and answers at once. Without that rule, the builder's
    ``venvbuild.build_spec`` (a ``peer`` rule), which builds only what the
    builder's own pillar defines. Only the venv id, spec id and platform key
    travel: what is built is the master's pillar's word either way.
    """
    log.info("venvbuild: asking the master to build %s spec %s for %s", venv_id, spec_id,
             platform_key)
    answer = __salt__["publish.runner"]("venvbuild.request",
                                        arg=[venv_id, spec_id, platform_key], timeout=30)
    if isinstance(answer, dict) and "result" in answer:
        return answer
    log.info("venvbuild: no answer from the master's venvbuild.request (no peer_run rule?); "
             "asking builder %s through peer publishing", builder_id)
    answer = __salt__["publish.publish"](
        builder_id, "venvbuild.build_spec", arg=[venv_id, spec_id],
        timeout=max(1, int(wait_timeout)),
    )
    result = (answer or {}).get(builder_id)
    if not isinstance(result, dict):
        log.warning("venvbuild: builder %s did not build %s: %r (is a master peer_run rule "
                    "allowing venvbuild.request, or a peer rule allowing venvbuild.build_spec, "
                    "in place?)", builder_id, venv_id, result)
    return result


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


def _pillar_data():
    return pillar_util.read(__pillar__)


# -- public functions ---------------------------------------------------------------


@_salt_errors
def platform(python="python3"):
    """
    Return the platform key wheels are built and installed for with ``python``,
    and its parts.

    python
        Interpreter: a name on PATH or an absolute path (default ``python3``).

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.platform
        salt '*' venvbuild.platform python=/usr/bin/python3.12
    """
    interp = _interpreter(python)
    distro, release, arch = _platform_parts(interp)
    return {
        "key": _platform(interp),
        "distro": distro,
        "release": release,
        "arch": arch,
        "interpreter": interp.tag,
        "python": interp.executable,
        "python_version": interp.version,
    }


@_salt_errors
def spec_hash(venv_id, **kwargs):
    """
    Return the spec id of a venv: the content hash of its requirements,
    constraints, build arguments and requirements, and platform key. Builder
    and targets compute the same id from the same pillar.

    venv_id
        The venv's id (its key under ``venvbuild:venvs``).
    kwargs
        The build options of ``venvbuild.wheels_built`` (sys.state_doc lists them).

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.spec_hash keystone packages='[keystone==26.0.0, PyMySQL]'
    """
    opts = _options(kwargs)
    return _spec(venv_id, opts, _interpreter(opts["python"])).spec_id


@_salt_errors
def build_wheels(venv_id, test=False, **kwargs):
    """
    Build the wheels of a venv spec into the repo and publish its manifest.

    Does nothing when the spec's manifest is already published (unless
    ``wheels_rebuild`` or ``package_state: latest``). Returns the spec id, the
    manifest path and sha256, whether it changed, and the pins. On a builder
    that publishes ``venvbuild_repo`` in the mine, a new manifest is published
    there at once.

    venv_id
        The venv's id: manifests are named ``<venv_id>-<spec id>.txt``.
    test
        Predict what would be built, change nothing.
    kwargs
        The build options of ``venvbuild.wheels_built`` (sys.state_doc lists them).

    CLI Example:

    .. code-block:: bash

        salt builder venvbuild.build_wheels keystone packages='[keystone==26.0.0]'
        salt builder venvbuild.build_wheels keystone packages='[PyMySQL]' \\
            build_args='[--no-index, --find-links, /srv/sdists]'
    """
    opts = _options(kwargs)
    return _workflow(venv_id, opts).build(test)[0]


@_salt_errors
def build_spec(venv_id, spec_id):
    """
    Build one spec this minion's own pillar defines, named by venv id and spec
    id: what a target asks its builder for with ``request_build``. It takes no
    other argument, recomputes the spec from the pillar and refuses any spec id
    that is not the pillar's, so a peer can ask only for what the master
    already decided. Allow exactly this function in the master's ``peer``
    rule (docs/security.md), never ``venvbuild.build_wheels``.

    Returns ``{"result", "venv_id", "spec_id", "comment"}`` and, when built,
    ``manifest_sha256``; a failed build says so without its log (which stays
    on the builder).

    venv_id
        The venv's id under ``venvbuild:venvs`` of this minion's pillar.
    spec_id
        The spec id the caller computed (16 hex digits).

    CLI Example:

    .. code-block:: bash

        salt build01 venvbuild.build_spec keystone 3f9a1c0e2b7d4a65
    """
    core_spec.check_venv_id(venv_id)
    core_spec.check_spec_id(spec_id)
    answer = {"venv_id": venv_id, "spec_id": spec_id}
    configs = pillar_util.venv_configs(_pillar_data())
    if venv_id not in configs:
        return dict(answer, result=False,
                    comment=f"venv {venv_id} is not in builder {__opts__['id']}'s pillar")
    cfg = {key: value for key, value in configs[venv_id].items()
           if key in core_options.BUILD_OPTIONS}
    # A peer may ask for a spec to exist, never for a rebuild or a re-resolution.
    cfg.update(rebuild=False, wheels_rebuild=False, package_state="present")
    workflow = _workflow(venv_id, _options(cfg))
    if workflow.spec.spec_id != spec_id:
        return dict(answer, result=False, comment=(
            f"builder {__opts__['id']}'s pillar defines spec {workflow.spec.spec_id} of venv "
            f"{venv_id} for platform {workflow.spec.platform}, not {spec_id}; refusing"))
    try:
        built = workflow.build(test=False)[0]
    except VenvbuildError as exc:
        log.error("venvbuild.build_spec %s %s: %s", venv_id, spec_id, exc)
        return dict(answer, result=False, comment=(
            f"the build of spec {spec_id} failed on builder {__opts__['id']}; its log is there "
            "(salt-call venvbuild.build_wheels shows the cause)"))
    return dict(answer, result=True, manifest_sha256=built["manifest_sha256"],
                comment=built["comment"])


@_salt_errors
def install(name, venv_id=None, test=False, **kwargs):
    """
    Install a venv at ``name`` (an absolute path) from its spec's wheels; nothing
    runs when it is current. ``venv_id`` defaults to the path's basename; ``test``
    predicts. Options: those of ``venvbuild.installed`` (sys.state_doc lists them).

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.install /opt/venvs/tools packages='[ansible]' install_tool=uv test=True
    """
    opts = _options(kwargs)
    venv_id = _venv_id_for(name, venv_id)
    paths = core_layout.VenvPaths(name, _state_dir())
    return _workflow(venv_id, opts).install(paths, test)


# The options these functions take as keyword arguments (None: every option). Salt
# prints a function's docstring as its usage after any invalid argument, so their
# docstrings stay short; the docs' reference lists the options (docs/conf.py), and
# so does the state's docstring (salt-call sys.state_doc venvbuild.installed).
OPTION_PARAMETERS = {"spec_hash": core_options.BUILD_OPTIONS,
                     "build_wheels": core_options.BUILD_OPTIONS, "install": None}


@_salt_errors
def remove(name, test=False):
    """
    Remove the venv at ``name`` with every version venvbuild made and kept for
    rollback. Only a venv venvbuild installed (its own symlink at ``name``) is
    removed; anything else there is refused. What ``adopt_existing`` (or a venv
    made by other means) moved aside into the versions directory is never
    deleted: it stays where it is, and the return says where.

    Returns ``{"removed": [paths], "kept": [paths]}``.

    name
        Absolute path of the venv.
    test
        Return what would be removed and kept, remove nothing.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.remove /opt/venvs/keystone
    """
    paths = core_layout.VenvPaths(name, _state_dir())
    if test:
        plan = core_layout.removal(paths)
    else:
        _ensure_state_dir()
        plan = core_installer.remove(paths, _state_dir())
        registry.register(_state_dir(), paths.path, None)
    return {"removed": plan.removed, "kept": plan.kept}


@_salt_errors
def rollback(name, test=False):
    """
    Switch a venv back to the version it kept from before its last change: the
    kept directory is verified (its Python is there, its lock file is the
    manifest its stamp names), then the venv's symlink is switched with one
    atomic rename. No download, no install, no build: milliseconds. A second
    rollback returns to the version the first one left.

    The next ``state.apply`` installs what the pillar says again (switching to
    the kept version if it still holds that spec): revert the pillar to keep a
    rollback. Reverting the pillar alone also switches back this way.

    name
        Absolute path of the venv, or a venv id (``keystone``): every venv of
        that id venvbuild installed on this minion.
    test
        Report what would switch, switch nothing.

    Returns the result of each venv: ``changes`` (``venv_dir``, ``spec_id``,
    ``manifest_sha256``, ``packages``) and a ``comment``; one venv's result
    as it is when ``name`` is a path.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.rollback keystone
        salt '*' venvbuild.rollback /opt/venvs/keystone test=True
    """
    if os.path.isabs(str(name)):
        return _rollback_one(name, test)
    venv_id = core_spec.check_venv_id(name)
    found = sorted(path for path, vid in registry.read(_state_dir()).items() if vid == venv_id)
    if not found:
        raise SpecError(f"venvbuild.rollback: no venv with id {venv_id!r} is installed on this "
                        "minion (venvbuild.list_venvs shows them); give the venv's path")
    if len(found) == 1:
        return _rollback_one(found[0], test)
    return {path: _rollback_one(path, test) for path in found}


def _rollback_one(path, test):
    paths = core_layout.VenvPaths(path, _state_dir())
    if not test:
        _ensure_state_dir()

    def after(stamp, changes):
        _mine_update()
        return facts.announce(__salt__, _facts_dir(), stamp.venv_id, "venvbuild", [], {
            "path": paths.path, "old": (changes.get("spec_id") or {}).get("old", stamp.spec_id),
            "new": stamp.spec_id, "venv_dir": changes["venv_dir"]["new"], "changes": changes,
            "rollback": True}, bus_available=_event_bus_available())

    return core_rollback.rollback(paths, _state_dir(), bool(test), after=after)


@_salt_errors
def status(name):
    """
    Return what is installed at ``name``: its spec id, manifest hash, python,
    pinned versions, how the manifest was authenticated, and the versions kept
    for rollback. ``None`` if no venv installed by venvbuild is there.

    name
        Absolute path of the venv.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.status /opt/venvs/keystone
    """
    paths = core_layout.VenvPaths(name)
    live = paths.live_dir()
    stamp = read_stamp(live) if live else None
    if stamp is None:
        return None
    out = stamp.as_dict()
    out["path"] = paths.path
    out["venv_dir"] = live
    out["versions_kept"] = paths.version_dirs(adopted=True)
    return out


@_salt_errors
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
        try:
            st = status(path)
        except (CommandExecutionError, SaltInvocationError):
            st = None
        out[path] = {
            "venv_id": venv_id,
            "spec_id": st["spec_id"] if st else None,
            "installed": st is not None,
        }
    return out


@_salt_errors
def verify(name, deep=False):
    """
    Check the venv at ``name`` against its stamp: interpreter present, the
    manifest it was installed from unchanged, exactly the pinned distributions
    installed; with ``deep=True`` also every file's sha256 against its RECORD.
    Returns ``{"ok": bool, "problems": [...]}``.

    name
        Absolute path of the venv.
    deep
        Also hash every installed file.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.verify /opt/venvs/keystone
        salt '*' venvbuild.verify /opt/venvs/keystone deep=True
    """
    problems = core_installer.verify(core_layout.VenvPaths(name), deep=deep)
    return {"ok": not problems, "problems": problems}


@_salt_errors
def repo_info():
    """
    Describe this minion's wheel repo for the mine: the URL it is served at
    (pillar ``venvbuild:repo:url``, credentials removed), its path, the
    platform keys it serves (those it has published manifests for and those
    the venvs of its pillar are built for) and the sha256 of every manifest it
    publishes, which targets check what they fetch against. Publish it with the
    mine alias ``venvbuild_repo``::

        mine_functions:
          venvbuild_repo:
            mine_function: venvbuild.repo_info

    CLI Example:

    .. code-block:: bash

        salt build01 venvbuild.repo_info
    """
    data = _pillar_data()
    repo = data.get("repo") or {}
    path = repo.get("path") or core_options.DEFAULT_REPO_PATH
    published = list_platforms(path)
    configured = set()
    for venv_id, cfg in pillar_util.venv_configs(data).items():
        try:
            configured.add(_platform(_interpreter(cfg.get("python") or "python3")))
        except VenvbuildError as exc:
            log.warning("venvbuild.repo_info: venv %s: %s", venv_id, exc)
    url = repo.get("url")
    if isinstance(url, str) and redact(url) != url:
        log.warning("venvbuild.repo_info: the URL of venvbuild:repo:url has credentials; they are "
                    "not published in the mine (targets that need them set repo_url)")
        url = _without_userinfo(url)
    return {
        "url": url,
        "path": path,
        "platforms": sorted(set(published) | configured),
        "published": published,
        "manifests": published_manifests(path),
    }


@_salt_errors
def prune_repo(in_use=None, keep=core_prune.DEFAULT_KEEP, min_age=core_prune.DEFAULT_MIN_AGE,
               test=True, repo_path=None):
    """
    Remove the manifests of this builder's repo that no target uses and the
    wheels no remaining manifest names, so the repo and this minion's
    ``venvbuild_repo`` mine entry stay bounded. **A dry run unless
    ``test=False``.** Usually called by ``salt-run venvbuild.prune``, which
    collects ``in_use`` from every target's ``venvbuild_venvs`` mine entry.

    Kept, per venv of every platform and release level: the manifests in
    ``in_use``, the newest ``keep``, those published less than ``min_age``
    seconds ago, and those that cannot be read (never removed by guesswork;
    they keep no wheel). Removed: the other manifests, then every wheel no
    remaining manifest of its platform names, if older than ``min_age``. A
    venv whose build is running is skipped, and so are a platform's wheels
    while any build or local install on it runs (reported under
    ``skipped``). After a real prune this minion's mine entry is refreshed.

    Returns ``{"test", "removed": {"manifests": [keys], "wheels": N, "bytes":
    B}, "kept": {"manifests": {key: why}, "wheels": N}, "skipped": [...]}``.

    in_use
        Manifest keys in use, as ``repo_info`` publishes them:
        ``<platform>/<venv>-<spec id>`` (kept at every release level) or
        ``<release>/<platform>/<venv>-<spec id>``.
    keep
        The newest manifests kept per venv besides those in use (default 3, at least 1).
    min_age
        Seconds a manifest or wheel must have existed before it is removed
        (default 3600).
    test
        Report what would be removed, remove nothing (the default).
    repo_path
        The repo (default: pillar ``venvbuild:repo:path``).

    CLI Example:

    .. code-block:: bash

        salt build01 venvbuild.prune_repo in_use='[debian-12-x86_64-cp311/app-0123456789abcdef]'
        salt build01 venvbuild.prune_repo keep=2 test=False
    """
    in_use = core_prune.check_in_use(in_use)
    keep, min_age = core_prune.check_keep(keep, min_age)
    repo = _pillar_data().get("repo") or {}
    path = repo_path or repo.get("path") or core_options.DEFAULT_REPO_PATH
    path = core_options.OPTIONS["repo_path"].check(path, "repo_path")
    group = core_options.repo_gid(repo.get("user"), repo.get("group"))
    out = core_prune.prune(path, in_use, keep, min_age, test=bool(test), group=group)
    if not test and out["removed"]["manifests"]:
        _mine_update()
    return out


@_salt_errors
def fleet_info():
    """
    Describe the venvs of this minion's pillar for the mine (alias
    ``venvbuild_venvs``, read by ``salt-run venvbuild.fleet``): for each venv
    its path, the spec id the pillar wants on this minion, the spec id and
    manifest sha256 installed, how that manifest was authenticated, whether
    the venv is current, and the spec ids of the versions kept for rollback
    (``kept``: ``salt-run venvbuild.prune`` keeps their manifests). Reads files only (the interpreter cache, the
    stamps); a minion refreshes its entry after every change::

        mine_functions:
          venvbuild_venvs:
            mine_function: venvbuild.fleet_info

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.fleet_info
    """
    out = {}
    for venv_id, cfg in pillar_util.venv_configs(_pillar_data()).items():
        entry = {"path": cfg["path"]}
        try:
            opts = _options({key: value for key, value in cfg.items() if key != "path"})
            interp = _interpreter(opts["python"])
            spec = _spec(venv_id, opts, interp)
            entry.update(wanted=spec.spec_id, platform=spec.platform)
        except (VenvbuildError, SaltInvocationError) as exc:
            entry.update(wanted=None, error=str(exc))
        paths = core_layout.VenvPaths(cfg["path"])
        live = paths.live_dir()
        stamp = read_stamp(live) if live else None
        entry.update(
            installed=stamp.spec_id if stamp else None,
            manifest_sha256=stamp.manifest_sha256 if stamp else None,
            trust=stamp.trust if stamp else None,
            current=bool(stamp) and stamp.spec_id == entry.get("wanted")
            and os.path.exists(os.path.join(live, "bin", "python")),
            kept=_kept_specs(paths, live),
        )
        out[venv_id] = entry
    return out


def _kept_specs(paths, live):
    """The spec ids of the versions kept for rollback at ``paths`` (not the live one),
    newest first, at most core/fleet.py's MAX_KEPT: stamps read, nothing run."""
    kept = []
    for _directory, stamp in core_installer.stamped_versions(paths, live):
        if isinstance(stamp.spec_id, str) and names.SPEC_ID.fullmatch(stamp.spec_id) \
                and stamp.spec_id not in kept:
            kept.append(stamp.spec_id)
    return kept[:core_fleet.MAX_KEPT]


def _without_userinfo(url):
    head, sep, rest = url.partition("://")
    return head + sep + rest.split("@", 1)[1] if "@" in rest.split("/", 1)[0] else url


@_salt_errors
def venv_configs(show_secrets=False, build_only=False):
    """
    Return the venvs of this minion's pillar (``venvbuild:venvs``), each merged
    over ``venvbuild:defaults``, with ``repo_path``/``repo_user``/``repo_group``
    from ``venvbuild:repo`` (``path``, ``user``, ``group``) and
    ``builder_target``/``builder_tgt_type``/``builder_platforms`` from
    ``venvbuild:builder`` unless the venv sets them: the arguments of one
    ``venvbuild.installed`` state each (``path`` is its ``name``). Unknown keys
    anywhere under ``venvbuild`` are an error naming them.

    A debugging aid: it shows what the formulas will do, with plain values on
    every Salt release (3008 masks ``pillar.get``), environment values and URL
    credentials hidden unless ``show_secrets`` (the SLS formulas use that).

    show_secrets
        Return environment values and URL credentials as they are.
    build_only
        Keep only the options that matter to a build (what ``builder.sls``
        passes to ``venvbuild.wheels_built``).

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.venv_configs
    """
    configs = pillar_util.venv_configs(_pillar_data())
    if build_only:
        configs = {venv_id: {key: value for key, value in cfg.items()
                             if key in core_options.BUILD_OPTIONS}
                   for venv_id, cfg in configs.items()}
    return configs if show_secrets else pillar_util.redacted(configs)


def formula_dir():
    """
    Return the directory of the SLS formulas installed with the extension
    (``venvbuild/``, ``orch/``): a ``file_roots`` entry that serves them, for
    Salt without the ``venvbuild`` fileserver backend (docs/install.md).

    CLI Example:

    .. code-block:: bash

        salt-call --local venvbuild.formula_dir
    """
    return saltext_venvbuild.formula_dir()


@_salt_errors
def check_pillar():
    """
    Check this minion's ``venvbuild`` pillar and return every problem, one
    sentence each: unknown keys (each with the key it most likely meant),
    sections that are not mappings, venvs without a ``path``. The formulas show
    these as failed states instead of a render error.

    Returns ``{"ok": bool, "problems": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt '*' venvbuild.check_pillar
    """
    problems = pillar_util.problems(__pillar__)
    return {"ok": not problems, "problems": problems}
