"""Unit tests of saltext_venvbuild.core.manifest: pins, render/parse, diffs."""

import re

import pytest

from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from saltext_venvbuild.core.manifest import diff_versions
from saltext_venvbuild.core.manifest import read_manifest

SHA_A = "a" * 64
SHA_B = "b" * 64
SHA_C = "c" * 64

# -- Pin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename, name, version",
    [
        ("Foo_Bar-1.0.post1-py3-none-any.whl", "foo-bar", "1.0.post1"),
        ("PyMySQL-1.1.0-py3-none-any.whl", "pymysql", "1.1.0"),
        ("zope.interface-6.4-cp311-cp311-manylinux_2_17_x86_64.whl", "zope-interface", "6.4"),
        ("foo-2.0-1-py3-none-any.whl", "foo", "2.0"),  # with a build tag
        ("foo-1.0rc1-py3-none-any.whl", "foo", "1.0rc1"),
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
    ],
)
def test_pin_from_invalid_wheel_filename(filename):
    with pytest.raises(RepoError, match=re.escape(f"wheel {filename!r}: not a valid wheel file name")):
        Pin.from_wheel(filename, SHA_A)


# -- Manifest render / parse --------------------------------------------------------

PIN_FOO = Pin("foo", "1.0", "foo-1.0-py3-none-any.whl", SHA_A)
PIN_BAR = Pin("bar-baz", "2.1", "Bar_Baz-2.1-py3-none-any.whl", SHA_B)
PIN_QUX = Pin("qux", "0.3", "qux-0.3-cp311-cp311-linux_x86_64.whl", SHA_C)
REQS = ("bar-baz", 'foo>=1; python_version >= "3.8"', "qux@ https://example.com/qux-0.3.tar.gz")


def _manifest(pins=(PIN_FOO, PIN_BAR, PIN_QUX), requirements=REQS):
    return Manifest.create("keystone", "0123456789abcdef", "debian-12-x86_64-cp311", requirements, pins)


GOOD = f"""\
# venvbuild-manifest 1
# venv: keystone
# spec: 0123456789abcdef
# platform: debian-12-x86_64-cp311
# requirement: foo
# wheel: foo-1.0-py3-none-any.whl
foo==1.0 --hash=sha256:{SHA_A}
"""


def test_create_sorts_pins_by_name():
    assert [pin.name for pin in _manifest().pins] == ["bar-baz", "foo", "qux"]


def test_render_format():
    text = _manifest().render()
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[:4] == [
        "# venvbuild-manifest 1",
        "# venv: keystone",
        "# spec: 0123456789abcdef",
        "# platform: debian-12-x86_64-cp311",
    ]
    # The lines pip/uv read are exactly the pins, with hashes; the rest are comments.
    pin_lines = [line for line in lines if not line.startswith("#")]
    assert pin_lines == [
        f"bar-baz==2.1 --hash=sha256:{SHA_B}",
        f"foo==1.0 --hash=sha256:{SHA_A}",
        f"qux==0.3 --hash=sha256:{SHA_C}",
    ]
    assert "# wheel: Bar_Baz-2.1-py3-none-any.whl" in lines
    assert f"# requirement: {REQS[1]}" in lines


def test_render_parse_round_trip():
    manifest = _manifest()
    parsed = Manifest.parse(manifest.render())
    assert parsed == manifest
    assert parsed.render() == manifest.render()


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


def test_filename_and_versions():
    manifest = _manifest()
    assert manifest.filename == "keystone-0123456789abcdef.txt"
    assert manifest.versions() == {"bar-baz": "2.1", "foo": "1.0", "qux": "0.3"}


def test_parse_minimal_manifest():
    manifest = Manifest.parse(GOOD)
    assert (manifest.venv_id, manifest.spec_id, manifest.platform) == (
        "keystone",
        "0123456789abcdef",
        "debian-12-x86_64-cp311",
    )
    assert manifest.requirements == ("foo",)
    assert manifest.pins == (PIN_FOO,)


def test_parse_accepts_blank_lines_and_crlf():
    text = GOOD.replace("\n", "\r\n").replace("# wheel:", "\r\n# wheel:")
    assert Manifest.parse(text) == Manifest.parse(GOOD)


