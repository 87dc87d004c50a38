"""Constraints files (``-c <url or path>``): read once per build, checked, recorded.

OpenStack's ``upper-constraints.txt`` is the everyday case. The builder reads
the file (a URL with ``requests``, retried like every fetch, within
``wait_timeout`` and at most ``MAX_BYTES``; a path or a ``file:`` URL from
disk), accepts only comments, blank lines and requirements in it (no options,
no nested includes: its content is input from the network), and hands pip a
local copy. A file named by URL (``http(s)``, and ``file:`` as the role's
users write it) may hold version pins only (``name<op>version``, with
markers): no direct URL (``name @ https://...``), VCS URL or path, which would
make pip fetch and build code from wherever the file says. The manifest
records the file's sha256, so a build can be traced to the exact content it
used.

A URL may pin its content: ``-c https://host/upper-constraints.txt#sha256=<hex>``
(pip's hash-fragment convention). The fragment is not sent; the bytes fetched
are hashed before anything parses them, and another hash is a refusal. A
plain ``http://`` URL without a pin is fetched but warned about: whoever sits on
the network path chooses the versions built.

The spec id covers the reference (with its pin), not the content: targets
never fetch the file, and a no-op stays free. A new content of the same URL is
picked up when a spec is built: the first time, with ``package_state: latest``
(every run), or with ``wheels_rebuild``.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
from typing import TYPE_CHECKING
from typing import Iterable

from .errors import RepoError
from .errors import SpecError
from .errors import TrustError
from .manifest import ConstraintFile
from .spec import file_url_path
from .spec import normalize_requirement
from .spec import split_constraint_pin
from .text import redact
from .text import redact_query

if TYPE_CHECKING:
    from .remote import Http

MAX_BYTES = 16 << 20

# What a line of a fetched file may not start with: a path (pip reads "./x",
# "/x", "~/x" as one).
_PATH_STARTS = (".", "/", "~")


def parse(text: str, source: str, pins_only: bool = False) -> list[str]:
    """The requirement lines of a constraints file, normalized; SpecError otherwise.

    ``pins_only`` (a file fetched by URL): every requirement must be a name with
    version specifiers (and markers); a direct URL, a VCS URL or a path is
    refused, naming the line.
    """
    out = []
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark, which pip skips too
    shown = f"constraints file {redact_query(source)}"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise SpecError(
                f"{shown}, line {number}: {redact(line)[:60]!r} is a pip option; "
                "venvbuild accepts only requirements in constraints files"
            )
        if pins_only and "$" in line:
            # pip expands ${NAME} in the files it reads, from the build's environment
            # (build_env: secrets): a marker comparing with one puts its value into
            # pip's error, so into the state's comment and the build log.
            raise SpecError(
                f"{shown}, line {number}: holds '$'; pip would put an environment variable's "
                "value there (${NAME}); a constraints file fetched by URL may hold only "
                "version pins such as 'name===1.0' (with markers); nothing was built"
            )
        if pins_only and (line.startswith(_PATH_STARTS) or any(
                char in line.split(";", 1)[0] for char in "/@:\\")):
            # A URL ("name @ https://...", "git+https://..."), a path ("./x", "x/y"):
            # pip would fetch or build code from there.
            raise SpecError(_not_a_pin(shown, number, line))
        try:
            normalized = normalize_requirement(line, f"{shown}, line {number}:")
        except SpecError as exc:
            raise SpecError(str(exc)) from None
        if pins_only and " @ " in normalized.split(";", 1)[0]:
            raise SpecError(_not_a_pin(shown, number, line))
        out.append(normalized)
    return out


def _not_a_pin(shown: str, number: int, line: str) -> str:
    return (
        f"{shown}, line {number}: {redact(line)[:80]!r} is a direct URL, VCS URL or path; a "
        "constraints file fetched by URL may hold only version pins such as 'name===1.0' "
        "(with markers), so that it chooses versions, never where code comes from; "
        "nothing was built"
    )


def load(ref: str, http: Http | None = None) -> tuple[list[str], ConstraintFile]:
    """``(lines, ConstraintFile)`` of the constraints file at ``ref`` (URL or path).

    A URL's ``#sha256=`` pin is checked on the bytes fetched, before they are
    decoded or parsed (TrustError on another hash). What an ``http(s)`` or a
    ``file:`` URL names may hold version pins only; a local path, the minion's
    own file, may also hold direct references.
    """
    scheme = urllib.parse.urlsplit(ref).scheme.lower()
    if scheme in ("http", "https", "file"):
        url, pinned = split_constraint_pin(ref)
        if scheme == "file":
            data = _read(file_url_path(url), redact_query(url))
        elif http is None:
            raise RepoError(f"constraints file {redact_query(ref)}: no HTTP client to fetch it with")
        else:
            data = http.get_bytes(url, "constraints file", missing_ok=False, limit=MAX_BYTES)
        digest = hashlib.sha256(data).hexdigest()
        if pinned is not None and digest != pinned:
            raise TrustError(
                f"constraints file {redact_query(url)}: its content has sha256 {digest}, but the "
                f"#sha256= pin of the spec says {pinned}; refused, nothing was built (the file "
                "changed upstream, or someone altered it on the way: check it, then update the pin)"
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise RepoError(f"constraints file {redact_query(url)}: not UTF-8 text") from None
        lines = parse(text, url, pins_only=True)
    else:
        data = _read(ref, ref)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(f"constraints file {ref}: not UTF-8 text") from None
        lines = parse(text, ref)
        digest = hashlib.sha256(data).hexdigest()
    return lines, ConstraintFile(redact_query(ref), digest)


def _read(path: str, shown: str) -> bytes:
    """The bytes of a local constraints file, at most MAX_BYTES."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"constraints file {shown}: cannot read it: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"constraints file {shown}: larger than {MAX_BYTES} bytes")
    return data


def warnings(refs: Iterable[str]) -> list[str]:
    """A warning for each plain ``http://`` constraints URL among ``refs`` without a
    ``#sha256=`` pin: nothing authenticates what it serves. No I/O."""
    out = []
    for ref in refs:
        url, pinned = split_constraint_pin(ref) if "#" in ref else (ref, None)
        if pinned is None and urllib.parse.urlsplit(url).scheme.lower() == "http":
            out.append(
                f"constraints file {redact_query(url)} is plain HTTP without a sha256 pin: whoever "
                "serves it or sits on the network path chooses the versions this venv is "
                "built with. Use https, or pin its content as "
                f"'-c {redact_query(url)}#sha256=<sha256 of the file>' (docs/security.md)"
            )
    return out


def write(path: str, lines: Iterable[str]) -> None:
    """Write normalized constraint lines as a file pip reads."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "w",
              encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
