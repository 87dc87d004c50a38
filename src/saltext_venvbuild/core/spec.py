"""A venv's inputs, normalized, and the content-addressed spec id they hash to.

The spec id is what builder and targets agree on without talking: both compute
it from the same pillar, so a target knows which manifest to ask for. It covers
everything that decides which wheels end up in the venv (requirements,
constraints, build arguments, platform key) and nothing that does not
(install arguments, environment variables, the install tool).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import posixpath
import re
import shlex
import typing
import urllib.parse
from typing import TYPE_CHECKING
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence
from typing import TypeVar

from . import argpolicy
from . import names
from .errors import SpecError
from .errors import VenvbuildError
from .fsutil import atomic_write
from .names import SPEC_ID_LENGTH
from .text import check_text
from .text import has_credentials
from .text import redact
from .text import redact_loose
from .text import redact_query
from .text import undelimited_credentials

PACKAGE_STATES = ("present", "latest")
INSTALL_TOOLS = ("pip", "uv")
# The role's venv_build_requirements: what the builder environment holds besides pip.
DEFAULT_BUILD_REQUIREMENTS = ("pbr", "setuptools", "wheel")

# pip's legacy VCS form: git+https://host/repo@ref#egg=name
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
# A bare sdist or wheel by URL, as pip takes one in place of a requirement.
_ARCHIVE_URL = re.compile(r"^(?:https?|file):", re.IGNORECASE)
# The role's constraint-file entries: "--constraint URL", "-c PATH", "-c=URL".
_CONSTRAINT_FILE = re.compile(r"^(?:-c|--constraint)(?: +|=)(?P<ref>\S+)$")
# The one fragment a constraints URL may carry: the sha256 its content must have
# (pip's own hash-fragment convention for URLs).
_SHA256_FRAGMENT = re.compile(r"^sha256=(?P<sha>[0-9a-fA-F]{64})$")

_T = TypeVar("_T")

if TYPE_CHECKING:
    from packaging.requirements import Requirement


def check_venv_id(venv_id: object, what: str = "venv id") -> str:
    """A name used in file names and URLs: the venv id, a release name."""
    if not isinstance(venv_id, str) or not names.VENV_ID.fullmatch(venv_id):
        raise SpecError(
            f"{what} {venv_id!r}: use letters, digits, '.', '_' and '-' only "
            "(it names files and URLs), e.g. 'keystone'"
        )
    return venv_id


def check_spec_id(spec_id: object, what: str = "spec id") -> str:
    """``spec_id`` if it has the form of a spec id (16 lower-case hex digits), else SpecError."""
    if not isinstance(spec_id, str) or not names.SPEC_ID.fullmatch(spec_id):
        raise SpecError(f"{what} {spec_id!r}: must be {SPEC_ID_LENGTH} lower-case hex digits")
    return spec_id


def normalize_requirement(text: object, what: str = "package") -> str:
    """Return the canonical PEP 508 form of one requirement string.

    Names are canonicalized (``PyMySQL`` -> ``pymysql``), specifiers sorted, and
    pip's ``git+URL@REF#egg=name`` form rewritten to ``name @ git+URL@REF``.
    Anything that is not a requirement (a pip option such as ``--index-url``,
    two lines in one string, any control or line-separator character) is
    refused, so a package list cannot carry options.
    """
    if not isinstance(text, str):
        raise SpecError(f"{what} {text!r}: must be a string such as 'keystone==26.0.0'")
    stripped = text.strip()
    if not stripped:
        raise SpecError(f"{what} list contains an empty entry")
    if "\n" in stripped or "\r" in stripped:
        raise SpecError(f"{what} {redact(text)!r}: one requirement per entry, no line breaks")
    check_text(stripped, what)
    if stripped.startswith("-"):
        raise SpecError(
            f"{what} {redact(stripped)!r}: looks like a pip option, not a requirement; "
            "pass options through build_args or install_args"
        )
    if stripped.startswith(_VCS_PREFIXES):
        stripped = _vcs_to_pep508(stripped, what)
    elif stripped.startswith(("/", ".", "~")) or _ARCHIVE_URL.match(stripped):
        stripped = _archive_to_pep508(stripped, what)
    try:
        req = _packaging().Requirement(stripped)
    except _packaging().InvalidRequirement as exc:
        raise SpecError(f"{what} {redact(text)!r} is not a valid requirement: "
                        f"{redact(str(exc))}") from None
    return _render(req)


def _check_http_url(parsed: urllib.parse.SplitResult, ref: str, what: str) -> None:
    """A constraints URL the tools and requests read as venvbuild shows it: a host,
    a port that parses, credentials that logs can hide (else their message would
    show the URL whole)."""
    shown = redact_query(redact_loose(ref))  # credentials hidden even where malformed
    if undelimited_credentials(ref.partition("#")[0]):
        raise SpecError(
            f"{what} -c {shown!r}: the URL has an '@' that does not "
            "end its user:password part; percent-encode '/', '?', '#', '@' and spaces in "
            "credentials (the value is not shown)")
    try:
        _port = parsed.port  # parsing the port is the check
    except ValueError:
        raise SpecError(f"{what} -c {shown!r}: the URL's port is not a number "
                        "from 0 to 65535") from None
    host = parsed.hostname
    if not host or any(char.isspace() for char in host):
        raise SpecError(f"{what} -c {shown!r}: the URL has no host")


def normalize_constraint(text: object, what: str = "constraint") -> str:
    """A constraint: a requirement (see :func:`normalize_requirement`) or a
    constraints file, ``-c <ref>`` / ``--constraint <ref>`` where ``<ref>`` is
    an ``http(s)://`` URL or an absolute path; the latter is returned as
    ``-c <ref>``."""
    if isinstance(text, str):
        match = _CONSTRAINT_FILE.fullmatch(text.strip())
        if match:
            return f"-c {check_constraint_ref(match.group('ref'), what)}"
    return normalize_requirement(text, what)


def check_constraint_ref(ref: str, what: str = "constraint") -> str:
    """An ``http(s)`` URL, a ``file:`` URL or an absolute local path of a constraints file.

    A URL may end in ``#sha256=<64 hex digits>``: the sha256 the file's content
    must have (written in lower case). The pin is part of the reference, so of
    the spec id; it is stripped before fetching (:func:`split_constraint_pin`).
    A ``file:`` URL (which the role's pip accepts) names a file on this minion,
    normalized to ``file:///<path>``; it is read like a URL's content, version
    pins only (:mod:`constraints`). A local path takes no fragment: a ``#``
    there is refused.
    """
    check_text(ref, what)
    try:
        parsed = urllib.parse.urlsplit(ref)
    except ValueError:  # an unclosed '[' of an IPv6 address
        raise SpecError(f"{what} -c {redact_query(redact_loose(ref))!r}: not a URL") from None
    if parsed.scheme in ("http", "https", "file"):
        url, sep, fragment = ref.partition("#")
        if parsed.scheme == "file":
            url = _check_file_url(url, ref, what)
        else:
            _check_http_url(parsed, ref, what)
        if sep:
            pinned = _SHA256_FRAGMENT.fullmatch(fragment)
            if not pinned:
                raise SpecError(
                    f"{what} -c {redact_query(ref)!r}: the only fragment a constraints URL may have is "
                    "the sha256 its content must have, '#sha256=<64 hex digits>'"
                )
            return f"{url}#sha256={pinned.group('sha').lower()}"
        return url
    if "#" in ref and posixpath.isabs(ref):
        raise SpecError(
            f"{what} -c {ref!r}: a local constraints file takes no '#' fragment (a '#sha256=' "
            "pin is for URLs; a local file is this minion's own)"
        )
    if parsed.scheme or not posixpath.isabs(ref) or ".." in ref.split("/"):
        raise SpecError(
            f"{what} -c {redact_query(ref)!r}: a constraints file must be an http(s) URL, a file: URL "
            "or an absolute path without '..', e.g. '-c https://releases.openstack.org/constraints/"
            "upper/2025.2' or '-c /etc/venvbuild/upper-constraints.txt'"
        )
    return posixpath.normpath(ref)


def _check_file_url(url: str, ref: str, what: str) -> str:
    """A ``file:`` constraints URL (without its fragment) as ``file:///<path>``."""
    parts = urllib.parse.urlsplit(url)
    path = file_url_path(url)
    if (parts.netloc not in ("", "localhost") or parts.query or not posixpath.isabs(path)
            or ".." in path.split("/")):
        raise SpecError(
            f"{what} -c {redact_query(ref)!r}: a file: URL must name an absolute path on this minion, "
            "without a host, a query or '..', e.g. '-c file:///etc/venvbuild/upper-constraints.txt'"
        )
    check_text(path, what)  # what a percent-encoded path decodes to
    return "file://" + urllib.parse.quote(posixpath.normpath(path))


def file_url_path(url: str) -> str:
    """The local path a ``file:`` URL names (percent-decoded)."""
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path)


