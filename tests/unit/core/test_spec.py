"""Unit tests of saltext_venvbuild.core.spec: requirements, constraints, VenvSpec, spec id,
option checks."""

import dataclasses
import hashlib
import re

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.names import SPEC_ID_LENGTH
from saltext_venvbuild.core.spec import DEFAULT_BUILD_REQUIREMENTS
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.spec import check_args
from saltext_venvbuild.core.spec import check_build_args
from saltext_venvbuild.core.spec import check_choice
from saltext_venvbuild.core.spec import check_env
from saltext_venvbuild.core.spec import check_spec_id
from saltext_venvbuild.core.spec import check_venv_id
from saltext_venvbuild.core.spec import constraint_file_ref
from saltext_venvbuild.core.spec import normalize_constraint
from saltext_venvbuild.core.spec import normalize_constraints
from saltext_venvbuild.core.spec import normalize_requirement
from saltext_venvbuild.core.spec import normalize_requirements
from saltext_venvbuild.core.spec import split_constraint_pin

# Every character str.splitlines() (so pip, reading a requirements file) breaks at.
LINE_SEPARATORS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]

# -- normalize_requirement: accepted input ------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("PyMySQL", "pymysql"),
        ("Zope.Interface", "zope-interface"),
        ("foo_bar==1.0", "foo-bar==1.0"),
        ("Django>=4.2", "django>=4.2"),
        ("  requests  ", "requests"),
    ],
)
def test_names_are_canonicalized(text, expected):
    assert normalize_requirement(text) == expected


def test_specifier_order_does_not_matter():
    forms = ["a>=1,<2", "a<2,>=1", "A >= 1 , < 2"]
    results = {normalize_requirement(form) for form in forms}
    assert len(results) == 1
    (result,) = results
    req = Requirement(result)
    assert req.name == "a"
    assert req.specifier == SpecifierSet(">=1,<2")


def test_extras_are_kept_and_their_order_does_not_matter():
    one = normalize_requirement("Requests[socks,security]>=2")
    two = normalize_requirement("requests[security,socks]>=2")
    assert one == two
    req = Requirement(one)
    assert req.name == "requests"
    assert req.extras == {"security", "socks"}
    assert req.specifier == SpecifierSet(">=2")


def test_extras_case_does_not_matter():
    assert normalize_requirement("a[Foo]") == normalize_requirement("a[foo]")


def test_markers_are_kept_and_normalized():
    one = normalize_requirement('Foo;python_version<"3.12"')
    two = normalize_requirement('foo ; python_version < "3.12"')
    assert one == two
    req = Requirement(one)
    assert req.name == "foo"
    assert req.marker == Marker('python_version < "3.12"')


def test_url_requirement():
    result = normalize_requirement("Foo @ https://example.com/foo-1.0.tar.gz")
    req = Requirement(result)
    assert req.name == "foo"
    assert req.url == "https://example.com/foo-1.0.tar.gz"
    assert req.marker is None


def test_url_requirement_with_marker():
    result = normalize_requirement('Foo @ https://example.com/f.whl ; sys_platform == "linux"')
    req = Requirement(result)
    assert (req.name, req.url) == ("foo", "https://example.com/f.whl")
    assert req.marker == Marker('sys_platform == "linux"')


def test_url_requirement_keeps_its_credentials():
    # The credentials are needed to fetch it; only messages and logs hide them.
    result = normalize_requirement("foo @ https://user:tok@example.com/f.whl")
    assert Requirement(result).url == "https://user:tok@example.com/f.whl"


@pytest.mark.parametrize("prefix", ["git+", "hg+"])
def test_vcs_egg_form_is_rewritten_to_a_direct_reference(prefix):
    url = f"{prefix}https://x/y.git@v1"
    result = normalize_requirement(f"{url}#egg=Foo")
    req = Requirement(result)
    assert req.name == "foo"
    assert req.url == url
    assert "egg=" not in result
    # packaging < 26 renders "foo@ URL", later versions "foo @ URL": compare without spaces.
    assert result.replace(" ", "") == f"foo@{url}"
    assert result == normalize_requirement(f"foo @ {url}")


def test_vcs_egg_found_after_other_fragment_parts():
    result = normalize_requirement("git+https://x/y.git@v1#subdirectory=sub&egg=Foo")
    assert Requirement(result).name == "foo"


def test_vcs_egg_form_keeps_subdirectory():
    result = normalize_requirement("git+https://x/y.git@v1#egg=foo&subdirectory=sub")
    assert "subdirectory=sub" in Requirement(result).url


@pytest.mark.parametrize(
    "text",
    [
        "PyMySQL",
        "a<2,>=1",
        "requests[socks,security]>=2",
        'foo; python_version < "3.12"',
        "foo @ https://example.com/foo-1.0.tar.gz",
        "git+https://x/y.git@v1#egg=foo",
    ],
)
def test_normalization_is_idempotent(text):
    once = normalize_requirement(text)
    assert normalize_requirement(once) == once


@pytest.mark.parametrize("sep", LINE_SEPARATORS)
def test_separators_at_the_ends_are_stripped_like_whitespace(sep):
    # str.strip() removes them; what is returned is the bare requirement.
    assert normalize_requirement(f"{sep}vbdep==1.0{sep}") == "vbdep==1.0"


# -- normalize_requirement: refusals ------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("--index-url http://x", "pip option"),
        ("-r file", "pip option"),
        ("-e git+https://x/y.git#egg=y", "pip option"),
        ("  --find-links=/srv/wheels", "pip option"),
        ("foo\nbar", "line breaks"),
        ("foo\r\nbar", "line breaks"),
        ("foo\rbar", "line breaks"),
        ("", "empty entry"),
        ("   ", "empty entry"),
        ("not a requirement!", "not a valid requirement"),
        ("foo==", "not a valid requirement"),
        ("foo>=1 --hash=sha256:abc", "not a valid requirement"),
        ("git+https://x/y.git@v1", "needs a name"),
        ("git+https://x/y.git@v1#subdirectory=sub", "needs a name"),
        ("hg+https://x/y@tip", "needs a name"),
        ("git+https://x/y.git@v1#egg=../x", "needs a name"),
    ],
)
def test_refused_strings(text, message):
    with pytest.raises(SpecError, match=message):
        normalize_requirement(text)


@pytest.mark.parametrize(
    "text",
    ["vbdep\f--pre", "vbdep\x85-r /etc/shadow", "vbdep\v-r /etc/shadow", "vbdep\x1c--pre",
     "vbdep\x1d--pre", "vbdep\x1e--pre", "vbdep\u2028-r /etc/shadow", "vbdep\u2029--pre",
     "vbdep\0", "vb\u202edep", "vb\u200bdep", "vbdep\t==1"],
)
def test_control_and_line_separator_characters_are_refused(text):
    # pip's requirement files are read with splitlines(): each of these would
    # smuggle an option line into the file.
    with pytest.raises(SpecError, match="contains the control or line-separator character"):
        normalize_requirement(text)


