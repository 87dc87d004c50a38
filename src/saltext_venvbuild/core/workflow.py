"""The workflow: spec -> source -> build -> publish -> install -> switch.

One :class:`Workflow` serves one call of the execution module for one venv
spec. It holds the checked options, the interpreter and the spec, and reaches
Salt only through :class:`Hooks` (distro packages, the mine, peer requests,
facts and events), so everything here runs and is tested without Salt.

The no-op check reads files only: the interpreter cache, the venv's stamp and,
for a local repo, the spec's manifest. Everything that may spawn a process or
open a socket comes after it.
"""

import dataclasses
import os
import time
import typing
import urllib.parse

from . import plan
from . import registry
from . import remote
from . import trust
from .builder import Builder
from .errors import SpecError
from .installer import InstallRequest
from .installer import existing_change
from .installer import install as install_venv
from .manifest import diff_versions
from .repo import RepoLayout
from .stamp import read_stamp
from .text import redact
from .tools import ToolSettings

MINE_ALIAS = "venvbuild_repo"  # the mine_functions alias of venvbuild.repo_info
POLL_INTERVAL = 5.0  # seconds between looks for a manifest a target waits for


@dataclasses.dataclass
class Hooks:
    """What the workflow needs from Salt, as plain callables."""

    minion_id: str = ""
    # (names, state, cache_valid_time, what) -> changes of pkg.install
    ensure_pkgs: typing.Callable = lambda names, state, valid, what: {}
    # (names, interpreter) -> distro module paths to link into the venv
    symlink_sources: typing.Callable = lambda names, interpreter: []
    # (target, tgt_type) -> {minion id: repo_info mine data}
    mine_get: typing.Callable = lambda target, tgt_type: {}
    # (builder id, venv id, spec id) -> the builder's answer (peer publish)
    request_build: typing.Callable = lambda builder, venv_id, spec_id: None
    # () -> None: publish this builder's repo_info in the mine now
    mine_update: typing.Callable = lambda: None
    # (venv id, event data) -> what was announced (facts, grains, event)
    announce: typing.Callable = lambda venv_id, data: {}


@dataclasses.dataclass
class Source:
    """Where a target's wheels come from and what vouches for the manifest."""

    url: str = None  # repo URL; None: this minion's local repo
    builder: str = None  # minion id of the chosen builder
    info: dict = None  # its mine entry
    anchor: str = "local"  # local | mine | pinned | none
    how: str = "the local repo"