def constraint_file_ref(entry: str) -> str | None:
    """The URL or path of a normalized ``-c <ref>`` constraint, else None."""
    return entry[3:] if entry.startswith("-c ") else None


def split_constraint_pin(ref: str) -> tuple[str, str | None]:
    """``(what to fetch or read, the pinned sha256 or None)`` of a checked constraints
    reference: a URL's ``#sha256=`` fragment is the pin, never sent to the server."""
    url, sep, fragment = ref.partition("#")
    if not sep:
        return ref, None
    pinned = _SHA256_FRAGMENT.fullmatch(fragment)
    if not pinned:
        raise SpecError(f"constraints file {redact_query(ref)!r}: unchecked fragment")
    return url, pinned.group("sha").lower()


def _vcs_to_pep508(text: str, what: str) -> str:
    """``git+URL@REF#egg=name&subdirectory=x`` -> ``name @ git+URL@REF#subdirectory=x``."""
    url, _, fragment = text.partition("#")
    params = [p for p in fragment.split("&") if p]
    eggs = [p[len("egg="):] for p in params if p.startswith("egg=")]
    if not eggs or not names.SIMPLE.fullmatch(eggs[0]):
        raise SpecError(
            f"{what} {redact(text)!r}: a VCS URL needs a name: write "
            "'name @ git+URL@REF' or 'git+URL@REF#egg=name'"
        )
    rest = "&".join(p for p in params if not p.startswith("egg="))
    return f"{eggs[0]} @ {url}{'#' + rest if rest else ''}"


