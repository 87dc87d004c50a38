"""Which options and environment variables venvbuild hands to pip and uv: allow-lists.

``build_args``, ``install_args``, ``build_env`` and ``install_env`` come from
pillar, and pip and uv run as root with them. Many of their options and
variables decide where files go (``--target``, ``--report``, ``--log``,
``--cache-dir``, ``--src``, ``-w``, ``PIP_TARGET``, ``UV_CACHE_DIR``...), which
code runs (``PYTHONPATH``, ``LD_PRELOAD``), which configuration is read
(``PIP_CONFIG_FILE``, ``UV_CONFIG_FILE``) or switch a check off
(``UV_NO_VERIFY_HASHES``). A deny-list misses the next one, and pip reads
``PIP_tArGeT`` as ``PIP_TARGET`` and ``--targ`` as ``--target``; so only what is
listed here passes, spelled exactly, and everything else is refused with an
error naming it. docs/usage.md ("Allowed options and variables") lists the
same names, and a test keeps the two equal.

How a list of arguments is read, the way pip (optparse) and uv (clap) both read
it, so that what is checked is what runs:

- ``--name`` must be an allowed option, in full: pip would expand an
  abbreviation (``--no-ind``), uv would not, so none is accepted;
- ``--name=value`` gives an option its value; a flag takes none;
- an option that takes a value takes the next argument, which must not start
  with ``-`` (pip would take ``--index-url --target`` as a URL, uv as two
  options);
- ``-vq`` is a cluster of short flags; ``-ihttps://x`` or ``-qi https://x``
  end with a short option and its value (never ``-i=x``, which pip and uv read
  differently);
- anything else (a requirement, a path, ``--``) is refused: packages go in
  ``packages``.

Errors name the option or variable and never show a value: values carry index
URLs with tokens and proxy passwords. A URL value whose credentials could not be
hidden in logs (a raw ``/``, ``#``, ``@`` or space in them) is refused.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable
from typing import Sequence

from .errors import SpecError
from .text import undelimited_credentials

DOCS = 'docs/usage.md, "Allowed options and variables"'


@dataclasses.dataclass(frozen=True)
class ArgList:
    """The options one tool is given from one option: those that take no value
    (``flags``) and those that take exactly one (``values``), long and short."""

    what: str  # where the arguments go, for messages: "pip wheel", "uv pip install"...
    flags: frozenset[str]
    values: frozenset[str]

    def names(self) -> frozenset[str]:
        """Every allowed spelling."""
        return self.flags | self.values

    def union(self, other: ArgList, what: str) -> ArgList:
        """The options of both lists (an option takes a value in both or in neither)."""
        return ArgList(what, self.flags | other.flags, self.values | other.values)


def _args(what: str, flags: Iterable[str], values: Iterable[str]) -> ArgList:
    return ArgList(what, frozenset(flags), frozenset(values))


# What reaches an index or a source, shared by pip wheel and pip install.
_PIP_FLAGS = ("--no-index", "--pre", "--prefer-binary", "--no-build-isolation", "--use-pep517",
              "--no-use-pep517", "--check-build-dependencies", "--no-deps", "--no-cache-dir",
              "--verbose", "-v", "--quiet", "-q")
# Not --isolated: pip then ignores every PIP_* variable, so venvbuild's PIP_CACHE_DIR
# (the cache in its state directory) would give way to one under HOME.
_PIP_VALUES = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host",
               "--no-binary", "--only-binary", "--config-settings", "-C", "--timeout", "--retries",
               "--proxy", "--cert", "--client-cert", "--progress-bar", "--keyring-provider")

# build_args and default_build_args: `pip wheel`, and the builder environment's
# provisioning (`pip install`, or `uv pip install` with install_tool uv).
BUILD_ARGS = _args("pip wheel", _PIP_FLAGS, _PIP_VALUES)

# install_args with install_tool pip: `pip install` into the new venv.
PIP_INSTALL_ARGS = _args(
    "pip install",
    _PIP_FLAGS + ("--compile", "--no-compile", "--no-warn-script-location", "--no-warn-conflicts",
                  "--require-hashes"),
    _PIP_VALUES + ("--upgrade-strategy",),
)

# install_args with install_tool uv: `uv pip install` into the new venv.
UV_INSTALL_ARGS = _args(
    "uv pip install",
    ("--no-index", "--pre", "--no-build-isolation", "--no-deps", "--require-hashes",
     "--compile-bytecode", "--compile", "--reinstall", "--refresh", "--offline", "--native-tls",
     "--system-certs", "--no-cache", "--no-cache-dir", "-n", "--no-progress", "--verbose", "-v",
     "--quiet", "-q"),
    ("--index-url", "-i", "--extra-index-url", "--index", "--default-index", "--find-links", "-f",
     "--index-strategy", "--link-mode", "--config-setting", "--config-settings", "-C",
     "--keyring-provider", "--no-binary", "--only-binary", "--allow-insecure-host", "--trusted-host",
     "--prerelease"),
)

INSTALL_ARGS = {"pip": PIP_INSTALL_ARGS, "uv": UV_INSTALL_ARGS}
# Before the install tool is known: what either tool may be given.
ANY_INSTALL_ARGS = PIP_INSTALL_ARGS.union(UV_INSTALL_ARGS, "pip install or uv pip install")

# Refused with a pointer to the option that does the same, checked.
_INSTEAD = {
    "-c": "put constraints files in constraints or global_constraints, whose lines venvbuild checks",
    "--constraint": "put constraints files in constraints or global_constraints, whose lines "
                    "venvbuild checks",
    "--constraints": "put constraints files in constraints or global_constraints, whose lines "
                     "venvbuild checks",
    "-r": "put requirements in packages",
    "--requirement": "put requirements in packages",
    "--requirements": "put requirements in packages",
}

# build_env and install_env: reach an index, build C code, describe the locale.
ENV_NAMES = frozenset([
    # proxies
    "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
    "all_proxy", "ALL_PROXY",
    # certificates (read; ca_bundle covers venvbuild's own fetches too)
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
    "PIP_CLIENT_CERT", "UV_NATIVE_TLS", "UV_SYSTEM_CERTS",
    # pip: indexes and what it takes from them
    "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_TRUSTED_HOST",
    "PIP_TIMEOUT", "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES", "PIP_PROXY", "PIP_NO_BINARY",
    "PIP_ONLY_BINARY", "PIP_PREFER_BINARY", "PIP_PRE", "PIP_NO_BUILD_ISOLATION", "PIP_USE_PEP517",
    "PIP_CONFIG_SETTINGS", "PIP_KEYRING_PROVIDER", "PIP_PROGRESS_BAR", "PIP_NO_CACHE_DIR",
    "PIP_VERBOSE", "PIP_QUIET",
    # uv: the same
    "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX", "UV_FIND_LINKS",
    "UV_INDEX_STRATEGY", "UV_KEYRING_PROVIDER", "UV_INSECURE_HOST", "UV_HTTP_TIMEOUT",
    "UV_HTTP_RETRIES", "UV_CONCURRENT_DOWNLOADS", "UV_CONCURRENT_BUILDS", "UV_CONCURRENT_INSTALLS",
    "UV_PRERELEASE", "UV_NO_BUILD_ISOLATION", "UV_LINK_MODE", "UV_COMPILE_BYTECODE", "UV_OFFLINE",
    "UV_NO_CACHE",
    # compilers and builds
    "CC", "CXX", "CFLAGS", "CXXFLAGS", "CPPFLAGS", "LDFLAGS", "PKG_CONFIG_PATH", "MAKEFLAGS",
    "MAX_JOBS", "NPY_NUM_BUILD_JOBS", "CMAKE_BUILD_PARALLEL_LEVEL", "PBR_VERSION",
    "SETUPTOOLS_SCM_PRETEND_VERSION",
    # locale and time
    "LANG", "LC_ALL", "LC_CTYPE", "TZ",
])
# Families of variables, by the form the docs show them in.
ENV_PATTERNS = {
    "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<NAME>":
        re.compile(r"SETUPTOOLS_SCM_PRETEND_VERSION_FOR_[A-Z0-9_]+"),
    "UV_INDEX_<NAME>_USERNAME": re.compile(r"UV_INDEX_[A-Z0-9_]+_USERNAME"),
    "UV_INDEX_<NAME>_PASSWORD": re.compile(r"UV_INDEX_[A-Z0-9_]+_PASSWORD"),
}

# Options whose value is a URL that may carry credentials (``https://user:token@host/``).
URL_OPTIONS = frozenset(["--index-url", "-i", "--extra-index-url", "--index", "--default-index",
                         "--find-links", "-f", "--proxy"])

_LONG_NAME = re.compile(r"--[A-Za-z0-9][A-Za-z0-9_-]*")
_SHORT_NAME = re.compile(r"[A-Za-z0-9]")


def env_allowed(name: str) -> bool:
    """True if ``name`` may be set through ``build_env``/``install_env``."""
    return name in ENV_NAMES or any(p.fullmatch(name) for p in ENV_PATTERNS.values())


def check_env_name(name: str, what: str) -> str:
    """``name`` if it is allowed (:data:`ENV_NAMES`, :data:`ENV_PATTERNS`), else SpecError
    naming it (the caller has checked that it is a valid variable name)."""
    if not env_allowed(name):
        raise SpecError(
            f"{what}: {name} is not allowed: venvbuild passes only the variables listed in "
            f"{DOCS} (indexes, proxies, certificates, compilers, locale); others could make "
            "pip or uv write elsewhere, run other code or read other configuration"
        )
    return name


def _position(index: int) -> str:
    return f"argument {index + 1}"


def _refused(what: str, shown: str, allowed: ArgList) -> SpecError:
    if shown in _INSTEAD:
        return SpecError(f"{what}: {shown} is not allowed: {_INSTEAD[shown]}")
    if shown.startswith("--"):
        expansions = sorted(name for name in allowed.names() if name.startswith(shown))
        if expansions:
            return SpecError(
                f"{what}: {shown} is an abbreviation (of {', '.join(expansions)}): write the "
                "option in full"
            )
    return SpecError(
        f"{what}: {shown} is not allowed for {allowed.what}: venvbuild passes only the options "
        f"listed in {DOCS}; none of them writes outside the venv or venvbuild's own directories"
    )


def _check_value(what: str, option: str, value: str | None, index: int) -> None:
    if value is None:
        raise SpecError(f"{what}: {option} needs a value ({_position(index)} is the last)")
    if not value:
        raise SpecError(f"{what}: {option} ({_position(index)}) has an empty value")
    if value.startswith("-"):
        raise SpecError(
            f"{what}: the value of {option} ({_position(index)}) starts with '-'; pip and uv "
            "would read it differently (the value is not shown)"
        )
    _check_credentials(what, option, value, index)


def _check_credentials(what: str, option: str, value: str, index: int) -> None:
    """A URL whose credentials :func:`text.redact` could not find (a raw ``/``, ``#``,
    ``?``, ``@`` or space in them) would be shown in logs as it is: refused."""
    if option in URL_OPTIONS and undelimited_credentials(value):
        raise SpecError(
            f"{what}: the URL given to {option} ({_position(index)}) has an '@' that does not end "
            "its user:password part; percent-encode '/', '?', '#', '@' and spaces in "
            "credentials (the value is not shown)"
        )


def check_args(args: Sequence[str], what: str, allowed: ArgList) -> tuple[str, ...]:
    """``args`` if every one is an allowed option of ``allowed`` or the value of one,
    read the way pip and uv read them (see the module's doc); else SpecError naming
    the option (never a value)."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("--") and len(arg) > 2:
            name, has_value, value = arg.partition("=")
            if not _LONG_NAME.fullmatch(name):
                raise SpecError(f"{what}: {_position(index)} is not an option (not shown)")
            if name not in allowed.names():
                raise _refused(what, name, allowed)
            if name in allowed.flags:
                if has_value:
                    raise SpecError(f"{what}: {name} takes no value ({_position(index)})")
            elif has_value:
                _check_value(what, name, value, index)
            else:
                index += 1
                _check_value(what, name, args[index] if index < len(args) else None, index - 1)
        elif arg.startswith("-") and len(arg) > 1 and arg != "--":
            for pos, letter in enumerate(arg[1:], start=1):
                if not _SHORT_NAME.fullmatch(letter):
                    raise SpecError(f"{what}: {_position(index)} is not an option (not shown)")
                option = f"-{letter}"
                if option not in allowed.names():
                    raise _refused(what, option, allowed)
                if option in allowed.values:
                    rest = arg[pos + 1:]
                    if rest.startswith("="):
                        raise SpecError(
                            f"{what}: write {option} VALUE or {option}VALUE, not {option}=VALUE "
                            f"({_position(index)}); pip and uv read it differently"
                        )
                    if rest:
                        _check_value(what, option, rest, index)
                    else:
                        index += 1
                        _check_value(what, option, args[index] if index < len(args) else None,
                                     index - 1)
                    break
        elif arg == "--":
            raise SpecError(f"{what}: -- is not allowed: it ends the options ({_position(index)})")
        else:
            raise SpecError(
                f"{what}: {_position(index)} is neither an allowed option nor the value of one "
                "(it is not shown); requirements go in packages, and an option's value follows it"
            )
        index += 1
    return tuple(args)


def check_build_args(args: Sequence[str], what: str = "build_args") -> tuple[str, ...]:
    """``args`` checked against :data:`BUILD_ARGS`."""
    return check_args(args, what, BUILD_ARGS)


def check_install_args(args: Sequence[str], what: str = "install_args",
                       tool: str | None = None) -> tuple[str, ...]:
    """``args`` checked against the list of ``tool`` (``pip`` or ``uv``), or of either
    while the tool is not known yet."""
    allowed = INSTALL_ARGS[tool] if tool else ANY_INSTALL_ARGS
    return check_args(args, f"{what} (install_tool {tool})" if tool else what, allowed)