def test_parse_compares_pin_name_canonically():
    text = GOOD.replace("foo==1.0", "Foo==1.0")
    assert Manifest.parse(text).pins == (PIN_FOO,)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "not a venvbuild manifest"),
        (GOOD.replace("# venvbuild-manifest 1", "# venvbuild-manifest 2"), "not a venvbuild manifest"),
        ("\n" + GOOD, "not a venvbuild manifest"),
        (GOOD.replace("foo==1.0 --hash", "foo 1.0 --hash"), "line 7: malformed pin"),
        (GOOD.replace(" --hash=sha256:", " --hash=md5:"), "line 7: malformed pin"),
        (GOOD.replace("foo==1.0", "foo==1.0==2"), "line 7: malformed pin"),
        (GOOD.replace("# wheel: foo-1.0-py3-none-any.whl\n", ""), "line 6: pin .* has no '# wheel:' line"),
        (GOOD.replace("foo==1.0", "foo==2.0"), "line 7: pin .* does not match wheel"),
        (GOOD.replace("foo==1.0", "bar==1.0"), "line 7: pin .* does not match wheel"),
        (GOOD.replace(SHA_A, "abc"), "line 7: bad sha256"),
        (GOOD.replace("# venv: keystone\n", ""), "header line '# venv: ...' missing"),
        (GOOD.replace("# spec: 0123456789abcdef\n", ""), "header line '# spec: ...' missing"),
        (GOOD.replace("# platform: debian-12-x86_64-cp311\n", ""), "header line '# platform: ...' missing"),
        ("".join(GOOD.splitlines(keepends=True)[:5]), "lists no wheels"),
    ],
)
def test_parse_errors_name_the_source(text, message):
    with pytest.raises(RepoError, match=r"^/srv/repo/m\.txt\b.*" + message):
        Manifest.parse(text, source="/srv/repo/m.txt")


def test_parse_uses_one_wheel_line_per_pin():
    text = GOOD + f"bar==2.0 --hash=sha256:{SHA_B}\n"
    with pytest.raises(RepoError, match="line 8: pin .* has no '# wheel:' line"):
        Manifest.parse(text, source="m")


def test_parse_error_for_invalid_wheel_name_names_the_source():
    text = GOOD.replace("# wheel: foo-1.0-py3-none-any.whl", "# wheel: foo.whl")
    with pytest.raises(RepoError, match=r"^/srv/repo/m\.txt"):
        Manifest.parse(text, source="/srv/repo/m.txt")


# -- duplicates ---------------------------------------------------------------------


def test_duplicate_project_is_refused():
    other_foo = Pin("foo", "1.1", "foo-1.1-py3-none-any.whl", SHA_B)
    with pytest.raises(RepoError, match="more than one wheel for foo"):
        _manifest(pins=[PIN_FOO, PIN_BAR, other_foo])


def test_duplicate_project_in_parsed_text_is_refused():
    text = GOOD + f"# wheel: Foo-1.1-py3-none-any.whl\nfoo==1.1 --hash=sha256:{SHA_B}\n"
    with pytest.raises(RepoError, match="more than one wheel for foo"):
        Manifest.parse(text)


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


# -- read_manifest ------------------------------------------------------------------


def test_read_manifest_missing_file_is_none(tmp_path):
    assert read_manifest(tmp_path / "nothing.txt") is None


def test_read_manifest_reads_a_rendered_manifest(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text(_manifest().render(), encoding="utf-8")
    assert read_manifest(path) == _manifest()
    assert read_manifest(str(path)) == _manifest()


def test_read_manifest_malformed_file_names_the_path(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(RepoError, match=re.escape(str(path)) + ": not a venvbuild manifest"):
        read_manifest(path)


def test_read_manifest_unreadable_is_repo_error(tmp_path):
    with pytest.raises(RepoError, match="cannot read it"):
        read_manifest(tmp_path)  # a directory


def test_read_manifest_binary_file_is_repo_error(tmp_path):
    path = tmp_path / "m.txt"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RepoError):
        read_manifest(path)