def _archive_to_pep508(text: str, what: str) -> str:
    """A bare sdist or wheel, as pip takes one in a package list (an absolute path, an
    ``http(s)://`` or ``file:`` URL), as ``name @ URL``: the direct reference pip
    builds the same way, checked and recorded like one. The name comes from the
    file name (``<name>-<version>.tar.gz`` or ``.zip``, a wheel's name), or from an
    ``#egg=`` fragment; a path becomes a ``file://`` URL."""
    shown = redact(text)
    if not _ARCHIVE_URL.match(text):  # a path
        if not posixpath.isabs(text) or ".." in text.split("/"):
            raise SpecError(
                f"{what} {shown!r}: a path to an sdist or wheel must be absolute, without "
                "'..', e.g. '/srv/sdists/foo-1.0.tar.gz'"
            )
        path, url = text, pathlib.PurePosixPath(posixpath.normpath(text)).as_uri()
    else:
        parts = urllib.parse.urlsplit(text)
        if any(p.startswith("egg=") for p in parts.fragment.split("&")):
            return _vcs_to_pep508(text, what)
        path, url = urllib.parse.unquote(parts.path), text
        if parts.scheme.lower() == "file" and (
                parts.netloc not in ("", "localhost") or not posixpath.isabs(path)
                or ".." in path.split("/")):
            raise SpecError(
                f"{what} {shown!r}: a file: URL must name an absolute path on this minion, "
                "without '..' or a host, e.g. 'file:///srv/sdists/foo-1.0.tar.gz'"
            )
        check_text(path, what)  # what a percent-encoded path decodes to
    return f"{_archive_name(posixpath.basename(path), shown, what)} @ {url}"


def _archive_name(filename: str, shown: str, what: str) -> str:
    """The project name in an sdist's or a wheel's file name."""
    from packaging import utils  # noqa: PLC0415  (see _packaging)

    try:
        if filename.endswith(".whl"):
            return str(utils.parse_wheel_filename(filename)[0])
        return str(utils.parse_sdist_filename(filename)[0])
    except (utils.InvalidSdistFilename, utils.InvalidWheelFilename):
        raise SpecError(
            f"{what} {shown!r}: no package name in its file name {filename[:80]!r} (an sdist "
            "'<name>-<version>.tar.gz' or '.zip', or a wheel); write it as 'name @ <URL>'"
        ) from None


