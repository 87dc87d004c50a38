"""Unit tests of saltext_venvbuild.core.manifest: pins, render/parse, strict validation, diffs.

Reading a manifest from disk moved to ``RepoLayout.read_manifest`` (see test_repo.py).
"""

import re

import pytest

from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.manifest import FORMAT
from saltext_venvbuild.core.manifest import MAX_BYTES
from saltext_venvbuild.core.manifest import MAX_WHEEL_SIZE
from saltext_venvbuild.core.manifest import ConstraintFile
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import ManifestError
from saltext_venvbuild.core.manifest import ManifestFormatError
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.manifest import check_sha256
from saltext_venvbuild.core.manifest import diff_versions
from saltext_venvbuild.core.manifest import manifest_filename

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64
SHA_D = "d" * 64
SPEC_ID = "0123456789abcdef"
PLATFORM = "debian-12-x86_64-cp311"
SOURCE = "/srv/repo/m.txt"

# -- errors -------------------------------------------------------------------------


def test_error_hierarchy():
    assert issubclass(ManifestError, RepoError)
    assert issubclass(ManifestFormatError, ManifestError)


def test_format():
    assert FORMAT == "venvbuild-manifest 3"


# -- Pin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, name, version",
    [
        ("Foo_Bar-1.0.post1-py3-none-any.whl", "foo-bar", "1.0.post1"),
        ("PyMySQL-1.1.0-py3-none-any.whl", "pymysql", "1.1.0"),
        ("zope.interface-6.4-cp311-cp311-manylinux_2_17_x86_64.whl", "zope-interface", "6.4"),
        ("foo-2.0-1-py3-none-any.whl", "foo", "2.0"),  # with a build tag
        ("foo-1.0rc1-py3-none-any.whl", "foo", "1.0rc1"),
        ("foo-1.0+local.1-py3-none-any.whl", "foo", "1.0+local.1"),
    ],
)
def test_pin_from_wheel(filename, name, version):
    pin = Pin.from_wheel(filename, SHA_A)
    assert pin == Pin(name, version, filename, SHA_A)


@pytest.mark.parametrize(
    "filename",
    [
        "foo.whl",
        "foo-1.0.whl",
        "foo-notaversion-py3-none-any.whl",
        "foo-1.0-py3-none-any.zip",
        "foo__bar-1.0-py3-none-any.whl",
        # Names that would steer a path or a line.
        "../foo-1.0-py3-none-any.whl",
        "sub/foo-1.0-py3-none-any.whl",
        "/abs/foo-1.0-py3-none-any.whl",
        ".foo-1.0-py3-none-any.whl",
        "-foo-1.0-py3-none-any.whl",
        "foo-1.0-py3-none-any.whl\n-r /etc/shadow",
        "foo-1.0-py3-none-any.whl\u2028x",
        "foo 1.0-py3-none-any.whl",
        "",
        None,
    ],
)
def test_pin_from_invalid_wheel_filename(filename):
    with pytest.raises(RepoError, match=re.escape(f"wheel {filename!r}: not a valid wheel file name")):
        Pin.from_wheel(filename, SHA_A)


@pytest.mark.parametrize("sha", ["abc", "A" * 64, "g" * 64, "a" * 63, "a" * 65, "", None, SHA_A + "\n"])
def test_pin_from_wheel_refuses_a_bad_sha256(sha):
    with pytest.raises(RepoError, match="bad sha256"):
        Pin.from_wheel("foo-1.0-py3-none-any.whl", sha)


def test_pin_from_wheel_keeps_the_size():
    pin = Pin.from_wheel("foo-1.0-py3-none-any.whl", SHA_A, 1234)
    assert pin == Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", SHA_A, 1234)
    assert Pin.from_wheel("foo-1.0-py3-none-any.whl", SHA_A, MAX_WHEEL_SIZE).size == MAX_WHEEL_SIZE


