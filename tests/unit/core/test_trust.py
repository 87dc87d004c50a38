"""core/trust.py: targeting warnings, builder choice, published manifest hashes."""

import collections

import pytest

from saltext_venvbuild.core import trust
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import TrustError
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin

PLATFORM = "debian-12-x86_64-cp311"
SPEC = "0123456789abcdef"


def info(url="http://b:8181", platforms=(PLATFORM,), **extra):
    return {"url": url, "platforms": list(platforms), **extra}


# -- targeting_warning -----------------------------------------------------------------


@pytest.mark.parametrize("target, tgt_type", [
    ("roles:venvbuild-builder", "grain"),
    ("roles:venvbuild-.*", "grain_pcre"),
    ("10.0.0.0/8", "ipcidr"),
    ("venvbuild:builder:True", "data"),
    ("G@roles:builder", "compound"),
    ("P@os:Deb.*", "compound"),
    ("S@10.0.0.0/8", "compound"),
    ("build* and G@roles:builder", "compound"),
    ("build* or\tP@os:Debian", "compound"),
    ("build* and not G@roles:web", "compound"),
    ("not G@roles:web", "compound"),
    ("build* and (G@roles:builder or L@b1,b2)", "compound"),
    ("build* and ( not S@10.0.0.0/8)", "compound"),
])
def test_minion_controlled_targets_warn(target, tgt_type):
    warning = trust.targeting_warning(target, tgt_type)
    assert warning is not None
    assert f"builders are found by {tgt_type} target {target!r}" in warning
    assert "any minion can set that grain" in warning
    assert "docs/security.md" in warning


@pytest.mark.parametrize("target, tgt_type", [
    ("build*", "glob"),
    ("build*", None),  # glob is the default
    ("b1,b2", "list"),
    ("build0[0-9]", "pcre"),
    ("venvbuild:builder:True", "pillar"),
    ("builders", "nodegroup"),
    ("build* and L@b1,b2", "compound"),
    ("I@venvbuild:builder:True and E@build.*", "compound"),
    ("N@builders", "compound"),
    ("build-G@x", "compound"),  # G@ inside a word is not a grain match
])
def test_master_controlled_targets_do_not_warn(target, tgt_type):
    assert trust.targeting_warning(target, tgt_type) is None


# -- choose_builder --------------------------------------------------------------------


def test_choose_builder_only_among_those_serving_the_platform():
    builders = {
        "b1": info(platforms=["debian-11-x86_64-cp39"]),
        "b2": info(url=""),  # no URL published: cannot serve
        "b3": info(url="http://b3"),
        "b4": "not a dict",
    }
    assert trust.choose_builder("t1", builders, PLATFORM) == ("b3", builders["b3"])
    assert trust.choose_builder("t1", {}, PLATFORM) is None
    assert trust.choose_builder("t1", None, PLATFORM) is None


@pytest.mark.parametrize("bad", [
    {"url": "ftp://b", "platforms": [PLATFORM]},
    {"url": "b:8181", "platforms": [PLATFORM]},
    {"url": None, "platforms": [PLATFORM]},
    {"url": ["http://b"], "platforms": [PLATFORM]},
    {"platforms": [PLATFORM]},
    {"url": "http://b"},
    {"url": "http://b", "platforms": PLATFORM},  # a string, not a list
    {"url": "http://b", "platforms": f"[{PLATFORM}]"},
    {"url": "http://b", "platforms": {PLATFORM: True}},
    None,
    [PLATFORM],
])
def test_choose_builder_ignores_malformed_mine_data(bad):
    assert trust.choose_builder("t1", {"bad": bad}, PLATFORM) is None
    assert trust.choose_builder("t1", {"bad": bad, "good": info()}, PLATFORM)[0] == "good"


def test_choose_builder_accepts_https():
    builders = {"b1": info(url="https://b1:8443/repo")}
    assert trust.choose_builder("t1", builders, PLATFORM) == ("b1", builders["b1"])


def test_choose_builder_is_deterministic_and_spreads_load():
    builders = {f"b{i}": info(url=f"http://b{i}") for i in range(4)}
    picks = [trust.choose_builder(f"target-{n}", builders, PLATFORM)[0] for n in range(400)]
    again = [trust.choose_builder(f"target-{n}", dict(reversed(builders.items())), PLATFORM)[0]
             for n in range(400)]
    assert picks == again
    counts = collections.Counter(picks)
    assert set(counts) == set(builders)
    assert min(counts.values()) > 60  # 100 each on average


