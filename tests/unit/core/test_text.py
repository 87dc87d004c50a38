"""Unit tests of saltext_venvbuild.core.text: refused characters, hidden credentials."""

import unicodedata

import pytest

from saltext_venvbuild.core import text as text_mod
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.text import REDACTED
from saltext_venvbuild.core.text import bad_character
from saltext_venvbuild.core.text import check_text
from saltext_venvbuild.core.text import has_credentials
from saltext_venvbuild.core.text import redact
from saltext_venvbuild.core.text import redact_args

# Every character at which str.splitlines() (and so pip, reading a requirements or
# constraints file) breaks a line. Listed by hand, checked against Python below.
LINE_SEPARATORS = {
    "\n": "LF",
    "\r": "CR",
    "\v": "VT (\\x0b)",
    "\f": "FF (\\x0c)",
    "\x1c": "FS",
    "\x1d": "GS",
    "\x1e": "RS",
    "\x85": "NEL",
    "\u2028": "LINE SEPARATOR",
    "\u2029": "PARAGRAPH SEPARATOR",
}

# Other refused characters: controls (Cc), format characters (Cf), surrogates (Cs).
OTHER_REFUSED = {
    "\0": "NUL",
    "\t": "TAB",
    "\x1b": "ESC",
    "\x1f": "US",
    "\x7f": "DEL",
    "\x9b": "CSI",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u200b": "ZERO WIDTH SPACE",
    "\u200d": "ZERO WIDTH JOINER",
    "\ufeff": "BYTE ORDER MARK",
    "\u00ad": "SOFT HYPHEN",
    "\ud800": "lone surrogate",
}


def _all_line_breakers():
    return {chr(cp) for cp in range(0x110000) if len(f"a{chr(cp)}b".splitlines()) == 2}


# -- check_text: refusals ------------------------------------------------------------


def test_the_separator_list_is_exactly_what_splitlines_breaks_at():
    assert _all_line_breakers() == set(LINE_SEPARATORS)


@pytest.mark.parametrize("char", list(LINE_SEPARATORS), ids=list(LINE_SEPARATORS.values()))
@pytest.mark.parametrize("template", ["{}", "vbdep{}", "vbdep{}-r /etc/shadow", "{}x", "a{}b{}c"])
def test_every_line_separator_is_refused_anywhere(char, template):
    value = template.replace("{}", char)
    assert len(("x" + value + "x").splitlines()) > 1  # it would smuggle a line into a file
    with pytest.raises(SpecError, match="contains the control or line-separator character"):
        check_text(value, "package")


def test_crlf_is_refused():
    with pytest.raises(SpecError, match=r"'\\r' \(U\+000D\)"):
        check_text("vbdep\r\n--pre", "package")


@pytest.mark.parametrize("char", list(OTHER_REFUSED), ids=list(OTHER_REFUSED.values()))
def test_controls_format_characters_and_surrogates_are_refused(char):
    assert unicodedata.category(char) in {"Cc", "Cf", "Cs"}
    with pytest.raises(SpecError, match="contains the control or line-separator character"):
        check_text(f"keystone{char}==26.0.0", "package")


def test_every_character_of_a_refused_category_is_refused():
    for cp in range(0x110000):
        char = chr(cp)
        refused = unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
        assert (bad_character(f"a{char}b") == char) is refused, hex(cp)


def test_the_message_names_what_the_character_and_its_code_point():
    with pytest.raises(SpecError) as info:
        check_text("a\u202eb", "build_args: argument")
    message = str(info.value)
    assert message.startswith("build_args: argument 'a\\u202eb': ")
    assert "'\\u202e' (U+202E)" in message
    assert message.endswith("remove it")


def test_the_first_refused_character_is_reported():
    with pytest.raises(SpecError, match=r"U\+000C"):
        check_text("a\fb\nc", "x")
    assert bad_character("a\fb\nc") == "\f"


def test_the_message_hides_credentials():
    with pytest.raises(SpecError) as info:
        check_text("https://user:s3cret@pypi.example.com/simple\n", "index")
    assert "s3cret" not in str(info.value)
    assert "user" not in str(info.value)
    assert "https://****@pypi.example.com/simple" in str(info.value)


@pytest.mark.parametrize("value", [None, 5, 1.5, b"keystone", ["keystone"], {"a": 1}, True])
def test_non_strings_are_refused(value):
    with pytest.raises(SpecError, match=r"must be a string$") as info:
        check_text(value, "package")
    assert str(info.value).startswith(f"package {value!r}")