@pytest.mark.parametrize("size", [0, -1, MAX_WHEEL_SIZE + 1, 1.5, "12", True])
def test_pin_from_wheel_refuses_a_bad_size(size):
    with pytest.raises(RepoError, match="bad size"):
        Pin.from_wheel("foo-1.0-py3-none-any.whl", SHA_A, size)


def test_pin_path_is_by_content():
    pin = Pin.from_wheel("foo-1.0-py3-none-any.whl", SHA_A)
    assert pin.path == f"{SHA_A}/foo-1.0-py3-none-any.whl"


def test_check_sha256():
    assert check_sha256(SHA_A) == SHA_A
    for bad in ("A" * 64, "a" * 63, "", None, 42):
        with pytest.raises(SpecError, match="64 lower-case hex digits"):
            check_sha256(bad)
    with pytest.raises(SpecError, match="^constraints sha"):
        check_sha256("x", what="constraints sha")


# -- Manifest render / parse --------------------------------------------------------

PIN_FOO = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", SHA_A, 1234)
PIN_BAR = Pin("bar-baz", "2.1", "Bar_Baz-2.1-py3-none-any.whl", SHA_B, 56789)
PIN_QUX = Pin("qux", "0.3", "qux-0.3-cp311-cp311-linux_x86_64.whl", SHA_C, 42)
REQS = ("bar-baz", 'foo>=1; python_version >= "3.8"', "qux @ https://example.com/qux-0.3.tar.gz")
UC = ConstraintFile("https://releases.openstack.org/constraints/upper/2025.2", SHA_D)
LOCAL_UC = ConstraintFile("/etc/venvbuild/upper-constraints.txt", SHA_C)


def _manifest(pins=(PIN_FOO, PIN_BAR, PIN_QUX), requirements=REQS, constraint_files=()):
    return Manifest.create("keystone", SPEC_ID, PLATFORM, requirements, pins, constraint_files)


GOOD = f"""\
# venvbuild-manifest 3
# venv: keystone
# spec: {SPEC_ID}
# platform: {PLATFORM}
# requirement: foo
# wheel: foo-1.0-py3-none-any.whl size=1234
foo==1.0 --hash=sha256:{SHA_A}
"""


def test_create_sorts_pins_by_name():
    assert [pin.name for pin in _manifest().pins] == ["bar-baz", "foo", "qux"]


def test_create_sorts_constraint_files_by_ref():
    manifest = _manifest(constraint_files=[UC, LOCAL_UC])
    assert manifest.constraint_files == (LOCAL_UC, UC)


def test_render_format():
    text = _manifest().render()
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[:4] == [
        "# venvbuild-manifest 3",
        "# venv: keystone",
        f"# spec: {SPEC_ID}",
        f"# platform: {PLATFORM}",
    ]
    # The lines pip/uv read are exactly the pins, with hashes; the rest are comments.
    pin_lines = [line for line in lines if not line.startswith("#")]
    assert pin_lines == [
        f"bar-baz==2.1 --hash=sha256:{SHA_B}",
        f"foo==1.0 --hash=sha256:{SHA_A}",
        f"qux==0.3 --hash=sha256:{SHA_C}",
    ]
    # Each wheel line names the file and its size, and directly precedes its pin.
    assert "# wheel: Bar_Baz-2.1-py3-none-any.whl size=56789" in lines
    assert f"# requirement: {REQS[1]}" in lines
    index = lines.index("# wheel: Bar_Baz-2.1-py3-none-any.whl size=56789")
    assert lines[index + 1] == f"bar-baz==2.1 --hash=sha256:{SHA_B}"


def test_render_constraint_files():
    lines = _manifest(constraint_files=[UC, LOCAL_UC]).render().splitlines()
    assert f"# constraints-file: {SHA_C} /etc/venvbuild/upper-constraints.txt" in lines
    assert f"# constraints-file: {SHA_D} {UC.ref}" in lines
    # After the requirements, before the first wheel.
    first_cf = min(i for i, line in enumerate(lines) if line.startswith("# constraints-file:"))
    assert all(not line.startswith("# wheel:") for line in lines[:first_cf])
    assert all(not line.startswith("# requirement:") for line in lines[first_cf:])


