"""A venv's inputs, normalized, and the content-addressed spec id they hash to.

The spec id is what builder and targets agree on without talking: both compute
it from the same pillar, so a target knows which manifest to ask for. It covers
everything that decides which wheels end up in the venv (requirements,
constraints, build arguments, platform key) and nothing that does not
(install arguments, environment variables, the install tool).
"""

import dataclasses
import hashlib
import json
import re

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .errors import SpecError

SPEC_ID_LENGTH = 16
PACKAGE_STATES = ("present", "latest")
INSTALL_TOOLS = ("pip", "uv")

_VENV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# pip's legacy VCS form: git+https://host/repo@ref#egg=name
_EGG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")


def check_venv_id(venv_id, what="venv id"):
    """A name used in file names and URLs: the venv id, a release name."""
    if not isinstance(venv_id, str) or not _VENV_ID.fullmatch(venv_id):
        raise SpecError(
            f"{what} {venv_id!r}: use letters, digits, '.', '_' and '-' only "
            "(it names files and URLs), e.g. 'keystone'"
        )
    return venv_id


def normalize_requirement(text, what="package"):
    """Return the canonical PEP 508 form of one requirement string.

    Names are canonicalized (``PyMySQL`` -> ``pymysql``), specifiers sorted, and
    pip's ``git+URL@REF#egg=name`` form rewritten to ``name @ git+URL@REF``.
    Anything that is not a requirement (a pip option such as ``--index-url``,
    two lines in one string) is refused, so a package list cannot carry options.
    """
    if not isinstance(text, str):
        raise SpecError(f"{what} {text!r}: must be a string such as 'keystone==26.0.0'")
    stripped = text.strip()
    if not stripped:
        raise SpecError(f"{what} list contains an empty entry")
    if "\n" in stripped or "\r" in stripped:
        raise SpecError(f"{what} {text!r}: one requirement per entry, no line breaks")
    if stripped.startswith("-"):
        raise SpecError(
            f"{what} {stripped!r}: looks like a pip option, not a requirement; "
            "pass options through build_args or install_args"
        )
    if stripped.startswith(_VCS_PREFIXES):
        stripped = _vcs_to_pep508(stripped, what)
    try:
        req = Requirement(stripped)
    except InvalidRequirement as exc:
        raise SpecError(f"{what} {text!r} is not a valid requirement: {exc}") from None
    return _render(req)


def _vcs_to_pep508(text, what):
    """``git+URL@REF#egg=name&subdirectory=x`` -> ``name @ git+URL@REF#subdirectory=x``."""
    url, _, fragment = text.partition("#")
    params = [p for p in fragment.split("&") if p]
    names = [p[len("egg="):] for p in params if p.startswith("egg=")]
    if not names or not _EGG_NAME.fullmatch(names[0]):
        raise SpecError(
            f"{what} {text!r}: a VCS URL needs a name: write "
            "'name @ git+URL@REF' or 'git+URL@REF#egg=name'"
        )
    rest = "&".join(p for p in params if not p.startswith("egg="))
    return f"{names[0]} @ {url}{'#' + rest if rest else ''}"


def _render(req):
    """A canonical text of ``req`` that does not depend on the packaging version.

    Spec ids hash this text on builders and targets alike, which may run
    different releases of packaging; its own ``str()`` has changed over time.
    """
    out = canonicalize_name(req.name)
    if req.extras:
        out += "[" + ",".join(sorted(canonicalize_name(e) for e in req.extras)) + "]"
    if req.url:
        out += f" @ {req.url}"
    else:
        out += ",".join(sorted(str(spec) for spec in req.specifier))
    if req.marker is not None:
        out += f"{' ' if req.url else ''}; {req.marker}"
    return out


def normalize_requirements(items, what="package"):
    """Normalize a list of requirements: canonical, de-duplicated, sorted."""
    return tuple(sorted({normalize_requirement(item, what) for item in _as_list(items, what)}))


def _as_list(items, what):
    if items is None:
        return []
    if isinstance(items, (str, bytes, dict)) or not hasattr(items, "__iter__"):
        raise SpecError(f"{what}s must be a list of strings, not {items!r}")
    return list(items)


def check_args(args, what):
    """Validate a list of command-line arguments (no shell, one token each)."""
    if args is None:
        return ()
    if isinstance(args, str):
        raise SpecError(
            f"{what} must be a list such as ['--no-index', '--find-links', '/srv/sdists'], "
            f"not the string {args!r}"
        )
    out = []
    for arg in args:
        if not isinstance(arg, (str, int, float)) or isinstance(arg, bool):
            raise SpecError(f"{what}: argument {arg!r} is not a string")
        arg = str(arg)
        if "\0" in arg or "\n" in arg:
            raise SpecError(f"{what}: argument {arg!r} contains a NUL or newline")
        out.append(arg)
    return tuple(out)


def check_env(env, what):
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise SpecError(f"{what} must be a mapping of variable names to strings, not {env!r}")
    out = {}
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise SpecError(f"{what}: {key!r} is not a valid environment variable name")
        out[key] = "" if value is None else str(value)
    return out


def check_choice(value, choices, what):
    if value not in choices:
        raise SpecError(f"{what} {value!r}: must be one of {', '.join(choices)}")
    return value


@dataclasses.dataclass(frozen=True)
class VenvSpec:
    """What decides a venv's wheels. Immutable; ``spec_id`` is its content hash."""

    venv_id: str
    requirements: tuple
    constraints: tuple
    global_constraints: tuple
    build_args: tuple
    platform: str

    @classmethod
    def create(
        cls,
        venv_id,
        packages=None,
        default_packages=None,
        constraints=None,
        global_constraints=None,
        build_args=None,
        platform="",
    ):
        reqs = normalize_requirements(
            _as_list(default_packages, "default package") + _as_list(packages, "package")
        )
        if not reqs:
            raise SpecError(f"venv {venv_id!r}: no packages given; list at least one in 'packages'")
        return cls(
            venv_id=check_venv_id(venv_id),
            requirements=reqs,
            constraints=normalize_requirements(constraints, "constraint"),
            global_constraints=normalize_requirements(global_constraints, "global constraint"),
            build_args=check_args(build_args, "build_args"),
            platform=platform,
        )

    def as_dict(self):
        return {
            "venv_id": self.venv_id,
            "requirements": list(self.requirements),
            "constraints": list(self.constraints),
            "global_constraints": list(self.global_constraints),
            "build_args": list(self.build_args),
            "platform": self.platform,
        }

    @property
    def spec_id(self):
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:SPEC_ID_LENGTH]