@pytest.mark.parametrize("sep", LINE_SEPARATORS)
def test_every_line_separator_inside_is_refused(sep):
    with pytest.raises(SpecError, match="line breaks|control or line-separator"):
        normalize_requirement(f"vbdep{sep}-r /etc/shadow")


@pytest.mark.parametrize("value", [None, 42, b"foo", ["foo"], {"foo": "1"}])
def test_non_strings_are_refused(value):
    with pytest.raises(SpecError, match="must be a string"):
        normalize_requirement(value)


def test_refusal_names_what_was_checked():
    with pytest.raises(SpecError, match=r"^constraint '-c x'"):
        normalize_requirement("-c x", what="constraint")


# -- normalize_requirements ---------------------------------------------------------


def test_normalize_requirements_dedupes_and_sorts():
    result = normalize_requirements(["b", "PyMySQL", "pymysql", "A>=1,<2", "a<2,>=1"])
    assert result == ("a<2,>=1", "b", "pymysql")


def test_normalize_requirements_none_is_empty():
    assert normalize_requirements(None) == ()


@pytest.mark.parametrize("items", ["PyMySQL", b"PyMySQL", {"PyMySQL": "1"}, 5])
def test_normalize_requirements_refuses_a_non_list(items):
    with pytest.raises(SpecError, match="must be a list of strings"):
        normalize_requirements(items)


def test_normalize_requirements_accepts_tuples_and_generators():
    assert normalize_requirements(("b", "a")) == ("a", "b")
    assert normalize_requirements(x for x in ["b", "a"]) == ("a", "b")


# -- constraints ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-c https://releases.openstack.org/constraints/upper/2025.2",
         "-c https://releases.openstack.org/constraints/upper/2025.2"),
        ("-c=https://h/c.txt", "-c https://h/c.txt"),
        ("--constraint https://h/c.txt", "-c https://h/c.txt"),
        ("--constraint=https://h/c.txt", "-c https://h/c.txt"),
        ("-c http://h:8080/c.txt", "-c http://h:8080/c.txt"),
        ("-c /etc/venvbuild/upper-constraints.txt", "-c /etc/venvbuild/upper-constraints.txt"),
        ("--constraint=/srv/c.txt", "-c /srv/c.txt"),
        ("  -c   /srv//x/./c.txt  ", "-c /srv/x/c.txt"),
        ("-c https://user:tok@h/c.txt", "-c https://user:tok@h/c.txt"),
    ],
)
def test_constraint_files_are_normalized_to_dash_c(text, expected):
    assert normalize_constraint(text) == expected
    assert normalize_constraint(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text, expected",
    [("Oslo.Config==9.0", "oslo-config==9.0"), ("PBR<7,>=6", "pbr<7,>=6"), (" six ", "six")],
)
def test_other_constraints_are_requirements(text, expected):
    assert normalize_constraint(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("-c relative/c.txt", "must be an http\\(s\\) URL, a file: URL or an absolute path without '..'"),
        ("-c ./c.txt", "must be an http\\(s\\) URL, a file: URL or an absolute path"),
        ("-c /etc/../shadow", "without '..'"),
        ("-c /srv/x/..", "without '..'"),
        ("-c ftp://h/c.txt", "must be an http\\(s\\) URL"),
        ("-c file://otherhost/etc/c.txt", "a file: URL must name an absolute path on this minion"),
        ("-c file:///etc/../shadow", "without a host, a query or '..'"),
        ("-c file:///etc/%2e%2e/shadow", "without a host, a query or '..'"),
        ("-c file:c.txt", "a file: URL must name an absolute path"),
        ("-c file:///etc/c.txt?x=1", "without a host, a query"),
        ("-c file:///etc/c%0a-r%20/etc/shadow", "control or line-separator"),
        ("-c file:///etc/c.txt#md5=abc", "the only fragment a constraints URL may have"),
        ("-c https:///c.txt", "the URL has no host"),
        ("-c http://:80/c.txt", "the URL has no host"),
        ("-c https://user@/c.txt", "the URL has no host"),
        ("-c x", "must be an http\\(s\\) URL"),
    ],
)
def test_bad_constraint_files_are_refused(text, message):
    with pytest.raises(SpecError, match=message):
        normalize_constraint(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("-c", "pip option"),  # no reference
        ("-cfoo", "pip option"),
        ("--constraint", "pip option"),
        ("-c /a /b", "pip option"),  # two references
        ("-r /etc/shadow", "pip option"),
        ("--pre", "pip option"),
        ("--index-url=https://h/simple", "pip option"),
        ("-c /srv/c.txt\n-r /etc/shadow", "line breaks"),
        ("-c /srv/c.txt\x85-r /etc/shadow", "pip option|control or line-separator"),
        ("-c /srv/c\0.txt", "control or line-separator"),
        ("-c /srv/c\u202e.txt", "control or line-separator"),
    ],
)
def test_other_options_are_refused_as_constraints(text, message):
    with pytest.raises(SpecError, match=message):
        normalize_constraint(text)


@pytest.mark.parametrize("text, message", [
    ("-c https://ci:S3CRETtok@127.0.0.1:99999/uc.txt", "port is not a number"),
    ("-c https://ci:S3CRETtok@bad host/uc.txt", "pip option"),
    ("-c https://ci:S3CR/ETtok@h.example/uc.txt", "percent-encode"),
    ("-c https://ci:S3CR#ETtok@h.example/uc.txt", "port is not a number"),
    ("-c http://ci:S3CRETtok@[::1/uc.txt", "not a URL"),
])
def test_a_constraints_url_requests_would_quote_whole_is_refused_hiding_it(text, message):
    # requests' error for such a URL repeats it whole, credentials included.
    with pytest.raises(SpecError, match=message) as info:
        normalize_constraint(text)
    assert "S3CR" not in str(info.value)


def test_a_constraints_url_keeps_its_query_and_shows_it_hidden():
    ref = "-c https://h.example/raw/uc.txt?private_token=glpat-x"
    assert normalize_constraint(ref) == ref  # the spec id covers the whole URL
    with pytest.raises(SpecError) as info:
        normalize_constraint(ref + "#md5=00")
    assert "glpat-x" not in str(info.value) and "uc.txt?****" in str(info.value)


@pytest.mark.parametrize("value", [None, 5, ["-c /x"]])
def test_non_string_constraints_are_refused(value):
    with pytest.raises(SpecError, match="must be a string"):
        normalize_constraint(value)


