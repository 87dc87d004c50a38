"""The manifest: a spec's resolved pins, each with its wheel and the wheel's sha256.

One file per (venv, spec id) and platform, published atomically by the builder
only after a successful build. It is at once the record of what was built and
the lock file targets install from with ``--require-hashes``: every line pip or
uv reads is ``name==version --hash=sha256:...``; the rest are comments. The
comment before each pin names its wheel file and the wheel's size in bytes
(``# wheel: <file> size=<bytes>``, format 3), so a target stops a download
the moment a repo sends more. Rendering is deterministic, so equal content
gives an equal manifest hash.

A manifest fetched from a repo is input from the network: :meth:`Manifest.parse`
accepts exactly what :meth:`Manifest.render` writes, validates every field
(names, ids, hashes, wheel file names) and refuses anything else, so no field
of a manifest can steer a path or smuggle a line into a lock file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import typing

from . import platform as platform_mod
from .errors import RepoError
from .errors import SpecError
from .names import SHA256
from .names import WHEEL_FILE
from .spec import check_spec_id
from .spec import check_venv_id
from .spec import normalize_requirement
from .text import bad_character

FORMAT = "venvbuild-manifest 3"
MAX_BYTES = 4 << 20  # far above any real manifest; a bound on what a target reads
# The largest wheel size a manifest may record (64 GiB): far above any real
# wheel; also the cap of a download whose size is unknown (a pin made in
# memory, never one read from a manifest, which always records the size).
MAX_WHEEL_SIZE = 1 << 36

_WHEEL_LINE = re.compile(r"^(?P<file>\S+) size=(?P<size>[1-9][0-9]{0,11})$")
_PIN = re.compile(r"^(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)==(?P<version>[A-Za-z0-9.+!_-]+) "
                  r"--hash=sha256:(?P<sha>[0-9a-f]{64})$")


def _wheel_names() -> typing.Any:
    """packaging's name utilities, imported when a manifest is read or made: a no-op
    run compares hashes and never parses one."""
    from packaging import utils  # noqa: PLC0415

    return utils


class ManifestId(typing.NamedTuple):
    """Which manifest is wanted: a venv, a spec, a platform (a VenvSpec has the same
    attributes and serves as one)."""

    venv_id: str
    spec_id: str
    platform: str


class ManifestError(RepoError):
    """A manifest is malformed, of another format, or not the one asked for."""


def check_sha256(value: object, what: str = "sha256") -> str:
    """``value`` if it is a sha256 (64 lower-case hex digits), else SpecError naming ``what``."""
    if not isinstance(value, str) or not SHA256.fullmatch(value):
        raise SpecError(f"{what} {value!r}: must be 64 lower-case hex digits")
    return value


@dataclasses.dataclass(frozen=True, order=True)
class Pin:
    """One pinned distribution and the wheel it installs from; pins sort by name first.

    ``size`` is the wheel's size in bytes, which every published manifest records
    (a download stops there); None only for a pin made in memory without it.
    """

    name: str  # canonical project name
    version: str
    filename: str  # the wheel's file name
    sha256: str
    size: int | None = None

    @classmethod
    def from_wheel(cls, filename: str, sha256: str, size: int | None = None) -> Pin:
        """The pin of wheel file ``filename`` of ``size`` bytes that hash to ``sha256``;
        RepoError for an invalid file name, hash or size."""
        if not isinstance(filename, str) or not WHEEL_FILE.fullmatch(filename):
            raise RepoError(f"wheel {filename!r}: not a valid wheel file name")
        try:
            name, version, _build, _tags = _wheel_names().parse_wheel_filename(filename)
        except _wheel_names().InvalidWheelFilename as exc:
            raise RepoError(f"wheel {filename!r}: not a valid wheel file name: {exc}") from None
        if not SHA256.fullmatch(sha256 or ""):
            raise RepoError(f"wheel {filename}: bad sha256 {sha256!r}")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                 or not 0 < size <= MAX_WHEEL_SIZE):
            raise RepoError(f"wheel {filename}: bad size {size!r} (1 to {MAX_WHEEL_SIZE} bytes)")
        return cls(_wheel_names().canonicalize_name(name), str(version), filename, sha256, size)

    @property
    def path(self) -> str:
        """Where the wheel lives below a repo's ``wheels/`` directory: by content."""
        return f"{self.sha256}/{self.filename}"


