"""Master-arranged builds: what the targets' own pillars ask for, one build per spec.

The master compiles every target's pillar (it is the party targets and
builders both trust), so it knows each venv a target wants, and, from the
target's ``venvbuild_venvs`` mine entry, the platform key the target installs
for. :func:`plan` turns that into :class:`Job` s: one per (spec id, platform),
with the targets that need it, the options a builder needs to build exactly
that spec, and how that spec's targets find their builders. Nothing a target
publishes decides *what* is built: the spec comes from its pillar as the
master compiled it; the platform key it publishes only decides which builder
builds it (and a builder only builds for its own platform, which the spec id
it computes proves).

This module is pure: the runner (``runners/venvbuild.py``) compiles pillars,
reads the mine, resolves targets and publishes the builds.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import Mapping

from . import names
from .errors import VenvbuildError
from .options import BUILD_OPTIONS
from .options import validate
from .spec import VenvSpec

# The builder's own repo: where and for whom it publishes is its pillar's word,
# never a target's (a target's pillar has no say in the builder's files).
BUILDER_OWN = frozenset(["repo_path", "repo_user", "repo_group"])


@dataclasses.dataclass
class Job:
    """One spec to build for one platform, and who needs it."""

    venv_id: str
    spec_id: str
    platform: str
    options: dict[str, Any]  # the build options to send (venvbuild.build_wheels kwargs)
    targets: list[str]
    builder: str | None  # the targets' builder targeting (of the first target)
    builder_target: str | None
    builder_tgt_type: str
    builder_platforms: dict[str, list[str]] | None

    def describe(self) -> dict[str, Any]:
        """The job as the runner returns it (no option values: they may hold secrets)."""
        return {"venv_id": self.venv_id, "spec_id": self.spec_id, "platform": self.platform,
                "targets": sorted(self.targets)}


def build_options(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a venv's pillar entry a builder needs to build its spec."""
    return {key: value for key, value in cfg.items()
            if key in BUILD_OPTIONS and key not in BUILDER_OWN}


def spec_of(venv_id: str, cfg: Mapping[str, Any], platform: str) -> tuple[VenvSpec, dict[str, Any]]:
    """The spec a pillar entry ``cfg`` defines on ``platform``, and its checked options."""
    opts = validate({key: value for key, value in cfg.items() if key != "path"})
    return VenvSpec.from_options(venv_id, opts, platform), opts


def plan(configs: Mapping[str, Mapping[str, Mapping[str, Any]]],
         platforms: Mapping[str, Mapping[str, str]], venv: str | None = None,
         ) -> tuple[list[Job], list[dict[str, str]]]:
    """The builds the targets need: ``(jobs, problems)``.

    ``configs`` maps each target to its venvs as the master compiled its pillar
    (``{minion id: {venv id: options}}``); ``platforms`` maps each target to the
    platform key of each venv (``{minion id: {venv id: platform}}``), from its
    mine entry. Only venvs installed from a builder (``builder`` or
    ``builder_target``) need one; ``venv`` keeps only that venv id. Problems
    (an invalid pillar entry, an unknown platform) name the target and venv.
    """
    jobs: dict[tuple[str, str], Job] = {}
    problems: list[dict[str, str]] = []
    for target in sorted(configs):
        for venv_id in sorted(configs[target]):
            if venv is not None and venv_id != venv:
                continue
            cfg = configs[target][venv_id]
            where = {"minion": target, "venv": venv_id}
            try:
                opts = validate({key: value for key, value in cfg.items() if key != "path"})
            except VenvbuildError as exc:
                problems.append(dict(where, problem=str(exc)))
                continue
            if not (opts["builder"] or opts["builder_target"]):
                continue  # built on the target itself (or installed from repo_url alone)
            platform = (platforms.get(target) or {}).get(venv_id)
            if not isinstance(platform, str) or not names.PLATFORM_KEY.fullmatch(platform):
                problems.append(dict(where, problem=(
                    f"the platform key of venv {venv_id} on {target} is not known: its mine "
                    f"entry venvbuild_venvs has none (salt {target} mine.update, with "
                    "mine_functions venvbuild_venvs: venvbuild.fleet_info in its pillar)")))
                continue
            try:
                spec = VenvSpec.from_options(venv_id, opts, platform)
            except VenvbuildError as exc:
                problems.append(dict(where, problem=str(exc)))
                continue
            job = jobs.get((spec.spec_id, platform))
            if job is None:
                job = jobs[(spec.spec_id, platform)] = Job(
                    venv_id=venv_id, spec_id=spec.spec_id, platform=platform,
                    options=build_options(cfg), targets=[], builder=opts["builder"],
                    builder_target=opts["builder_target"],
                    builder_tgt_type=opts["builder_tgt_type"],
                    builder_platforms=opts["builder_platforms"])
            job.targets.append(target)
    return [jobs[key] for key in sorted(jobs)], problems


def check_answer(job: Job, builder: str, answer: object) -> str | None:
    """Why a builder's answer to ``job`` is not a success (None if it is one)."""
    if not isinstance(answer, dict):
        return f"builder {builder} answered {str(answer)[:300]!r}"
    if answer.get("spec_id") != job.spec_id:
        return (f"builder {builder} computed spec {answer.get('spec_id')} on platform "
                f"{answer.get('platform')}, not {job.spec_id} on {job.platform}: it does not "
                "build for that platform (another OS release or Python?)")
    if not answer.get("manifest_sha256"):
        return f"builder {builder}: {str(answer.get('comment'))[:500]}"
    return None
