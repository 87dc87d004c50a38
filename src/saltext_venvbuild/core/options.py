"""Every option of a venv (pillar key and state argument) in one table.

(Longer than the project's other modules because the table is the single
source of truth: the state signatures, the SLS formulas and the docs are
checked against it, so it stays in one place with its checks.)

Each option has a default, a check that returns the value normalized or raises
SpecError naming the option, and says whether it matters to a build (the
options ``venvbuild.wheels_built`` and ``builder.sls`` take). The execution
module validates all options before anything runs; the state signatures, the
SLS formulas and the docs are checked against this table by the tests.
"""

from __future__ import annotations

import dataclasses
import math
import posixpath
import pwd
from typing import Any
from typing import Callable
from typing import Collection
from typing import Iterable
from typing import Mapping
from typing import Sequence

from . import argpolicy
from . import fsutil
from . import names
from .errors import RepoError
from .errors import SpecError
from .manifest import check_sha256
from .remote import check_repo_url
from .spec import DEFAULT_BUILD_REQUIREMENTS
from .spec import INSTALL_TOOLS
from .spec import PACKAGE_STATES
from .spec import check_args
from .spec import check_build_args
from .spec import check_choice
from .spec import check_env
from .spec import check_venv_id
from .spec import is_blank
from .text import check_text
from .text import redact
from .trust import check_builder_platforms

DEFAULT_REPO_PATH = "/srv/venvbuild"
TGT_TYPES = ("glob", "pcre", "list", "grain", "grain_pcre", "pillar", "pillar_pcre",
             "pillar_exact", "compound", "nodegroup", "ipcidr")


# -- checks -----------------------------------------------------------------------------


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{name} {value!r}: must be true or false (a YAML boolean, not a string)")
    return value


def _seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{name} {value!r}: must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise SpecError(f"{name} {value!r}: must be a finite number of seconds, at least 0")
    return float(value)


def _positive_seconds(value: object, name: str) -> float:
    value = _seconds(value, name)
    if value <= 0:
        raise SpecError(f"{name} {value!r}: must be more than 0 seconds")
    return value


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"{name} {value!r}: must be a whole number of at least 1")
    return value


MAX_RETRIES = 20
MAX_RETRY_DELAY = 300.0


