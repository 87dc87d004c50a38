"""The role's pre-flight check of a fleet, made on the master: who builds for itself.

OpenStack-Ansible's ``python_venv_build`` refuses to run ("Fail if wheels build
is problematic", ``tasks/main.yml``) in two cases:

- wheel building is disabled (``venv_wheel_build_enable: false``: every host
  compiles its own venv from the package index and the git servers) while the
  play runs on **more than 2 hosts**, unless ``venv_wheel_build_skip_check``:
  that many hosts fetching and compiling every source can overload those
  servers and get the deployment's address blocked;
- a host's distribution and architecture has **no build host** while wheel
  building is enabled.

Here the first is a target that builds its own wheels: a venv with no builder
(``builder``/``builder_target``) and no ``repo_url`` (``wheel_build: true``,
use case 2), or whose builders serve no build of its platform and that may
fall back (``build_fallback: true``). The master counts the targets that would
(:func:`assess` over their pillars as it compiles them), builders themselves
aside, and ``salt-run venvbuild.build`` refuses more than
:data:`LOCAL_BUILDS_LIMIT` unless ``allow_local_builds=True`` (the role's skip
check; ``venvbuild:orch:allow_local_builds`` for ``orch.venvbuild``). The
second is a venv whose platform no builder serves and that may not build for
itself (``build_fallback: false``), or that has no builder, no ``repo_url`` and
``wheel_build: false``: its install would fail, and each is named per target.

This module is pure: the runners (``runners/venvbuild.py``) compile the pillars,
find the builders and say which of them serve which target.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping

from .errors import VenvbuildError
from .fleet import ERROR_LIMIT
from .fleet import show
from .fleet import show_id
from .options import validate

LOCAL_BUILDS_LIMIT = 2  # the role's: more than 2 hosts without wheel building is refused
OVERRIDE = "allow_local_builds"
ORCH_PILLAR = "venvbuild:orch:allow_local_builds"
SHOWN_HOSTS = 20  # targets named in a refusal; the rest are counted

# Where a venv's wheels come from.
FROM_BUILDER = "builder"
FROM_REPO = "repo_url"
LOCAL = "local"
UNSERVED = "unserved"


def check_allow(value: object) -> bool:
    """The ``allow_local_builds`` argument, which must be a boolean."""
    if not isinstance(value, bool):
        raise VenvbuildError(f"{OVERRIDE} {str(value)[:100]!r}: must be True or False")
    return value


def has_builder(opts: Mapping[str, Any]) -> bool:
    """True if the venv's wheels are to come from a builder (``builder`` or ``builder_target``)."""
    return bool(opts.get("builder") or opts.get("builder_target"))


def verdict(opts: Mapping[str, Any], platform: str | None,
            served: bool | None) -> tuple[str, str] | None:
    """Where a venv's wheels come from, and why: ``(kind, reason)``, or None when
    that is not known (a venv from builders whose platform is unknown; the
    planner reports that).

    ``opts`` are the venv's checked options; ``served`` says whether a builder
    serves its ``platform`` (only asked of venvs from builders)."""
    if has_builder(opts):
        if served is None or platform is None:
            return None
        if served:
            return FROM_BUILDER, ""
        if opts.get("build_fallback"):
            return LOCAL, (f"no builder serves its platform {platform}: it builds its wheels "
                           "itself (build_fallback: true)")
        return UNSERVED, (
            f"no builder serves its platform {platform} and it may not build its wheels itself "
            "(build_fallback: false), so its install would fail, as the role fails without a "
            "build host for a distribution and architecture: give it a builder of that platform "
            "(a builder's venvbuild_repo mine entry lists the platforms it builds for; "
            "builder_platforms may exclude it) or set build_fallback: true")
    if opts.get("repo_url"):
        return FROM_REPO, ""
    if opts.get("wheel_build", True):
        return LOCAL, ("no builder (builder, builder_target) and no repo_url: it builds its "
                       "wheels itself (wheel_build: true)")
    return UNSERVED, ("no builder (builder, builder_target), no repo_url and wheel_build: false: "
                      "it has nothing to install from, so its install would fail")