@dataclasses.dataclass(frozen=True)
class ConstraintFile:
    """A ``-c <ref>`` constraints file and the sha256 of the content it had at build time."""

    ref: str  # URL (credentials and query hidden; with its #sha256= pin if the spec has one) or path
    sha256: str


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A spec's manifest: its venv, spec id and platform, the requirements asked for,
    the pins with their wheels and the constraints files used. Immutable; equal
    content renders (and hashes) equally."""

    venv_id: str
    spec_id: str
    platform: str
    requirements: tuple[str, ...]
    pins: tuple[Pin, ...]  # sorted by name
    constraint_files: tuple[ConstraintFile, ...] = ()

    @classmethod
    def create(cls, venv_id: str, spec_id: str, platform: str, requirements: typing.Iterable[str],
               pins: typing.Iterable[Pin], constraint_files: typing.Iterable[ConstraintFile] = ()) -> Manifest:
        """A manifest with ``pins`` sorted; RepoError if there is none or two name one project."""
        pins = tuple(sorted(pins))
        names = [pin.name for pin in pins]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise RepoError(
                f"manifest {venv_id}-{spec_id}: more than one wheel for {', '.join(dupes)}; "
                "the build produced conflicting wheels"
            )
        if not pins:
            raise RepoError(
                f"manifest {venv_id}-{spec_id}: the build produced no wheel (do the "
                "requirements' markers exclude every package on this platform?); "
                "nothing was published"
            )
        return cls(venv_id, spec_id, platform, tuple(requirements), pins,
                   tuple(sorted(constraint_files, key=lambda c: c.ref)))

    @property
    def filename(self) -> str:
        """The manifest's file name: ``<venv>-<spec id>.txt``."""
        return manifest_filename(self.venv_id, self.spec_id)

    def versions(self) -> dict[str, str]:
        """``{name: version}`` of every pin."""
        return {pin.name: pin.version for pin in self.pins}

    def render(self) -> str:
        """The manifest's text as published and installed from (the lock file); deterministic."""
        lines = [
            f"# {FORMAT}",
            f"# venv: {self.venv_id}",
            f"# spec: {self.spec_id}",
            f"# platform: {self.platform}",
        ]
        lines += [f"# requirement: {req}" for req in self.requirements]
        lines += [f"# constraints-file: {c.sha256} {c.ref}" for c in self.constraint_files]
        for pin in self.pins:
            # A pin without a size renders without it, which parse() refuses: such a
            # manifest (made in memory) is never published (publish reads it back).
            size = "" if pin.size is None else f" size={pin.size}"
            lines.append(f"# wheel: {pin.filename}{size}")
            lines.append(f"{pin.name}=={pin.version} --hash=sha256:{pin.sha256}")
        return "\n".join(lines) + "\n"

    @property
    def sha256(self) -> str:
        """The sha256 of :meth:`render`'s text: what builders publish and targets check."""
        return hashlib.sha256(self.render().encode("utf-8")).hexdigest()

    def check_is(self, venv_id: str, spec_id: str, platform: str, source: str = "manifest") -> Manifest:
        """Raise ManifestError unless this manifest names exactly this venv, spec and platform."""
        wanted = (venv_id, spec_id, platform)
        found = (self.venv_id, self.spec_id, self.platform)
        if found != wanted:
            raise ManifestError(
                f"{source}: names venv {self.venv_id!r}, spec {self.spec_id!r}, platform "
                f"{self.platform!r}, but venv {venv_id!r}, spec {spec_id!r}, platform "
                f"{platform!r} was asked for; refusing it (a manifest served under another "
                "name is not this spec's)"
            )
        return self

    @classmethod
    def parse(cls, text: object, source: str = "manifest") -> Manifest:
        """Read a rendered manifest (text, or the bytes as fetched); raise ManifestError
        naming ``source`` if it is not exactly what :meth:`render` writes (it is
        rendered again and compared). Check a fetched manifest's hash *before*
        calling this (:func:`remote.fetch_manifest` does): what does not hash right
        is never parsed."""
        if isinstance(text, bytes):
            if len(text) > MAX_BYTES:
                raise ManifestError(f"{source}: larger than {MAX_BYTES} bytes; not a manifest")
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise ManifestError(f"{source}: not UTF-8 text") from None
        if not isinstance(text, str):
            raise ManifestError(f"{source}: not text")
        if len(text.encode("utf-8", "replace")) > MAX_BYTES:
            raise ManifestError(f"{source}: larger than {MAX_BYTES} bytes; not a manifest")
        if not text.endswith("\n") or "\r" in text:
            raise ManifestError(f"{source}: not a venvbuild manifest (line endings)")
        lines = text[:-1].split("\n")
        if lines[0] != f"# {FORMAT}":
            if lines[0].startswith("# venvbuild-manifest "):
                raise ManifestFormatError(
                    f"{source}: {lines[0][2:]}, written by another venvbuild release; "
                    f"this one reads {FORMAT} (rebuild the spec on the builder)"
                )
            raise ManifestError(f"{source}: not a venvbuild manifest (first line {lines[0][:80]!r})")
        try:
            manifest = cls._parse_lines(lines[1:], source)
        except SpecError as exc:
            raise ManifestError(f"{source}: {exc}") from None
        if manifest.render() != text:
            raise ManifestError(
                f"{source}: not in the canonical form venvbuild writes (order, duplicates "
                "or spacing differ); refusing it"
            )
        return manifest

    @classmethod
    def _parse_lines(cls, lines: list[str], source: str) -> Manifest:
        meta: dict[str, str] = {}
        requirements: list[str] = []
        constraint_files: list[ConstraintFile] = []
        pins: list[Pin] = []
        wheel: tuple[str, int] | None = None
        for number, line in enumerate(lines, start=2):
            char = bad_character(line)
            if char is not None:
                raise ManifestError(f"{source}, line {number}: control character {char!r}")
            if line.startswith("# "):
                key, sep, value = line[2:].partition(": ")
                if not sep:
                    raise ManifestError(f"{source}, line {number}: malformed header {line[:80]!r}")
                if key in ("venv", "spec", "platform"):
                    if key in meta or requirements or pins:
                        raise ManifestError(f"{source}, line {number}: header {key} out of place")
                    meta[key] = value
                elif key == "requirement":
                    if normalize_requirement(value, "requirement") != value:
                        raise ManifestError(f"{source}, line {number}: requirement not canonical")
                    requirements.append(value)
                elif key == "constraints-file":
                    sha, _, ref = value.partition(" ")
                    constraint_files.append(ConstraintFile(ref, check_sha256(sha)))
                elif key == "wheel":
                    if wheel is not None:
                        raise ManifestError(f"{source}, line {number}: two wheel lines in a row")
                    found = _WHEEL_LINE.fullmatch(value)
                    if not found:
                        raise ManifestError(
                            f"{source}, line {number}: malformed wheel line {value[:120]!r} "
                            "(expected '<wheel file> size=<bytes>')")
                    wheel = (found.group("file"), int(found.group("size")))
                else:
                    raise ManifestError(f"{source}, line {number}: unknown header {key!r}")
                continue
            match = _PIN.fullmatch(line)
            if not match:
                raise ManifestError(f"{source}, line {number}: malformed pin {line[:120]!r}")
            if wheel is None:
                raise ManifestError(f"{source}, line {number}: pin has no '# wheel:' line")
            try:
                pin = Pin.from_wheel(wheel[0], match.group("sha"), wheel[1])
            except RepoError as exc:
                raise ManifestError(f"{source}, line {number}: {exc}") from None
            if (pin.name, pin.version) != (match.group("name"), match.group("version")):
                raise ManifestError(f"{source}, line {number}: pin does not match wheel {wheel[0]}")
            pins.append(pin)
            wheel = None
        if wheel is not None:
            raise ManifestError(f"{source}: wheel line {wheel[0]!r} without its pin")
        for key in ("venv", "spec", "platform"):
            if key not in meta:
                raise ManifestError(f"{source}: header line '# {key}: ...' missing")
        check_venv_id(meta["venv"], "venv")
        check_spec_id(meta["spec"], "spec")
        platform_mod.check_key(meta["platform"])
        try:
            return cls.create(meta["venv"], meta["spec"], meta["platform"], requirements, pins,
                              constraint_files)
        except RepoError as exc:
            raise ManifestError(f"{source}: {str(exc).split('; ')[0]}") from None