def _packaging() -> Any:
    """packaging's requirement parser, imported when a requirement is parsed: a
    no-op run whose spec is cached (:class:`SpecCache`) never parses one."""
    from packaging import requirements  # noqa: PLC0415

    return requirements


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # noqa: PLC0415  (see _packaging)

    return canonicalize_name(name)


def _render(req: Requirement) -> str:
    """A canonical text of ``req`` that does not depend on the packaging version.

    Spec ids hash this text on builders and targets alike, which may run
    different releases of packaging; its own ``str()`` has changed over time.
    """
    out: str = _canonical(req.name)
    if req.extras:
        out += "[" + ",".join(sorted(_canonical(e) for e in req.extras)) + "]"
    if req.url:
        out += f" @ {req.url}"
    else:
        out += ",".join(sorted(str(spec) for spec in req.specifier))
    if req.marker is not None:
        out += f"{' ' if req.url else ''}; {req.marker}"
    return out


def normalize_requirements(items: Iterable[object] | None, what: str = "package") -> tuple[str, ...]:
    """Normalize a list of requirements: canonical, de-duplicated, sorted; empty
    entries dropped (:func:`is_blank`)."""
    return tuple(sorted({normalize_requirement(item, what) for item in _as_list(items, what)}))


def normalize_constraints(items: Iterable[object] | None, what: str = "constraint") -> tuple[str, ...]:
    """Normalize a list of constraints (requirements and ``-c`` files): canonical,
    de-duplicated, sorted; empty entries dropped (:func:`is_blank`)."""
    return tuple(sorted({normalize_constraint(item, what) for item in _as_list(items, what)}))


def is_blank(item: object) -> bool:
    """An empty entry of a list: None, or a string of whitespace only. Dropped from
    package, constraint and distro package lists, as the role's ``select()`` drops
    them (OpenStack-Ansible's templates write ``''`` through ``ternary``)."""
    return item is None or (isinstance(item, str) and not item.strip())


def _as_list(items: Any, what: str) -> list[Any]:
    """``items`` as a list without its empty entries (:func:`is_blank`)."""
    if items is None:
        return []
    if isinstance(items, (str, bytes, dict)) or not hasattr(items, "__iter__"):
        raise SpecError(f"{what}s must be a list of strings, not {redact(repr(items))}")
    return [item for item in items if not is_blank(item)]


def check_args(args: object, what: str) -> tuple[str, ...]:
    """Validate a list of command-line arguments (no shell, one token each).

    A string (the role's ``venv_pip_build_args: "--no-index --find-links /srv"``)
    is split as the role's shell-like command line splits it, by
    :func:`shlex.split`: quotes group, nothing is expanded or run. Only the form:
    which options are allowed is :mod:`argpolicy`'s. A message names an argument
    by its position, never by its text, which may be an index URL with a token."""
    if args is None:
        return ()
    if isinstance(args, str):
        try:
            args = shlex.split(args)
        except ValueError as exc:  # "No closing quotation", "No escaped character"
            raise SpecError(f"{what}: the string cannot be split into arguments as a shell "
                            f"would: {exc} (it is not shown)") from None
    if not isinstance(args, (list, tuple)):
        raise SpecError(
            f"{what} must be a list such as ['--no-index', '--find-links', '/srv/sdists'], "
            f"not {type(args).__name__} (it is not shown)"
        )
    out = []
    for index, item in enumerate(args, start=1):
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise SpecError(f"{what}: argument {index} is not a string but "
                            f"{type(item).__name__} (it is not shown)")
        arg = str(item)
        if "\0" in arg or "\n" in arg:
            raise SpecError(f"{what}: argument {index} contains a NUL or newline (it is not shown)")
        check_text(arg, f"{what}: argument {index}", allow_empty=True, secret=True)
        out.append(arg)
    return tuple(out)


def check_build_args(args: object, what: str = "build_args") -> tuple[str, ...]:
    """Arguments for ``pip wheel`` and the builder environment: :func:`check_args`,
    then only the options :data:`argpolicy.BUILD_ARGS` allows."""
    return argpolicy.check_build_args(check_args(args, what), what)