def test_normalize_constraints_dedupes_and_sorts():
    result = normalize_constraints(
        ["--constraint=/srv/c.txt", "-c /srv/c.txt", "B==1", "b==1", "-c https://h/u", "a==2"]
    )
    assert result == ("-c /srv/c.txt", "-c https://h/u", "a==2", "b==1")


def test_normalize_constraints_none_and_refusals():
    assert normalize_constraints(None) == ()
    with pytest.raises(SpecError, match="global constraints must be a list"):
        normalize_constraints("-c /srv/c.txt", "global constraint")
    with pytest.raises(SpecError, match=r"^global constraint '--pre'"):
        normalize_constraints(["--pre"], "global constraint")


PIN = "ab" * 32


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"-c https://h/uc.txt#sha256={PIN}", f"-c https://h/uc.txt#sha256={PIN}"),
        (f"--constraint=http://h/uc.txt#sha256={PIN.upper()}", f"-c http://h/uc.txt#sha256={PIN}"),
        (f"-c https://u:tok@h/uc.txt?x=1#sha256={PIN}", f"-c https://u:tok@h/uc.txt?x=1#sha256={PIN}"),
    ],
)
def test_a_constraints_url_may_pin_its_sha256(text, expected):
    # pip's hash-fragment convention; the hex is written in lower case, so one pin
    # gives one spec id however it was typed.
    assert normalize_constraint(text) == expected
    assert normalize_constraint(expected) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("-c https://h/uc.txt#", "the only fragment a constraints URL may have"),
        ("-c https://h/uc.txt#egg=x", "the only fragment a constraints URL may have"),
        ("-c https://h/uc.txt#md5=" + "a" * 32, "the only fragment"),
        ("-c https://h/uc.txt#sha256=" + "a" * 63, "the only fragment"),
        ("-c https://h/uc.txt#sha256=" + "g" * 64, "the only fragment"),
        (f"-c https://h/uc.txt#sha256={PIN}#sha256={PIN}", "the only fragment"),
        (f"-c https://h/uc.txt#sha256={PIN}&x=1", "the only fragment"),
        (f"-c /etc/uc.txt#sha256={PIN}", "a local constraints file takes no '#' fragment"),
        ("-c /etc/uc#1.txt", "a local constraints file takes no '#' fragment"),
    ],
)
def test_bad_constraints_fragments_are_refused(text, message):
    with pytest.raises(SpecError, match=message):
        normalize_constraint(text)


def test_a_constraints_url_fragment_hides_credentials_in_errors():
    with pytest.raises(SpecError) as info:
        normalize_constraint("-c https://u:s3cret@h/uc.txt#x")
    assert "s3cret" not in str(info.value)


def test_the_sha256_pin_is_part_of_the_spec_id():
    plain = VenvSpec.create("app", packages=["foo"], constraints=["-c https://h/uc.txt"])
    pinned = VenvSpec.create("app", packages=["foo"], constraints=[f"-c https://h/uc.txt#sha256={PIN}"])
    upper = VenvSpec.create("app", packages=["foo"],
                            constraints=[f"-c https://h/uc.txt#sha256={PIN.upper()}"])
    assert plain.spec_id != pinned.spec_id == upper.spec_id
    assert pinned.constraint_files() == ([], [f"https://h/uc.txt#sha256={PIN}"])


def test_split_constraint_pin():
    assert split_constraint_pin(f"https://h/uc.txt#sha256={PIN}") == ("https://h/uc.txt", PIN)
    assert split_constraint_pin("https://h/uc.txt") == ("https://h/uc.txt", None)
    assert split_constraint_pin("/etc/uc.txt") == ("/etc/uc.txt", None)
    with pytest.raises(SpecError):
        split_constraint_pin("https://h/uc.txt#egg=x")


@pytest.mark.parametrize(
    "entry, ref",
    [
        ("-c /srv/c.txt", "/srv/c.txt"),
        ("-c https://h/u", "https://h/u"),
        ("oslo-config==9.0", None),
        ("cffi", None),
    ],
)
def test_constraint_file_ref(entry, ref):
    assert constraint_file_ref(entry) == ref


# -- venv ids and spec ids -----------------------------------------------------------


@pytest.mark.parametrize("venv_id", ["keystone", "a", "nova-api", "py3.11_tools", "0x", "x" * 100])
def test_valid_venv_ids(venv_id):
    assert check_venv_id(venv_id) == venv_id


@pytest.mark.parametrize(
    "venv_id",
    ["", "../x", "a/b", "-x", ".hidden", "a b", "x" * 101, None, 7, "naïve", "a\n", "a\x85"],
)
def test_invalid_venv_ids(venv_id):
    with pytest.raises(SpecError, match="venv id"):
        check_venv_id(venv_id)


def test_check_venv_id_names_what_was_checked():
    with pytest.raises(SpecError, match=r"^release 'a/b'"):
        check_venv_id("a/b", "release")


def test_valid_spec_id():
    assert check_spec_id("0123456789abcdef") == "0123456789abcdef"
    spec_id = VenvSpec.create("v", packages=["a"]).spec_id
    assert check_spec_id(spec_id) == spec_id


@pytest.mark.parametrize(
    "spec_id",
    ["", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg",
     "../../etc/passw", "0123456789abcdef\n", None, 0x0123456789ABCDEF],
)
def test_invalid_spec_ids(spec_id):
    with pytest.raises(SpecError, match=f"must be {SPEC_ID_LENGTH} lower-case hex digits"):
        check_spec_id(spec_id, "spec_id")


# -- VenvSpec.create ----------------------------------------------------------------


def test_create_merges_default_packages():
    spec = VenvSpec.create("v", packages=["zeta"], default_packages=["alpha"])
    assert spec.requirements == ("alpha", "zeta")


def test_create_dedupes_and_sorts_across_both_lists():
    spec = VenvSpec.create(
        "v", packages=["PyMySQL", "b>=1,<2", "pymysql"], default_packages=["B<2,>=1", "a"]
    )
    assert spec.requirements == ("a", "b<2,>=1", "pymysql")


def test_create_with_default_packages_only():
    assert VenvSpec.create("v", default_packages=["a"]).requirements == ("a",)


def test_create_normalizes_constraints_and_keeps_fields():
    spec = VenvSpec.create(
        "keystone",
        packages=["keystone"],
        constraints=["Oslo.Config==9.0", "b==1"],
        global_constraints=["PBR<7,>=6"],
        build_args=["--no-index", "--find-links", "/srv/sdists"],
        platform="debian-12-x86_64-cp311",
    )
    assert spec.venv_id == "keystone"
    assert spec.constraints == ("b==1", "oslo-config==9.0")
    assert spec.global_constraints == ("pbr<7,>=6",)
    assert spec.build_args == ("--no-index", "--find-links", "/srv/sdists")
    assert spec.platform == "debian-12-x86_64-cp311"
    assert spec.build_requirements == ("pbr", "setuptools", "wheel")