def test_render_parse_round_trip():
    manifest = _manifest()
    parsed = Manifest.parse(manifest.render())
    assert parsed == manifest
    assert parsed.render() == manifest.render()


def test_render_parse_round_trip_with_constraint_files():
    manifest = _manifest(constraint_files=[UC, LOCAL_UC])
    parsed = Manifest.parse(manifest.render(), source=SOURCE)
    assert parsed == manifest
    assert parsed.constraint_files == (LOCAL_UC, UC)


def test_render_parse_round_trip_without_requirements():
    manifest = _manifest(requirements=())
    assert Manifest.parse(manifest.render()) == manifest


def test_render_is_independent_of_pin_order():
    one = _manifest(pins=[PIN_FOO, PIN_BAR, PIN_QUX])
    two = _manifest(pins=[PIN_QUX, PIN_FOO, PIN_BAR])
    assert one.render() == two.render()
    assert one.sha256 == two.sha256


def test_sha256_is_equal_for_equal_content_and_differs_otherwise():
    assert _manifest().sha256 == _manifest().sha256
    assert re.fullmatch(r"[0-9a-f]{64}", _manifest().sha256)
    rebuilt_foo = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", "d" * 64)
    assert _manifest(pins=[rebuilt_foo, PIN_BAR, PIN_QUX]).sha256 != _manifest().sha256
    assert _manifest(constraint_files=[UC]).sha256 != _manifest().sha256


def test_filename_and_versions():
    manifest = _manifest()
    assert manifest.filename == f"keystone-{SPEC_ID}.txt"
    assert manifest_filename("keystone", SPEC_ID) == manifest.filename
    assert manifest.versions() == {"bar-baz": "2.1", "foo": "1.0", "qux": "0.3"}


def test_parse_minimal_manifest():
    manifest = Manifest.parse(GOOD)
    assert (manifest.venv_id, manifest.spec_id, manifest.platform) == ("keystone", SPEC_ID, PLATFORM)
    assert manifest.requirements == ("foo",)
    assert manifest.pins == (PIN_FOO,)
    assert manifest.constraint_files == ()
    assert manifest.render() == GOOD


# Changed on purpose: only exactly what render() writes is accepted, so blank
# lines, CRLF and non-canonical pin names, all accepted before, are refused now.


def test_parse_refuses_crlf():
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt: not a venvbuild manifest \(line endings\)"):
        Manifest.parse(GOOD.replace("\n", "\r\n"), source=SOURCE)


def test_parse_refuses_blank_lines():
    text = GOOD.replace("# wheel:", "\n# wheel:")
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt, line 6: malformed pin ''"):
        Manifest.parse(text, source=SOURCE)


