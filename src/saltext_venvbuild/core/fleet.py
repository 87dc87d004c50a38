"""The fleet view from the mine, trusting nothing a minion publishes.

Any minion can put anything into its own mine entries (``salt-call mine.send
venvbuild_repo mine_function=test.outputter ...``): any type, keys that are not
strings, megabytes of text, terminal escape sequences that would rewrite an
operator's screen. What the master stores is bound to the minion's
authenticated id, and that is all it vouches for. So here:

- **Every entry is read by a strict schema** (:func:`read_venvs`,
  :func:`read_repos`): types, then formats (venv ids, spec ids, sha256,
  platform keys, absolute paths, http(s) URLs). What does not fit is dropped and
  reported under ``malformed`` with the minion id and a short reason; a bad
  item (one venv, one manifest) costs only that item.
- **Sizes are bounded** (:data:`MAX_VENVS` per minion, :data:`MAX_MANIFESTS`
  and :data:`MAX_PLATFORMS` per builder); what is cut is reported.
- **Every string shown is escaped** (:func:`show`): no control, format,
  surrogate, private-use, unassigned or separator character reaches the output
  (``ESC`` becomes ``\\x1b``), backslashes are doubled so two ids never show
  alike, and long text is cut at :data:`TEXT_LIMIT` characters.
- **A builder entry counts only for minions the master names** (a
  :class:`BuilderScope`: ``builders=`` resolved by the master, or the builder
  targeting of the targets' pillars as the master compiles them). Any other
  ``venvbuild_repo`` entry is listed apart as ``unverified`` and its manifests
  do not count as published.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping

from . import names
from .errors import VenvbuildError
from .options import OPTIONS
from .text import bad_character
from .text import redact
from .trust import MINE_ALIAS as REPO_ALIAS
from .trust import allowed
from .trust import targeting_warning

FLEET_ALIAS = "venvbuild_venvs"  # the mine_functions alias of venvbuild.fleet_info

TEXT_LIMIT = 200  # characters of one shown string (URLs, paths, trust notes)
ID_LIMIT = 2560  # a minion id: any id of up to 256 characters, each escaped, shown whole
ERROR_LIMIT = 500  # characters of a minion's error message
PATH_LIMIT = 4096  # PATH_MAX: a longer path is no path
URL_LIMIT = 2048
MAX_VENVS = 1000  # venvs read per minion
MAX_MANIFESTS = 10000  # manifests read per builder
MAX_PLATFORMS = 100  # platform keys read per builder
MAX_KEPT = 20  # kept spec ids read per venv (keep_versions is 2 by default)
MAX_PROBLEMS = 10  # problems listed per minion and entry; the rest are counted

_PUBLISHED_BY_BUILDER = "manifest sha256 published by builder "
_VENV_KEYS = ("path", "platform", "wanted", "installed", "manifest_sha256", "trust", "current",
              "error", "kept")
_VENV_REQUIRED = ("path", "wanted", "installed", "manifest_sha256", "trust", "current")
_REPO_KEYS = ("url", "path", "platforms", "published", "manifests")


# -- showing untrusted text ------------------------------------------------------------


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def show(text: str, limit: int = TEXT_LIMIT, ascii_only: bool = False) -> str:
    """``text`` fit for a terminal: at most ``limit`` characters of it, each
    non-printable one (Unicode categories C* and Z* but the space: ESC, BEL, the
    C1 controls, bidi overrides, U+2028...), and with ``ascii_only`` each
    non-ASCII one, as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` and each
    backslash doubled, then ``...[+N characters]`` if anything was cut. The same
    output never comes from two different inputs that fit the limit."""
    head = text[:limit]
    if head.isprintable() and "\\" not in head and (head.isascii() or not ascii_only):
        out, used = head, len(head)
    else:
        pieces: list[str] = []
        length = used = 0
        for char in head:
            plain = char.isprintable() and char != "\\" and (char.isascii() or not ascii_only)
            piece = char if plain else (
                "\\\\" if char == "\\" else _escape(char))
            if length + len(piece) > limit:
                break
            pieces.append(piece)
            length += len(piece)
            used += 1
        out = "".join(pieces)
    if used < len(text):
        out += f"...[+{len(text) - used} characters]"
    return out


def show_id(minion_id: str) -> str:
    """A minion id fit for a terminal, whole (:data:`ID_LIMIT`), so no two ids show alike:
    every character outside printable ASCII is escaped, so an id with an invisible
    filler (U+3164, U+2800), a combining mark or a look-alike letter (Cyrillic
    'і') never passes for another."""
    return show(minion_id, ID_LIMIT, ascii_only=True)


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def describe(value: object) -> str:
    """What ``value`` is, in words, without showing it (it may be huge or hostile)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {_count(len(value), 'character')}"
    if isinstance(value, (bytes, bytearray)):
        return _count(len(value), "byte")
    if isinstance(value, Mapping):
        return f"a mapping of {_count(len(value), 'entry', 'entries')}"
    if isinstance(value, (list, tuple)):
        return f"a list of {_count(len(value), 'item')}"
    return f"a value of type {show(type(value).__name__, 40)}"


def _quoted(value: object, limit: int = 60) -> str:
    return f"'{show(value, limit)}'" if isinstance(value, str) else describe(value)


def _sort_key(value: object) -> str:
    return show(value) if isinstance(value, str) else describe(value)


# -- problems ----------------------------------------------------------------------------


class _Malformed(Exception):
    """One field that does not fit the schema; the message is the reason."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """A malformed entry or item, as the view lists it (every string already shown)."""

    minion: str
    entry: str  # the mine alias
    reason: str
    venv: str | None = None

    def as_dict(self) -> dict[str, str]:
        out = {"minion": self.minion, "entry": self.entry}
        if self.venv is not None:
            out["venv"] = self.venv
        out["reason"] = self.reason
        return out


class _Report:
    """The problems of one minion's entry, at most :data:`MAX_PROBLEMS` listed."""

    def __init__(self, minion_id: str, entry: str, problems: list[Problem]) -> None:
        self.minion = show_id(minion_id)
        self.entry = entry
        self.problems = problems
        self.listed = 0
        self.more = 0

    def add(self, reason: str, venv: object = None) -> None:
        if self.listed >= MAX_PROBLEMS:
            self.more += 1
            return
        self.listed += 1
        self.problems.append(Problem(self.minion, self.entry, reason,
                                     None if venv is None else _sort_key(venv)))

    def close(self) -> None:
        if self.more:
            self.problems.append(Problem(self.minion, self.entry,
                                         f"{self.more} more problems not listed"))


# -- field checks (each raises _Malformed with a reason that shows no raw value) ----------


def _string(value: object, what: str, limit: int | None = None) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{what} is {describe(value)}, not a string")
    if limit is not None and len(value) > limit:
        raise _Malformed(f"{what} is {describe(value)}, longer than {limit}")
    return value


def _clean(value: object, what: str, limit: int) -> str:
    text = _string(value, what, limit)
    char = bad_character(text)
    if char is not None:
        raise _Malformed(f"{what} {_quoted(text)} holds the control or separator character "
                         f"U+{ord(char):04X}")
    return text


def _form(value: object, what: str, pattern: Any, form: str) -> str:
    text = _string(value, what, 200)
    if not pattern.fullmatch(text):
        raise _Malformed(f"{what} {_quoted(text)} is not {form}")
    return text


def _optional(value: object, what: str, pattern: Any, form: str) -> str | None:
    return None if value is None else _form(value, what, pattern, form)


def _abs_path(value: object, what: str) -> str:
    path = _clean(value, what, PATH_LIMIT)
    if not path.startswith("/"):
        raise _Malformed(f"{what} {_quoted(path)} is not an absolute path")
    return path


def _url(value: object) -> str:
    url = _clean(value, "url", URL_LIMIT)
    if not url.startswith(("http://", "https://")):
        raise _Malformed(f"url {_quoted(redact(url))} is not an http:// or https:// URL")
    return url


def _keys(entry: Mapping[Any, Any], known: Iterable[str], report: _Report, venv: object = None) -> None:
    unknown = [key for key in entry if key not in known]
    if unknown:
        shown = ", ".join(_quoted(key, 40) for key in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        report.add(f"unknown key(s) {shown}{more} ignored", venv)


# -- targets: venvbuild_venvs -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VenvState:
    """One venv as a target reports it (``venvbuild.fleet_info``), checked."""

    path: str
    platform: str | None
    wanted: str | None
    installed: str | None
    manifest_sha256: str | None
    trust: str | None
    current: bool
    error: str | None = None
    kept: tuple[str, ...] = ()  # spec ids of the versions kept for rollback


def _kept(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise _Malformed(f"kept is {describe(value)}, not a list of spec ids")
    if len(value) > MAX_KEPT:
        raise _Malformed(f"kept lists {len(value)} spec ids, more than {MAX_KEPT}")
    return tuple(sorted({_form(item, "kept item", names.SPEC_ID, "a spec id") for item in value}))


def _venv_state(entry: object) -> VenvState:
    if not isinstance(entry, Mapping):
        raise _Malformed(f"is {describe(entry)}, not a mapping")
    missing = [key for key in _VENV_REQUIRED if key not in entry]
    if missing:
        raise _Malformed(f"has no {', '.join(missing)}")
    state = VenvState(
        path=_abs_path(entry["path"], "path"),
        platform=_optional(entry.get("platform"), "platform", names.PLATFORM_KEY, "a platform key"),
        wanted=_optional(entry["wanted"], "wanted", names.SPEC_ID, "a spec id"),
        installed=_optional(entry["installed"], "installed", names.SPEC_ID, "a spec id"),
        manifest_sha256=_optional(entry["manifest_sha256"], "manifest_sha256", names.SHA256,
                                  "a sha256"),
        trust=None if entry["trust"] is None else _string(entry["trust"], "trust"),
        current=entry["current"],
        error=None if entry.get("error") is None else _string(entry["error"], "error"),
    )
    if not isinstance(state.current, bool):
        raise _Malformed(f"current is {describe(state.current)}, not a boolean")
    if state.current and (state.installed is None or state.installed != state.wanted):
        raise _Malformed("current is true but the installed spec is not the wanted one")
    return state


def read_venvs(entries: object) -> tuple[dict[str, dict[str, VenvState]], list[Problem]]:
    """The well-formed ``venvbuild_venvs`` entries of ``mine.get`` output
    (``{minion id: {venv id: {...}}}``), by minion id as the master stores it,
    and the problems of the rest."""
    problems: list[Problem] = []
    out: dict[str, dict[str, VenvState]] = {}
    for minion_id, venvs in _minions(entries, FLEET_ALIAS, problems):
        report = _Report(minion_id, FLEET_ALIAS, problems)
        if not isinstance(venvs, Mapping):
            report.add(f"is {describe(venvs)}, not a mapping of venv ids")
            report.close()
            continue
        if len(venvs) > MAX_VENVS:
            report.add(f"lists {len(venvs)} venvs; only the first {MAX_VENVS} are read")
        good: dict[str, VenvState] = {}
        for index, (venv_id, entry) in enumerate(venvs.items()):
            if index >= MAX_VENVS:
                break
            try:
                _form(venv_id, "venv id", names.VENV_ID, "a venv id")
            except _Malformed as exc:
                report.add(f"{exc}; entry dropped")
                continue
            try:
                state = _venv_state(entry)
            except _Malformed as exc:
                report.add(f"{exc}; entry dropped", venv_id)
                continue
            try:  # a bad list of kept versions costs only that list
                state = dataclasses.replace(state, kept=_kept(entry.get("kept")))
            except _Malformed as exc:
                report.add(f"{exc}; ignored", venv_id)
            good[venv_id] = state
            if isinstance(entry, Mapping):
                _keys(entry, _VENV_KEYS, report, venv_id)
        report.close()
        out[minion_id] = dict(sorted(good.items()))
    return out, problems


def _minions(entries: object, alias: str, problems: list[Problem]) -> list[tuple[str, Any]]:
    """``(minion id, entry)`` of ``mine.get`` output, ids that are not strings reported."""
    if not isinstance(entries, Mapping):
        if entries:
            problems.append(Problem("(mine)", alias, f"mine.get returned {describe(entries)}"))
        return []
    good = []
    for minion_id, entry in entries.items():
        if isinstance(minion_id, str):
            good.append((minion_id, entry))
        else:
            problems.append(Problem(_sort_key(minion_id), alias, "the minion id is not a string"))
    return sorted(good, key=lambda item: show_id(item[0]))


# -- builders: venvbuild_repo -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RepoEntry:
    """A builder's repo as it reports it (``venvbuild.repo_info``), checked."""

    url: str
    platforms: tuple[str, ...]
    manifests: Mapping[str, str]  # "[<release>/]<platform>/<venv>-<spec>" -> sha256


def _manifest_key(key: object) -> str:
    text = _string(key, "manifest key", 400)
    parts = text.split("/")
    name = parts[-1]
    venv, _, spec = name.rpartition("-")
    if not (len(parts) in (2, 3) and names.PLATFORM_KEY.fullmatch(parts[-2])
            and (len(parts) == 2 or names.VENV_ID.fullmatch(parts[0]))
            and names.VENV_ID.fullmatch(venv) and names.SPEC_ID.fullmatch(spec)):
        raise _Malformed(f"manifest key {_quoted(text)} is not [<release>/]<platform>/<venv>-<spec id>")
    return text


def _platform_list(value: object, what: str, report: _Report) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise _Malformed(f"{what} is {describe(value)}, not a list of platform keys")
    if len(value) > MAX_PLATFORMS:
        report.add(f"{what} lists {len(value)} platforms; only the first {MAX_PLATFORMS} are read")
    good = set()
    for item in value[:MAX_PLATFORMS]:
        try:
            good.add(_form(item, f"{what} item", names.PLATFORM_KEY, "a platform key"))
        except _Malformed as exc:
            report.add(f"{exc}; dropped")
    return tuple(sorted(good))


def _repo_entry(info: object, report: _Report) -> RepoEntry:
    if not isinstance(info, Mapping):
        raise _Malformed(f"is {describe(info)}, not a mapping")
    if "url" not in info or "platforms" not in info:
        raise _Malformed("has no url or no platforms")
    url = _url(info["url"])
    platforms = _platform_list(info["platforms"], "platforms", report)
    if info.get("published") is not None:
        try:
            _platform_list(info["published"], "published", report)
        except _Malformed as exc:
            report.add(f"{exc}; ignored")
    if info.get("path") is not None:
        try:
            _abs_path(info["path"], "path")
        except _Malformed as exc:
            report.add(f"{exc}; ignored")
    manifests_in = info.get("manifests")
    if manifests_in is None:
        manifests_in = {}
    if not isinstance(manifests_in, Mapping):
        raise _Malformed(f"manifests is {describe(manifests_in)}, not a mapping")
    if len(manifests_in) > MAX_MANIFESTS:
        report.add(f"manifests lists {len(manifests_in)} entries; only the first {MAX_MANIFESTS} "
                   "are read")
    manifests: dict[str, str] = {}
    dropped: list[str] = []
    for index, (raw_key, sha) in enumerate(manifests_in.items()):
        if index >= MAX_MANIFESTS:
            break
        try:
            key = _manifest_key(raw_key)
            manifests[key] = _form(sha, f"sha256 of manifest {_quoted(key)}", names.SHA256, "a sha256")
        except _Malformed as exc:
            dropped.append(str(exc))
    if dropped:
        first = dropped[0]
        report.add(f"{len(dropped)} manifest(s) dropped, the first: {first}" if len(dropped) > 1
                   else f"{first}; dropped")
    _keys(info, _REPO_KEYS, report)
    return RepoEntry(url=url, platforms=platforms, manifests=manifests)


def read_repos(entries: object) -> tuple[dict[str, RepoEntry], list[Problem]]:
    """The well-formed ``venvbuild_repo`` entries of ``mine.get`` output, by minion
    id as the master stores it, and the problems of the rest."""
    problems: list[Problem] = []
    out: dict[str, RepoEntry] = {}
    for minion_id, info in _minions(entries, REPO_ALIAS, problems):
        report = _Report(minion_id, REPO_ALIAS, problems)
        try:
            out[minion_id] = _repo_entry(info, report)
        except _Malformed as exc:
            report.add(f"{exc}; entry dropped")
        report.close()
    return out, problems


def in_use_keys(targets: Mapping[str, Mapping[str, VenvState]],
                repos: Mapping[str, RepoEntry]) -> set[str]:
    """The manifest keys ``<platform>/<venv>-<spec>`` every target uses: its wanted,
    installed and kept spec ids of each venv. A venv whose platform the target could
    not compute keeps its specs on every platform the builders serve.

    Only venvs the named builders publish manifests of, on those platforms, count:
    what a minion publishes is not believed, so a rogue entry naming thousands of
    venvs or platforms adds nothing (it could otherwise push the list past what a
    builder accepts and stop every prune). A venv new since a builder's mine entry
    loses nothing: its newest manifests and recent ones are kept anyway."""
    published: dict[str, set[str]] = {}  # platform -> venv ids with a manifest there
    for entry in repos.values():
        for key in entry.manifests:
            platform, name = key.split("/")[-2:]
            published.setdefault(platform, set()).add(name.rpartition("-")[0])
    keys: set[str] = set()
    for venvs in targets.values():
        for venv_id, state in venvs.items():
            specs = {state.wanted, state.installed, *state.kept} - {None}
            for platform in [state.platform] if state.platform else published:
                if venv_id in published.get(platform, ()):
                    keys.update(f"{platform}/{venv_id}-{spec}" for spec in specs)
    return keys


# -- which builders count ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Targeting:
    """How a venv finds its builders: the expression its target passes to ``mine.get``."""

    target: str
    tgt_type: str


def targeting(config: Mapping[str, Any]) -> Targeting | None:
    """The builder targeting of one venv's configuration (as the ``venvbuild`` pillar
    gives it, ``builder`` before ``builder_target``), or None; SpecError if malformed."""
    if config.get("builder") is not None:
        return Targeting(OPTIONS["builder"].check(config["builder"], "builder"), "list")
    if config.get("builder_target") is None:
        return None
    tgt_type = config.get("builder_tgt_type")
    if tgt_type is None:
        tgt_type = OPTIONS["builder_tgt_type"].default
    return Targeting(OPTIONS["builder_target"].check(config["builder_target"], "builder_target"),
                     OPTIONS["builder_tgt_type"].check(tgt_type, "builder_tgt_type"))


@dataclasses.dataclass(frozen=True)
class BuilderScope:
    """The builders the master names: ``verified`` counts everywhere it matters;
    ``by_venv`` says, for ``(target id, venv id)``, which of them that venv uses
    (a venv not in it: all of ``verified``)."""

    verified: frozenset[str]
    by_venv: Mapping[tuple[str, str], frozenset[str]] = dataclasses.field(default_factory=dict)

    def builders_of(self, minion_id: str, venv_id: str) -> frozenset[str]:
        return self.by_venv.get((minion_id, venv_id), self.verified)


def _resolve(resolve: Callable[[str, str], Iterable[str]], found: Targeting,
             notes: list[str]) -> frozenset[str]:
    warning = targeting_warning(found.target, found.tgt_type)
    if warning:
        notes.append(warning)
    try:
        return frozenset(resolve(found.target, found.tgt_type))
    except VenvbuildError as exc:
        notes.append(f"the builders of {found.tgt_type} '{found.target}' are unknown: {exc}")
        return frozenset()


def explicit_scope(target: str, tgt_type: str, resolve: Callable[[str, str], Iterable[str]],
                   notes: list[str]) -> BuilderScope:
    """The scope of ``builders=``: the minions the master matches with ``target``.

    ``resolve(target, tgt_type)`` returns them (those with a ``venvbuild_repo``
    entry), or raises VenvbuildError; ``notes`` (plain text, shown by
    :func:`view`) gets how builders were chosen and any warning."""
    found = _resolve(resolve, Targeting(target, tgt_type), notes)
    notes.append(f"builders: the {len(found)} minion(s) with a venvbuild_repo entry the master "
                 f"matches with builders='{target}' ({tgt_type})")
    return BuilderScope(found)


def pillar_scope(target_ids: Iterable[str],
                 venv_configs: Callable[[str], Mapping[str, Mapping[str, Any]]],
                 resolve: Callable[[str, str], Iterable[str]], notes: list[str]) -> BuilderScope:
    """The scope the targets' own pillars give.

    ``venv_configs(target id)`` returns a target's venvs as the master compiles
    its pillar (VenvbuildError if it cannot); each distinct builder targeting
    among them is resolved once, with ``resolve`` as in :func:`explicit_scope`.
    A venv without builder targeting, or of a target whose pillar could not be
    read, is checked against every builder found."""
    users: dict[Targeting, list[tuple[str, str]]] = {}
    failed = 0
    for minion_id in target_ids:
        try:
            for venv_id, config in venv_configs(minion_id).items():
                found = targeting(config)
                if found is not None:
                    users.setdefault(found, []).append((minion_id, venv_id))
        except VenvbuildError as exc:
            failed += 1
            if failed <= MAX_PROBLEMS:
                notes.append(f"the builders of {minion_id} are unknown: {exc}")
    if failed > MAX_PROBLEMS:
        notes.append(f"the builders of {failed - MAX_PROBLEMS} more target(s) are unknown "
                     "(their pillar could not be read)")
    by_venv: dict[tuple[str, str], frozenset[str]] = {}
    verified: set[str] = set()
    for found in sorted(users, key=lambda t: (t.tgt_type, t.target)):
        ids = _resolve(resolve, found, notes)
        verified |= ids
        for user in users[found]:
            by_venv[user] = ids
    if users:
        notes.append(f"builders: the {len(verified)} minion(s) with a venvbuild_repo entry that "
                     "the targets' pillars, as the master compiles them, name (venvbuild:builder, "
                     "or a venv's builder or builder_target)")
    else:
        notes.append("no target's pillar, as the master compiles it, names builders "
                     "(venvbuild:builder:target, or a venv's builder or builder_target): every "
                     "venvbuild_repo entry is unverified; name the builders with builders=")
    return BuilderScope(frozenset(verified), by_venv)


def served_by(targets: Mapping[str, Mapping[str, VenvState]], repos: Mapping[str, RepoEntry],
              scope: BuilderScope) -> Callable[[str, str, Mapping[str, Any]],
                                               tuple[str | None, bool | None]]:
    """Whether a builder serves a target's venv, as core/preflight.py's ``assess``
    asks it: the venv's platform key (from the target's ``venvbuild_venvs``
    entry; ``(None, None)`` without one) and whether one of the builders
    ``scope`` gives that venv has a checked ``venvbuild_repo`` entry listing
    that platform, and ``builder_platforms`` (the venv's checked options) lets it."""
    def served(minion_id: str, venv_id: str, opts: Mapping[str, Any]) -> tuple[str | None, bool | None]:
        state = (targets.get(minion_id) or {}).get(venv_id)
        if state is None or state.platform is None:
            return None, None
        platform = state.platform
        return platform, any(
            builder in repos and platform in repos[builder].platforms
            and allowed(builder, platform, opts.get("builder_platforms"))
            for builder in sorted(scope.builders_of(minion_id, venv_id)))
    return served


# -- the view ----------------------------------------------------------------------------


def _repo_view(entry: RepoEntry) -> dict[str, Any]:
    return {"url": show(redact(entry.url)), "platforms": list(entry.platforms),
            "manifests": len(entry.manifests)}


def view(targets: Mapping[str, Mapping[str, VenvState]], repos: Mapping[str, RepoEntry],
         scope: BuilderScope, problems: Iterable[Problem], notes: Iterable[str],
         preflight: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The fleet view of checked entries: per venv the minions, their specs, who
    drifts and who runs a manifest none of its builders publishes; the builders
    ``scope`` names; the ``unverified`` ones; the problems and notes; and the
    pre-flight check (core/preflight.py), already shown: ``local_builds``
    (who builds for itself), ``unserved`` (venvs nothing serves) and
    ``preflight`` (why ``venvbuild.build`` would refuse, or None). Every
    string in it is shown with :func:`show` (``problems`` already are; ``notes``
    are plain text and shown here)."""
    venvs: dict[str, dict[str, Any]] = {}
    current = 0
    for minion_id, states in targets.items():
        shown_id = show_id(minion_id)
        for venv_id, state in states.items():
            entry = venvs.setdefault(venv_id, {"minions": {}, "specs": {}, "drift": {},
                                               "unpublished": []})
            entry["minions"][shown_id] = {
                "path": show(state.path), "platform": state.platform, "wanted": state.wanted,
                "installed": state.installed, "manifest_sha256": state.manifest_sha256,
                "trust": None if state.trust is None else show(state.trust),
            }
            if state.installed:
                entry["specs"].setdefault(state.installed, []).append(shown_id)
            if state.current:
                current += 1
            else:
                entry["drift"][shown_id] = (
                    show(state.error, ERROR_LIMIT) if state.error
                    else "not installed" if not state.installed
                    else f"runs {state.installed}, its pillar wants {state.wanted}")
            if _unpublished(minion_id, venv_id, state, repos, scope):
                entry["unpublished"].append(shown_id)
    malformed = [problem.as_dict() for problem in problems]
    ordered = sorted(repos, key=show_id)
    builders = {show_id(b): _repo_view(repos[b]) for b in ordered if b in scope.verified}
    unverified = {show_id(b): _repo_view(repos[b]) for b in ordered if b not in scope.verified}
    drifting = sorted({m for entry in venvs.values() for m in entry["drift"]})
    preflight = preflight or {}
    local = dict(preflight.get("local_builds") or {})
    unserved = list(preflight.get("unserved") or [])
    return {
        "venvs": dict(sorted(venvs.items())),
        "builders": builders,
        "unverified": unverified,
        "malformed": malformed,
        "local_builds": local,
        "unserved": unserved,
        "preflight": preflight.get("refusal"),
        "notes": [show(note, ERROR_LIMIT) for note in notes],
        "summary": {
            "minions": len(targets),
            "venvs": len(venvs),
            "current": current,
            "drifting": drifting,
            "builders": len(builders),
            "unverified": len(unverified),
            "malformed": len(malformed),
            "local_builds": len(local),
            "unserved": len(unserved),
        },
    }


def _unpublished(minion_id: str, venv_id: str, state: VenvState, repos: Mapping[str, RepoEntry],
                 scope: BuilderScope) -> bool:
    """True if a venv installed on a builder's word runs a manifest none of its
    builders (those that have an entry) publishes now."""
    if not (state.manifest_sha256 and state.trust and state.trust.startswith(_PUBLISHED_BY_BUILDER)):
        return False
    entries = [repos[b] for b in scope.builders_of(minion_id, venv_id) if b in repos]
    if not entries:
        return False
    return not any(state.manifest_sha256 in set(entry.manifests.values()) for entry in entries)


