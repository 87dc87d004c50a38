"""The platform key: which wheels fit which hosts.

Wheels built on one distribution release, architecture and interpreter are
installed only on hosts with the same key. The key names a directory of the
repo, so it is lower-case and free of separators: ``debian-12-x86_64-cp311``.
"""

import re

_UNSAFE = re.compile(r"[^a-z0-9._]+")


def _part(value, what):
    text = _UNSAFE.sub("_", str(value or "").strip().lower()).strip("_")
    if not text:
        raise ValueError(f"platform key: {what} is empty")
    return text


def platform_key(distro, release, arch, interpreter_tag):
    """Join the four parts into a key such as ``debian-12-x86_64-cp311``."""
    return "-".join(
        [
            _part(distro, "distro").replace("-", "_"),
            _part(release, "release").replace("-", "_"),
            _part(arch, "architecture").replace("-", "_"),
            _part(interpreter_tag, "interpreter tag").replace("-", "_"),
        ]
    )


def split_key(key):
    """The inverse of :func:`platform_key`: a dict of the four parts."""
    parts = key.split("-")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"{key!r} is not a platform key like 'debian-12-x86_64-cp311'")
    return dict(zip(("distro", "release", "arch", "interpreter"), parts))
