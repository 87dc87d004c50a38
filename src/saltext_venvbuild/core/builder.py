"""Building a spec's wheels and publishing them with their manifest.

Wheels are built by ``pip wheel`` in a builder environment kept per interpreter,
tool and provisioning (global constraints, build args) (uv has no command that writes wheels of a resolved set; with ``install_tool:
uv`` the builder environment is created and provisioned by uv). The build runs
in a private staging directory; only a complete, successful build is published:
wheels first (no-clobber), then the manifest (atomic rename). A failed build
publishes nothing and leaves every existing manifest and wheel as it was.
"""

import dataclasses
import hashlib
import json
import os
import time

from . import fsutil
from . import runner
from .errors import BuildError
from .manifest import Manifest

BUILDER_PACKAGES = ("pip", "setuptools", "wheel")


@dataclasses.dataclass
class BuildResult:
    manifest: Manifest
    changed: bool  # a new or different manifest was published
    previous: object  # the manifest it replaced, or None
    new_wheels: list  # wheel files this build added to the repo
    replaced: list = dataclasses.field(default_factory=list)  # unreadable files rebuilt
    seconds: float = 0.0


class Builder:
    """Builds specs for one interpreter into one repo layout (one platform key)."""

    def __init__(self, repo, interpreter, tool, state_dir, uv_bin=None):
        self.repo = repo
        self.interpreter = interpreter
        self.tool = tool
        self.state_dir = state_dir
        self.uv_bin = uv_bin
        exe_hash = hashlib.sha256(interpreter.executable.encode()).hexdigest()[:8]
        # One directory per interpreter and tool; inside it, one environment per
        # provisioning (global constraints, build args), so venvs that build with
        # different arguments each keep theirs instead of recreating a shared one.
        self.env_dir = os.path.join(state_dir, "builders", f"{interpreter.tag}-{exe_hash}-{tool}")

    # -- the builder environment -------------------------------------------------

    def _ready_record(self, global_constraints, build_args):
        return {
            "executable": self.interpreter.executable,
            "version": self.interpreter.version,
            "tool": self.tool,
            "global_constraints": list(global_constraints),
            "build_args": list(build_args),
        }

    def ensure_env(self, global_constraints, build_args, env, log_path, ca_bundle=None):
        """Create the builder environment (pip, setuptools, wheel) for these build
        options unless it exists; return its Python."""
        record = self._ready_record(global_constraints, build_args)
        key = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:12]
        env_dir = os.path.join(self.env_dir, key)
        env_python = os.path.join(env_dir, "bin", "python")
        ready_file = os.path.join(env_dir, "venvbuild-builder.json")
        with fsutil.file_lock(env_dir + ".lock"):
            try:
                with open(ready_file, encoding="utf-8") as handle:
                    if json.load(handle) == record and os.path.exists(env_python):
                        return env_python
            except (OSError, ValueError):
                pass
            what = f"builder environment {env_dir}"
            if self.tool == "uv":
                uv = runner.find_uv(self.uv_bin)
                runner.run(
                    [uv, "venv", "--clear", "--python", self.interpreter.executable, env_dir],
                    BuildError, what, env=env, log_path=log_path,
                )
                install = [uv, "pip", "install", "--python", env_python]
            else:
                runner.run(
                    [self.interpreter.executable, "-m", "venv", "--clear", env_dir],
                    BuildError, what, env=env, log_path=log_path,
                )
                install = [env_python, "-m", "pip", "install", "--upgrade",
                           *runner.cert_args("pip", ca_bundle)]
            cons = os.path.join(env_dir, "venvbuild-global-constraints.txt")
            fsutil.atomic_write(cons, "".join(f"{c}\n" for c in global_constraints))
            runner.run(
                install + list(BUILDER_PACKAGES) + ["-c", cons] + list(build_args),
                BuildError, f"{what}: installing {', '.join(BUILDER_PACKAGES)}",
                env=env, log_path=log_path,
            )
            fsutil.atomic_write(ready_file, json.dumps(record, sort_keys=True))
        return env_python

    # -- building ----------------------------------------------------------------

    def build(self, spec, build_env=None, rebuild=False, pip_noconf=False, ca_bundle=None):
        """Build ``spec``'s wheels and publish its manifest; return a BuildResult.

        ``rebuild`` ignores published wheels and pip's cache, so every wheel is
        built again from source; published files keep their bytes (other venvs'
        manifests point at them) unless they are no readable wheel, which are
        replaced; new files are added. Nothing is ever deleted.
        """
        started = time.monotonic()
        env = runner.tool_env(build_env, ca_bundle)
        if pip_noconf:
            env["PIP_CONFIG_FILE"] = os.devnull
        log_dir = os.path.join(self.state_dir, "logs")
        log_path = os.path.join(log_dir, f"build-{spec.venv_id}-{spec.spec_id}.log")
        os.makedirs(log_dir, exist_ok=True)
        with open(log_path, "w", encoding="utf-8") as log:
            log.write(f"# venvbuild build of {spec.venv_id} spec {spec.spec_id} on {spec.platform}\n")

        env_python = self.ensure_env(spec.global_constraints, spec.build_args, env, log_path,
                                     ca_bundle)
        with self.repo.lock(f"build-{spec.venv_id}"):
            previous = self.repo.read_manifest(spec.venv_id, spec.spec_id)
            before = set(os.listdir(self.repo.wheels_dir)) if os.path.isdir(self.repo.wheels_dir) else set()
            staging = self.repo.staging(f"{spec.venv_id}-{spec.spec_id}")
            try:
                out = os.path.join(staging, "wheels")
                os.makedirs(out)
                req = os.path.join(staging, "requirements.txt")
                gcons = os.path.join(staging, "global-constraints.txt")
                cons = os.path.join(staging, "constraints.txt")
                for path, lines in (
                    (req, spec.requirements),
                    (gcons, spec.global_constraints),
                    (cons, spec.constraints),
                ):
                    fsutil.atomic_write(path, "".join(f"{line}\n" for line in lines))
                cmd = [env_python, "-m", "pip", "wheel", "--wheel-dir", out,
                       "-r", req, "-c", gcons, "-c", cons]
                if rebuild:
                    cmd += ["--no-cache-dir"]
                else:
                    cmd += ["--find-links", self.repo.wheels_dir]
                cmd += runner.cert_args("pip", ca_bundle) + list(spec.build_args)
                runner.run(
                    cmd, BuildError,
                    f"venv {spec.venv_id}: building wheels for spec {spec.spec_id}",
                    env=env, cwd=staging, log_path=log_path,
                )
                pins, replaced = self.repo.publish_wheels(out, replace_corrupt=rebuild)
                manifest = Manifest.create(
                    spec.venv_id, spec.spec_id, spec.platform, spec.requirements, pins
                )
                changed = previous is None or previous.sha256 != manifest.sha256
                if changed:
                    self.repo.publish_manifest(manifest)
            finally:
                self.repo.remove_staging(staging)
        new_wheels = sorted({pin.filename for pin in manifest.pins} - before)
        return BuildResult(manifest, changed, previous, new_wheels, replaced,
                           time.monotonic() - started)