class ManifestFormatError(ManifestError):
    """A manifest of another format (an older venvbuild release)."""


def lock_hashes(text: str, source: str = "lock file") -> set[str]:
    """The sha256s of the wheels a venv's lock file (the manifest it was installed
    from) pins: parsed strictly, or, for a venv installed by the release before
    (format 2, without wheel sizes), read from its pin lines, each checked.
    A local file venvbuild wrote, never network input; used to keep the wheels
    of installed venvs in the cache."""
    if text.startswith("# venvbuild-manifest 2\n"):
        shas = set()
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("# "):
                continue
            match = _PIN.fullmatch(line)
            if not match:
                raise ManifestError(f"{source}, line {number}: malformed pin {line[:120]!r}")
            shas.add(match.group("sha"))
        return shas
    return {pin.sha256 for pin in Manifest.parse(text, source=source).pins}


def manifest_filename(venv_id: str, spec_id: str) -> str:
    """The file name of a spec's manifest: ``<venv>-<spec id>.txt``."""
    return f"{venv_id}-{spec_id}.txt"


def diff_versions(old: typing.Mapping[str, str], new: typing.Mapping[str, str]) -> dict[str, typing.Any]:
    """Compare two ``{name: version}`` maps; empty dict when equal."""
    added = {name: new[name] for name in sorted(set(new) - set(old))}
    removed = {name: old[name] for name in sorted(set(old) - set(new))}
    changed = {
        name: {"old": old[name], "new": new[name]}
        for name in sorted(set(old) & set(new))
        if old[name] != new[name]
    }
    out: dict[str, typing.Any] = {}
    if added:
        out["added"] = added
    if removed:
        out["removed"] = removed
    if changed:
        out["changed"] = changed
    return out