class Workflow:
    def __init__(self, state_dir, opts, interpreter, spec, hooks):
        self.state_dir = state_dir
        self.opts = opts
        self.interpreter = interpreter
        self.spec = spec
        self.hooks = hooks

    # -- configuration ---------------------------------------------------------------

    def repo(self):
        return RepoLayout(self.opts["repo_path"], self.spec.platform, release=self.opts["release"],
                          group=self.opts["repo_gid"])

    def _settings(self, env, timeout, timeout_option):
        o = self.opts
        return ToolSettings(tool=o["install_tool"], uv_bin=o["uv_bin"], ca_bundle=o["ca_bundle"],
                            pip_noconf=o["pip_noconf"], env=dict(env), timeout=timeout,
                            timeout_option=timeout_option)

    def build_settings(self):
        return self._settings(self.opts["build_env"], self.opts["build_timeout"], "build_timeout")

    def install_settings(self):
        return self._settings(self.opts["install_env"], self.opts["install_timeout"],
                              "install_timeout")

    def http(self, wait=True):
        deadline = time.monotonic() + self.opts["wait_timeout"] if wait else None
        return remote.Http(ca_bundle=self.opts["ca_bundle"], deadline=deadline)

    def distro_args(self):
        """The distro packages a venv's stamp records: symlinked ones are ensured too."""
        return {"symlink_pkgs": self.opts["symlink_pkgs"],
                "install_pkgs": sorted(set(self.opts["install_pkgs"]) | set(self.opts["symlink_pkgs"]))}

    def static_warnings(self):
        """Warnings that need no I/O: how builders are found, an unauthenticated repo."""
        o = self.opts
        out = []
        if o["builder_target"] and not o["builder"]:
            warning = trust.targeting_warning(o["builder_target"], o["builder_tgt_type"])
            if warning:
                out.append(warning)
        if o["repo_url"] and not (o["builder"] or o["builder_target"] or o["manifest_sha256"]) \
                and urllib.parse.urlsplit(o["repo_url"]).scheme == "http":
            out.append(
                f"repo_url {redact(o['repo_url'])} is plain HTTP and nothing authenticates its "
                "manifest: whoever serves it or sits on the network path chooses the code this "
                "venv runs. Set manifest_sha256, or a builder whose mine entry vouches for it "
                "(docs/security.md)"
            )
        return out

    def _result(self, base, changes, comment, warnings=(), **extra):
        out = dict(base, changed=bool(changes), changes=changes, comment=comment, **extra)
        if warnings:
            out["warnings"] = list(dict.fromkeys(warnings))
        return out

    # -- building ----------------------------------------------------------------------

    def build(self, test, manifest=None):
        """Build the spec when needed; return ``(result dict, published manifest or None)``."""
        spec, o = self.spec, self.opts
        repo = self.repo()
        if manifest is None:
            manifest = repo.read_manifest(spec.venv_id, spec.spec_id,
                                          ignore_unreadable=o["wheels_rebuild"])
        path = repo.manifest_path(spec.venv_id, spec.spec_id)
        base = {"spec_id": spec.spec_id, "platform": spec.platform, "manifest_path": path}
        missing = repo.missing_wheels(manifest) if manifest else []
        latest = o["package_state"] == "latest"
        if manifest is not None and not (missing or o["wheels_rebuild"] or latest):
            return self._result(
                base, {}, f"manifest {manifest.filename} is published ({len(manifest.pins)} wheels)",
                pins=manifest.versions(), manifest_sha256=manifest.sha256), manifest
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
                comment = (f"manifest {manifest.filename} is published; a {o['package_state']} "
                           "resolution or wheels_rebuild runs only outside test mode")
            return self._result(base, changes, comment, pins=None), manifest
        self.hooks.ensure_pkgs(o["build_pkgs"], o["pkgs_state"], o["pkgs_cache_valid_time"],
                               f"venv {spec.venv_id}: build_pkgs")
        with self.http(wait=False) as http:
            result = Builder(repo, self.interpreter, self.state_dir, self.build_settings(),
                             http=http).build(
                spec, rebuild=o["wheels_rebuild"], latest=latest,
                recreate_env=o["wheels_rebuild"] and o["rebuild"])
        changes = {}
        if result.changed:
            changes["manifest"] = {"old": result.previous.sha256 if result.previous else None,
                                   "new": result.manifest.sha256}
            pins = diff_versions(result.previous.versions() if result.previous else {},
                                 result.manifest.versions())
            if pins:
                changes["packages"] = pins
            self.hooks.mine_update()
        if result.new_wheels:
            changes["wheels"] = {"added": result.new_wheels}
        return self._result(
            base, changes,
            f"built {len(result.manifest.pins)} wheels ({len(result.new_wheels)} new) for spec "
            f"{spec.spec_id} in {result.seconds:.1f} s",
            pins=result.manifest.versions(), manifest_sha256=result.manifest.sha256,
            seconds=round(result.seconds, 2)), result.manifest

    # -- installing --------------------------------------------------------------------

    def install(self, paths, test):
        """Install the spec at ``paths`` idempotently; the result dict of ``venvbuild.install``."""
        spec, o, interp = self.spec, self.opts, self.interpreter
        stamp = read_stamp(paths.path)
        alive = os.path.exists(os.path.join(paths.path, "bin", "python"))
        base = {"name": paths.path, "venv_id": spec.venv_id, "spec_id": spec.spec_id,
                "platform": spec.platform}
        warnings = self.static_warnings()
        remote_source = bool(o["repo_url"] or o["builder"] or o["builder_target"])
        forced = o["rebuild"] or o["wheels_rebuild"] or o["package_state"] == "latest"
        distro = self.distro_args()

        # The no-op path: files only. A remote repo's manifest for a spec id does
        # not change unless package_state is latest, so the spec id decides there
        # (and the pinned hash, when the pillar pins one).
        manifest = None
        if remote_source:
            current = alive and plan.is_current(stamp, spec, interp, o["manifest_sha256"], **distro)
        else:
            manifest = self.repo().read_manifest(spec.venv_id, spec.spec_id,
                                                 ignore_unreadable=o["wheels_rebuild"])
            current = alive and manifest is not None and plan.is_current(
                stamp, spec, interp, manifest.sha256, **distro)
        if current and not forced and paths.kind() == "managed":
            if o["pkgs_state"] == "latest" and distro["install_pkgs"]:
                return self._upgrade_pkgs(base, paths, test, warnings)
            return self._result(base, {}, f"venv {paths.path} is current (spec {spec.spec_id})",
                                warnings)

        existing = existing_change(paths, o["adopt_existing"])
        source = self.find_source(warnings) if remote_source else Source()
        context = _Target(paths, stamp, alive, existing, base, warnings)
        if source.url is None:
            return self._install_local(context, manifest, test, remote_source)
        return self._install_remote(context, source, test)

    def find_source(self, warnings):
        """The :class:`Source` of a venv with a builder or repo_url configured."""
        spec, o = self.spec, self.opts
        if o["builder"] or o["builder_target"]:
            target, tgt_type = ((o["builder"], "list") if o["builder"]
                                else (o["builder_target"], o["builder_tgt_type"]))
            builders = self.hooks.mine_get(target, tgt_type) or {}
            chosen = trust.choose_builder(self.hooks.minion_id, builders, spec.platform,
                                          o["builder_platforms"])
            if chosen:
                builder_id, info = chosen
                how = f"builder {builder_id}"
                if o["repo_url"]:
                    how += f" (files from {redact(o['repo_url'])})"
                return Source(o["repo_url"] or info["url"], builder_id, info, "mine", how)
            found = ", ".join(sorted(builders)) or "none"
            none = (f"no builder serves platform {spec.platform} (mine {MINE_ALIAS} of "
                    f"{tgt_type} {target!r}: {found})")
            fix = (f"build there first (salt -C '{target}' state.apply venvbuild.builder, then "
                   f"salt -C '{target}' mine.update)" if tgt_type == "compound" else
                   "run venvbuild.builder on a builder of this platform, then mine.update there")
            if not o["wheel_build"]:
                raise SpecError(f"venv {spec.venv_id}: {none} and wheel_build is false; {fix}")
            if not o["build_fallback"]:
                raise SpecError(
                    f"venv {spec.venv_id}: {none}; {fix}, or set build_fallback: true to "
                    "build the wheels on this minion"
                )
            warnings.append(f"{none}: the wheels were built on this minion (build_fallback)")
            return Source(how="this minion (build_fallback: no builder serves its platform)")
        if o["manifest_sha256"]:
            return Source(o["repo_url"], anchor="pinned", how="repo_url")
        return Source(o["repo_url"], anchor="none", how="repo_url")

    def _install_local(self, ctx, manifest, test, fallback):
        spec, o = self.spec, self.opts
        if not o["wheel_build"]:
            raise SpecError(
                f"venv {spec.venv_id}: wheel_build is false and neither builder, builder_target "
                "nor repo_url is set, so there is nothing to install from; configure a builder "
                "(pillar venvbuild:builder) or set wheel_build: true to build on this minion"
            )
        repo = self.repo()
        if test:
            if manifest is None:  # a build_fallback target may have built this spec before
                manifest = repo.read_manifest(spec.venv_id, spec.spec_id,
                                              ignore_unreadable=o["wheels_rebuild"])
            changes = plan.changes(ctx.stamp, spec, self.interpreter, manifest,
                                   rebuild=o["rebuild"], existing=ctx.existing, alive=ctx.alive,
                                   **self.distro_args())
            return self._result(ctx.base, changes, _test_comment(
                ctx.paths, spec, manifest, changes,
                f"wheels for spec {spec.spec_id} would be built locally, then"), ctx.warnings)
        build, manifest = self.build(test=False, manifest=manifest)
        wheels = {pin.sha256: repo.wheel_path(pin) for pin in manifest.pins}
        note = "no builder serves this platform, built locally; " if fallback else ""
        return self._install_manifest(ctx, manifest, wheels, repo.wheels_dir,
                                      f"local repo {repo.root}", f"{note}{build['comment']}")

    def _install_remote(self, ctx, source, test):
        spec, o = self.spec, self.opts
        url = remote.manifest_url(source.url, spec.platform, spec.venv_id, spec.spec_id,
                                  release=o["release"])
        with self.http() as http:
            if test:
                manifest = remote.fetch_manifest(http, url, spec.venv_id, spec.spec_id, spec.platform)
                if manifest is not None and not self._authentic(manifest, source, url):
                    manifest = None  # not yet vouched for: predicted as not built
                changes = plan.changes(ctx.stamp, spec, self.interpreter, manifest,
                                       rebuild=o["rebuild"], existing=ctx.existing,
                                       alive=ctx.alive, **self.distro_args())
                if manifest is not None and self._unchanged(ctx, manifest):
                    changes = {}
                return self._result(ctx.base, changes, _test_comment(
                    ctx.paths, spec, manifest, changes,
                    f"the manifest is not on {source.how} yet ({redact(url)}); once built"),
                    ctx.warnings)
            if o["request_build"] and source.builder and self._published(source) is None:
                answer = self.hooks.request_build(source.builder, spec.venv_id, spec.spec_id)
                if isinstance(answer, dict) and answer.get("result") is False:
                    ctx.warnings.append(f"builder {source.builder} refused to build: "
                                        f"{answer.get('comment')}")
            manifest = remote.wait_for_manifest(
                http, url, spec.venv_id, spec.spec_id, spec.platform, interval=POLL_INTERVAL,
                hint=self._wait_hint(source),
                on_poll=lambda found: found is not None and self._authentic(found, source, url))
            cache = remote.WheelCache(os.path.join(self.state_dir, "wheels"))
            with cache.using():
                wheels = cache.fetch(http, remote.wheels_url(source.url, spec.platform, o["release"]),
                                     manifest.pins)
                result = self._install_manifest(
                    ctx, manifest, wheels, remote.wheels_url(source.url, spec.platform, o["release"]),
                    _trust_note(source), f"from {source.how}", prune=False)
            result["bytes_downloaded"] = http.bytes_downloaded
        cache.prune(lambda: registry.wheels_in_use(self.state_dir))
        return result

    def _wait_hint(self, source):
        if source.anchor == "mine":
            return (f"(salt {source.builder} state.apply venvbuild.builder; if the manifest is "
                    f"there, its hash is not in the mine entry {MINE_ALIAS} of {source.builder}: "
                    f"salt {source.builder} mine.update)")
        return ""

    def _published(self, source, refresh=False):
        """The manifest sha256 the chosen builder publishes, re-reading the mine if asked."""
        spec = self.spec
        if refresh:
            fresh = (self.hooks.mine_get(source.builder, "list") or {}).get(source.builder)
            if isinstance(fresh, dict):
                source.info = fresh
        return trust.published_hash(source.info, spec.platform, self.opts["release"],
                                    spec.venv_id, spec.spec_id)

    def _authentic(self, manifest, source, url):
        """True to use ``manifest``; False to wait for its hash to be published;
        TrustError if a trusted anchor names another hash."""
        if source.anchor == "none":
            return True
        if source.anchor == "pinned":
            trust.check_manifest(manifest, self.opts["manifest_sha256"], url,
                                 "manifest_sha256 in the pillar")
            return True
        expected = self._published(source)
        if expected != manifest.sha256:
            expected = self._published(source, refresh=True)
        if expected is None:
            return False
        trust.check_manifest(manifest, expected, url, f"builder {source.builder}'s mine entry")
        return True

    def _unchanged(self, ctx, manifest):
        return (ctx.alive and not self.opts["rebuild"] and not ctx.existing
                and ctx.paths.kind() == "managed"
                and plan.is_current(ctx.stamp, self.spec, self.interpreter, manifest.sha256,
                                    **self.distro_args()))

    def _install_manifest(self, ctx, manifest, wheels, source, trust_note, note, prune=True):
        spec, o, interp = self.spec, self.opts, self.interpreter
        paths = ctx.paths
        if self._unchanged(ctx, manifest):
            return self._result(ctx.base, {}, f"venv {paths.path} is current (spec "
                                f"{spec.spec_id}); {note}", ctx.warnings)
        distro = self.distro_args()
        changes = plan.changes(ctx.stamp, spec, interp, manifest, rebuild=o["rebuild"],
                               existing=ctx.existing, alive=ctx.alive, **distro)
        pkg_changes = self.hooks.ensure_pkgs(distro["install_pkgs"], o["pkgs_state"],
                                             o["pkgs_cache_valid_time"],
                                             f"venv {paths.path}: install_pkgs")
        if pkg_changes:
            changes["distro_packages"] = pkg_changes
        links = self.hooks.symlink_sources(o["symlink_pkgs"], interp)
        result = install_venv(paths, InstallRequest(
            manifest=manifest, wheels=wheels, interpreter=interp,
            settings=self.install_settings(), install_args=tuple(o["install_args"]),
            links=tuple(links), symlink_pkgs=tuple(distro["symlink_pkgs"]),
            install_pkgs=tuple(distro["install_pkgs"]), source=source, trust=trust_note,
            keep=o["keep_versions"], adopt=o["adopt_existing"],
        ), self.state_dir)
        registry.register(self.state_dir, paths.path, spec.venv_id)
        if prune:
            remote.WheelCache(os.path.join(self.state_dir, "wheels")).prune(
                lambda: registry.wheels_in_use(self.state_dir))
        announced = self.hooks.announce(spec.venv_id, {
            "path": paths.path, "old": ctx.stamp.spec_id if ctx.stamp else None,
            "new": spec.spec_id, "venv_dir": result.venv_dir, "changes": changes})
        return self._result(
            ctx.base, changes,
            f"venv {paths.path} installed from {manifest.filename} ({len(manifest.pins)} "
            f"packages) in {result.seconds:.1f} s; {note}",
            ctx.warnings, venv_dir=result.venv_dir, seconds=round(result.seconds, 2),
            announced=announced, trust=trust_note)

    def _upgrade_pkgs(self, base, paths, test, warnings):
        """A current venv with ``pkgs_state: latest``: only the distro packages may change."""
        names = self.distro_args()["install_pkgs"]
        if test:
            return self._result(base, {}, (
                f"venv {paths.path} is current; install_pkgs with pkgs_state latest are "
                "upgraded only outside test mode"), warnings)
        upgraded = self.hooks.ensure_pkgs(names, "latest", self.opts["pkgs_cache_valid_time"],
                                          f"venv {paths.path}: install_pkgs")
        changes = {"distro_packages": upgraded} if upgraded else {}
        return self._result(base, changes, f"venv {paths.path} is current (spec "
                            f"{self.spec.spec_id})" + (f"; upgraded {', '.join(sorted(upgraded))}"
                                                       if upgraded else ""), warnings)


@dataclasses.dataclass
class _Target:
    paths: object
    stamp: object
    alive: bool
    existing: dict
    base: dict
    warnings: list


def _trust_note(source):
    return {
        "mine": f"manifest sha256 published by builder {source.builder} (mine)",
        "pinned": "manifest sha256 pinned in the pillar (manifest_sha256)",
        "none": "not authenticated (repo_url without manifest_sha256 or builder)",
        "local": "local repo",
    }[source.anchor]


def _test_comment(paths, spec, manifest, changes, unbuilt):
    if not changes:
        return (f"venv {paths.path} is current; package_state latest / wheels_rebuild "
                "look for new wheels only outside test mode")
    if manifest is None:
        return f"{unbuilt} venv {paths.path} would be installed (pins known after the build)"
    return f"venv {paths.path} would be installed from {manifest.filename}"

