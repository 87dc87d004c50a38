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

import re
import unicodedata

from .errors import SpecError

# Cc: control (NUL, \n, \f, \x1c, \x85...), Cf: format (bidi overrides,
# zero-width), Cs: surrogates, Zl/Zp: \u2028/\u2029.
_REFUSED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Zl", "Zp"])

# scheme://userinfo@ : the userinfo is what is hidden.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]+)@")

REDACTED = "****"


def bad_character(text):
    """The first refused character of ``text`` (see the module doc), or None."""
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return char
    return None


def check_text(value, what, allow_empty=False):
    """Return ``value`` if it is a string fit for a file line, a path or an argument.

    Raises SpecError naming ``what`` for a non-string, an empty string (unless
    ``allow_empty``) or a refused character.
    """
    if not isinstance(value, str):
        raise SpecError(f"{what} {value!r}: must be a string")
    if not value and not allow_empty:
        raise SpecError(f"{what}: must not be empty")
    char = bad_character(value)
    if char is not None:
        raise SpecError(
            f"{what} {redact(value)!r}: contains the control or line-separator character "
            f"{char!r} (U+{ord(char):04X}); remove it"
        )
    return value


def redact(text):
    """``text`` with the userinfo of every URL in it replaced by ``****``.

    ``https://user:secret@host/x`` becomes ``https://****@host/x``: the user
    name may itself be a token, so all of the userinfo goes.
    """
    if not isinstance(text, str):
        return text
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)


def redact_args(args):
    """A command line with every URL's userinfo hidden (for logs and messages)."""
    return [redact(str(arg)) for arg in args]


def has_credentials(text):
    """True if ``text`` holds a URL with userinfo."""
    return isinstance(text, str) and bool(_USERINFO.search(text))