def test_empty_is_refused_unless_allowed():
    with pytest.raises(SpecError, match=r"^package: must not be empty$"):
        check_text("", "package")
    assert check_text("", "package", allow_empty=True) == ""


def test_allow_empty_does_not_allow_refused_characters():
    with pytest.raises(SpecError, match="control or line-separator"):
        check_text("\n", "value", allow_empty=True)
    with pytest.raises(SpecError, match="must be a string"):
        check_text(None, "value", allow_empty=True)


# -- check_text: accepted ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "keystone==26.0.0",
        "/opt/venvs/keystone",
        "--find-links=/srv/sdists",
        "a b",  # a space is a separator of nothing
        "naïve",
        "日本語",
        "emoji 🐍",
        "no\u00a0break",  # NO-BREAK SPACE (Zs) is not a line separator
        'foo; python_version < "3.12"',
        "x" * 10_000,
    ],
)
def test_ordinary_text_is_returned_unchanged(value):
    assert check_text(value, "value") is value
    assert bad_character(value) is None


# -- redact --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("https://user:pass@host/simple", "https://****@host/simple"),
        ("http://user:pass@host:8080/x", "http://****@host:8080/x"),
        ("https://token@host/simple", "https://****@host/simple"),
        ("https://__token__:pypi-AgEI@upload.pypi.org/", "https://****@upload.pypi.org/"),
        ("git+https://user:tok@github.com/o/r.git@v1#egg=r", "git+https://****@github.com/o/r.git@v1#egg=r"),
        ("git+ssh://git@github.com/o/r.git", "git+ssh://****@github.com/o/r.git"),
        ("--index-url=https://u:p@h/simple", "--index-url=https://****@h/simple"),
        ("foo @ https://u:p@h/foo-1.0.tar.gz", "foo @ https://****@h/foo-1.0.tar.gz"),
        ("HTTPS://U:P@H/", "HTTPS://****@H/"),
        ("https://u:p%40ss@h/", "https://****@h/"),
        ("https://user:pass@host", "https://****@host"),
    ],
)
def test_redact_hides_the_userinfo(text, expected):
    assert redact(text) == expected
    assert has_credentials(text)
    # The redacted text still has a (placeholder) userinfo, but none of the secret.
    assert has_credentials(redact(text))
    assert redact(text).count(REDACTED) == 1


def test_redact_hides_every_url_in_a_text():
    text = (
        "pip install --index-url https://u1:p1@one/simple "
        "--extra-index-url http://tok2@two/simple\n-c https://u3:p3@three/c.txt"
    )
    assert redact(text) == (
        "pip install --index-url https://****@one/simple "
        "--extra-index-url http://****@two/simple\n-c https://****@three/c.txt"
    )
    for secret in ("u1", "p1", "tok2", "u3", "p3"):
        assert secret not in redact(text)


def test_redact_is_idempotent():
    once = redact("https://u:p@h/x")
    assert redact(once) == once == f"https://{REDACTED}@h/x"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "keystone==26.0.0",
        "https://pypi.org/simple",
        "http://host:8080/path?x=1#frag",
        "git+https://github.com/o/r.git@v1#egg=r",  # '@' after the host is a ref, not a user
        "https://host/a@b",
        "user@example.com",  # no scheme: an e-mail address
        "mailto:user@example.com",  # no '//'
        "/opt/venvs/x@1",
        "name @ https://host/f.whl",
    ],
)
def test_redact_leaves_other_text_alone(text):
    assert redact(text) == text
    assert not has_credentials(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "https://user:p@ss@host/simple",
            "https://****@host/simple",
            id="unencoded-at-in-password",
        ),
        pytest.param(
            "https://host?next=a@b.example",
            "https://host?next=a@b.example",
            id="at-in-query-after-host",
        ),
    ],
)
def test_redact_uses_the_authority_as_urllib_and_pip_parse_it(text, expected):
    # pip and urllib take the userinfo up to the last '@' of the authority, which
    # ends at the first '/', '?' or '#'.
    assert redact(text) == expected


@pytest.mark.parametrize("value", [None, 5, b"https://u:p@h/", ["https://u:p@h/"]])
def test_redact_passes_non_strings_through(value):
    assert redact(value) is value


def test_redact_args_hides_credentials_and_stringifies():
    args = ["pip", "install", "--index-url", "https://u:secret@h/simple", 3, None]
    assert redact_args(args) == ["pip", "install", "--index-url", "https://****@h/simple", "3", "None"]
    assert args[3] == "https://u:secret@h/simple"  # the input is not modified