def test_create_names_bad_constraints():
    with pytest.raises(SpecError, match=r"^constraint '--pre'"):
        VenvSpec.create("v", packages=["a"], constraints=["--pre"])
    # Changed on purpose: "-c x" is read as a constraints file, which must be a URL
    # or an absolute path.
    with pytest.raises(SpecError, match=r"^global constraint -c 'x': a constraints file must be"):
        VenvSpec.create("v", packages=["a"], global_constraints=["-c x"])


def test_create_keeps_constraint_files():
    spec = VenvSpec.create(
        "v",
        packages=["a"],
        constraints=["--constraint=/srv/own.txt", "b==1"],
        global_constraints=["-c https://releases.openstack.org/constraints/upper/2025.2", "c==2"],
    )
    assert spec.constraints == ("-c /srv/own.txt", "b==1")
    assert spec.global_constraints == (
        "-c https://releases.openstack.org/constraints/upper/2025.2", "c==2"
    )
    assert spec.constraint_files() == (
        ["https://releases.openstack.org/constraints/upper/2025.2"],
        ["/srv/own.txt"],
    )


def test_constraint_files_of_a_spec_without_any():
    spec = VenvSpec.create("v", packages=["a"], constraints=["b==1"])
    assert spec.constraint_files() == ([], [])


@pytest.mark.parametrize(
    "packages, default_packages", [(None, None), ([], []), ([], None), (None, [])]
)
def test_create_without_packages_is_refused(packages, default_packages):
    with pytest.raises(SpecError, match="no packages given"):
        VenvSpec.create("v", packages=packages, default_packages=default_packages)


def test_tools_alone_do_not_count_as_packages():
    with pytest.raises(SpecError, match="no packages given"):
        VenvSpec.create("v", tools=["uv"])


@pytest.mark.parametrize("venv_id", ["", "../etc", "a/b", None])
def test_create_with_invalid_venv_id_is_refused(venv_id):
    with pytest.raises(SpecError, match="venv id"):
        VenvSpec.create(venv_id, packages=["a"])


@pytest.mark.parametrize("build_args", [
    ["--src", "/tmp/src"], ["--cache-dir=/tmp/cache"], ["-w", "/tmp/wheels"],
    ["--log", "/tmp/pip.log"], ["--report", "/tmp/report.json"], ["--wheel-dir", "/tmp/w"],
    ["--build-option=--prefix=/tmp/x"], ["-e", "/tmp/src"], ["--no-ind"], ["-qw/tmp/wheels"],
    ["-r", "/etc/shadow"], ["--find-links"], ["--no-index", "/tmp/pkg"],
])
def test_create_refuses_build_args_not_allowed_naming_them(build_args):
    """build_args are part of the spec: a spec is never made of options that write
    elsewhere, whoever creates it (the execution module, build_spec, a runner)."""
    with pytest.raises(SpecError, match="^build_args: ") as info:
        VenvSpec.create("v", packages=["a"], build_args=build_args)
    assert "/tmp" not in str(info.value) and "/etc" not in str(info.value)


def test_create_accepts_the_builds_options():
    args = ["--no-build-isolation", "--no-index", "-f", "/srv/sdists", "--pre", "-C", "a=b",
            "--index-url=https://mirror.example/simple", "-qq"]
    assert VenvSpec.create("v", packages=["a"], build_args=args).build_args == tuple(args)


def test_check_build_args_checks_the_form_first():
    with pytest.raises(SpecError, match="build_args: the string cannot be split"):
        check_build_args("--no-index --find-links '/srv/sdists")
    with pytest.raises(SpecError, match="default_build_args: argument 1 contains a NUL"):
        check_build_args(["--pre\0"], "default_build_args")


def test_spec_cache_checks_build_args_again(tmp_path):
    """A cached entry never stores build arguments; a cache hit checks them again."""
    from saltext_venvbuild.core.spec import SpecCache  # noqa: PLC0415

    cache = SpecCache(str(tmp_path / "specs.json"))
    inputs = {"packages": ["a"], "default_packages": None, "constraints": None,
              "global_constraints": None, "build_args": ["--pre"],
              "build_requirements": ["pbr"], "tools": []}
    spec = VenvSpec.create("v", "p", **inputs)
    cache.put("v", "p", inputs, spec)
    assert cache.get("v", "p", inputs) == spec
    inputs["build_args"] = ["--src", "/tmp/src"]
    cache.put("v", "p", inputs, spec)
    assert cache.get("v", "p", inputs) is None


def test_create_splits_build_args_given_as_a_string_as_the_roles_shell_would():
    """The role's venv_pip_build_args is a string on a command line: the same words,
    the same spec id; each word is still checked against the allow-list."""
    as_list = VenvSpec.create("v", packages=["a"],
                              build_args=["--no-index", "--find-links", "/srv/my sdists"])
    as_string = VenvSpec.create("v", packages=["a"],
                                build_args="--no-index  --find-links '/srv/my sdists'")
    assert as_string.build_args == as_list.build_args
    assert as_string.spec_id == as_list.spec_id
    assert VenvSpec.create("v", packages=["a"], build_args="").build_args == ()
    with pytest.raises(SpecError, match="^build_args: .*--target"):
        VenvSpec.create("v", packages=["a"], build_args="--no-index --target /etc")
    # Nothing is expanded or run: ';' and '$(...)' stay in the words, which the allow-list refuses.
    with pytest.raises(SpecError, match="^build_args: "):
        VenvSpec.create("v", packages=["a"], build_args="--no-index; touch /tmp/x")
    with pytest.raises(SpecError, match="^build_args: "):
        VenvSpec.create("v", packages=["a"], build_args="--find-links $(touch /tmp/x)")


@pytest.mark.parametrize("field", ["packages", "default_packages"])
def test_create_refuses_a_package_list_given_as_a_string(field):
    kwargs = {"packages": ["a"], field: "PyMySQL"}
    with pytest.raises(SpecError, match="must be a list"):
        VenvSpec.create("v", **kwargs)


def test_create_refuses_a_line_separator_in_a_package():
    with pytest.raises(SpecError, match="control or line-separator"):
        VenvSpec.create("v", packages=["vbdep\x85-r /etc/shadow"])


def test_create_adds_tools_to_the_requirements():
    spec = VenvSpec.create("v", packages=["keystone", "pip"], tools=["UV", "pip", "Wheel>=0.40"])
    assert spec.requirements == ("keystone", "pip", "uv", "wheel>=0.40")


@pytest.mark.parametrize("tools", [(), [], None])
def test_create_without_tools(tools):
    assert VenvSpec.create("v", packages=["a"], tools=tools).requirements == ("a",)