def _shown_name(key: object) -> str:
    """An environment variable name for a message: a bad one may be a whole
    ``NAME=value`` line, so nothing from its first ``=`` on is shown."""
    if not isinstance(key, str):
        return f"a {type(key).__name__} key"
    name = key.split("=", 1)[0][:64]
    return repr(name) + (" (what follows '=' is not shown)" if "=" in key else "")


def check_env(env: object, what: str) -> dict[str, str]:
    """Validate an environment mapping: only allowed names (:mod:`argpolicy`),
    scalar values. A message names the variable, never its value."""
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise SpecError(f"{what} must be a mapping of variable names to strings, not "
                        f"{type(env).__name__}")
    out = {}
    for key, given in env.items():
        if not isinstance(key, str) or not names.ENV_NAME.fullmatch(key):
            raise SpecError(f"{what}: {_shown_name(key)} is not a valid environment variable name")
        argpolicy.check_env_name(key, what)
        value = "" if given is None else given
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise SpecError(
                f"{what}: {key} must be a string or a number, not {type(value).__name__} "
                "(quote it in YAML)"
            )
        out[key] = check_text(str(value), f"{what}: {key}", allow_empty=True, secret=True)
    return out


def check_choice(value: _T, choices: Sequence[str], what: str) -> _T:
    """``value`` if it is one of ``choices``, else SpecError naming ``what``."""
    if value not in choices:
        raise SpecError(f"{what} {value!r}: must be one of {', '.join(choices)}")
    return value


_INPUTS = {"packages": None, "default_packages": None, "constraints": None,
           "global_constraints": None, "build_args": None,
           "build_requirements": DEFAULT_BUILD_REQUIREMENTS, "tools": ()}


@dataclasses.dataclass(frozen=True)
class VenvSpec:
    """What decides a venv's wheels. Immutable; ``spec_id`` is its content hash."""

    venv_id: str
    requirements: tuple[str, ...]
    constraints: tuple[str, ...]  # requirements and "-c <ref>" constraints files
    global_constraints: tuple[str, ...]
    build_args: tuple[str, ...]  # default_build_args + build_args
    platform: str
    build_requirements: tuple[str, ...] = DEFAULT_BUILD_REQUIREMENTS  # + build_requirements_extra

    @classmethod
    def create(cls, venv_id: str, platform: str = "", **inputs: Any) -> VenvSpec:
        """The spec of ``venv_id`` on ``platform`` from its ``inputs``.

        ``inputs`` are keyword arguments among ``packages``, ``default_packages``,
        ``constraints``, ``global_constraints``, ``build_args``,
        ``build_requirements`` (default :data:`DEFAULT_BUILD_REQUIREMENTS`) and
        ``tools`` (requirements added to the venv's own, for ``seed_tools``);
        anything else is a SpecError.
        """
        unknown = sorted(set(inputs) - set(_INPUTS))
        if unknown:
            raise SpecError(f"venv {venv_id!r}: unknown spec input(s) {', '.join(unknown)}")
        inputs = dict(_INPUTS, **inputs)
        packages, tools = inputs["packages"], inputs["tools"]
        reqs = normalize_requirements(
            _as_list(inputs["default_packages"], "default package") + _as_list(packages, "package")
        )
        if not reqs:
            raise SpecError(f"venv {venv_id!r}: no packages given; list at least one in 'packages'")
        if tools:
            reqs = tuple(sorted(set(reqs) | set(normalize_requirements(tools, "tool"))))
        return cls(
            venv_id=check_venv_id(venv_id),
            requirements=reqs,
            constraints=normalize_constraints(inputs["constraints"], "constraint"),
            global_constraints=normalize_constraints(inputs["global_constraints"],
                                                     "global constraint"),
            build_args=check_build_args(inputs["build_args"]),
            platform=platform,
            build_requirements=normalize_requirements(inputs["build_requirements"],
                                                      "build requirement"),
        )

    @classmethod
    def from_options(cls, venv_id: str, opts: Mapping[str, Any], platform: str,
                     cache: SpecCache | None = None) -> VenvSpec:
        """The spec of a venv from its checked options (:func:`options.validate`):
        ``default_build_args`` go before ``build_args``, ``build_requirements_extra``
        after ``build_requirements``, and ``seed_tools`` adds pip (and uv with
        ``install_tool: uv``) and the build requirements to the venv's own.

        With a ``cache``, the normalized spec of the same inputs is taken from it
        instead of parsing every requirement again (the no-op path's cost)."""
        build_requirements = list(opts["build_requirements"]) + list(
            opts["build_requirements_extra"] or [])
        tools: Sequence[str] = ()
        if opts["seed_tools"]:
            tools = ["pip", *(["uv"] if opts["install_tool"] == "uv" else []), *build_requirements]
        inputs = {
            "packages": opts["packages"], "default_packages": opts["default_packages"],
            "constraints": opts["constraints"], "global_constraints": opts["global_constraints"],
            "build_args": list(opts["default_build_args"]) + list(opts["build_args"]),
            "build_requirements": build_requirements, "tools": list(tools),
        }
        if cache is not None:
            known = cache.get(venv_id, platform, inputs)
            if known is not None:
                return known
        spec = cls.create(venv_id, platform, **inputs)
        if cache is not None:
            cache.put(venv_id, platform, inputs, spec)
        return spec

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain JSON data; :attr:`spec_id` hashes its canonical JSON."""
        return {
            "venv_id": self.venv_id,
            "requirements": list(self.requirements),
            "constraints": list(self.constraints),
            "global_constraints": list(self.global_constraints),
            "build_args": list(self.build_args),
            "build_requirements": list(self.build_requirements),
            "platform": self.platform,
        }

    def constraint_files(self) -> tuple[list[str], list[str]]:
        """``(global, own)``: the ``-c`` constraints files of each list."""
        return (
            [ref for ref in map(constraint_file_ref, self.global_constraints) if ref],
            [ref for ref in map(constraint_file_ref, self.constraints) if ref],
        )

    @property
    def spec_id(self) -> str:
        """The spec's content hash (16 hex digits): equal inputs give equal ids everywhere."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:SPEC_ID_LENGTH]


