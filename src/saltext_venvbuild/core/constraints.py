"""Constraints files (``-c <url or path>``): read once per build, checked, recorded.

OpenStack's ``upper-constraints.txt`` is the everyday case. The builder reads
the file (a URL with ``requests``, retried like every fetch; a path from
disk), accepts only comments, blank lines and requirements in it (no options,
no nested includes: its content is input from the network), and hands pip a
local copy. The manifest records the file's sha256, so a build can be traced
to the exact content it used.

The spec id covers the reference, not the content: targets never fetch the
file, and a no-op stays free. A new content of the same URL is picked up
when a spec is built: the first time, with ``package_state: latest`` (every
run), or with ``wheels_rebuild``.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING
from typing import Iterable

from .errors import RepoError
from .errors import SpecError
from .manifest import ConstraintFile
from .spec import normalize_requirement
from .text import redact

if TYPE_CHECKING:
    from .remote import Http

MAX_BYTES = 16 << 20


def parse(text: str, source: str) -> list[str]:
    """The requirement lines of a constraints file, normalized; SpecError otherwise."""
    out = []
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark, which pip skips too
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise SpecError(
                f"constraints file {redact(source)}, line {number}: {line[:60]!r} is a pip option; "
                "venvbuild accepts only requirements in constraints files"
            )
        try:
            out.append(normalize_requirement(line, f"constraints file {redact(source)}, line {number}:"))
        except SpecError as exc:
            raise SpecError(str(exc)) from None
    return out


def load(ref: str, http: Http | None = None) -> tuple[list[str], ConstraintFile]:
    """``(lines, ConstraintFile)`` of the constraints file at ``ref`` (URL or path)."""
    if ref.startswith(("http://", "https://")):
        if http is None:
            raise RepoError(f"constraints file {redact(ref)}: no HTTP client to fetch it with")
        text = http.get_text(ref, "constraints file", missing_ok=False, limit=MAX_BYTES)
    else:
        try:
            with open(ref, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise SpecError(f"constraints file {ref}: cannot read it: {exc.strerror}") from None
        if len(data) > MAX_BYTES:
            raise SpecError(f"constraints file {ref}: larger than {MAX_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SpecError(f"constraints file {ref}: not UTF-8 text") from None
    lines = parse(text, ref)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return lines, ConstraintFile(redact(ref), digest)


def write(path: str, lines: Iterable[str]) -> None:
    """Write normalized constraint lines as a file pip reads."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "w",
              encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))