def test_parse_refuses_a_non_canonical_pin_name():
    text = GOOD.replace("foo==1.0", "Foo==1.0")
    with pytest.raises(ManifestError, match="line 7: malformed pin"):
        Manifest.parse(text, source=SOURCE)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"not a venvbuild manifest \(line endings\)"),
        (GOOD[:-1], r"not a venvbuild manifest \(line endings\)"),  # no final newline
        ("hello\n", r"not a venvbuild manifest \(first line 'hello'\)"),
        ("\n" + GOOD, r"not a venvbuild manifest \(first line ''\)"),
        (GOOD.replace("# venvbuild-manifest 3", "#venvbuild-manifest 3"), "not a venvbuild manifest"),
        (GOOD.replace("foo==1.0 --hash", "foo 1.0 --hash"), "line 7: malformed pin"),
        (GOOD.replace(" --hash=sha256:", " --hash=md5:"), "line 7: malformed pin"),
        (GOOD.replace(" --hash=sha256:", "  --hash=sha256:"), "line 7: malformed pin"),
        (GOOD.replace("foo==1.0", "foo==1.0==2"), "line 7: malformed pin"),
        (GOOD.replace("foo==1.0", "foo===1.0"), "line 7: malformed pin"),
        (GOOD.replace(f"{SHA_A}\n", f"{SHA_A} \n"), "line 7: malformed pin"),
        (GOOD.replace(f"{SHA_A}\n", f"{SHA_A} -r /etc/shadow\n"), "line 7: malformed pin"),
        (GOOD.replace(SHA_A, "abc"), "line 7: malformed pin"),  # was: bad sha256
        (GOOD.replace(SHA_A, SHA_A.upper()), "line 7: malformed pin"),
        (GOOD.replace("# wheel: foo-1.0-py3-none-any.whl size=1234\n", ""), "line 6: pin has no '# wheel:' line"),
        (GOOD.replace("foo==1.0", "foo==2.0"), "line 7: pin does not match wheel"),
        (GOOD.replace("foo==1.0", "bar==1.0"), "line 7: pin does not match wheel"),
        (GOOD.replace("# venv: keystone\n", ""), "header line '# venv: ...' missing"),
        (GOOD.replace(f"# spec: {SPEC_ID}\n", ""), "header line '# spec: ...' missing"),
        (GOOD.replace(f"# platform: {PLATFORM}\n", ""), "header line '# platform: ...' missing"),
        (GOOD.replace("# requirement: foo", "# hello"), "line 5: malformed header"),
        (GOOD.replace("# requirement: foo", "# index-url: http://evil/simple"), "line 5: unknown header 'index-url'"),
        (GOOD.replace("# requirement: foo", "# requirement: Foo"), "line 5: requirement not canonical"),
        (GOOD.replace("# requirement: foo", "# requirement:  foo"), "line 5: requirement not canonical"),
        (GOOD.replace("# requirement: foo", f"# requirement: foo\n# spec: {SPEC_ID}"), "line 6: header spec out of place"),
        (GOOD.replace("# venv: keystone", "# venv: keystone\n# venv: nova"), "line 3: header venv out of place"),
        (GOOD.replace("# wheel: foo", "# wheel: foo-1.0-py3-none-any.whl size=1\n# wheel: foo"), "line 7: two wheel lines in a row"),
        (GOOD + "# wheel: bar-1.0-py3-none-any.whl size=1\n", "wheel line 'bar-1.0-py3-none-any.whl' without its pin"),
        # Format 3: the wheel's size, in canonical decimal, is part of its line.
        (GOOD.replace(" size=1234", ""), "line 6: malformed wheel line 'foo-1.0-py3-none-any.whl'"),
        (GOOD.replace(" size=1234", " size=0"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " size=01234"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " size=-1"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " size=1e3"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " size=1234 "), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", "  size=1234"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " bytes=1234"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", " size=1234567890123"), "line 6: malformed wheel line"),
        (GOOD.replace(" size=1234", f" size={MAX_WHEEL_SIZE + 1}"), "line 7: wheel .*: bad size"),
        (GOOD.replace("# requirement: foo", "# constraints-file: abc /x"), "sha256 'abc': must be 64 lower-case hex"),
        (GOOD.replace("# requirement: foo", "# requirement: -r /etc/shadow"), "looks like a pip option"),
    ],
)
def test_parse_errors_name_the_source(text, message):
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt\b.*" + message):
        Manifest.parse(text, source=SOURCE)


def test_parse_uses_one_wheel_line_per_pin():
    text = GOOD + f"bar==2.0 --hash=sha256:{SHA_B}\n"
    with pytest.raises(ManifestError, match="line 8: pin has no '# wheel:' line"):
        Manifest.parse(text, source="m")


