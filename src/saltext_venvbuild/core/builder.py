"""Building a spec's wheels and publishing them with their manifest.

Wheels are built by ``pip wheel`` in a builder environment (uv has no command
that writes the wheels of a resolved set; with ``install_tool: uv`` the builder
environment is created and provisioned by uv). There is one environment per
interpreter, tool and provisioning: pip plus the build requirements (the
role's ``venv_build_requirements`` and ``..._extra``), installed with the
global constraints, the venv's own constraints (as the role's tool upgrade
applies its global and source constraints) and build arguments, and with
pip's configuration files ignored when ``pip_noconf`` is set (the role's
``venv_pip_upgrade_noconf`` covers that step only: the build reads them). It is
created when first needed, upgraded with ``package_state: latest``, and
recreated by ``wheels_rebuild`` together with ``rebuild``.

The build runs in a private staging directory; only a complete, successful
build whose manifest reads back is published: wheels first (stored by their
content), then the manifest (atomic rename). A failed build publishes nothing
and leaves every existing manifest and wheel as it was. A run of pip or uv that
failed for a passing network cause is tried again (``retries``, core/retry.py),
each ``pip wheel`` attempt from an empty wheel directory. Builds are reproducible
where the build backend allows (``SOURCE_DATE_EPOCH``), so rebuilding a
pure-Python source gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from typing import TYPE_CHECKING
from typing import Any
from typing import Sequence

from . import constraints as constraints_mod
from . import fsutil
from . import retry as retry_mod
from . import runner
from .errors import BuildError
from .manifest import ConstraintFile
from .manifest import Manifest
from .repo import WHEELS_LOCK
from .text import redact
from .text import redact_args
from .text import redact_query
from .tools import PIP

if TYPE_CHECKING:
    from .interpreter import Interpreter
    from .remote import Http
    from .repo import RepoLayout
    from .spec import VenvSpec
    from .tools import ToolSettings

SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip file can hold


@dataclasses.dataclass
class BuildResult:
    """What a build did: the spec's manifest, whether it was published anew, the one it
    replaced, the wheels it stored, the seconds it took."""

    manifest: Manifest
    changed: bool  # a new or different manifest was published
    previous: Manifest | None  # the manifest it replaced
    new_wheels: list[str]  # wheel files this build stored that were not stored before
    seconds: float = 0.0


class Builder:
    """Builds specs for one interpreter into one repo layout (one platform key).

    ``settings`` (tools.ToolSettings) carry the tool, build_env and the build
    timeout; ``http`` (remote.Http) fetches constraints files given by URL;
    ``retry`` (retry.Policy) says how often a run of pip or uv that failed for a
    passing network cause is tried again (core/retry.py).
    """

    def __init__(self, repo: RepoLayout, interpreter: Interpreter, state_dir: str,
                 settings: ToolSettings, http: Http | None = None,
                 retry: retry_mod.Policy | None = None) -> None:
        self.repo = repo
        self.interpreter = interpreter
        self.state_dir = state_dir
        self.settings = settings
        self.http = http
        self.retry = retry or retry_mod.Policy()
        exe_hash = hashlib.sha256(interpreter.executable.encode()).hexdigest()[:8]
        self.env_root = os.path.join(state_dir, "builders",
                                     f"{interpreter.tag}-{exe_hash}-{settings.tool}")

    # -- the builder environment -------------------------------------------------

    def _provisioning(self, spec: VenvSpec, global_lines: Sequence[str],
                      own_lines: Sequence[str] = ()) -> dict[str, Any]:
        """What the environment is made of; its hash names the environment."""
        record = {
            "executable": self.interpreter.executable,
            "version": self.interpreter.version,
            "tool": self.settings.tool,
            "build_requirements": list(spec.build_requirements),
            "global_constraints": list(global_lines),
            "build_args": list(spec.build_args),
        }
        if own_lines:  # absent when empty: the environments of specs without keep their name
            record["constraints"] = list(own_lines)
        return record

    def ensure_env(self, spec: VenvSpec, global_lines: Sequence[str], log_path: str, upgrade: bool = False,
                   recreate: bool = False, own_lines: Sequence[str] = ()) -> str:
        """The builder environment's Python for ``spec``: created, upgraded or
        recreated as asked. ``global_lines`` and ``own_lines`` are the spec's global
        and own constraints (constraints files read), applied to what it installs."""
        record = self._provisioning(spec, global_lines, own_lines)
        key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:12]
        env_dir = os.path.join(self.env_root, key)
        env_python = os.path.join(env_dir, "bin", "python")
        ready_file = os.path.join(env_dir, "venvbuild-builder.json")
        fsutil.ensure_dir(self.env_root, f"venvbuild state {self.state_dir}", 0o700,
                          no_links_below=self.state_dir)
        with fsutil.file_lock(env_dir + ".lock"):
            try:
                ready = json.loads(fsutil.read_text(ready_file) or "null")
            except (OSError, ValueError):
                ready = None
            exists = isinstance(ready, dict) and ready.get("key") == key and os.path.exists(env_python)
            if exists and not upgrade and not recreate:
                return env_python
            what = f"builder environment {env_dir}"
            if not exists or recreate:
                self.settings.create_venv(self.interpreter, env_dir, BuildError, log_path,
                                          clear=True)
            cons = os.path.join(env_dir, "venvbuild-global-constraints.txt")
            fsutil.atomic_write(cons, "".join(f"{c}\n" for c in global_lines), 0o600)
            own_cons = os.path.join(env_dir, "venvbuild-constraints.txt")
            fsutil.atomic_write(own_cons, "".join(f"{c}\n" for c in own_lines), 0o600)
            packages = ["pip", *spec.build_requirements]
            # pip's venv comes with ensurepip's pip, which is upgraded; uv's is empty.
            upgrade_args = ["--upgrade"] if self.settings.tool == "pip" or upgrade else []
            # --no-build-isolation is for the wheels this environment builds; the
            # environment itself starts empty and must build its own requirements
            # (a helper given as an sdist) in isolation.
            provision_args = [arg for arg in spec.build_args if arg != "--no-build-isolation"]
            step = f"{what}: installing {', '.join(packages)}"
            retry_mod.call(lambda: self.settings.run(
                self.settings.install_cmd(env_python) + upgrade_args
                + packages + ["-c", cons, "-c", own_cons] + provision_args,
                BuildError, step, log_path=log_path, tool_upgrade=True,
            ), self.retry, retry_mod.output_cause, step, (BuildError,))
            # The record keeps arguments and constraints with credentials hidden; the key
            # covers them.
            shown = dict(record, build_args=redact_args(record["build_args"]),
                         global_constraints=[redact_query(c) for c in global_lines], key=key)
            if own_lines:
                shown["constraints"] = [redact_query(c) for c in own_lines]
            fsutil.atomic_write(ready_file, json.dumps(shown, sort_keys=True), 0o600)
        return env_python

    # -- building ----------------------------------------------------------------

    def _constraint_lines(self, spec: VenvSpec) -> tuple[list[str], list[str], list[ConstraintFile]]:
        """``(global lines, own lines, records)``: the spec's global and own constraints
        with its constraints files read (fetched) now, and the record of each file."""
        global_refs, own_refs = spec.constraint_files()
        loaded = {ref: constraints_mod.load(ref, self.http) for ref in global_refs + own_refs}
        global_lines = [c for c in spec.global_constraints if not c.startswith("-c ")]
        for ref in global_refs:
            global_lines += loaded[ref][0]
        own_lines = ([c for c in spec.constraints if not c.startswith("-c ")]
                     + [line for ref in own_refs for line in loaded[ref][0]])
        return global_lines, own_lines, [loaded[ref][1] for ref in global_refs + own_refs]

    def _new_log(self, spec: VenvSpec, kind: str) -> str:
        """A new log of a ``kind`` (build, resolve) of ``spec``, root's only; its path."""
        log_dir = fsutil.ensure_dir(os.path.join(self.state_dir, "logs"),
                                    f"venvbuild state {self.state_dir}", 0o700,
                                    no_links_below=self.state_dir)
        log_path = os.path.join(log_dir, f"{kind}-{spec.venv_id}-{spec.spec_id}.log")
        with fsutil.open_log(log_path) as log:
            log.write(f"# venvbuild {kind} of {spec.venv_id} spec {spec.spec_id} on {spec.platform}\n")
        return log_path

    def _tool_path(self, env_python: str) -> dict[str, str]:
        """The environment a build (or a resolution) adds: the builder environment's tools
        (maturin, cython) first on PATH, and SOURCE_DATE_EPOCH."""
        env_bin = os.path.dirname(env_python)
        return {"PATH": f"{env_bin}{os.pathsep}{runner.trusted_path(os.environ.get('PATH'))}",
                "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}

    def build(self, spec: VenvSpec, rebuild: bool = False, latest: bool = False,
              recreate_env: bool = False) -> BuildResult:
        """Build ``spec``'s wheels and publish its manifest; return a BuildResult.

        ``rebuild`` ignores pip's caches, so every wheel is built again from
        source; new bytes are stored beside the old ones, which manifests of
        other specs may still name. ``latest`` upgrades the builder environment.
        """
        started = time.monotonic()
        log_path = self._new_log(spec, "build")
        global_lines, own_lines, records = self._constraint_lines(spec)
        env_python = self.ensure_env(spec, global_lines, log_path, upgrade=latest,
                                     recreate=recreate_env, own_lines=own_lines)
        self.repo.ensure_dirs()
        with self.repo.lock(f"build-{spec.venv_id}"), self.repo.lock(WHEELS_LOCK, shared=True):
            previous = self.repo.read_manifest(spec.venv_id, spec.spec_id, ignore_unreadable=rebuild)
            staging = self.repo.staging(f"{spec.venv_id}-{spec.spec_id}")
            try:
                out = os.path.join(staging, "wheels")
                os.mkdir(out, 0o700)
                cmd = [env_python, *PIP, "wheel", "--wheel-dir", out,
                       *_input_files(staging, spec, global_lines, own_lines)]
                if rebuild:
                    cmd += ["--no-cache-dir"]
                cmd += self.settings.cert_args("pip") + list(spec.build_args)
                step = f"venv {spec.venv_id}: building wheels for spec {spec.spec_id}"

                def wheel() -> str:
                    # Every attempt starts from an empty wheel directory: what a failed
                    # attempt left there is never published.
                    fsutil.remove_tree(out)
                    os.mkdir(out, 0o700)
                    return self.settings.run(cmd, BuildError, step, log_path=log_path, cwd=staging,
                                             extra_env=self._tool_path(env_python))

                retry_mod.call(wheel, self.retry, retry_mod.output_cause, step, (BuildError,))
                pins, stored = self.repo.publish_wheels(out)
                manifest = Manifest.create(
                    # The manifest is served to anyone: it records requirements with URL
                    # credentials hidden; the spec id covers them as given.
                    spec.venv_id, spec.spec_id, spec.platform,
                    [redact(req) for req in spec.requirements], pins, records,
                )
                changed = previous is None or previous.sha256 != manifest.sha256
                if changed:
                    self.repo.publish_manifest(manifest)
            finally:
                self.repo.remove_staging(staging)
        return BuildResult(manifest, changed, previous, sorted(stored), time.monotonic() - started)

    # -- resolving ---------------------------------------------------------------

    def resolve(self, spec: VenvSpec) -> dict[str, str]:
        """``{name: version}`` a build of ``spec`` would pin now; nothing is built,
        stored or published. pip resolves in the builder environment as ``pip wheel``
        does (``pip install --dry-run --ignore-installed --report``), from the same
        requirements, constraints (files read again) and build arguments.

        What ``test=True`` with ``package_state: latest`` runs to predict a real run:
        like the build, it asks the index and may run a build backend to read an
        sdist's metadata. It writes below venvbuild's state directory only: a log, a
        scratch directory it removes, and the builder environment when there is none
        yet (created as a build would, never upgraded here).
        """
        log_path = self._new_log(spec, "resolve")
        global_lines, own_lines, _records = self._constraint_lines(spec)
        env_python = self.ensure_env(spec, global_lines, log_path, own_lines=own_lines)
        scratch_root = fsutil.ensure_dir(os.path.join(self.state_dir, "resolve"),
                                         f"venvbuild state {self.state_dir}", 0o700,
                                         no_links_below=self.state_dir)
        scratch = tempfile.mkdtemp(prefix=f"{spec.venv_id}-", dir=scratch_root)
        try:
            report = os.path.join(scratch, "report.json")
            cmd = [env_python, *PIP, "install", "--dry-run", "--ignore-installed", "--quiet",
                   "--report", report, *_input_files(scratch, spec, global_lines, own_lines),
                   *self.settings.cert_args("pip"), *spec.build_args]
            step = (f"venv {spec.venv_id}: resolving spec {spec.spec_id} (package_state "
                    "latest, test mode)")
            retry_mod.call(lambda: self.settings.run(
                cmd, BuildError, step, log_path=log_path, cwd=scratch,
                extra_env=self._tool_path(env_python),
            ), self.retry, retry_mod.output_cause, step, (BuildError,))
            return _report_versions(report, f"venv {spec.venv_id}: pip's report of spec {spec.spec_id}")
        finally:
            fsutil.remove_tree(scratch)


def _input_files(directory: str, spec: VenvSpec, global_lines: Sequence[str],
                 own_lines: Sequence[str]) -> list[str]:
    """Write what pip reads for ``spec`` into ``directory`` (the requirements, the global
    and the own constraints); the arguments that name them."""
    args = []
    for option, name, lines in (("-r", "requirements.txt", spec.requirements),
                                ("-c", "global-constraints.txt", global_lines),
                                ("-c", "constraints.txt", own_lines)):
        path = os.path.join(directory, name)
        constraints_mod.write(path, lines)
        args += [option, path]
    return args


def _report_versions(path: str, what: str) -> dict[str, str]:
    """``{canonical name: version}`` of what a pip installation report (``--report``)
    says would be installed."""
    from packaging.utils import canonicalize_name  # noqa: PLC0415  (test mode only)
    from packaging.version import InvalidVersion  # noqa: PLC0415
    from packaging.version import Version  # noqa: PLC0415

    try:
        data = json.loads(fsutil.read_text(path) or "null")
        items = data["install"]
        return {canonicalize_name(item["metadata"]["name"]): str(Version(item["metadata"]["version"]))
                for item in items}
    except (OSError, ValueError, TypeError, KeyError, InvalidVersion) as exc:
        raise BuildError(f"{what} is missing or unreadable ({type(exc).__name__}); the log "
                         "says what pip did") from None