def test_redact_args_of_a_tuple_and_of_nothing():
    assert redact_args(("a", "git+https://t@h/r.git")) == ["a", "git+https://****@h/r.git"]
    assert redact_args([]) == []


@pytest.mark.parametrize("value", [None, 5, b"https://u:p@h/", ["https://u:p@h/"]])
def test_has_credentials_is_false_for_non_strings(value):
    assert has_credentials(value) is False


def test_has_credentials_returns_a_bool():
    assert has_credentials("see https://u:p@h/") is True
    assert has_credentials("see https://h/") is False


# -- check_text(secret=True): the value is never shown ---------------------------------


@pytest.mark.parametrize("value", ["http://u:s3cr3t@proxy\n", "s3cr3t\t", "s3c r3t\x85",
                                   "\u202es3cr3t", "http://u:s3c/r3t@proxy\x00"])
def test_a_secret_is_named_never_shown(value):
    with pytest.raises(SpecError) as info:
        check_text(value, "install_env: HTTP_PROXY", secret=True)
    message = str(info.value)
    assert message.startswith("install_env: HTTP_PROXY (the value is not shown): ")
    assert "s3c" not in message and "proxy" not in message
    assert f"U+{ord(bad_character(value)):04X}" in message


@pytest.mark.parametrize("value", [5, ["s3cr3t"], {"k": "s3cr3t"}, b"s3cr3t"])
def test_a_secret_of_the_wrong_type_shows_its_type_only(value):
    with pytest.raises(SpecError) as info:
        check_text(value, "build_env: PIP_INDEX_URL", secret=True)
    assert str(info.value) == f"build_env: PIP_INDEX_URL: must be a string, not {type(value).__name__}"


def test_a_good_secret_is_returned():
    assert check_text("http://u:p@proxy:3128", "x", secret=True) == "http://u:p@proxy:3128"


@pytest.mark.parametrize("value, shown", [
    ("https://u:s3c ret@h/simple", "https://****@h/simple"),
    ("https://u:s3c/ret@h/simple", "https://****@h/simple"),
    ("https://u:s3c#ret@h/simple", "https://****@h/simple"),
    ("--index-url=https://u:s3cret@h/simple", "--index-url=https://****@h/simple"),
    ("https://h/simple", "https://h/simple"),
    ("/srv/sdists@2024", "/srv/sdists@2024"),
])
def test_redact_loose_hides_credentials_redact_cannot_delimit(value, shown):
    from saltext_venvbuild.core.text import redact_loose

    assert redact_loose(value) == shown
    assert redact_loose(5) == 5


def test_the_message_hides_credentials_redact_cannot_delimit():
    with pytest.raises(SpecError) as info:
        check_text("https://user:s3c ret@pypi.example.com/simple\n", "repo_url")
    assert "s3c" not in str(info.value)
    assert "https://****@pypi.example.com/simple" in str(info.value)


@pytest.mark.parametrize("text, shown", [
    ("https://h/uc.txt?private_token=glpat-x", "https://h/uc.txt?****"),
    ("https://u:p@h/uc.txt?a=b#sha256=00", "https://****@h/uc.txt?****#sha256=00"),
    ("Max retries exceeded with url: /uc.txt?private_token=x (Caused by",
     "Max retries exceeded with url: /uc.txt?**** (Caused by"),
    ("is it a Python 3?", "is it a Python 3?"),
    ("'what?'", "'what?'"),
])
def test_redact_query_hides_every_query_and_credentials(text, shown):
    assert text_mod.redact_query(text) == shown


@pytest.mark.parametrize("url, undelimited, hidden_userinfo", [
    ("https://u:p@h/x", False, False),
    ("https://h/x", False, False),
    ("https://u:ab/cd@h/x", True, True),  # a raw '/' in the password: redact misses it
    ("https://u:a#b@h/x", True, True),
    ("git+https://h/repo@v1", True, False),  # a VCS ref, not credentials
    ("git+https://u:p@h/repo@v1", True, False),  # (undelimited_ is for non-VCS URLs)
])
def test_credentials_redact_cannot_delimit_are_recognised(url, undelimited, hidden_userinfo):
    assert text_mod.undelimited_credentials(url) is undelimited
    assert text_mod.looks_like_hidden_userinfo(url) is hidden_userinfo