def test_create_refuses_bad_tools():
    with pytest.raises(SpecError, match=r"^tool '--pre'"):
        VenvSpec.create("v", packages=["a"], tools=["--pre"])
    with pytest.raises(SpecError, match="tools must be a list"):
        VenvSpec.create("v", packages=["a"], tools="uv")


def test_build_requirements_default():
    assert DEFAULT_BUILD_REQUIREMENTS == ("pbr", "setuptools", "wheel")
    assert VenvSpec.create("v", packages=["a"]).build_requirements == DEFAULT_BUILD_REQUIREMENTS
    direct = VenvSpec("v", ("a",), (), (), (), "p")
    assert direct.build_requirements == DEFAULT_BUILD_REQUIREMENTS


def test_build_requirements_are_normalized():
    spec = VenvSpec.create(
        "v", packages=["a"], build_requirements=["Wheel", "setuptools<80", "PBR", "wheel", "Cython"]
    )
    assert spec.build_requirements == ("cython", "pbr", "setuptools<80", "wheel")


def test_build_requirements_may_be_empty():
    assert VenvSpec.create("v", packages=["a"], build_requirements=None).build_requirements == ()
    assert VenvSpec.create("v", packages=["a"], build_requirements=[]).build_requirements == ()


@pytest.mark.parametrize(
    "bad, message",
    [("wheel", "build requirements must be a list"), (["--pre"], r"^build requirement '--pre'"),
     (["wheel\f--pre"], "control or line-separator")],
)
def test_bad_build_requirements_are_refused(bad, message):
    with pytest.raises(SpecError, match=message):
        VenvSpec.create("v", packages=["a"], build_requirements=bad)


