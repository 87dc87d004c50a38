"""The platform key: which wheels fit which hosts.

Wheels built on one distribution release, architecture and interpreter are
installed only on hosts with the same key. The release has the granularity the
role uses for its ``os-releases/<release>/<dist>-<version>-<arch>`` paths: the
major version (``debian-12``, ``rocky-9``: a builder on EL 9.4 serves targets
on 9.5), except Ubuntu, whose releases are ``major.minor`` (``ubuntu-24.04``).
The key names a directory of the repo, so it is lower-case and free of
separators: ``debian-12-x86_64-cp311``.
"""

from __future__ import annotations

import re

from .errors import SpecError
from .names import PLATFORM_KEY

_UNSAFE = re.compile(r"[^a-z0-9._]+")
# Distributions whose every minor release is its own platform (the role's rule).
_MAJOR_MINOR = frozenset(["ubuntu"])


def _part(value: object, what: str) -> str:
    text = _UNSAFE.sub("_", str(value or "").strip().lower()).strip("_")
    if not text:
        raise SpecError(
            f"platform key: the {what} is unknown on this minion (grains os, osrelease, "
            "osmajorrelease, cpuarch); set the grain or fix the minion's grains"
        )
    return text


def key_release(distro: str | None, osrelease: str | None,
                osmajorrelease: int | str | None = None) -> str:
    """The release part of the key: ``major.minor`` on Ubuntu, else the major version.

    ``osrelease``/``osmajorrelease`` are Salt's grains; a release with no
    numeric major version (``rolling``, ``sid``) is kept as it is.
    """
    text = str(osrelease or "").strip()
    if str(distro or "").strip().lower() in _MAJOR_MINOR:
        parts = text.split(".")
        return ".".join(parts[:2]) if len(parts) >= 2 else text
    if osmajorrelease not in (None, ""):
        return str(osmajorrelease)
    head = text.split(".")[0]
    return head if head.isdigit() else text


def platform_key(distro: str, release: str, arch: str, interpreter_tag: str) -> str:
    """Join the four parts into a key such as ``debian-12-x86_64-cp311``."""
    return "-".join(
        [
            _part(distro, "distribution").replace("-", "_"),
            _part(release, "release").replace("-", "_"),
            _part(arch, "architecture").replace("-", "_"),
            _part(interpreter_tag, "interpreter tag").replace("-", "_"),
        ]
    )


def check_key(key: object, what: str = "platform") -> str:
    """``key`` if it has the form of a platform key, else SpecError."""
    if not isinstance(key, str) or not PLATFORM_KEY.fullmatch(key):
        raise SpecError(f"{what} {key!r}: not a platform key like 'debian-12-x86_64-cp311'")
    return key