def test_parse_error_for_invalid_wheel_name_names_the_source():
    text = GOOD.replace("# wheel: foo-1.0-py3-none-any.whl", "# wheel: foo.whl")
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt, line 7: wheel 'foo.whl': not a valid wheel"):
        Manifest.parse(text, source=SOURCE)


def test_parse_refuses_an_out_of_order_manifest():
    """Every field valid, but not in the order render() writes: refused."""
    manifest = _manifest()
    lines = manifest.render().splitlines(keepends=True)
    swapped = lines[:2] + [lines[3], lines[2]] + lines[4:]  # platform before spec
    with pytest.raises(ManifestError, match="header .* out of place|canonical form"):
        Manifest.parse("".join(swapped), source=SOURCE)
    # Pins in another order.
    head, pins = lines[:7], lines[7:]
    reordered = head + pins[2:4] + pins[0:2] + pins[4:]
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt: not in the canonical form"):
        Manifest.parse("".join(reordered), source=SOURCE)


def test_parse_keeps_the_requirements_as_rendered():
    # Requirements are rendered in the order given (the spec's, sorted); each
    # must be canonical, and what is parsed renders to the same text.
    text = GOOD.replace("# requirement: foo\n", "# requirement: zed\n# requirement: foo\n")
    manifest = Manifest.parse(text)
    assert manifest.requirements == ("zed", "foo")
    assert manifest.render() == text


def test_parse_refuses_unsorted_constraint_files():
    text = _manifest(constraint_files=[UC, LOCAL_UC]).render()
    lines = text.splitlines(keepends=True)
    cf = [i for i, line in enumerate(lines) if line.startswith("# constraints-file:")]
    lines[cf[0]], lines[cf[1]] = lines[cf[1]], lines[cf[0]]
    with pytest.raises(ManifestError, match="canonical form"):
        Manifest.parse("".join(lines), source=SOURCE)


# -- crafted manifests: nothing may steer a path or smuggle a line ------------------


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("# venv: keystone", "# venv: ../../x", r"venv '\.\./\.\./x'"),
        ("# venv: keystone", "# venv: a/b", r"venv 'a/b'"),
        ("# venv: keystone", "# venv: .hidden", r"venv '\.hidden'"),
        ("# venv: keystone", "# venv: ", r"venv ''"),
        (f"# spec: {SPEC_ID}", "# spec: ../x", r"spec '\.\./x'"),
        (f"# spec: {SPEC_ID}", "# spec: 0123456789ABCDEF", "spec '0123456789ABCDEF'"),
        (f"# spec: {SPEC_ID}", "# spec: 0123456789abcdef0", "spec"),
        (f"# platform: {PLATFORM}", "# platform: ../../etc", "platform"),
        (f"# platform: {PLATFORM}", "# platform: debian-12-x86_64", "platform"),
        (f"# platform: {PLATFORM}", "# platform: Debian-12-x86_64-cp311", "platform"),
        ("# wheel: foo-1.0-py3-none-any.whl", "# wheel: ../foo-1.0-py3-none-any.whl", "not a valid wheel file name"),
        ("# wheel: foo-1.0-py3-none-any.whl", "# wheel: x/foo-1.0-py3-none-any.whl", "not a valid wheel file name"),
        ("# wheel: foo-1.0-py3-none-any.whl", "# wheel: /tmp/foo-1.0-py3-none-any.whl", "not a valid wheel file name"),
        ("# wheel: foo-1.0-py3-none-any.whl", "# wheel: foo-1.0-py3-none-any.whl ", "malformed wheel line"),
        ("# requirement: foo", "# requirement: foo\f-r /etc/shadow", "control character '\\\\x0c'"),
        ("# requirement: foo", "# requirement: foo\u2028-r /etc/shadow", re.escape(repr("\u2028"))),
        ("# requirement: foo", "# requirement: foo\u2029x", "control character"),
        ("# requirement: foo", "# requirement: foo\x85x", "control character"),
        ("# requirement: foo", "# requirement: foo\vx", "control character"),
        ("# requirement: foo", "# requirement: foo\x1cx", "control character"),
        ("# requirement: foo", "# requirement: foo\x00", "control character"),
        ("# requirement: foo", "# requirement: foo\x1b[2J", "control character"),
        ("# requirement: foo", "# requirement: foo\u202ex", "control character"),  # bidi override
        ("# requirement: foo", "# requirement: foo\u200bx", "control character"),  # zero width
        ("# venv: keystone", "# venv: keystone\x00", "control character"),
        ("# requirement: foo", "# constraints-file: " + SHA_D + " /x\fy", "control character"),
        ("# requirement: foo", "# constraints-file: " + SHA_D + " /x\u2028y", "control character"),
    ],
)
def test_crafted_manifests_are_refused(old, new, message):
    assert old in GOOD
    text = GOOD.replace(old, new)
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt\b(?s:.*)" + message):
        Manifest.parse(text, source=SOURCE)


