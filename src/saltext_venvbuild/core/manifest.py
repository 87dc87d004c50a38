"""The manifest: a spec's resolved pins, each with its wheel and the wheel's sha256.

One file per (venv, spec id) and platform, published atomically by the builder
only after a successful build. It is at once the record of what was built and
the lock file targets install from with ``--require-hashes``: every line pip or
uv reads is ``name==version --hash=sha256:...``; the rest are comments.
Rendering is deterministic, so equal content gives an equal manifest hash.
"""

import dataclasses
import hashlib
import os

from packaging.utils import InvalidWheelFilename
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename

from .errors import RepoError

FORMAT = "venvbuild-manifest 1"


@dataclasses.dataclass(frozen=True, order=True)
class Pin:
    name: str  # canonical project name
    version: str
    filename: str  # the wheel's file name in the repo's wheel directory
    sha256: str

    @classmethod
    def from_wheel(cls, filename, sha256):
        try:
            name, version, _build, _tags = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            raise RepoError(f"wheel {filename!r}: not a valid wheel file name: {exc}") from None
        return cls(canonicalize_name(name), str(version), filename, sha256)


@dataclasses.dataclass(frozen=True)
class Manifest:
    venv_id: str
    spec_id: str
    platform: str
    requirements: tuple
    pins: tuple  # of Pin, sorted by name

    @classmethod
    def create(cls, venv_id, spec_id, platform, requirements, pins):
        pins = tuple(sorted(pins))
        names = [pin.name for pin in pins]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise RepoError(
                f"manifest {venv_id}-{spec_id}: more than one wheel for {', '.join(dupes)}; "
                "the build produced conflicting wheels"
            )
        return cls(venv_id, spec_id, platform, tuple(requirements), pins)

    @property
    def filename(self):
        return manifest_filename(self.venv_id, self.spec_id)

    def versions(self):
        """``{name: version}`` of every pin."""
        return {pin.name: pin.version for pin in self.pins}

    def render(self):
        lines = [
            f"# {FORMAT}",
            f"# venv: {self.venv_id}",
            f"# spec: {self.spec_id}",
            f"# platform: {self.platform}",
        ]
        lines += [f"# requirement: {req}" for req in self.requirements]
        for pin in self.pins:
            lines.append(f"# wheel: {pin.filename}")
            lines.append(f"{pin.name}=={pin.version} --hash=sha256:{pin.sha256}")
        return "\n".join(lines) + "\n"

    @property
    def sha256(self):
        return hashlib.sha256(self.render().encode("utf-8")).hexdigest()

    @classmethod
    def parse(cls, text, source="manifest"):
        """Read a rendered manifest; raise RepoError naming ``source`` if it is malformed."""
        lines = text.splitlines()
        if not lines or lines[0] != f"# {FORMAT}":
            raise RepoError(f"{source}: not a venvbuild manifest (first line {lines[:1]!r})")
        meta = {"requirement": []}
        pins = []
        wheel = None
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            if line.startswith("# "):
                key, _, value = line[2:].partition(": ")
                if key == "requirement":
                    meta["requirement"].append(value)
                elif key == "wheel":
                    wheel = value
                else:
                    meta[key] = value
                continue
            try:
                pin_part, hash_part = line.split(" --hash=sha256:")
                name, version = pin_part.split("==")
            except ValueError:
                raise RepoError(f"{source}, line {number}: malformed pin {line!r}") from None
            if wheel is None:
                raise RepoError(f"{source}, line {number}: pin {line!r} has no '# wheel:' line")
            try:
                pin = Pin.from_wheel(wheel, hash_part.strip())
            except RepoError as exc:
                raise RepoError(f"{source}, line {number}: {exc}") from None
            if (pin.name, pin.version) != (canonicalize_name(name), version):
                raise RepoError(f"{source}, line {number}: pin {line!r} does not match wheel {wheel}")
            if len(pin.sha256) != 64:
                raise RepoError(f"{source}, line {number}: bad sha256 {pin.sha256!r}")
            pins.append(pin)
            wheel = None
        for key in ("venv", "spec", "platform"):
            if key not in meta:
                raise RepoError(f"{source}: header line '# {key}: ...' missing")
        if not pins:
            raise RepoError(f"{source}: lists no wheels")
        return cls.create(meta["venv"], meta["spec"], meta["platform"], meta["requirement"], pins)


def manifest_filename(venv_id, spec_id):
    return f"{venv_id}-{spec_id}.txt"


def read_manifest(path):
    """The manifest at ``path``, or None if there is none."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RepoError(f"manifest {path}: cannot read it: {exc}") from None
    return Manifest.parse(text, source=os.fspath(path))


def diff_versions(old, new):
    """Compare two ``{name: version}`` maps; empty dict when equal."""
    added = {name: new[name] for name in sorted(set(new) - set(old))}
    removed = {name: old[name] for name in sorted(set(old) - set(new))}
    changed = {
        name: {"old": old[name], "new": new[name]}
        for name in sorted(set(old) & set(new))
        if old[name] != new[name]
    }
    out = {}
    if added:
        out["added"] = added
    if removed:
        out["removed"] = removed
    if changed:
        out["changed"] = changed
    return out