def test_spec_is_immutable():
    spec = VenvSpec.create("v", packages=["a"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.requirements = ("b",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.build_requirements = ()


def test_as_dict_uses_lists():
    spec = VenvSpec.create("v", packages=["b", "a"], build_args=["--pre"], platform="p")
    assert spec.as_dict() == {
        "venv_id": "v",
        "requirements": ["a", "b"],
        "constraints": [],
        "global_constraints": [],
        "build_args": ["--pre"],
        "build_requirements": ["pbr", "setuptools", "wheel"],
        "platform": "p",
    }


# -- spec id ------------------------------------------------------------------------

BASE = {
    "venv_id": "keystone",
    "packages": ["keystone==26.0.0", "PyMySQL"],
    "constraints": ["oslo.config==9.4.0"],
    "global_constraints": ["pbr==6.0.0"],
    "build_args": ["--no-index"],
    "platform": "debian-12-x86_64-cp311",
}


def _spec(**changes):
    kwargs = dict(BASE)
    kwargs.update(changes)
    return VenvSpec.create(**kwargs)


def test_spec_id_is_16_hex_chars():
    assert re.fullmatch(r"[0-9a-f]{16}", _spec().spec_id)


def test_spec_id_is_pinned():
    # Builders and targets of different releases must agree on spec ids: changing
    # how the id is computed is a breaking change.
    spec = VenvSpec.create("keystone", packages=["keystone==26.0.0"], platform="debian-12-x86_64-cp311")
    assert spec.spec_id == "efa45dbf64e20f26"
    # It is the sha256 of the canonical JSON of as_dict(), cut to 16 hex digits.
    canonical = (
        '{"build_args":[],"build_requirements":["pbr","setuptools","wheel"],"constraints":[],'
        '"global_constraints":[],"platform":"debian-12-x86_64-cp311",'
        '"requirements":["keystone==26.0.0"],"venv_id":"keystone"}'
    )
    assert spec.spec_id == hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def test_spec_id_with_constraint_files_and_build_requirements_is_pinned():
    # Same rule: this id must stay stable across releases.
    spec = VenvSpec.create(
        "keystone",
        packages=["keystone==26.0.0"],
        global_constraints=["--constraint=https://releases.openstack.org/constraints/upper/2025.2"],
        constraints=["-c /etc/venvbuild/local.txt", "PyMySQL==1.1.1"],
        build_args=["--no-binary", ":all:"],
        build_requirements=["pbr", "setuptools", "wheel", "Cython"],
        platform="rocky-9-x86_64-cp312",
    )
    assert spec.spec_id == "6dcbd3e245548e70"


def test_spec_id_is_stable_across_order_and_case_of_inputs():
    reordered = _spec(
        packages=["pymysql", "Keystone==26.0.0"],
        constraints=["Oslo_Config==9.4.0"],
        global_constraints=["PBR==6.0.0"],
    )
    assert reordered.spec_id == _spec().spec_id
    split = _spec(packages=["keystone==26.0.0"], default_packages=["PyMySQL"])
    assert split.spec_id == _spec().spec_id


def test_spec_id_is_stable_across_spellings_of_constraint_files_and_build_requirements():
    one = _spec(constraints=["--constraint=/srv/c.txt"], build_requirements=["Wheel", "PBR", "setuptools"])
    two = _spec(constraints=["-c  /srv//c.txt"], build_requirements=["pbr", "setuptools", "wheel"])
    assert one.spec_id == two.spec_id
    assert _spec(build_requirements=["pbr", "setuptools", "wheel"]).spec_id == _spec().spec_id


def test_tools_are_part_of_the_spec_id_as_requirements():
    with_tool = _spec(tools=["uv"])
    as_package = _spec(packages=BASE["packages"] + ["uv"])
    assert with_tool.spec_id == as_package.spec_id != _spec().spec_id


@pytest.mark.parametrize(
    "changes",
    [
        {"packages": ["keystone==26.0.1", "PyMySQL"]},
        {"packages": ["keystone==26.0.0"]},
        {"packages": ["keystone==26.0.0", "PyMySQL", "memcache"]},
        {"constraints": ["oslo.config==9.4.1"]},
        {"constraints": None},
        {"constraints": ["oslo.config==9.4.0", "-c /srv/c.txt"]},
        {"global_constraints": ["pbr==6.0.1"]},
        {"global_constraints": None},
        {"global_constraints": ["pbr==6.0.0", "-c https://h/upper"]},
        {"build_args": ["--no-index", "--find-links", "/srv/sdists"]},
        {"build_args": None},
        {"platform": "debian-12-x86_64-cp312"},
        {"platform": "debian-12-aarch64-cp311"},
        {"build_requirements": ["pbr", "setuptools"]},
        {"build_requirements": ["pbr", "setuptools", "wheel", "cython"]},
        {"build_requirements": ["pbr", "setuptools<80", "wheel"]},
        {"tools": ["uv"]},
    ],
)
def test_spec_id_changes_with_any_input_that_decides_the_wheels(changes):
    assert _spec(**changes).spec_id != _spec().spec_id


def test_spec_id_tells_constraints_from_global_constraints():
    one = VenvSpec.create("v", packages=["a"], constraints=["b==1"])
    two = VenvSpec.create("v", packages=["a"], global_constraints=["b==1"])
    assert one.spec_id != two.spec_id


def test_spec_id_tells_build_requirements_from_requirements():
    one = VenvSpec.create("v", packages=["a", "cython"], build_requirements=["wheel"])
    two = VenvSpec.create("v", packages=["a"], build_requirements=["cython", "wheel"])
    assert one.spec_id != two.spec_id


# -- check_args, check_env, check_choice --------------------------------------------


def test_check_args_none_is_empty():
    assert check_args(None, "build_args") == ()


def test_check_args_keeps_order_and_stringifies_numbers():
    assert check_args(["--retries", 3, "--timeout", 1.5], "install_args") == (
        "--retries",
        "3",
        "--timeout",
        "1.5",
    )


def test_check_args_accepts_a_tuple_and_empty_arguments():
    assert check_args(("--prefix", ""), "build_args") == ("--prefix", "")


@pytest.mark.parametrize("text, expected", [
    ("--no-index", ("--no-index",)),
    ("  --find-links  /srv/a  ", ("--find-links", "/srv/a")),
    ("--find-links '/srv/my sdists' -C 'k=v w'", ("--find-links", "/srv/my sdists", "-C", "k=v w")),
    ('--find-links "/srv/x"', ("--find-links", "/srv/x")),
    ("--find-links /srv/a\\ b", ("--find-links", "/srv/a b")),
    ("", ()),
    ("--index-url=https://h/simple#frag", ("--index-url=https://h/simple#frag",)),
])
def test_check_args_splits_a_string_as_shlex_does(text, expected):
    assert check_args(text, "install_args") == expected


@pytest.mark.parametrize("text", ["--find-links '/srv", '--x "a', "--x a\\"])
def test_check_args_refuses_a_string_it_cannot_split(text):
    with pytest.raises(SpecError, match="^install_args: the string cannot be split .*not shown"):
        check_args(text, "install_args")


@pytest.mark.parametrize(
    "bad, kind", [({"--no-index": True}, "dict"), (5, "int"), (1.5, "float"), (True, "bool"),
                  ({"--x"}, "set")]
)
def test_check_args_refuses_a_non_list_as_the_whole_value(bad, kind):
    with pytest.raises(SpecError, match=rf"^build_args must be a list .*, not {kind} "):
        check_args(bad, "build_args")


@pytest.mark.parametrize("bad", [True, None, {"a": 1}, ["x"], b"x"])
def test_check_args_refuses_non_string_items(bad):
    with pytest.raises(SpecError, match="is not a string"):
        check_args(["--ok", bad], "build_args")


@pytest.mark.parametrize("bad", ["a\0b", "a\nb"])
def test_check_args_refuses_nul_and_newline(bad):
    with pytest.raises(SpecError, match="NUL or newline"):
        check_args([bad], "build_args")


@pytest.mark.parametrize(
    "bad", ["a\rb", "a\tb", "a\vb", "a\fb", "a\x1cb", "a\x85b", "a\u2028b", "a\u2029b", "a\u202eb",
            "a\u200bb", "\x1b[31m"]
)
def test_check_args_refuses_any_control_character(bad):
    with pytest.raises(SpecError, match="contains the control or line-separator character"):
        check_args(["--ok", bad], "build_args")


def test_check_args_messages_hide_credentials():
    with pytest.raises(SpecError) as info:
        check_args("--index-url 'https://u:s3cret@h/simple", "install_args")
    assert "s3cret" not in str(info.value)
    with pytest.raises(SpecError) as info:
        check_args(["--index-url", "https://u:s3cret@h/simple\n"], "install_args")
    assert "s3cret" not in str(info.value)


def test_check_env_none_is_empty():
    assert check_env(None, "build_env") == {}


def test_check_env_stringifies_values():
    env = {"PIP_NO_CACHE_DIR": 1, "PIP_PRE": None, "LANG": "x", "UV_HTTP_TIMEOUT": 1.5,
           "MAX_JOBS": 0}
    assert check_env(env, "build_env") == {
        "PIP_NO_CACHE_DIR": "1", "PIP_PRE": "", "LANG": "x", "UV_HTTP_TIMEOUT": "1.5",
        "MAX_JOBS": "0"
    }
    assert env["PIP_NO_CACHE_DIR"] == 1  # the input is not modified


@pytest.mark.parametrize("bad", [["A=1"], "A=1", 5])
def test_check_env_refuses_non_mappings(bad):
    with pytest.raises(SpecError, match="install_env must be a mapping"):
        check_env(bad, "install_env")


@pytest.mark.parametrize(
    "key", ["", "A=B", "A\0", 3, None, "1A", "A-B", "A B", "A.B", "Ä", "A\n", "$A", ("A",)]
)
def test_check_env_refuses_bad_names(key):
    with pytest.raises(SpecError, match="not a valid environment variable name"):
        check_env({key: "x"}, "build_env")


@pytest.mark.parametrize("key", ["PIP_INDEX_URL", "https_proxy", "HTTPS_PROXY", "CC",
                                 "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_KEYSTONE"])
def test_check_env_accepts_allowed_names(key):
    assert check_env({key: "x"}, "build_env") == {key: "x"}


@pytest.mark.parametrize("key", ["A", "_", "_A1", "lower_case", "a1_B2", "PIP_TARGET",
                                 "PIP_target", "PYTHONPATH", "LD_PRELOAD", "UV_CACHE_DIR"])
def test_check_env_refuses_names_not_allowed_naming_them(key):
    with pytest.raises(SpecError, match=rf"^build_env: {key} is not allowed: .*docs/usage.md"):
        check_env({key: "x"}, "build_env")


@pytest.mark.parametrize(
    "value, kind", [({"a": 1}, "dict"), ([1], "list"), (True, "bool"), (False, "bool"),
                    (b"x", "bytes")]
)
def test_check_env_refuses_non_scalar_values(value, kind):
    with pytest.raises(SpecError, match=rf"^build_env: CC must be a string or a number, not {kind}"):
        check_env({"CC": value}, "build_env")


@pytest.mark.parametrize("value", ["a\nb", "a\0b", "a\x85b", "a\u2028b", "\x1b[31m"])
def test_check_env_refuses_control_characters_in_values(value):
    with pytest.raises(SpecError, match="contains the control or line-separator character") as info:
        check_env({"CFLAGS": value}, "build_env")
    assert str(info.value).startswith("build_env: CFLAGS (the value is not shown): ")
    assert repr(value) not in str(info.value) and value not in str(info.value)


def test_check_choice_returns_a_valid_choice():
    assert check_choice("uv", ("pip", "uv"), "install_tool") == "uv"


@pytest.mark.parametrize("bad", ["conda", "", None, "PIP"])
def test_check_choice_refuses_others_and_lists_the_choices(bad):
    with pytest.raises(SpecError, match=r"^install_tool .*: must be one of pip, uv$"):
        check_choice(bad, ("pip", "uv"), "install_tool")


# -- no refusal shows a credential ---------------------------------------------------



@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: normalize_requirement("--index-url=https://u:s3cret@h/"), id="pip-option"),
        pytest.param(lambda: normalize_requirement("foo\nhttps://u:s3cret@h/"), id="line-break"),
        pytest.param(lambda: normalize_requirement("foo @ https://u:s3cret@h/\x85x"), id="separator"),
        pytest.param(lambda: normalize_constraint("-c ftp://u:s3cret@h/c.txt"), id="constraint-scheme"),
        pytest.param(lambda: normalize_constraint("-c https://u:s3cret@/c.txt"), id="constraint-host"),
        pytest.param(lambda: check_args("--index-url 'https://u:s3cret@h/", "build_args"),
                     id="args-string"),
        pytest.param(lambda: check_build_args("https://u:s3cret@h/"), id="args-string-bare"),
        pytest.param(lambda: normalize_requirement("https://u:s3cret@h/download?f=x"),
                     id="archive-url-without-name"),
        pytest.param(lambda: normalize_requirement("file://u:s3cret@h/x-1.0.tar.gz"),
                     id="archive-file-url-with-host"),
        pytest.param(lambda: normalize_constraint("-c file://u:s3cret@h/c.txt"),
                     id="constraint-file-url-with-host"),
        pytest.param(lambda: check_args({"x": "https://u:s3cret@h/"}, "build_args"), id="args-dict"),
        pytest.param(lambda: check_env({"PIP_INDEX_URL": "https://u:s3cret@h/\n"}, "build_env"),
                     id="env-value"),
        pytest.param(lambda: check_env({"HTTP_PROXY": "http://u:s3c ret@h/\t"}, "build_env"),
                     id="env-value-not-a-url"),
        pytest.param(lambda: check_env({"HTTP_PROXY=https://u:s3cret@h/": "x"}, "build_env"),
                     id="env-name-with-value"),
        pytest.param(lambda: check_args(["--index-url", "https://u:s3cret@h/\t"], "build_args"),
                     id="args-value-with-a-tab"),
        pytest.param(lambda: check_build_args(["--target", "https://u:s3cret@h/"]),
                     id="build-args-refused-option"),
        pytest.param(lambda: check_build_args(["--no-index", "https://u:s3cret@h/"]),
                     id="build-args-bare-value"),
        pytest.param(
            lambda: normalize_requirement("foo @ https://u:s3cret@h/f.whl ; bad"),
            id="invalid-requirement",
        ),
        pytest.param(
            lambda: normalize_requirement("git+https://u:s3cret@h/r.git@v1"),
            id="vcs-without-name",
        ),
        pytest.param(
            lambda: normalize_requirements("foo @ https://u:s3cret@h/f.whl"),
            id="list-as-string",
        ),
        pytest.param(
            lambda: check_args([{"--index-url": "https://u:s3cret@h/"}], "build_args"),
            id="args-item",
        ),
        pytest.param(
            lambda: check_env(["PIP_INDEX_URL=https://u:s3cret@h/simple"], "build_env"),
            id="env-as-list",
        ),
    ],
)
def test_refusals_never_show_credentials(call):
    with pytest.raises(SpecError) as info:
        call()
    assert "s3cret" not in str(info.value)
    # The value is either shown with its credentials hidden or not shown at all.
    assert "****" in str(info.value) or "https://" not in str(info.value)


