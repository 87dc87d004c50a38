"""Who may choose the code a venv runs.

The master and its pillar are trusted; a builder is trusted for the platforms
the master lets it build; other minions, the network and the web server's user
are not. In practice:

- **Builders are found by what the master controls.** A target expression on
  minion ids (glob, list, pcre), pillar or a nodegroup is the master's word; a
  grain (or an ``ipcidr`` match, which reads the minion's own grains) is the
  minion's own claim, and any minion can make it. :func:`targeting_warning`
  says so.
- **Mine data is bound to the authenticated minion id**, so a builder's mine
  entry (``venvbuild.repo_info``) is that builder's word. It lists the sha256
  of every manifest the builder publishes.
- **A fetched manifest is used only if its sha256 is one the chosen builder
  published** (or one the pillar pins with ``manifest_sha256``). The hash is
  compared on the bytes as fetched, before anything parses them: bytes nothing
  vouches for are never parsed. Its wheels are then checked against the
  hashes it lists. Whoever serves the files or sits on
  the path can withhold them, not change them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import re
import urllib.parse
from typing import TYPE_CHECKING
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping

from .errors import SpecError
from .errors import TrustError
from .repo import location
from .text import redact

if TYPE_CHECKING:
    from .spec import VenvSpec

MINE_ALIAS = "venvbuild_repo"  # the mine_functions alias of venvbuild.repo_info

# Target types that match on data the minion reports about itself.
MINION_CONTROLLED = frozenset(["grain", "grain_pcre", "ipcidr", "data"])
_COMPOUND_MINION_CONTROLLED = re.compile(r"(?:^|[\s(])(?:not\s+)?[GPS]@")


def targeting_warning(target: object, tgt_type: str | None) -> str | None:
    """A warning when builders are matched by what minions say about themselves, else None."""
    tgt_type = tgt_type or "glob"
    controlled = tgt_type in MINION_CONTROLLED or (
        tgt_type == "compound" and isinstance(target, str)
        and _COMPOUND_MINION_CONTROLLED.search(target)
    )
    if not controlled:
        return None
    return (
        f"builders are found by {tgt_type} target {target!r}, which matches what minions say "
        "about themselves: any minion can set that grain and serve its own wheels here. "
        "Target builders by minion id (tgt_type list or glob), pillar or nodegroup instead "
        "(docs/security.md)"
    )


def _valid_info(info: object) -> bool:
    if not isinstance(info, dict):
        return False
    url = info.get("url")
    platforms = info.get("platforms")
    return (isinstance(url, str) and url.startswith(("http://", "https://"))
            and isinstance(platforms, list))


def allowed(builder_id: str, platform: str, builder_platforms: Mapping[str, Iterable[str]] | None) -> bool:
    """True if the master's ``builder_platforms`` (``{id glob: [platform globs]}``) lets
    ``builder_id`` serve ``platform``; with no such mapping, every builder may."""
    if not builder_platforms:
        return True
    for id_glob, platform_globs in builder_platforms.items():
        if fnmatch.fnmatchcase(builder_id, id_glob) and any(
                fnmatch.fnmatchcase(platform, glob) for glob in platform_globs):
            return True
    return False


def check_builder_platforms(value: object, what: str = "builder_platforms") -> dict[str, list[str]] | None:
    """``{builder id glob: [platform key globs]}``, or None."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise SpecError(f"{what} must be a mapping of builder ids (globs) to lists of platform "
                        f"keys (globs), e.g. {{build01: ['debian-12-*']}}, not {value!r}")
    out = {}
    for key, globs in value.items():
        if not isinstance(key, str) or not key:
            raise SpecError(f"{what}: {key!r} is not a builder id")
        if isinstance(globs, str) or not isinstance(globs, (list, tuple)) or not all(
                isinstance(g, str) and g for g in globs):
            raise SpecError(f"{what}: {key}: must be a list of platform keys or globs")
        out[key] = list(globs)
    return out


def ranked_builders(key: str, builders: Mapping[str, Any] | None, platform: str,
                    builder_platforms: Mapping[str, Iterable[str]] | None = None,
                    ) -> list[tuple[str, dict[str, Any]]]:
    """The builders among ``builders`` that serve ``platform``, best first for ``key``.

    ``builders`` maps minion ids to their ``venvbuild.repo_info`` mine data.
    Rendezvous hashing: ``key`` (a target's id, a spec) ranks builders by
    hash(key, builder), so the order is stable, load spreads evenly, adding a
    builder moves only what now prefers it, and when the first is down the
    next is the same for everyone. Builders without a URL, not serving the
    platform or not allowed by ``builder_platforms`` are left out.
    """
    eligible = {
        builder_id: info
        for builder_id, info in (builders or {}).items()
        if _valid_info(info) and platform in info["platforms"]
        and allowed(builder_id, platform, builder_platforms)
    }

    def rank(builder_id: str) -> str:
        return hashlib.sha256(f"{key}\0{builder_id}".encode()).hexdigest()

    return [(builder_id, eligible[builder_id])
            for builder_id in sorted(sorted(eligible), key=rank, reverse=True)]


def choose_builder(target_id: str, builders: Mapping[str, Any] | None, platform: str,
                   builder_platforms: Mapping[str, Iterable[str]] | None = None,
                   ) -> tuple[str, dict[str, Any]] | None:
    """Pick one builder for ``target_id`` among ``builders`` serving ``platform``: the
    first of :func:`ranked_builders`; None when no builder serves the platform."""
    ranked = ranked_builders(target_id, builders, platform, builder_platforms)
    return ranked[0] if ranked else None