def test_adding_a_builder_moves_only_targets_that_prefer_it():
    builders = {f"b{i}": info(url=f"http://b{i}") for i in range(3)}
    before = {n: trust.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    builders["b3"] = info(url="http://b3")
    after = {n: trust.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    moved = [n for n in before if before[n] != after[n]]
    assert moved and all(after[n] == "b3" for n in moved)


def test_removing_a_builder_moves_only_its_targets():
    builders = {f"b{i}": info(url=f"http://b{i}") for i in range(4)}
    before = {n: trust.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    del builders["b2"]
    after = {n: trust.choose_builder(f"t{n}", builders, PLATFORM)[0] for n in range(300)}
    assert all(after[n] == before[n] for n in before if before[n] != "b2")
    assert "b2" not in after.values()


def test_choose_builder_obeys_builder_platforms():
    builders = {"build01": info(url="http://b1"), "rogue": info(url="http://evil")}
    platforms = {"build0*": ["debian-12-*"]}
    for n in range(50):
        assert trust.choose_builder(f"t{n}", builders, PLATFORM, platforms)[0] == "build01"
    assert trust.choose_builder("t1", builders, "debian-11-x86_64-cp39",
                                {"build0*": ["debian-12-*"]}) is None
    assert trust.choose_builder("t1", {"rogue": builders["rogue"]}, PLATFORM, platforms) is None


# -- allowed / check_builder_platforms -------------------------------------------------


def test_allowed_without_a_mapping_lets_every_builder_serve():
    assert trust.allowed("anyone", PLATFORM, None)
    assert trust.allowed("anyone", PLATFORM, {})


@pytest.mark.parametrize("builder_id, platform, expected", [
    ("build01", PLATFORM, True),
    ("build01", "debian-12-aarch64-cp311", True),
    ("build01", "ubuntu-24.04-x86_64-cp312", False),
    ("arm01", "debian-12-aarch64-cp311", True),
    ("arm01", PLATFORM, False),
    ("BUILD01", PLATFORM, False),  # case matters: minion ids are case-sensitive
    ("web01", PLATFORM, False),
])
def test_allowed_matches_globs(builder_id, platform, expected):
    mapping = {"build*": ["debian-12-*"], "arm01": ["*-aarch64-*"]}
    assert trust.allowed(builder_id, platform, mapping) is expected


def test_check_builder_platforms_normalizes():
    assert trust.check_builder_platforms(None) is None
    assert trust.check_builder_platforms({"b*": ("debian-12-*",)}) == {"b*": ["debian-12-*"]}


@pytest.mark.parametrize("value, message", [
    ({}, "must be a mapping of builder ids"),
    ("build01", "must be a mapping of builder ids"),
    ([{"b": ["x"]}], "must be a mapping of builder ids"),
    ({"": ["debian-12-*"]}, "is not a builder id"),
    ({1: ["debian-12-*"]}, "is not a builder id"),
    ({"b1": "debian-12-*"}, "b1: must be a list of platform keys"),
    ({"b1": ["debian-12-*", ""]}, "b1: must be a list of platform keys"),
    ({"b1": [12]}, "b1: must be a list of platform keys"),
    ({"b1": None}, "b1: must be a list of platform keys"),
])
def test_check_builder_platforms_refuses(value, message):
    with pytest.raises(SpecError, match=message) as info_:
        trust.check_builder_platforms(value)
    assert str(info_.value).startswith("builder_platforms")


# -- published_hash / check_manifest ---------------------------------------------------

MANIFEST = Manifest.create("app", SPEC, PLATFORM, ["vbapp"],
                           [Pin.from_wheel("vbapp-1.0-py3-none-any.whl", "a" * 64, 100)])


def test_published_hash_reads_the_mine_entry():
    entry = info(manifests={
        f"{PLATFORM}/app-{SPEC}": "1" * 64,
        f"2024.1/{PLATFORM}/app-{SPEC}": "2" * 64,
    })
    assert trust.published_hash(entry, PLATFORM, None, "app", SPEC) == "1" * 64
    assert trust.published_hash(entry, PLATFORM, "2024.1", "app", SPEC) == "2" * 64
    assert trust.published_hash(entry, PLATFORM, "2025.1", "app", SPEC) is None
    assert trust.published_hash(entry, PLATFORM, None, "other", SPEC) is None
    assert trust.published_hash(entry, "debian-11-x86_64-cp39", None, "app", SPEC) is None


@pytest.mark.parametrize("entry", [
    None,
    "not a dict",
    info(),
    info(manifests=None),
    info(manifests=[f"{PLATFORM}/app-{SPEC}"]),
    info(manifests={f"{PLATFORM}/app-{SPEC}": 12}),
    info(manifests={f"{PLATFORM}/app-{SPEC}": ["1" * 64]}),
])
def test_published_hash_of_malformed_entries_is_none(entry):
    assert trust.published_hash(entry, PLATFORM, None, "app", SPEC) is None


def test_check_manifest_accepts_the_published_hash():
    # It compares hashes of the bytes as fetched: nothing is parsed before.
    assert trust.check_manifest(MANIFEST.sha256, MANIFEST.sha256, "http://b/m.txt",
                                "anchor") == MANIFEST.sha256


def test_check_manifest_refuses_another_hash():
    with pytest.raises(TrustError) as info_:
        trust.check_manifest(MANIFEST.sha256, "f" * 64, "http://user:secret@b/m.txt",
                             "builder b1's mine entry")
    message = str(info_.value)
    assert f"has sha256 {MANIFEST.sha256[:16]}..., but builder b1's mine entry says " \
           f"{'f' * 16}...; refused, and not even parsed" in message
    assert "http://****@b/m.txt" in message
    assert "secret" not in message
    assert "mine.update" in message
