"""Unit tests of saltext_venvbuild.core.platform: platform keys and their release part."""

import pytest

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.names import PLATFORM_KEY as KEY
from saltext_venvbuild.core.platform import check_key
from saltext_venvbuild.core.platform import key_release
from saltext_venvbuild.core.platform import platform_key

# -- platform_key --------------------------------------------------------------------


def test_platform_key_joins_the_parts():
    assert platform_key("Debian", "12", "x86_64", "cp311") == "debian-12-x86_64-cp311"


@pytest.mark.parametrize(
    "parts, key",
    [
        (("Ubuntu", "24.04", "X86_64", "CP312"), "ubuntu-24.04-x86_64-cp312"),
        (("Rocky Linux", "9.3", "x86_64", "cp39"), "rocky_linux-9.3-x86_64-cp39"),
        (("Debian GNU/Linux", "12", "aarch64", "cp311"), "debian_gnu_linux-12-aarch64-cp311"),
        (("  Alpine  ", "3.19", "x86_64", "cp312"), "alpine-3.19-x86_64-cp312"),
        (("arch", "rolling", "x86_64", "cp313t"), "arch-rolling-x86_64-cp313t"),
        (("debian", 12, "x86_64", "cp311"), "debian-12-x86_64-cp311"),
        (("os:/x", "1", "arm-v7", "pp310"), "os_x-1-arm_v7-pp310"),
        (("Naïve OS", "1", "x86_64", "cp311"), "na_ve_os-1-x86_64-cp311"),
        (("debian\n", "12\x85", "x86_64\u2028", "cp311\0"), "debian-12-x86_64-cp311"),
    ],
)
def test_platform_key_lower_cases_and_replaces_unsafe_characters(parts, key):
    assert platform_key(*parts) == key
    assert check_key(key) == key


@pytest.mark.parametrize(
    "parts",
    [
        ("red-hat", "9", "x86_64", "cp39"),
        ("debian", "12-rc1", "x86_64", "cp311"),
        ("debian", "12", "armv7-hf", "cp311"),
        ("debian", "12", "x86_64", "graal-py311"),
        ("a--b", "-1-", "x-", "-t"),
        ("../../etc", "12", "x86_64", "cp311"),
    ],
)
def test_dashes_inside_parts_are_replaced_so_the_key_splits_into_its_parts(parts):
    key = platform_key(*parts)
    assert key.count("-") == 3
    assert check_key(key) == key
    split = key.split("-")
    assert len(split) == 4 and all(split)
    # Every part is the key part of its input: splitting and joining again is stable.
    assert platform_key(*split) == key
    assert "/" not in key


@pytest.mark.parametrize(
    "parts, what",
    [
        (("", "12", "x86_64", "cp311"), "distribution"),
        ((None, "12", "x86_64", "cp311"), "distribution"),
        (("debian", "", "x86_64", "cp311"), "release"),
        (("debian", None, "x86_64", "cp311"), "release"),
        (("debian", "12", "   ", "cp311"), "architecture"),
        (("debian", "12", "x86_64", "---"), "interpreter tag"),
        (("debian", "12", "x86_64", "/"), "interpreter tag"),
    ],
)
def test_empty_part_is_refused_naming_the_grain(parts, what):
    # Changed on purpose: a SpecError (not ValueError) that says which grain is missing.
    with pytest.raises(SpecError, match=f"^platform key: the {what} is unknown on this minion") as info:
        platform_key(*parts)
    assert "grains os, osrelease, osmajorrelease, cpuarch" in str(info.value)
    assert not isinstance(info.value, ValueError)


# -- key_release ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "distro, osrelease, osmajorrelease, release",
    [
        ("Ubuntu", "24.04.1", 24, "24.04"),
        ("Ubuntu", "24.04", 24, "24.04"),
        ("Ubuntu", "22.04.5", None, "22.04"),
        ("ubuntu", "22.10", "22", "22.10"),
        ("  UBUNTU ", "20.04", None, "20.04"),
        ("Ubuntu", "24", None, "24"),
        ("Debian", "12", 12, "12"),
        ("Debian", "12.7", None, "12"),
        ("Debian", "12", None, "12"),
        ("Rocky", "9.4", 9, "9"),
        ("Rocky", "9.5", 9, "9"),
        ("AlmaLinux", "9.4", "9", "9"),
        ("CentOS Stream", "9", None, "9"),
        ("Fedora", "40", 40, "40"),
        ("Arch", "rolling", None, "rolling"),
        ("Arch", "rolling", "", "rolling"),
        ("Debian", "sid", None, "sid"),
        ("Alpine", "3.19.1", None, "3"),
        ("Alpine", "3.19.1", 3, "3"),
        ("Gentoo", "", None, ""),
        ("Gentoo", None, None, ""),
    ],
)
def test_key_release(distro, osrelease, osmajorrelease, release):
    assert key_release(distro, osrelease, osmajorrelease) == release


def test_osmajorrelease_defaults_to_none():
    assert key_release("Rocky", "9.4") == "9"
    assert key_release("Ubuntu", "24.04.1") == "24.04"


def _host_key(distro, osrelease, osmajorrelease, arch="x86_64", tag="cp312"):
    return platform_key(distro, key_release(distro, osrelease, osmajorrelease), arch, tag)


def test_el_minor_releases_share_a_key():
    # A builder on EL 9.4 serves targets on 9.5.
    assert _host_key("Rocky", "9.4", 9) == _host_key("Rocky", "9.5", 9) == "rocky-9-x86_64-cp312"
    assert _host_key("Rocky", "9.4", None) == _host_key("Rocky", "9.5", None)
    assert _host_key("Rocky", "8.10", 8) != _host_key("Rocky", "9.5", 9)


def test_debian_12():
    assert _host_key("Debian", "12", 12, tag="cp311") == "debian-12-x86_64-cp311"
    assert _host_key("Debian", "12.7", None, tag="cp311") == "debian-12-x86_64-cp311"


def test_ubuntu_releases_have_their_own_keys():
    jammy = _host_key("Ubuntu", "22.04", 22, tag="cp310")
    noble = _host_key("Ubuntu", "24.04", 24, tag="cp310")
    assert jammy == "ubuntu-22.04-x86_64-cp310"
    assert noble == "ubuntu-24.04-x86_64-cp310"
    assert jammy != noble
    # Point releases of one Ubuntu release share its key.
    assert _host_key("Ubuntu", "24.04.1", 24, tag="cp310") == noble


# -- check_key -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["debian-12-x86_64-cp311", "ubuntu-24.04-aarch64-cp312", "arch-rolling-x86_64-cp313t",
            "a_b-1-x-t"],
)
def test_check_key_accepts_keys(key):
    assert check_key(key) == key
    assert KEY.fullmatch(key)


@pytest.mark.parametrize(
    "key",
    ["debian-12-x86_64", "debian-12-x86_64-cp311-extra", "debian--x86_64-cp311", "-12-x86_64-cp311",
     "", "Debian-12-x86_64-cp311", "debian-12-x86_64-cp311\n", "debian-12-x86_64-cp311/",
     "../12-x86_64-cp311", "debian-12-x86 64-cp311", None, 12, b"debian-12-x86_64-cp311"],
)
def test_check_key_refuses_other_shapes(key):
    with pytest.raises(SpecError, match="not a platform key like 'debian-12-x86_64-cp311'"):
        check_key(key)


def test_check_key_names_what_was_checked():
    with pytest.raises(SpecError, match=r"^manifest platform 'x'"):
        check_key("x", "manifest platform")