def published_hash(info: object, platform: str, release: str | None, venv_id: str, spec_id: str) -> str | None:
    """The sha256 a builder's mine entry publishes for this manifest, or None."""
    manifests = info.get("manifests") if isinstance(info, dict) else None
    if not isinstance(manifests, dict):
        return None
    value = manifests.get(f"{location(platform, release)}/{venv_id}-{spec_id}")
    return value if isinstance(value, str) else None


def check_manifest(sha256: str, expected: str, source: str, anchor: str) -> str:
    """Raise TrustError unless a manifest's bytes, which hash to ``sha256``, hash to
    ``expected`` (from ``anchor``); return ``sha256``."""
    if sha256 != expected:
        raise TrustError(
            f"manifest {redact(source)} has sha256 {sha256[:16]}..., but {anchor} "
            f"says {expected[:16]}...; refused, and not even parsed: something other than "
            "the builder is serving or altering the repo (or the builder's mine entry is "
            "stale: run mine.update there)"
        )
    return sha256

@dataclasses.dataclass
class Source:
    """Where a target's wheels come from and what vouches for the manifest."""

    url: str | None = None  # repo URL; None: this minion's local repo
    builder: str | None = None  # minion id of the chosen builder
    info: dict[str, Any] | None = None  # its mine entry
    anchor: str = "local"  # local | mine | pinned | none
    how: str = "the local repo"


class Sources:
    """Where a target's wheels come from, and whether a fetched manifest may be used.

    ``opts`` are the checked options, ``spec`` the venv spec; ``minion_id`` and
    ``mine_get(target, tgt_type)`` are the Salt parts (the workflow's hooks).
    """

    def __init__(self, opts: Mapping[str, Any], spec: VenvSpec, minion_id: str,
                 mine_get: Callable[[str, str], Mapping[str, Any] | None]) -> None:
        self.opts = opts
        self.spec = spec
        self.minion_id = minion_id
        self.mine_get = mine_get
        self.ranked: list[tuple[str, dict[str, Any]]] = []  # builders serving the platform, best first

    def warnings(self) -> list[str]:
        """Warnings that need no I/O: how builders are found, an unauthenticated repo."""
        o = self.opts
        out = []
        if o["builder_target"] and not o["builder"]:
            warning = targeting_warning(o["builder_target"], o["builder_tgt_type"])
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

    def find(self, warnings: list[str]) -> Source:
        """The :class:`Source` of a venv with a builder or repo_url configured."""
        spec, o = self.spec, self.opts
        if o["builder"] or o["builder_target"]:
            target, tgt_type = ((o["builder"], "list") if o["builder"]
                                else (o["builder_target"], o["builder_tgt_type"]))
            builders = self.mine_get(target, tgt_type) or {}
            self.ranked = ranked_builders(self.minion_id, builders, spec.platform,
                                          o["builder_platforms"])
            if self.ranked:
                return self._builder_source(*self.ranked[0])
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

    def _builder_source(self, builder_id: str, info: dict[str, Any]) -> Source:
        how = f"builder {builder_id}"
        if self.opts["repo_url"]:
            how += f" (files from {redact(self.opts['repo_url'])})"
        return Source(self.opts["repo_url"] or info["url"], builder_id, info, "mine", how)

    def failover(self) -> list[Source]:
        """The other builders serving the platform, in the order every target ranks
        them: where to look when the chosen one is down, unreachable or its mine
        entry is stale. Each one's manifests are vouched for by its own mine entry.
        (None with ``repo_url``: one server, whatever vouches for its files.)"""
        if self.opts["repo_url"]:
            return []
        return [self._builder_source(*ranked) for ranked in self.ranked[1:]]

    def published(self, source: Source, refresh: bool = False) -> str | None:
        """The manifest sha256 the chosen builder publishes, re-reading the mine if asked."""
        spec = self.spec
        if refresh and source.builder:
            fresh = (self.mine_get(source.builder, "list") or {}).get(source.builder)
            if isinstance(fresh, dict):
                source.info = fresh
        return published_hash(source.info, spec.platform, self.opts["release"],
                                    spec.venv_id, spec.spec_id)

    def authentic(self, sha256: str, source: Source, url: str) -> bool:
        """For the manifest fetched from ``url`` whose bytes hash to ``sha256`` (asked
        before they are parsed): True to use it; False to wait for its hash to be
        published; TrustError if a trusted anchor names another hash."""
        if source.anchor == "none":
            return True
        if source.anchor == "pinned":
            check_manifest(sha256, self.opts["manifest_sha256"], url,
                           "manifest_sha256 in the pillar")
            return True
        expected = self.published(source)
        if expected != sha256:
            expected = self.published(source, refresh=True)
        if expected is None:
            return False
        check_manifest(sha256, expected, url, f"builder {source.builder}'s mine entry")
        return True

    def wait_hint(self, source: Source) -> str:
        """What to run when the builder's manifest does not come: empty unless the mine vouches."""
        if source.anchor == "mine":
            return (f"(salt {source.builder} state.apply venvbuild.builder; if the manifest is "
                    f"there, its hash is not in the mine entry {MINE_ALIAS} of {source.builder}: "
                    f"salt {source.builder} mine.update)")
        return ""


def trust_note(source: Source) -> str:
    """How the manifest of ``source`` was authenticated, in words (a stamp's ``trust``)."""
    return {
        "mine": f"manifest sha256 published by builder {source.builder} (mine)",
        "pinned": "manifest sha256 pinned in the pillar (manifest_sha256)",
        "none": "not authenticated (repo_url without manifest_sha256 or builder)",
        "local": "local repo",
    }[source.anchor]