def test_control_character_in_a_pin_line_is_refused():
    text = GOOD.replace(f"{SHA_A}\n", f"{SHA_A}\f-r /etc/shadow\n")
    with pytest.raises(ManifestError, match="line 7: control character"):
        Manifest.parse(text, source=SOURCE)


def test_parse_reads_bytes_as_fetched():
    assert Manifest.parse(GOOD.encode(), source="m") == Manifest.parse(GOOD, source="m")
    with pytest.raises(ManifestError, match=r"^m: not UTF-8 text"):
        Manifest.parse(GOOD.encode() + b"# \xff\n", source="m")
    with pytest.raises(ManifestError, match=r"^m: larger than 4194304 bytes"):
        Manifest.parse(b"#" * (MAX_BYTES + 1), source="m")


def test_parse_refuses_what_is_neither_text_nor_bytes():
    with pytest.raises(ManifestError, match=r"^m: not text"):
        Manifest.parse(None, source="m")
    with pytest.raises(ManifestError, match=r"^m: not text"):
        Manifest.parse(bytearray(GOOD.encode()), source="m")


def test_a_pin_without_a_size_renders_what_parse_refuses():
    # A manifest made in memory without sizes can be hashed and compared, but
    # never read back, so never published (publish_manifest reads it back).
    sizeless = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", SHA_A)
    text = _manifest(pins=[sizeless]).render()
    assert "# wheel: foo-1.0-py3-none-any.whl\n" in text
    with pytest.raises(ManifestError, match="malformed wheel line"):
        Manifest.parse(text, source="m")


