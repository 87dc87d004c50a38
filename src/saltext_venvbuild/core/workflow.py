"""The workflow: spec -> source -> build -> publish -> install -> switch.

One :class:`Workflow` serves one call of the execution module for one venv
spec. It holds the checked options, the interpreter and the spec, and reaches
Salt only through :class:`Hooks` (distro packages, the mine, peer requests,
facts and events), so everything here runs and is tested without Salt.

The no-op check reads files only: the interpreter cache, the venv's stamp, the
distro package record (core/pkgdb.py) and, for a local repo, the spec's manifest. Everything that may spawn a process or
open a socket comes after it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
import typing

from . import constraints as constraints_mod
from . import distro
from . import fsutil
from . import pkgdb
from . import plan
from . import registry
from . import remote
from . import retry as retry_mod
from . import rollback as rollback_mod
from . import trust
from .builder import Builder
from .errors import RepoError
from .errors import SpecError
from .errors import ToolError
from .installer import InstallRequest
from .installer import install as install_venv
from .installer import kept_versions
from .installer import switch_to
from .layout import existing_change
from .manifest import diff_versions
from .repo import WHEELS_LOCK
from .repo import RepoLayout
from .stamp import read_stamp
from .text import redact
from .tools import ToolSettings

if typing.TYPE_CHECKING:
    from .interpreter import Interpreter
    from .layout import VenvPaths
    from .manifest import Manifest
    from .spec import VenvSpec
    from .stamp import Stamp

WOULD_INSTALL = "(would be installed)"  # the new version of a missing package, in test mode
POLL_INTERVAL = 5.0  # seconds between looks for a manifest a target waits for
FAILOVER_PROBE = 15.0  # seconds one of several builders gets per round before the next


@dataclasses.dataclass
class Hooks:
    """What the workflow needs from Salt, as plain callables."""

    minion_id: str = ""
    # the os_family grain: which of the role's base package lists apply (core/distro.py)
    os_family: str = ""
    # (names, state, cache_valid_time, what) -> changes of pkg.install
    ensure_pkgs: typing.Callable[[list[str], str, float, str], dict[str, typing.Any]] = (
        lambda names, state, valid, what: {})
    # () -> the names of the installed distro packages (pkg.list_pkgs)
    installed_pkgs: typing.Callable[[], typing.Collection[str]] = lambda: ()
    # (names, interpreter) -> distro module paths to link into the venv
    symlink_sources: typing.Callable[[list[str], Interpreter], typing.Iterable[str]] = (
        lambda names, interpreter: [])
    # (target, tgt_type) -> {minion id: repo_info mine data}
    mine_get: typing.Callable[[str, str], typing.Mapping[str, typing.Any] | None] = (
        lambda target, tgt_type: {})
    # (builder id, venv id, spec id, platform) -> the answer of the master's
    # venvbuild.request runner (peer_run), or of the builder (peer publish)
    request_build: typing.Callable[[str, str, str, str], typing.Any] = (
        lambda builder, venv_id, spec_id, platform: None)
    # () -> None: publish this builder's repo_info in the mine now
    mine_update: typing.Callable[[], typing.Any] = lambda: None
    # (venv id, event data) -> what was announced (facts, grains, event)
    announce: typing.Callable[[str, dict[str, typing.Any]], typing.Any] = lambda venv_id, data: {}


class Workflow:
    """One call of the execution module for one venv spec: checked ``opts``, the
    interpreter, the spec, and the ``hooks`` that are its only way to Salt."""

    # The package database files whose identity tells that no package changed (core/pkgdb.py).
    package_databases: typing.ClassVar[tuple[str, ...]] = pkgdb.DATABASES

    def __init__(self, state_dir: str, opts: dict[str, typing.Any], interpreter: Interpreter,
                 spec: VenvSpec, hooks: Hooks) -> None:
        self.state_dir = state_dir
        self.opts = opts
        self.interpreter = interpreter
        self.spec = spec
        self.hooks = hooks
        self.sources = trust.Sources(opts, spec, hooks.minion_id, hooks.mine_get)

    # -- configuration ---------------------------------------------------------------

    def repo(self) -> RepoLayout:
        """The local repo's layout for the spec's platform (and release)."""
        return RepoLayout(self.opts["repo_path"], self.spec.platform, release=self.opts["release"],
                          group=self.opts["repo_gid"])

    def _settings(self, env: typing.Mapping[str, str], timeout: float | None,
                  timeout_option: str) -> ToolSettings:
        o = self.opts
        # Every process runs in venvbuild's own empty working directory, with pip's and
        # uv's caches in its state directory (root's alone), never the caller's.
        what = f"venvbuild state {self.state_dir}"
        workdir = fsutil.ensure_dir(os.path.join(self.state_dir, "work"), what, 0o700,
                                    no_links_below=self.state_dir)
        cache_dir = fsutil.ensure_dir(os.path.join(self.state_dir, "cache"), what, 0o700,
                                      no_links_below=self.state_dir)
        return ToolSettings(tool=o["install_tool"], uv_bin=o["uv_bin"], ca_bundle=o["ca_bundle"],
                            pip_noconf=o["pip_noconf"], env=dict(env), timeout=timeout,
                            timeout_option=timeout_option, workdir=workdir, cache_dir=cache_dir)

    def build_settings(self) -> ToolSettings:
        """The tool settings of a build: build_env, build_timeout."""
        return self._settings(self.opts["build_env"], self.opts["build_timeout"], "build_timeout")

    def install_settings(self) -> ToolSettings:
        """The tool settings of an install: install_env, install_timeout."""
        return self._settings(self.opts["install_env"], self.opts["install_timeout"],
                              "install_timeout")

    def http(self, wait: bool = True) -> remote.Http:
        """An HTTP client for repos and constraints files; with ``wait``, its retries,
        polls and fetches of manifests and constraints files end wait_timeout from now
        (without, each such fetch may take remote.TEXT_SECONDS). A wheel's download may
        take wait_timeout (at least remote.WHEEL_SECONDS) plus 1 s per 100 KiB of its size."""
        wait_timeout = self.opts["wait_timeout"]
        deadline = time.monotonic() + wait_timeout if wait else None
        return remote.Http(ca_bundle=self.opts["ca_bundle"], deadline=deadline,
                           wheel_seconds=max(remote.WHEEL_SECONDS, wait_timeout))

    def constraint_warnings(self) -> list[str]:
        """Warnings about the spec's constraints files (plain HTTP without a sha256 pin); no I/O."""
        global_refs, own_refs = self.spec.constraint_files()
        return constraints_mod.warnings(global_refs + own_refs)

    def wants(self) -> plan.Wants:
        """What this run asks for (:class:`plan.Wants`); symlinked distro packages are
        ensured too, so they count as install_pkgs."""
        o = self.opts
        return plan.Wants(self.spec, self.interpreter, symlink_pkgs=tuple(o["symlink_pkgs"]),
                          install_pkgs=tuple(sorted(set(o["install_pkgs"]) | set(o["symlink_pkgs"]))),
                          rebuild=o["rebuild"])

    def retry_policy(self) -> retry_mod.Policy:
        """How builds and distro package installs retry a passing failure (core/retry.py)."""
        return retry_mod.Policy(self.opts["retries"], self.opts["retry_delay"])

    def _base_pkgs(self, kind: str) -> tuple[str, ...]:
        return distro.base_packages(self.hooks.os_family, kind) if self.opts["base_pkgs"] else ()

    def build_pkgs(self) -> list[str]:
        """The distro packages a build needs: the base list (``base_pkgs``) and ``build_pkgs``."""
        return sorted(set(self._base_pkgs("build")) | set(self.opts["build_pkgs"]))

    def runtime_pkgs(self) -> list[str]:
        """The distro packages the venv needs: the base list (``base_pkgs``),
        ``install_pkgs`` and ``symlink_pkgs``."""
        return sorted(set(self._base_pkgs("install")) | set(self.wants().install_pkgs))

    def _prepare_state_dir(self) -> None:
        fsutil.ensure_dir(self.state_dir, f"venvbuild state {self.state_dir}", 0o700)

    def ensure_pkgs(self, names: typing.Iterable[str], what: str, test: bool) -> dict[str, typing.Any]:
        """Ensure the distro packages ``names`` are installed; pkg.install's changes (with
        ``test``, ``{name: {"old": "", "new": WOULD_INSTALL}}`` of the missing ones).

        Files only while the package database is as it was when all of them were last
        found installed (core/pkgdb.py); else the package manager is asked
        (``pkg.list_pkgs``) and only what is missing is installed, retried for a
        passing cause (``retries``). ``pkgs_state: latest`` asks it on every run outside
        test mode."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        o = self.opts
        latest = o["pkgs_state"] == "latest" and not test
        record = pkgdb.Record(self.state_dir, prepare=self._prepare_state_dir,
                              databases=self.package_databases)
        missing = wanted
        if not latest:
            if record.covers(wanted):
                return {}
            identity = record.identity()  # before the listing: a change after it shows next time
            missing = pkgdb.missing(wanted, self.hooks.installed_pkgs())
            if test:
                return {name: {"old": "", "new": WOULD_INSTALL} for name in missing}
            if not missing:
                record.remember(identity, wanted)
                return {}
        changes = self.hooks.ensure_pkgs(missing, o["pkgs_state"],
                                         o["pkgs_cache_valid_time"], what) or {}
        identity = record.identity()
        missing = pkgdb.missing(wanted, self.hooks.installed_pkgs())
        if missing:
            raise ToolError(
                f"{what}: {', '.join(missing)} not installed after pkg.install; is each the name "
                "of a real package (not a virtual one) of this minion's repositories?")
        record.remember(identity, wanted)
        return changes

    @staticmethod
    def _with_pkgs(result: dict[str, typing.Any], pkg_changes: dict[str, typing.Any],
                   test: bool) -> dict[str, typing.Any]:
        """``result`` with the distro package changes of the run added."""
        if not pkg_changes:
            return result
        result["changes"].setdefault("distro_packages", pkg_changes)
        result["changed"] = True
        done = "would install" if test else "installed or upgraded"
        result["comment"] += f"; {done} distro packages {', '.join(sorted(pkg_changes))}"
        return result

    def _result(self, base: dict[str, typing.Any], changes: dict[str, typing.Any], comment: str,
                warnings: typing.Iterable[str] = (), **extra: typing.Any) -> dict[str, typing.Any]:
        out = dict(base, changed=bool(changes), changes=changes, comment=comment, **extra)
        if warnings:
            out["warnings"] = list(dict.fromkeys(warnings))
        return out

    # -- building ----------------------------------------------------------------------

    @typing.overload
    def build(self, test: typing.Literal[False], manifest: Manifest | None = ...,
              ) -> tuple[dict[str, typing.Any], Manifest]: ...

    @typing.overload
    def build(self, test: bool, manifest: Manifest | None = ...,
              ) -> tuple[dict[str, typing.Any], Manifest | None]: ...

    def build(self, test: bool, manifest: Manifest | None = None,
              ) -> tuple[dict[str, typing.Any], Manifest | None]:
        """Build the spec when needed; return ``(result dict, published manifest or None)``.
        The build's distro packages are ensured first, on every run (:meth:`ensure_pkgs`)."""
        spec, o = self.spec, self.opts
        pkg_changes = self.ensure_pkgs(self.build_pkgs(), f"venv {spec.venv_id}: build_pkgs", test)
        repo = self.repo()
        if manifest is None:
            manifest = repo.read_manifest(spec.venv_id, spec.spec_id,
                                          ignore_unreadable=o["wheels_rebuild"])
        path = repo.manifest_path(spec.venv_id, spec.spec_id)
        base = {"spec_id": spec.spec_id, "platform": spec.platform, "manifest_path": path}
        missing = repo.missing_wheels(manifest) if manifest else []
        latest = o["package_state"] == "latest"
        warnings = self.constraint_warnings()
        if manifest is not None and not (missing or o["wheels_rebuild"] or latest):
            return self._with_pkgs(self._result(
                base, {}, f"manifest {manifest.filename} is published ({len(manifest.pins)} wheels)",
                warnings, pins=manifest.versions(), manifest_sha256=manifest.sha256),
                pkg_changes, test), manifest
        if test:
            if manifest is None:
                changes = {"manifest": {"old": None, "new": os.path.basename(path)},
                           "requirements": [redact(req) for req in spec.requirements]}
                comment = f"wheels for spec {spec.spec_id} would be built and its manifest published"
            elif missing:
                changes = {"wheels": {"missing": missing}}
                comment = f"{len(missing)} wheels of {manifest.filename} are missing and would be rebuilt"
            elif latest:
                resolved = self.resolve_latest(manifest)
                changes = {} if resolved is None else {
                    "manifest": {"old": manifest.sha256, "new": plan.NEW_MANIFEST},
                    "packages": diff_versions(manifest.versions(), resolved.versions())}
                comment = (f"manifest {manifest.filename} is published and a package_state latest "
                           "resolution pins " + ("the same versions" if resolved is None else
                                                 "other versions: a new manifest would be published"))
            else:
                changes = {}
                comment = (f"manifest {manifest.filename} is published; wheels_rebuild builds "
                           "again only outside test mode")
            return self._with_pkgs(self._result(base, changes, comment, warnings, pins=None),
                                   pkg_changes, test), manifest
        with self.http() as http:  # constraints files by URL: fetched within wait_timeout
            result = Builder(repo, self.interpreter, self.state_dir, self.build_settings(),
                             http=http, retry=self.retry_policy()).build(
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
        return self._with_pkgs(self._result(
            base, changes,
            f"built {len(result.manifest.pins)} wheels ({len(result.new_wheels)} new) for spec "
            f"{spec.spec_id} in {result.seconds:.1f} s", warnings,
            pins=result.manifest.versions(), manifest_sha256=result.manifest.sha256,
            seconds=round(result.seconds, 2)), pkg_changes, test), result.manifest

    def resolve_latest(self, manifest: Manifest | None) -> plan.Resolved | None:
        """What a real run's ``package_state: latest`` resolution pins instead of the
        published ``manifest`` (``test=True``, so that it predicts that run): the
        resolved versions when they differ, None when they are the same, when
        ``package_state`` is present, or when nothing is published yet. Resolves as the
        build does (:meth:`Builder.resolve`); builds and publishes nothing."""
        if manifest is None or self.opts["package_state"] != "latest":
            return None
        with self.http() as http:  # constraints files by URL: fetched again, as a build does
            pins = Builder(self.repo(), self.interpreter, self.state_dir, self.build_settings(),
                           http=http, retry=self.retry_policy()).resolve(self.spec)
        return None if pins == manifest.versions() else plan.Resolved(pins)

    # -- installing --------------------------------------------------------------------

    def install(self, paths: VenvPaths, test: bool) -> dict[str, typing.Any]:
        """Install the spec at ``paths`` idempotently; the result dict of ``venvbuild.install``.

        The venv's distro packages are ensured first, on every run, current venv or
        not (:meth:`ensure_pkgs`: files only while the package database is unchanged),
        with the build's too on a minion that builds for itself, as the role does."""
        o = self.opts
        local = o["wheel_build"] and not (o["repo_url"] or o["builder"] or o["builder_target"])
        build = self.build_pkgs() if local else []
        what = f"venv {paths.path}: {'build_pkgs and install_pkgs' if build else 'install_pkgs'}"
        pkg_changes = self.ensure_pkgs(self.runtime_pkgs() + build, what, test)
        return self._with_pkgs(self._install(paths, test, pkg_changes), pkg_changes, test)

    def _install(self, paths: VenvPaths, test: bool,
                 pkg_changes: dict[str, typing.Any]) -> dict[str, typing.Any]:
        spec, o = self.spec, self.opts
        found = plan.Found(read_stamp(paths.path),
                           alive=os.path.exists(os.path.join(paths.path, "bin", "python")))
        wants = self.wants()
        base = {"name": paths.path, "venv_id": spec.venv_id, "spec_id": spec.spec_id,
                "platform": spec.platform}
        warnings = self.sources.warnings() + self.constraint_warnings()
        remote_source = bool(o["repo_url"] or o["builder"] or o["builder_target"])
        forced = o["rebuild"] or o["wheels_rebuild"] or o["package_state"] == "latest"

        # The no-op path: files only. A remote repo's manifest for a spec id does
        # not change unless package_state is latest, so the spec id decides there
        # (and the pinned hash, when the pillar pins one).
        # For a local repo the published manifest's bytes are hashed, not parsed.
        manifest = None
        if remote_source:
            published = o["manifest_sha256"]
            current = found.alive and plan.is_current(found, wants, published)
        else:
            published = self.repo().manifest_sha256(spec.venv_id, spec.spec_id)
            current = found.alive and published is not None and plan.is_current(
                found, wants, published)
            if not (current and not forced):
                manifest = self.repo().read_manifest(spec.venv_id, spec.spec_id,
                                                     ignore_unreadable=o["wheels_rebuild"])
        if current and not forced and paths.kind() == "managed":
            return self._result(base, {}, f"venv {paths.path} is current (spec {spec.spec_id})",
                                warnings)
        # A kept version already holds this spec (the pillar was reverted): switch
        # back to it, files only: no download, no install.
        if not forced and paths.kind() == "managed":
            for venv_dir, stamp in kept_versions(paths):
                if plan.is_current(plan.Found(stamp), wants, published):
                    return self._switch_back(paths, found, (venv_dir, stamp), test, base, warnings)

        found = dataclasses.replace(found, existing=existing_change(paths, o["adopt_existing"]))
        source = self.sources.find(warnings) if remote_source else trust.Source()
        context = _Target(paths, found, base, warnings, pkg_changes)
        if source.url is None:
            return self._install_local(context, manifest, test, remote_source)
        return self._install_remote(context, source, test)

    def _install_local(self, ctx: _Target, manifest: Manifest | None, test: bool,
                       fallback: bool) -> dict[str, typing.Any]:
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
            resolved = self.resolve_latest(manifest)
            changes = plan.changes(ctx.found, self.wants(), manifest if resolved is None else resolved)
            if resolved is not None and manifest is not None and changes:
                return self._result(ctx.base, changes, (
                    f"a package_state latest resolution pins other versions than "
                    f"{manifest.filename}: wheels would be built locally and venv {ctx.paths.path} "
                    "installed from a new manifest"), ctx.warnings)
            return self._result(ctx.base, changes, _test_comment(
                ctx.paths, spec, manifest, changes,
                f"wheels for spec {spec.spec_id} would be built locally, then",
                o["wheels_rebuild"]), ctx.warnings)
        repo.ensure_dirs()
        # Held shared from the build to the install, so a prune of the repo (which
        # takes it exclusively, without waiting) never removes the wheels in use.
        with repo.lock(WHEELS_LOCK, shared=True):
            build, manifest = self.build(test=False, manifest=manifest)
            wheels = {pin.sha256: repo.wheel_path(pin) for pin in manifest.pins}
            note = "no builder serves this platform, built locally; " if fallback else ""
            return self._install_manifest(ctx, manifest, wheels, _Origin(
                repo.wheels_dir, f"local repo {repo.root}", f"{note}{build['comment']}"))

    def _install_remote(self, ctx: _Target, source: trust.Source, test: bool) -> dict[str, typing.Any]:
        spec, o = self.spec, self.opts
        repo_url = source.url
        assert repo_url is not None  # noqa: S101  (install() sends a remote source only)
        url = remote.manifest_url(repo_url, spec.platform, spec.venv_id, spec.spec_id,
                                  release=o["release"])

        def vouch(sha256: str) -> bool:
            # Asked with the hash of the manifest's bytes, before anything parses them.
            return self.sources.authentic(sha256, source, url)

        with self.http() as http:
            if test:
                # None also when not yet vouched for: predicted as not built.
                manifest = remote.fetch_manifest(http, url, spec, vouch=vouch)
                changes = plan.changes(ctx.found, self.wants(), manifest)
                if manifest is not None and self._unchanged(ctx, manifest):
                    changes = {}
                return self._result(ctx.base, changes, _test_comment(
                    ctx.paths, spec, manifest, changes,
                    f"the manifest is not on {source.how} yet ({redact(url)}); once built",
                    False), ctx.warnings)
            if o["request_build"] and source.builder and self.sources.published(source) is None:
                answer = self.hooks.request_build(source.builder, spec.venv_id, spec.spec_id,
                                                  spec.platform)
                if isinstance(answer, dict) and answer.get("result") is False:
                    ctx.warnings.append(f"builder {source.builder} refused to build: "
                                        f"{answer.get('comment')}")
            fallbacks = self.sources.failover()
            if fallbacks:  # several builders serve this platform: the first that answers
                source, url, manifest = self._first_manifest([source, *fallbacks])
                repo_url = source.url
                assert repo_url is not None  # noqa: S101  (builders always have a URL)
            else:
                manifest = remote.wait_for_manifest(
                    http, url, spec, interval=POLL_INTERVAL,
                    hint=self.sources.wait_hint(source),
                    vouch=vouch)
            cache = remote.WheelCache(os.path.join(self.state_dir, "wheels"))
            with cache.using():
                wheels = cache.fetch(http, remote.wheels_url(repo_url, spec.platform, o["release"]),
                                     manifest.pins)
                result = self._install_manifest(ctx, manifest, wheels, _Origin(
                    remote.wheels_url(repo_url, spec.platform, o["release"]),
                    trust.trust_note(source), f"from {source.how}"), prune=False)
            result["bytes_downloaded"] = http.bytes_downloaded
        cache.prune(lambda: registry.wheels_in_use(self.state_dir))
        return result

    def _vouch(self, source: trust.Source, url: str, sha256: str) -> bool:
        return self.sources.authentic(sha256, source, url)

    def _first_manifest(self, sources: list[trust.Source]) -> tuple[trust.Source, str, Manifest]:
        """The first authenticated manifest of the spec among ``sources`` (builders,
        best first), with its source and URL: each is asked in turn, for at most
        FAILOVER_PROBE seconds a round, until wait_timeout passes. A builder that is
        down, unreachable, or whose mine entry does not (or no longer) vouch for the
        manifest is passed over; bytes another builder's entry contradicts are not
        (TrustError)."""
        spec, o = self.spec, self.opts
        deadline = time.monotonic() + o["wait_timeout"]
        why: dict[str, str] = {}
        while True:
            for source in sources:
                assert source.url is not None  # noqa: S101  (builders always have a URL)
                url = remote.manifest_url(source.url, spec.platform, spec.venv_id, spec.spec_id,
                                          release=o["release"])
                probe = min(FAILOVER_PROBE, max(1.0, deadline - time.monotonic()))
                vouch = functools.partial(self._vouch, source, url)
                with remote.Http(ca_bundle=o["ca_bundle"], deadline=time.monotonic() + probe) as http:
                    try:
                        manifest = remote.fetch_manifest(http, url, spec, vouch=vouch)
                    except RepoError as exc:  # down, unreachable, refusing, malformed
                        why[source.how] = str(exc)
                        continue
                if manifest is not None:
                    return source, url, manifest
                why[source.how] = f"manifest {redact(url)} not built or not vouched for yet"
            left = deadline - time.monotonic()
            if left <= 0:
                raise RepoError(
                    f"venv {spec.venv_id}: none of {len(sources)} builders served an "
                    f"authenticated manifest of spec {spec.spec_id} within wait_timeout "
                    f"({o['wait_timeout']:.0f} s): "
                    + "; ".join(f"{how}: {reason}" for how, reason in why.items()))
            time.sleep(min(POLL_INTERVAL, left))

    def _unchanged(self, ctx: _Target, manifest: Manifest) -> bool:
        found = ctx.found
        return (found.alive and not self.opts["rebuild"] and not found.existing
                and ctx.paths.kind() == "managed"
                and plan.is_current(found, self.wants(), manifest.sha256))

    def _install_manifest(self, ctx: _Target, manifest: Manifest, wheels: dict[str, str], origin: _Origin,
                          prune: bool = True) -> dict[str, typing.Any]:
        """Install ``manifest`` from ``wheels`` (``{sha256: path}``); ``origin`` says
        where they came from, what vouched for the manifest and what to tell."""
        spec, o, interp = self.spec, self.opts, self.interpreter
        paths, note = ctx.paths, origin.note
        if self._unchanged(ctx, manifest):
            return self._result(ctx.base, {}, f"venv {paths.path} is current (spec "
                                f"{spec.spec_id}); {note}", ctx.warnings)
        wants = self.wants()
        changes = plan.changes(ctx.found, wants, manifest)
        if ctx.pkg_changes:  # ensured before (install()), reported with the venv's event
            changes["distro_packages"] = ctx.pkg_changes
        links = self.hooks.symlink_sources(o["symlink_pkgs"], interp)
        result = install_venv(paths, InstallRequest(
            manifest=manifest, wheels=wheels, interpreter=interp,
            settings=self.install_settings(), install_args=tuple(o["install_args"]),
            links=tuple(links), symlink_pkgs=wants.symlink_pkgs,
            install_pkgs=wants.install_pkgs, source=origin.source, trust=origin.trust,
            keep=o["keep_versions"], adopt=o["adopt_existing"],
        ), self.state_dir)
        registry.register(self.state_dir, paths.path, spec.venv_id)
        # The fleet view (venvbuild_venvs in the mine) shows the new spec now, not
        # at the next mine_interval; a no-op run never gets here.
        self.hooks.mine_update()
        if prune:
            remote.WheelCache(os.path.join(self.state_dir, "wheels")).prune(
                lambda: registry.wheels_in_use(self.state_dir))
        announced = self.hooks.announce(spec.venv_id, {
            "path": paths.path, "old": ctx.found.stamp.spec_id if ctx.found.stamp else None,
            "new": spec.spec_id, "venv_dir": result.venv_dir, "changes": changes})
        return self._result(
            ctx.base, changes,
            f"venv {paths.path} installed from {manifest.filename} ({len(manifest.pins)} "
            f"packages) in {result.seconds:.1f} s; {note}",
            ctx.warnings, venv_dir=result.venv_dir, seconds=round(result.seconds, 2),
            announced=announced, trust=origin.trust)

    def _switch_back(self, paths: VenvPaths, found: plan.Found, kept: tuple[str, Stamp],
                     test: bool, base: dict[str, typing.Any], warnings: list[str]) -> dict[str, typing.Any]:
        """Switch ``paths`` to the kept venv directory whose stamp is the wanted spec
        (``kept``: the directory and its stamp)."""
        venv_dir, stamp = kept
        live = paths.live_dir()
        changes = plan.changes(found, self.wants())
        changes.update(rollback_mod.switch_changes(found.stamp, live, stamp, venv_dir))
        what = f"the kept version {venv_dir} of spec {stamp.spec_id}"
        if test:
            return self._result(base, changes, f"venv {paths.path} would be switched to {what}: "
                                "no download, no install", warnings)
        started = time.monotonic()
        switch_to(paths, self.state_dir, venv_dir, live)
        seconds = time.monotonic() - started
        registry.register(self.state_dir, paths.path, stamp.venv_id)
        self.hooks.mine_update()
        announced = self.hooks.announce(stamp.venv_id, {
            "path": paths.path, "old": found.stamp.spec_id if found.stamp else None,
            "new": stamp.spec_id, "venv_dir": venv_dir, "changes": changes})
        return self._result(base, changes, f"venv {paths.path} switched to {what} in "
                            f"{seconds * 1000:.0f} ms (no download, no install)", warnings,
                            venv_dir=venv_dir, seconds=round(seconds, 3), announced=announced)


@dataclasses.dataclass(frozen=True)
class _Origin:
    source: str  # where the wheels came from (shown, credentials hidden)
    trust: str  # what vouched for the manifest
    note: str  # the end of the result's comment


@dataclasses.dataclass
class _Target:
    paths: VenvPaths
    found: plan.Found
    base: dict[str, typing.Any]  # the keys every result has
    warnings: list[str]
    pkg_changes: dict[str, typing.Any] = dataclasses.field(default_factory=dict)  # distro packages


def _test_comment(paths: VenvPaths, spec: VenvSpec, manifest: Manifest | None, changes: dict[str, typing.Any],
                  unbuilt: str, wheels_rebuild: bool) -> str:
    if not changes:
        return f"venv {paths.path} is current" + (
            "; wheels_rebuild builds again only outside test mode" if wheels_rebuild else "")
    if manifest is None:
        return f"{unbuilt} venv {paths.path} would be installed (pins known after the build)"
    return f"venv {paths.path} would be installed from {manifest.filename}"