# -- SpecCache: the no-op path parses no requirement ---------------------------------


def _opts(**changes):
    from saltext_venvbuild.core import options  # noqa: PLC0415

    values = {"packages": ["Keystone==26.0.0", "PyMySQL"], "constraints": ["oslo.config<10"]}
    values.update(changes)
    return options.validate(values, "/srv/venvbuild")


def test_spec_cache_returns_the_same_spec_without_parsing(tmp_path, monkeypatch):
    from saltext_venvbuild.core import spec as spec_mod  # noqa: PLC0415

    cache = spec_mod.SpecCache(str(tmp_path / "specs.json"))
    first = VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311", cache=cache)
    assert (tmp_path / "specs.json").stat().st_mode & 0o777 == 0o600

    def no_parsing():
        raise AssertionError("a cached spec parsed a requirement")

    monkeypatch.setattr(spec_mod, "_packaging", no_parsing)
    again = VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311", cache=cache)
    assert again == first and again.spec_id == first.spec_id
    assert isinstance(again.requirements, tuple)


@pytest.mark.parametrize("changes, platform", [
    ({"packages": ["keystone==26.0.1", "PyMySQL"]}, "debian-12-x86_64-cp311"),
    ({"constraints": None}, "debian-12-x86_64-cp311"),
    ({"seed_tools": True}, "debian-12-x86_64-cp311"),
    ({"build_requirements_extra": ["Cython"]}, "debian-12-x86_64-cp311"),
    ({}, "debian-12-x86_64-cp312"),
])
def test_spec_cache_misses_on_other_inputs(tmp_path, changes, platform):
    from saltext_venvbuild.core.spec import SpecCache  # noqa: PLC0415

    cache = SpecCache(str(tmp_path / "specs.json"))
    base = VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311", cache=cache)
    other = VenvSpec.from_options("keystone", _opts(**changes), platform, cache=cache)
    assert other.spec_id != base.spec_id
    assert other == VenvSpec.from_options("keystone", _opts(**changes), platform)


def test_spec_cache_survives_a_damaged_file_and_keeps_a_bounded_size(tmp_path, monkeypatch):
    from saltext_venvbuild.core.spec import SpecCache  # noqa: PLC0415

    path = tmp_path / "specs.json"
    path.write_text("{not json")
    cache = SpecCache(str(path))
    spec = VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311", cache=cache)
    assert spec == VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311")
    monkeypatch.setattr(SpecCache, "LIMIT", 3)
    for index in range(5):
        VenvSpec.from_options("keystone", _opts(packages=[f"pkg{index}"]), "debian-12-x86_64-cp311",
                              cache=cache)
    import json  # noqa: PLC0415

    assert len(json.loads(path.read_text())) == 3
    # An entry that does not fit the spec's fields is a miss, not an error.
    data = json.loads(path.read_text())
    data[next(iter(data))] = {"venv_id": "keystone", "bogus": 1}
    path.write_text(json.dumps(data))
    assert VenvSpec.from_options("keystone", _opts(packages=["pkg2"]), "debian-12-x86_64-cp311",
                                 cache=cache).requirements == ("pkg2",)


