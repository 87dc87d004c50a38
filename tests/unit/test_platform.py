"""Unit tests of saltext_venvbuild.core.platform: platform keys."""

import pytest

from saltext_venvbuild.core.platform import platform_key
from saltext_venvbuild.core.platform import split_key


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
    ],
)
def test_platform_key_lower_cases_and_replaces_unsafe_characters(parts, key):
    assert platform_key(*parts) == key


@pytest.mark.parametrize(
    "parts",
    [
        ("red-hat", "9", "x86_64", "cp39"),
        ("debian", "12-rc1", "x86_64", "cp311"),
        ("debian", "12", "armv7-hf", "cp311"),
        ("debian", "12", "x86_64", "graal-py311"),
        ("a--b", "-1-", "x-", "-t"),
    ],
)
def test_dashes_inside_parts_are_replaced_so_split_key_round_trips(parts):
    key = platform_key(*parts)
    assert key.count("-") == 3
    split = split_key(key)
    assert list(split) == ["distro", "release", "arch", "interpreter"]
    assert "-".join(split.values()) == key
    # Every part is the key part of its input: splitting and joining again is stable.
    assert platform_key(*split.values()) == key


def test_split_key():
    assert split_key("debian-12-x86_64-cp311") == {
        "distro": "debian",
        "release": "12",
        "arch": "x86_64",
        "interpreter": "cp311",
    }


@pytest.mark.parametrize(
    "parts, what",
    [
        (("", "12", "x86_64", "cp311"), "distro"),
        ((None, "12", "x86_64", "cp311"), "distro"),
        (("debian", "", "x86_64", "cp311"), "release"),
        (("debian", "12", "   ", "cp311"), "architecture"),
        (("debian", "12", "x86_64", "---"), "interpreter tag"),
        (("debian", "12", "x86_64", "/"), "interpreter tag"),
    ],
)
def test_empty_part_is_refused(parts, what):
    with pytest.raises(ValueError, match=f"{what} is empty"):
        platform_key(*parts)


@pytest.mark.parametrize(
    "key",
    ["debian-12-x86_64", "debian-12-x86_64-cp311-extra", "debian--x86_64-cp311", "-12-x86_64-cp311", ""],
)
def test_split_key_refuses_other_shapes(key):
    with pytest.raises(ValueError, match="is not a platform key"):
        split_key(key)
