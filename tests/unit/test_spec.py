"""Unit tests of saltext_venvbuild.core.spec: requirements, VenvSpec, spec id, option checks."""

import dataclasses
import re

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.spec import VenvSpec
from saltext_venvbuild.core.spec import check_args
from saltext_venvbuild.core.spec import check_choice
from saltext_venvbuild.core.spec import check_env
from saltext_venvbuild.core.spec import check_venv_id
from saltext_venvbuild.core.spec import normalize_requirement
from saltext_venvbuild.core.spec import normalize_requirements

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
    ],
)
def test_refused_strings(text, message):
    with pytest.raises(SpecError, match=message):
        normalize_requirement(text)


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


def test_normalize_requirements_refuses_a_string():
    with pytest.raises(SpecError, match="must be a list of strings"):
        normalize_requirements("PyMySQL")


# -- venv ids -----------------------------------------------------------------------


@pytest.mark.parametrize("venv_id", ["keystone", "a", "nova-api", "py3.11_tools", "0x"])
def test_valid_venv_ids(venv_id):
    assert check_venv_id(venv_id) == venv_id


@pytest.mark.parametrize(
    "venv_id", ["", "../x", "a/b", "-x", ".hidden", "a b", "x" * 101, None, 7, "naïve"]
)
def test_invalid_venv_ids(venv_id):
    with pytest.raises(SpecError, match="venv id"):
        check_venv_id(venv_id)


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


def test_create_names_bad_constraints():
    with pytest.raises(SpecError, match=r"^constraint '--pre'"):
        VenvSpec.create("v", packages=["a"], constraints=["--pre"])
    with pytest.raises(SpecError, match=r"^global constraint '-c x'"):
        VenvSpec.create("v", packages=["a"], global_constraints=["-c x"])


@pytest.mark.parametrize(
    "packages, default_packages", [(None, None), ([], []), ([], None), (None, [])]
)
def test_create_without_packages_is_refused(packages, default_packages):
    with pytest.raises(SpecError, match="no packages given"):
        VenvSpec.create("v", packages=packages, default_packages=default_packages)


@pytest.mark.parametrize("venv_id", ["", "../etc", "a/b", None])
def test_create_with_invalid_venv_id_is_refused(venv_id):
    with pytest.raises(SpecError, match="venv id"):
        VenvSpec.create(venv_id, packages=["a"])


def test_create_refuses_build_args_as_a_string():
    with pytest.raises(SpecError, match="build_args must be a list"):
        VenvSpec.create("v", packages=["a"], build_args="--no-index --find-links /srv")


@pytest.mark.parametrize("field", ["packages", "default_packages"])
def test_create_refuses_a_package_list_given_as_a_string(field):
    kwargs = {"packages": ["a"], field: "PyMySQL"}
    with pytest.raises(SpecError, match="must be a list"):
        VenvSpec.create("v", **kwargs)


def test_spec_is_immutable():
    spec = VenvSpec.create("v", packages=["a"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.requirements = ("b",)


def test_as_dict_uses_lists():
    spec = VenvSpec.create("v", packages=["b", "a"], build_args=["--x"], platform="p")
    assert spec.as_dict() == {
        "venv_id": "v",
        "requirements": ["a", "b"],
        "constraints": [],
        "global_constraints": [],
        "build_args": ["--x"],
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
    assert spec.spec_id == "90c93efabf80c126"


def test_spec_id_is_stable_across_order_and_case_of_inputs():
    reordered = _spec(
        packages=["pymysql", "Keystone==26.0.0"],
        constraints=["Oslo_Config==9.4.0"],
        global_constraints=["PBR==6.0.0"],
    )
    assert reordered.spec_id == _spec().spec_id
    split = _spec(packages=["keystone==26.0.0"], default_packages=["PyMySQL"])
    assert split.spec_id == _spec().spec_id


@pytest.mark.parametrize(
    "changes",
    [
        {"packages": ["keystone==26.0.1", "PyMySQL"]},
        {"packages": ["keystone==26.0.0"]},
        {"packages": ["keystone==26.0.0", "PyMySQL", "memcache"]},
        {"constraints": ["oslo.config==9.4.1"]},
        {"constraints": None},
        {"global_constraints": ["pbr==6.0.1"]},
        {"global_constraints": None},
        {"build_args": ["--no-index", "--find-links", "/srv/sdists"]},
        {"build_args": None},
        {"platform": "debian-12-x86_64-cp312"},
        {"platform": "debian-12-aarch64-cp311"},
    ],
)
def test_spec_id_changes_with_any_input_that_decides_the_wheels(changes):
    assert _spec(**changes).spec_id != _spec().spec_id


def test_spec_id_tells_constraints_from_global_constraints():
    one = VenvSpec.create("v", packages=["a"], constraints=["b==1"])
    two = VenvSpec.create("v", packages=["a"], global_constraints=["b==1"])
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


def test_check_args_refuses_a_string():
    with pytest.raises(SpecError, match="install_args must be a list"):
        check_args("--no-index", "install_args")


@pytest.mark.parametrize("bad", [True, None, {"a": 1}, ["x"], b"x"])
def test_check_args_refuses_non_string_items(bad):
    with pytest.raises(SpecError, match="is not a string"):
        check_args(["--ok", bad], "build_args")


@pytest.mark.parametrize("bad", ["a\0b", "a\nb"])
def test_check_args_refuses_nul_and_newline(bad):
    with pytest.raises(SpecError, match="NUL or newline"):
        check_args([bad], "build_args")


def test_check_env_none_is_empty():
    assert check_env(None, "build_env") == {}


def test_check_env_stringifies_values():
    env = {"PIP_NO_CACHE": 1, "EMPTY": None, "NAME": "x"}
    assert check_env(env, "build_env") == {"PIP_NO_CACHE": "1", "EMPTY": "", "NAME": "x"}
    assert env["PIP_NO_CACHE"] == 1  # the input is not modified


@pytest.mark.parametrize("bad", [["A=1"], "A=1", 5])
def test_check_env_refuses_non_mappings(bad):
    with pytest.raises(SpecError, match="install_env must be a mapping"):
        check_env(bad, "install_env")


@pytest.mark.parametrize("key", ["", "A=B", "A\0", 3, None])
def test_check_env_refuses_bad_names(key):
    with pytest.raises(SpecError, match="not a valid environment variable name"):
        check_env({key: "x"}, "build_env")


def test_check_choice_returns_a_valid_choice():
    assert check_choice("uv", ("pip", "uv"), "install_tool") == "uv"


@pytest.mark.parametrize("bad", ["conda", "", None, "PIP"])
def test_check_choice_refuses_others_and_lists_the_choices(bad):
    with pytest.raises(SpecError, match=r"^install_tool .*: must be one of pip, uv$"):
        check_choice(bad, ("pip", "uv"), "install_tool")