class SpecCache:
    """Normalized specs by their raw inputs, in a JSON file (``specs.json`` in
    venvbuild's state directory), so a no-op run neither imports ``packaging`` nor
    parses a requirement. An entry is keyed by the sha256 of the exact inputs, the
    platform and this cache's format; an unreadable file is an empty cache, and
    one that cannot be written only costs the parsing next time.

    No credential is written: build arguments (where index URLs with tokens go)
    are not stored but checked again from the inputs, which needs no parsing,
    and a spec with credentials in its requirements or constraints is not cached.
    """

    FORMAT = 1
    LIMIT = 512  # entries kept; the oldest go first

    def __init__(self, path: str, prepare: typing.Callable[[], object] | None = None) -> None:
        self.path = path
        self.prepare = prepare

    def _key(self, venv_id: str, platform: str, inputs: Mapping[str, Any]) -> str:
        raw = json.dumps({"format": self.FORMAT, "venv_id": venv_id, "platform": platform,
                          "inputs": inputs}, sort_keys=True, default=repr)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _read(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, venv_id: str, platform: str, inputs: Mapping[str, Any]) -> VenvSpec | None:
        """The cached spec of these inputs, or None."""
        entry = self._read().get(self._key(venv_id, platform, inputs))
        if not isinstance(entry, dict):
            return None
        fields: dict[str, Any] = {field: tuple(value) if isinstance(value, list) else value
                                  for field, value in entry.items()}
        try:
            spec = VenvSpec(**fields, build_args=check_build_args(inputs["build_args"]))
        except (TypeError, SpecError):
            return None
        return spec if spec.venv_id == venv_id and spec.platform == platform else None

    def put(self, venv_id: str, platform: str, inputs: Mapping[str, Any], spec: VenvSpec) -> None:
        """Remember ``spec`` for these inputs (best effort)."""
        entry = spec.as_dict()
        del entry["build_args"]
        if has_credentials(json.dumps(entry)):
            return
        data = self._read()
        data.pop(self._key(venv_id, platform, inputs), None)
        data[self._key(venv_id, platform, inputs)] = entry
        while len(data) > self.LIMIT:
            data.pop(next(iter(data)))
        try:
            if self.prepare is not None:
                self.prepare()
            atomic_write(self.path, json.dumps(data, sort_keys=False), 0o600)
        except (OSError, VenvbuildError):
            pass
