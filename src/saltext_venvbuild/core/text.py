"""Strings that reach files, paths and command lines: what is refused, what is hidden.

pip reads requirement and constraint files with ``str.splitlines()``, which
breaks lines not only at ``\\n`` and ``\\r`` but at ``\\v``, ``\\f``,
``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``: one such character
in a package name would smuggle a second line (an option such as ``-r
/etc/shadow``) into the file. Every string venvbuild writes into such a file,
puts on a command line or uses in a path is therefore free of control
characters, format characters and line or paragraph separators.

Credentials in URLs (``https://user:token@host/``) are hidden wherever
venvbuild writes or returns text: logs, records, stamps, comments.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from typing import Iterable
from typing import TypeVar
from typing import overload

from .errors import SpecError

# Cc: control (NUL, \n, \f, \x1c, \x85...), Cf: format (bidi overrides,
# zero-width), Cs: surrogates, Zl/Zp: \u2028/\u2029.
_REFUSED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Zl", "Zp"])

# scheme://userinfo@ : the userinfo is what is hidden.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]+)@")

REDACTED = "****"

_T = TypeVar("_T")


def bad_character(text: str) -> str | None:
    """The first refused character of ``text`` (see the module doc), or None."""
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def check_text(value: object, what: str, allow_empty: bool = False, secret: bool = False) -> str:
    """Return ``value`` if it is a string fit for a file line, a path or an argument.

    Raises SpecError naming ``what`` for a non-string, an empty string (unless
    ``allow_empty``) or a refused character. The message shows the value (its URL
    credentials hidden, :func:`redact_loose`) unless ``secret``: then it names ``what`` only, for values
    such as ``build_env``'s, which are never shown anywhere.
    """
    if not isinstance(value, str):
        if secret:
            raise SpecError(f"{what}: must be a string, not {type(value).__name__}")
        raise SpecError(f"{what} {value!r}: must be a string")
    if not value and not allow_empty:
        raise SpecError(f"{what}: must not be empty")
    char = bad_character(value)
    if char is not None:
        # A value with a refused character is malformed; its credentials may be too.
        shown = " (the value is not shown)" if secret else f" {redact_loose(value)!r}"
        raise SpecError(
            f"{what}{shown}: contains the control or line-separator character "
            f"{char!r} (U+{ord(char):04X}); remove it"
        )
    return value


@overload
def redact(text: str) -> str: ...


@overload
def redact(text: _T) -> _T: ...


def redact(text: Any) -> Any:
    """``text`` with the userinfo of every URL in it replaced by ``****``.

    ``https://user:secret@host/x`` becomes ``https://****@host/x``: the user
    name may itself be a token, so all of the userinfo goes. Anything but a
    string is returned as it is.
    """
    if not isinstance(text, str):
        return text
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)


def redact_loose(text: Any) -> Any:
    """:func:`redact`, and then, if an ``@`` still follows a ``://`` (credentials with a
    raw space, ``/`` or ``#`` that :func:`redact` cannot delimit), everything from the
    ``://`` to the last ``@`` hidden too. For showing one value (an argument), where
    hiding too much is better than showing a password."""
    if not isinstance(text, str):
        return text
    text = redact(text)
    head, sep, rest = text.partition("://")
    if not sep:
        return text
    after = rest[len(REDACTED) + 1:] if rest.startswith(f"{REDACTED}@") else rest
    if "@" in after:
        return f"{head}{sep}{REDACTED}@{rest.rsplit('@', 1)[1]}"
    return text


def undelimited_credentials(url: object) -> bool:
    """True if, after :func:`redact`, an ``@`` still follows the ``://`` of ``url``
    (a URL that is not a VCS URL with an ``@ref``) other than the one ending hidden
    userinfo: credentials with a raw ``/``, ``?``, ``#``, ``@`` or space that no
    log line could hide. Such values are refused."""
    if not isinstance(url, str) or "://" not in url or "@" not in url:
        return False
    rest = redact(url).split("://", 1)[1]
    if rest.startswith(f"{REDACTED}@"):
        rest = rest[len(REDACTED) + 1:]
    return "@" in rest


def looks_like_hidden_userinfo(text: object) -> bool:
    """True if ``text`` holds a URL whose ``user:password@`` :func:`redact` cannot
    delimit (a raw ``/``, ``#`` or space in it): an ``@`` after the ``://`` with a
    ``:`` before it. A VCS URL's ``@ref`` (``git+https://host/repo@v1``) has none."""
    if not undelimited_credentials(text):
        return False
    rest = redact(str(text)).split("://", 1)[1]
    return ":" in rest.rsplit("@", 1)[0]


# A query: a '?' right after a URL's or path's last character, up to a space,
# quote or fragment (also in exception texts that name "url: /x?token=...").
_QUERY = re.compile(r"(?<=[^\s?])\?[^\s#'\"]+")


def redact_query(text: _T) -> _T:
    """:func:`redact`, and every URL's query hidden (``?****``), also where only
    its path is shown: a constraints URL may carry a token there
    (``?private_token=...``)."""
    if not isinstance(text, str):
        return text
    return _QUERY.sub(f"?{REDACTED}", redact(text))  # type: ignore[return-value]


def redact_args(args: Iterable[object]) -> list[str]:
    """A command line with every URL's userinfo hidden (for logs and messages)."""
    return [redact(str(arg)) for arg in args]


def has_credentials(text: object) -> bool:
    """True if ``text`` holds a URL with userinfo."""
    return isinstance(text, str) and bool(_USERINFO.search(text))