def test_spec_cache_unwritable_is_only_slower(tmp_path):
    from saltext_venvbuild.core.spec import SpecCache  # noqa: PLC0415

    cache = SpecCache(str(tmp_path / "missing-dir" / "specs.json"))
    spec = VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311", cache=cache)
    assert spec.spec_id == VenvSpec.from_options("keystone", _opts(), "debian-12-x86_64-cp311").spec_id


def test_spec_cache_writes_no_credentials(tmp_path):
    from saltext_venvbuild.core.spec import SpecCache  # noqa: PLC0415

    path = tmp_path / "specs.json"
    cache = SpecCache(str(path))
    opts = _opts(build_args=["--index-url", "https://user:s3cret@mirror.example/simple"])
    spec = VenvSpec.from_options("keystone", opts, "debian-12-x86_64-cp311", cache=cache)
    assert "s3cret" not in path.read_text()
    again = VenvSpec.from_options("keystone", opts, "debian-12-x86_64-cp311", cache=cache)
    assert again == spec and again.build_args == ("--index-url",
                                                  "https://user:s3cret@mirror.example/simple")
    private = _opts(packages=["keystone @ https://user:s3cret@git.example/keystone.tar.gz"])
    VenvSpec.from_options("keystone", private, "debian-12-x86_64-cp311", cache=cache)
    assert "s3cret" not in path.read_text()


# -- OpenStack-Ansible's inputs as written (#16 item 7) --------------------------------


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_empty_entries_are_dropped_as_the_role_selects_them(blank):
    """OSA templates write '' through ternary; the role's select() drops it."""
    plain = VenvSpec.create("v", packages=["a"], default_packages=["b"], constraints=["c<2"],
                            global_constraints=["-c https://h/u"], tools=["pip"],
                            build_requirements=["pbr"])
    with_blanks = VenvSpec.create(
        "v", packages=["a", blank], default_packages=[blank, "b"], constraints=[blank, "c<2"],
        global_constraints=["-c https://h/u", blank], tools=["pip", blank],
        build_requirements=[blank, "pbr"])
    assert with_blanks == plain and with_blanks.spec_id == plain.spec_id
    assert normalize_requirements([blank, "x", blank]) == ("x",)
    assert normalize_constraints([blank]) == ()


def test_a_list_of_empty_entries_only_is_no_packages():
    with pytest.raises(SpecError, match="no packages given"):
        VenvSpec.create("v", packages=["", None], default_packages=[" "])


@pytest.mark.parametrize("text, expected", [
    ("/srv/sdists/Foo_Bar-1.0.tar.gz", "foo-bar @ file:///srv/sdists/Foo_Bar-1.0.tar.gz"),
    ("/srv//sdists/./oslo.config-9.0.zip", "oslo-config @ file:///srv/sdists/oslo.config-9.0.zip"),
    ("/srv/my sdists/foo-1.0.tar.gz", "foo @ file:///srv/my%20sdists/foo-1.0.tar.gz"),
    ("/srv/w/Foo-1.0-py3-none-any.whl", "foo @ file:///srv/w/Foo-1.0-py3-none-any.whl"),
    ("file:///srv/sdists/foo-1.0.tar.gz", "foo @ file:///srv/sdists/foo-1.0.tar.gz"),
    ("file://localhost/srv/foo-1.0.tar.gz", "foo @ file://localhost/srv/foo-1.0.tar.gz"),
    ("https://host/pkgs/foo-1.0.tar.gz", "foo @ https://host/pkgs/foo-1.0.tar.gz"),
    ("HTTPS://host/foo-1.0.tar.gz", "foo @ HTTPS://host/foo-1.0.tar.gz"),
    ("https://host/foo-1.0.tar.gz#sha256=" + "a" * 64,
     "foo @ https://host/foo-1.0.tar.gz#sha256=" + "a" * 64),
    ("https://host/download/latest#egg=Foo", "foo @ https://host/download/latest"),
    ("http://host:8080/foo%2Dbar-1.0.tar.gz", "foo-bar @ http://host:8080/foo%2Dbar-1.0.tar.gz"),
])
def test_a_bare_sdist_or_wheel_becomes_a_direct_reference(text, expected):
    """pip takes a path or URL of an sdist in a package list; here it is the
    'name @ URL' requirement it means, checked and recorded as one, with the spec id
    of that requirement written out."""
    assert normalize_requirement(text) == expected
    assert normalize_requirement(expected) == expected  # idempotent, as the manifest needs
    written_out = VenvSpec.create("v", packages=[expected])
    assert VenvSpec.create("v", packages=[text]).spec_id == written_out.spec_id


@pytest.mark.parametrize("text, message", [
    ("./sdists/foo-1.0.tar.gz", "must be absolute"),
    ("~/foo-1.0.tar.gz", "must be absolute"),
    ("/srv/../etc/foo-1.0.tar.gz", "without '..'"),
    ("/srv/sdists/keystone", "no package name in its file name 'keystone'"),
    ("/srv/sdists/foo.tar.gz", "no package name"),
    ("/srv/sdists/foo-1.0.tar.bz2", "no package name"),
    ("https://host/", "no package name in its file name ''"),
    ("https://host/download?file=foo-1.0.tar.gz", "no package name in its file name 'download'"),
    ("file://otherhost/srv/foo-1.0.tar.gz", "a file: URL must name an absolute path on this minion"),
    ("file:///srv/../etc/foo-1.0.tar.gz", "without '..' or a host"),
    ("file:///srv/%2e%2e/etc/foo-1.0.tar.gz", "without '..' or a host"),
    ("file:foo-1.0.tar.gz", "a file: URL must name an absolute path"),
    ("file:///srv/foo-1.0.tar.gz%0a-r%20/etc/shadow", "control or line-separator"),
    ("/srv/foo-1.0.tar.gz\n-r /etc/shadow", "line breaks"),
])
def test_bad_bare_sdists_are_refused_naming_the_entry(text, message):
    with pytest.raises(SpecError, match=f"^package .*{re.escape(message)}"):
        normalize_requirement(text)


@pytest.mark.parametrize("text, expected", [
    ("-c file:///etc/venvbuild/uc.txt", "-c file:///etc/venvbuild/uc.txt"),
    ("--constraint=file:/etc/venvbuild/uc.txt", "-c file:///etc/venvbuild/uc.txt"),
    ("-c file://localhost/etc//uc.txt", "-c file:///etc/uc.txt"),
    ("-c file:///srv/my%20dir/uc.txt", "-c file:///srv/my%20dir/uc.txt"),
    ("-c file:///srv/uc.txt#sha256=" + "A" * 64, "-c file:///srv/uc.txt#sha256=" + "a" * 64),
])
def test_file_constraints_urls_are_accepted_as_the_role_accepts_them(text, expected):
    assert normalize_constraint(text) == expected
    assert normalize_constraint(expected) == expected
    assert split_constraint_pin(expected[3:])[0].startswith("file:///")