def _retries(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
        raise SpecError(f"{name} {value!r}: must be a whole number from 0 to {MAX_RETRIES}")
    return value


def _retry_delay(value: object, name: str) -> float:
    value = _seconds(value, name)
    if value > MAX_RETRY_DELAY:
        raise SpecError(f"{name} {value!r}: must be at most {MAX_RETRY_DELAY:.0f} seconds")
    return value


def _choice(choices: Sequence[str]) -> Callable[[Any, str], Any]:
    def check(value: Any, name: str) -> Any:
        if value not in choices:
            raise SpecError(f"{name} {value!r}: must be one of {', '.join(choices)}")
        return value
    return check


def _string_list(value: object, name: str) -> list[str] | None:
    """A list of strings (requirements are checked by the spec, which names each);
    empty entries (``''``, ``None``) are dropped, as the role's ``select()`` does."""
    if value is None:
        return None
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
        raise SpecError(f"{name} must be a list of strings, not {redact(repr(value))}")
    value = [item for item in value if not is_blank(item)]
    for item in value:
        if not isinstance(item, str):
            raise SpecError(f"{name}: {redact(repr(item))} is not a string")
    return value


# The role's venv_pip_package_state values that have no equivalent here, and what does.
ROLE_ONLY_PACKAGE_STATES = {
    "absent": ("to remove packages, drop them from packages (the next venv is made "
               "without them); to remove the venv, use the venvbuild.absent state"),
    "forcereinstall": ("every change here installs every package into a fresh venv; to "
                       "reinstall an unchanged venv now, set rebuild: true for one run"),
}


def _package_state(value: object, name: str) -> str:
    """``package_state``: present or latest; the role's absent and forcereinstall are
    refused with what to do instead."""
    if isinstance(value, str) and value in ROLE_ONLY_PACKAGE_STATES:
        raise SpecError(f"{name} {value!r}: must be one of {', '.join(PACKAGE_STATES)}; the "
                        f"role's {value!r} has no equivalent here: {ROLE_ONLY_PACKAGE_STATES[value]}")
    return str(check_choice(value, PACKAGE_STATES, name))


def _args(value: object, name: str) -> tuple[str, ...]:
    """``build_args``, ``default_build_args``: for pip wheel (core/argpolicy.py)."""
    return check_build_args(value, name)


def _install_args(value: object, name: str) -> tuple[str, ...]:
    """``install_args``: the form only; :func:`validate` checks them against the
    options ``install_tool`` may be given (core/argpolicy.py), once that is known."""
    return check_args(value, name)


def _env(value: object, name: str) -> dict[str, str]:
    return check_env(value, name)


def _string(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{name} {value!r}: must be a non-empty string")
    return check_text(value, name)


def _abs_path(value: object, name: str) -> str:
    value = _string(value, name)
    if not posixpath.isabs(value) or ".." in value.split("/"):
        raise SpecError(f"{name} {value!r}: must be an absolute path without '..'")
    return posixpath.normpath(value)


def _readable_file(value: object, name: str) -> str:
    value = _abs_path(value, name)
    try:
        with open(value, "rb"):
            pass
    except OSError as exc:
        raise SpecError(f"{name} {value}: cannot read it ({exc.strerror}); give the path of "
                        "an existing file") from None
    return value


def _python(value: object, name: str) -> str:
    return _string(value, name)


def _repo_url(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{name} {value!r}: must be a URL string such as http://build01:8181")
    try:
        return check_repo_url(check_text(value, name), name)
    except RepoError as exc:  # a bad value is a spec error here
        raise SpecError(str(exc)) from None


def _minion_id(value: object, name: str) -> str:
    value = _string(value, name)
    if not names.MINION_ID.fullmatch(value):
        raise SpecError(f"{name} {value!r}: must be one minion id (no globs, commas or spaces); "
                        "use builder_target for an expression")
    return value


def _target(value: object, name: str) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_minion_id(item, name) for item in value)
    return _string(value, name)


def _release(value: object, name: str) -> str:
    return check_venv_id(str(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                         else value, name)


def check_package_names(value: object, name: str) -> list[str]:
    """A sorted list of distro package names; refuses anything that is not one."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise SpecError(f"{name} must be a list of package names, not {value!r}")
    value = [item for item in value if not is_blank(item)]  # the role's ternary('') entries
    for item in value:
        if not isinstance(item, str) or not names.DISTRO_PACKAGE.fullmatch(item):
            raise SpecError(f"{name}: {item!r} is not a distro package name")
    return sorted(set(value))


def check_facts(value: object, name: str = "facts_when_changed") -> list[dict[str, str]]:
    """``facts_when_changed``: a list of ``{section, option, value}``."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"{name} must be a list of {{section, option, value}}, not {value!r}")
    out = []
    for fact in value:
        if not isinstance(fact, dict) or set(fact) != {"section", "option", "value"}:
            raise SpecError(f"{name}: {fact!r} needs exactly section, option and value")
        for key in ("section", "option"):
            if not isinstance(fact[key], str) or not names.SIMPLE.fullmatch(fact[key]):
                raise SpecError(f"{name}: {key} {fact[key]!r} is not a simple name")
        if isinstance(fact["value"], (dict, list, tuple)) or fact["value"] is None:
            raise SpecError(f"{name}: value {fact['value']!r} must be a string or number")
        out.append({"section": fact["section"], "option": fact["option"],
                    "value": check_text(str(fact["value"]), f"{name}: value")})
    return out


def _facts_dest(value: object, name: str) -> str:
    if not isinstance(value, str) or not names.SIMPLE.fullmatch(value):
        raise SpecError(f"{name} {value!r}: use letters, digits, '.', '_' and '-' (a file name)")
    return value


def _user(value: object, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SpecError(f"{name} {value!r}: must be a user name")
    _passwd(value, name)
    return str(value)


def _passwd(user: str | int, name: str = "repo_user") -> pwd.struct_passwd:
    try:
        if str(user).isdigit():
            return pwd.getpwuid(int(user))
        return pwd.getpwnam(str(user))
    except KeyError:
        raise SpecError(f"{name} {user!r}: no such user; create it, fix the name or set "
                        "repo_group instead") from None


def _group(value: object, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SpecError(f"{name} {value!r}: must be a group name")
    fsutil.group_id(value, name)
    return str(value)


def repo_gid(repo_user: str | int | None, repo_group: str | int | None) -> int | None:
    """The gid that gets read access to the repo: ``repo_group``, else ``repo_user``'s
    primary group; None when neither is set (the repo is world-readable)."""
    if repo_group is not None:
        return fsutil.group_id(repo_group, "repo_group")
    if repo_user is not None:
        return _passwd(repo_user).pw_gid
    return None


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: its name, its default, its check and whether it matters to a build;
    ``doc`` is its description for the docs and the state's docstring."""

    name: str
    default: Any
    check: Callable[[Any, str], Any]  # (value, name) -> normalized value; raises SpecError
    build: bool  # matters to a build (wheels_built, builder.sls)
    doc: str


def _opt(name: str, default: Any, check: Callable[[Any, str], Any], build: bool, doc: str) -> Option:
    return Option(name, default, check, build, doc)


TABLE = (
    # What goes into the venv.
    _opt("packages", None, _string_list, True,
         "List of requirements to install, e.g. ``[keystone==26.0.0, PyMySQL]``."),
    _opt("default_packages", None, _string_list, True,
         "Requirements merged into ``packages`` (for site-wide additions)."),
    _opt("constraints", None, _string_list, True,
         "Source constraints for the build: pins, ``name @ git+URL@REF``, and constraints files ``--constraint <URL or path>`` (upper-constraints)."),
    _opt("global_constraints", None, _string_list, True,
         "Constraints applied ahead of ``constraints``, also to the builder environment."),
    _opt("python", "python3", _python, True,
         "Interpreter of the venv and its wheels, a name on PATH or a path (default ``python3``)."),
    _opt("install_tool", "pip", _choice(INSTALL_TOOLS), True,
         "``pip`` (default) or ``uv``: creates and installs venvs, provisions the builder environment."),
    _opt("seed_tools", False, _bool, True,
         "Put the role's tools into the venv: pip (and uv with ``install_tool: uv``) and ``build_requirements``, built by the builder and installed from the manifest."),
    _opt("package_state", "present", _package_state, True,
         "``present`` (default): build a spec once; ``latest``: resolve again (and upgrade the builder environment) on every run, ``test=True`` included. The role's ``absent`` and ``forcereinstall`` are refused, naming what does their work here."),
    # Building.
    _opt("build_args", None, _args, True,
         "List of extra arguments for ``pip wheel``, e.g. ``[--no-index, --find-links, /srv/sdists]``; only the options listed in docs/usage.md (\"Allowed options and variables\") are accepted."),
    _opt("default_build_args", None, _args, True,
         "Arguments put before ``build_args``, for every venv (the role's ``venv_default_pip_build_args``), e.g. ``[--no-build-isolation]``."),
    _opt("build_env", None, _env, True,
         "Mapping of environment variables for the build; only the variables listed in docs/usage.md are accepted, and their values are never shown."),
    _opt("build_requirements", list(DEFAULT_BUILD_REQUIREMENTS), _string_list, True,
         "What the builder environment holds besides pip (default ``[pbr, setuptools, wheel]``, the role's ``venv_build_requirements``)."),
    _opt("build_requirements_extra", None, _string_list, True,
         "More builder environment requirements (the role's ``venv_build_requirements_extra``), e.g. ``[Cython]``."),
    _opt("build_timeout", 3600, _positive_seconds, True,
         "Seconds a build (or the builder environment's set-up) may run before it is stopped with all it started (default 3600)."),
    _opt("retries", 5, _retries, True,
         "How many times a build (``pip wheel``, the builder environment's set-up) or a distro package install is tried again after a failure with a passing cause (the network, the package manager's lock; never a compile error), as the role's ``retries: 5`` (default 5; 0 to 20)."),
    _opt("retry_delay", 2, _retry_delay, True,
         "Seconds before the first retry, doubled after each (default 2, the role's ``delay: 2``; at most 300)."),
    _opt("wheels_rebuild", False, _bool, True,
         "Build the wheels again ignoring pip's caches; with ``rebuild`` also recreate the builder environment."),
    _opt("rebuild", False, _bool, True,
         "Install a fresh venv even if the installed one is current."),
    _opt("build_pkgs", None, check_package_names, True,
         "Distro packages needed to build the wheels, installed through Salt's ``pkg`` before a build (and on every run of a minion that builds for itself), with the base packages unless ``base_pkgs`` is false."),
    _opt("base_pkgs", True, _bool, True,
         "Add the role's base packages of the OS family (Debian, RedHat) to ``build_pkgs`` and ``install_pkgs``, as the role does (default ``True``; ``False``: only the venv's own)."),
    _opt("pkgs_state", "present", _choice(PACKAGE_STATES), True,
         "``present`` (default) or ``latest`` for ``build_pkgs`` and ``install_pkgs``."),
    _opt("pkgs_cache_valid_time", 600, _seconds, True,
         "Seconds the package database stays fresh before a refresh (apt; default 600)."),
    # The repo.
    _opt("repo_path", None, _abs_path, True,
         "The local wheel repo, used when building (default: pillar ``venvbuild:repo:path`` or ``/srv/venvbuild``)."),
    _opt("release", None, _release, True,
         "Release level of the repo layout: ``<repo>/<release>/<platform>/`` (the role's ``openstack_release``)."),
    _opt("repo_user", None, _user, True,
         "A user whose primary group may read what a build publishes (a web server's); it never owns or writes the repo."),
    _opt("repo_group", None, _group, True,
         "A group that may read what a build publishes (directories ``0750``, files ``0640``); it never writes the repo."),
    _opt("pip_noconf", False, _bool, True,
         "Ignore pip's configuration files while pip and the build requirements are installed into the builder environment (the role's ``venv_pip_upgrade_noconf``, which covers its tool upgrade only); builds and installs still read them."),
    _opt("uv_bin", None, _abs_path, True,
         "Path of the uv binary, when it is neither on PATH nor beside Salt."),
    _opt("ca_bundle", None, _readable_file, True,
         "CA bundle for HTTPS repos and indexes: manifest, wheel and constraints fetches, pip and uv (default: the system's CA store)."),
    # Where a target's wheels come from.
    _opt("repo_url", None, _repo_url, False,
         "Install from the repo served at this URL (the role's ``openstack_repo_url``); with ``builder`` or ``builder_target`` too, the builder's mine entry still vouches for the manifest."),
    _opt("manifest_sha256", None, check_sha256, False,
         "With ``repo_url`` and no builder: the sha256 the spec's manifest must have."),
    _opt("builder", None, _minion_id, False,
         "Minion id of the builder to install from, found through the mine."),
    _opt("builder_target", None, _target, False,
         "Target expression matching the builders (the role's ``venv_build_group``); one serving this minion's platform key is chosen deterministically through the mine alias ``venvbuild_repo``. Match builders by id, pillar or nodegroup: a grain is the minion's own claim (a warning says so)."),
    _opt("builder_tgt_type", "glob", _choice(TGT_TYPES), False,
         "Type of ``builder_target`` (default ``glob``); ``list``, ``glob``, ``pcre``, ``pillar`` and ``nodegroup`` are the master's word."),
    _opt("builder_platforms", None, check_builder_platforms, False,
         "``{builder id glob: [platform key globs]}``: which builders may serve which platforms (the master's word; default: any matched builder)."),
    _opt("wheel_build", True, _bool, False,
         "``True`` (default): with no builder configured, build on this minion. ``False``: never build here; fail without a builder or ``repo_url``. The role's ``venv_wheel_build_enable: false`` (build on the target itself) is ``builder_target: null`` and ``builder: null`` here (docs/mapping.md)."),
    _opt("build_fallback", False, _bool, False,
         "Build on this minion when builders are configured but none serves its platform (default ``False``: fail, as the role does)."),
    _opt("wait_timeout", 300, _seconds, False,
         "Seconds a target waits for its builder's manifest of this spec, and retries fetches (default 300)."),
    _opt("request_build", False, _bool, False,
         "When the builder has not published this spec yet, ask it to build it now through peer publishing (``venvbuild.build_spec``; needs a master ``peer`` rule) instead of only waiting (default ``False``)."),
    # Installing.
    _opt("install_args", None, _install_args, False,
         "List of extra arguments for the install into the venv, e.g. ``[--compile-bytecode]``; only the options of ``install_tool`` listed in docs/usage.md are accepted (nothing that writes elsewhere: ``--target``, ``--report``, ``--cache-dir``... are refused)."),
    _opt("install_env", None, _env, False,
         "Mapping of environment variables for the install; the same variables as ``build_env`` are accepted, and their values are never shown."),
    _opt("install_timeout", 1800, _positive_seconds, False,
         "Seconds creating or installing the venv may run (default 1800)."),
    _opt("keep_versions", 2, _positive_int, False,
         "How many venv directories venvbuild made to keep, the live one included (default 2)."),
    _opt("adopt_existing", False, _bool, False,
         "A directory that is not a venv (or a foreign symlink) at the venv's path is moved aside (kept, never pruned) instead of refused. A venv made by other means is always moved aside and kept."),
    _opt("install_pkgs", None, check_package_names, False,
         "Distro packages the venv needs at run time, with the base packages unless ``base_pkgs`` is false, installed through ``pkg`` and ensured on every run (files only while the package database is unchanged)."),
    _opt("symlink_pkgs", None, check_package_names, False,
         "Distro packages whose Python modules are linked into the venv (found with ``pkg.file_list``; top-level entries of site-/dist-packages only)."),
    _opt("facts_when_changed", None, check_facts, False,
         "List of ``{section, option, value}`` set as grains ``<facts_dest>:<section>:<option>`` and in ``<config dir>/facts.d/<facts_dest>.fact`` when the venv changed."),
    _opt("facts_dest", "venvbuild", _facts_dest, False,
         "Name of the facts grain and file (default ``venvbuild``)."),
)
OPTIONS = {option.name: option for option in TABLE}
BUILD_OPTIONS = tuple(option.name for option in TABLE if option.build)


def parameter_docs(names: Collection[str] | None = None, indent: int = 4) -> str:
    """The Salt-style parameter list of ``names`` (default: every option), for
    docstrings: each name, then its description indented below it on one line.

    Built at every import of the Salt modules (their docstrings), so it is kept to
    string joins: wrapping the text here cost more than a whole no-op state."""
    pad = " " * indent
    return "".join(f"{pad}{option.name}\n{pad}    {option.doc}\n" for option in TABLE
                   if names is None or option.name in names)


OPTIONS_HINT = "salt-call sys.state_doc venvbuild.installed and docs/usage.md list the options"


def _shown_key(key: object) -> str:
    """A key for a message: quoted, escaped and cut (it may be long or hostile)."""
    shown = repr(key)
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def unknown_keys(keys: Iterable[object], known: Collection[str], where: str, what: str = "key",
                 hint: str | None = None, instead: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per key of ``keys`` that is not in ``known``, sorted, each naming
    ``where`` and the key and suggesting the closest match (``difflib``): ``pillar
    venvbuild:defaults: unknown key 'pakages'; did you mean 'packages'?``.

    Without a close match the sentence lists ``known`` (up to twelve names) or says
    ``hint`` (default: where the options are listed). ``instead`` maps a key to what
    to say in place of a guess (``path`` in ``defaults`` is a venv's own key)."""
    unknown = sorted((key for key in keys if key not in known), key=_shown_key)
    if not unknown:
        return []
    import difflib  # noqa: PLC0415  (only on an error: a no-op run never imports it)

    names = sorted(str(name) for name in known)
    problems = []
    for key in unknown:
        head = f"{where}: unknown {what} {_shown_key(key)}"
        close = difflib.get_close_matches(key, names, n=1) if isinstance(key, str) else []
        if instead and isinstance(key, str) and key in instead:
            tail = instead[key]
        elif close:
            tail = f"did you mean {close[0]!r}?"
        elif hint is None and len(names) <= 12:
            tail = f"the known {what}s are {', '.join(names)}"
        else:
            tail = hint or OPTIONS_HINT
        problems.append(f"{head}; {tail}")
    return problems


def validate(values: Mapping[str, Any], config_repo_path: str = DEFAULT_REPO_PATH) -> dict[str, Any]:
    """Check and default every option of ``values`` (unknown keys are refused).

    Keys starting with ``__`` (Salt's ``__pub_*``) are ignored. A value of
    None takes the default. ``config_repo_path`` is the repo path from the
    minion's configuration, the default of ``repo_path``.
    """
    problems = unknown_keys((k for k in values if not str(k).startswith("__")), OPTIONS,
                            "venvbuild", "argument")
    if problems:
        raise SpecError("\n".join(problems))
    opts: dict[str, Any] = {}
    for option in TABLE:
        value = values.get(option.name)
        if value is None:
            value = option.default
        opts[option.name] = None if value is None else option.check(value, option.name)
    if opts["repo_path"] is None:
        opts["repo_path"] = _abs_path(config_repo_path, "repo_path")
    for key in ("build_env", "install_env"):
        opts[key] = opts[key] or {}
    for key in ("build_args", "default_build_args", "install_args"):
        opts[key] = opts[key] or ()
    for key in ("build_pkgs", "install_pkgs", "symlink_pkgs", "facts_when_changed"):
        opts[key] = opts[key] or []
    # install_args are read as install_tool's parser reads them; nothing else is given.
    argpolicy.check_install_args(opts["install_args"], "install_args", opts["install_tool"])
    if opts["manifest_sha256"] and not opts["repo_url"]:
        raise SpecError("manifest_sha256 is for repo_url: set repo_url too, or drop it")
    opts["repo_gid"] = repo_gid(opts["repo_user"], opts["repo_group"])
    return opts