def test_parse_refuses_a_huge_manifest():
    text = GOOD + "# requirement: foo\n" * (MAX_BYTES // 19 + 1)
    assert len(text) > MAX_BYTES
    with pytest.raises(ManifestError, match=r"^m: larger than 4194304 bytes"):
        Manifest.parse(text, source="m")


@pytest.mark.parametrize("first", ["# venvbuild-manifest 1", "# venvbuild-manifest 2",
                                   "# venvbuild-manifest 4"])
def test_parse_of_another_format_is_a_format_error(first):
    # Format 2 (no wheel sizes) is not read: a builder treats it as absent and
    # builds the spec again (RepoLayout.read_manifest); a target is told to.
    text = GOOD.replace("# venvbuild-manifest 3", first)
    with pytest.raises(ManifestFormatError, match=rf"^m: {first[2:]}, written by another venvbuild release"):
        Manifest.parse(text, source="m")


def test_parse_of_a_foreign_file_is_not_a_format_error():
    with pytest.raises(ManifestError) as info:
        Manifest.parse("<html>\n", source="m")
    assert not isinstance(info.value, ManifestFormatError)


def test_constraints_file_ref_keeps_its_sha256_pin_and_round_trips():
    # The ref as the spec has it (credentials hidden), pin included: the manifest
    # shows which pinned file the build used, and its hash equals the pin.
    cf = ConstraintFile(f"https://****@h/uc.txt#sha256={SHA_D}", SHA_D)
    manifest = _manifest(constraint_files=[cf])
    assert f"# constraints-file: {SHA_D} https://****@h/uc.txt#sha256={SHA_D}" in manifest.render()
    assert Manifest.parse(manifest.render()).constraint_files == (cf,)


def test_constraints_file_ref_keeps_spaces_and_round_trips():
    cf = ConstraintFile("/etc/venvbuild/my constraints.txt", SHA_D)
    manifest = _manifest(constraint_files=[cf])
    assert Manifest.parse(manifest.render()).constraint_files == (cf,)


# -- check_is -----------------------------------------------------------------------


def test_check_is_returns_the_manifest():
    manifest = Manifest.parse(GOOD)
    assert manifest.check_is("keystone", SPEC_ID, PLATFORM) is manifest


@pytest.mark.parametrize(
    "venv_id, spec_id, platform",
    [
        ("nova", SPEC_ID, PLATFORM),
        ("keystone", "fedcba9876543210", PLATFORM),
        ("keystone", SPEC_ID, "ubuntu-24.04-x86_64-cp312"),
    ],
)
def test_check_is_refuses_another_name(venv_id, spec_id, platform):
    with pytest.raises(ManifestError, match=r"^http://b/m\.txt: names venv 'keystone'.*refusing it"):
        Manifest.parse(GOOD).check_is(venv_id, spec_id, platform, source="http://b/m.txt")


# -- duplicates and empty manifests -------------------------------------------------


def test_duplicate_project_is_refused():
    other_foo = Pin("foo", "1.1", "foo-1.1-py3-none-any.whl", SHA_B)
    with pytest.raises(RepoError, match="more than one wheel for foo"):
        _manifest(pins=[PIN_FOO, PIN_BAR, other_foo])


def test_same_name_and_version_from_two_sources_is_a_duplicate():
    fork = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", SHA_D)
    with pytest.raises(RepoError, match="more than one wheel for foo"):
        _manifest(pins=[PIN_FOO, fork])


def test_create_refuses_zero_pins():
    with pytest.raises(RepoError, match="the build produced no wheel"):
        _manifest(pins=())


def test_duplicate_project_in_parsed_text_is_refused():
    text = GOOD + f"# wheel: Foo-1.1-py3-none-any.whl size=9\nfoo==1.1 --hash=sha256:{SHA_B}\n"
    with pytest.raises(RepoError, match="more than one wheel for foo"):
        Manifest.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "".join(GOOD.splitlines(keepends=True)[:5]),  # no wheel at all
        GOOD + f"# wheel: Foo-1.1-py3-none-any.whl size=9\nfoo==1.1 --hash=sha256:{SHA_B}\n",
    ],
    ids=["no-pins", "duplicate"],
)
def test_parse_errors_of_create_name_the_source(text):
    with pytest.raises(ManifestError, match=r"^/srv/repo/m\.txt\b"):
        Manifest.parse(text, source=SOURCE)


# -- diff_versions ------------------------------------------------------------------


def test_diff_versions_equal_is_empty():
    assert diff_versions({"a": "1"}, {"a": "1"}) == {}
    assert diff_versions({}, {}) == {}


def test_diff_versions_added_removed_changed():
    old = {"a": "1", "b": "2", "c": "3"}
    new = {"a": "1", "b": "2.1", "d": "4", "e": "5"}
    assert diff_versions(old, new) == {
        "added": {"d": "4", "e": "5"},
        "removed": {"c": "3"},
        "changed": {"b": {"old": "2", "new": "2.1"}},
    }


def test_diff_versions_only_added():
    assert diff_versions({}, {"a": "1"}) == {"added": {"a": "1"}}


def test_diff_versions_only_removed():
    assert diff_versions({"a": "1"}, {}) == {"removed": {"a": "1"}}