@dataclasses.dataclass
class Preflight:
    """The targets that build for themselves and the venvs nothing serves."""

    builders: frozenset[str] = frozenset()  # minions the master names as builders: not counted
    local: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)  # minion -> venv -> why
    unserved: list[dict[str, str]] = dataclasses.field(default_factory=list)  # minion, venv, problem

    def hosts(self) -> list[str]:
        """The targets, builders aside, that would build wheels for themselves."""
        return sorted(minion for minion in self.local if minion not in self.builders)

    def refusal(self, allow: bool = False) -> str | None:
        """Why ``venvbuild.build`` refuses to go on (None: it does not): more than
        :data:`LOCAL_BUILDS_LIMIT` targets build for themselves and ``allow`` is false.
        Every id in it is shown fit for a terminal (:func:`~.fleet.show`)."""
        hosts = self.hosts()
        if allow or len(hosts) <= LOCAL_BUILDS_LIMIT:
            return None
        named = ", ".join(f"{show_id(minion)} ({', '.join(show(v) for v in sorted(self.local[minion]))})"
                          for minion in hosts[:SHOWN_HOSTS])
        more = f" and {len(hosts) - SHOWN_HOSTS} more" if len(hosts) > SHOWN_HOSTS else ""
        return (
            f"{len(hosts)} targets would build their wheels themselves, more than "
            f"{LOCAL_BUILDS_LIMIT}: {named}{more}. Each would fetch and compile every source "
            "from the package index and git servers, which can overload them and get this "
            "network blocked (the role refuses this too, when wheel building is disabled on "
            f"more than {LOCAL_BUILDS_LIMIT} hosts). Give them a builder serving their platform "
            "(venvbuild:builder) or a repo_url; to build on every target on purpose, pass "
            f"{OVERRIDE}=True (orch.venvbuild: pillar {ORCH_PILLAR}: true)")

    def local_view(self) -> dict[str, dict[str, str]]:
        """``local`` with every string shown fit for a terminal."""
        return {show_id(minion): {show(venv_id): show(why, ERROR_LIMIT)
                                  for venv_id, why in sorted(venvs.items())}
                for minion, venvs in sorted(self.local.items(), key=lambda item: show_id(item[0]))}

    def as_view(self) -> dict[str, Any]:
        """What core/fleet.py's ``view`` shows: ``local_builds``, ``unserved`` and
        ``refusal`` (what ``venvbuild.build`` would answer without the override)."""
        refusal = self.refusal()
        return {"local_builds": self.local_view(), "unserved": self.unserved_view(),
                "refusal": None if refusal is None else f"venvbuild.build would refuse: {refusal}"}

    def unserved_view(self) -> list[dict[str, str]]:
        """``unserved`` with every string shown fit for a terminal."""
        return [{"minion": show_id(item["minion"]), "venv": show(item["venv"]),
                 "problem": show(item["problem"], ERROR_LIMIT)} for item in self.unserved]


def assess(configs: Mapping[str, Mapping[str, Mapping[str, Any]]],
           served: Callable[[str, str, Mapping[str, Any]], tuple[str | None, bool | None]],
           builders: Iterable[str] = (), venv: str | None = None) -> Preflight:
    """Where each venv of each target gets its wheels, from the targets' pillars.

    ``configs`` maps each target to its venvs as the master compiled its pillar
    (``{minion id: {venv id: options}}``); ``served(minion, venv id, checked
    options)`` answers, for a venv from builders, ``(platform key, whether a
    builder serves it)`` (``(None, None)`` when not known); ``builders`` are
    the minions the master names as builders, which build for themselves by
    design and are left out; ``venv`` keeps only that venv id. A venv whose
    options do not check is left out (the planner reports it)."""
    out = Preflight(builders=frozenset(builders))
    for minion in sorted(configs):
        if minion in out.builders:
            continue  # a builder builds what its pillar defines: by design, for itself
        for venv_id in sorted(configs[minion]):
            if venv is not None and venv_id != venv:
                continue
            cfg = configs[minion][venv_id]
            try:
                opts = validate({key: value for key, value in cfg.items() if key != "path"})
            except VenvbuildError:
                continue
            platform, serves = served(minion, venv_id, opts) if has_builder(opts) else (None, None)
            found = verdict(opts, platform, serves)
            if found is None:
                continue
            kind, reason = found
            if kind == LOCAL:
                out.local.setdefault(minion, {})[venv_id] = reason
            elif kind == UNSERVED:
                out.unserved.append({"minion": minion, "venv": venv_id, "problem": reason})
    return out
