"""Unit tests of saltext_venvbuild.core.prune: what a repo prune keeps and removes.

Repos are made with RepoLayout's own publishing (real files, no mocks); ages
are set with utime. Locks are real flocks, held by the test itself.
"""

import os
import time

import pytest

from saltext_venvbuild.core import prune as core_prune
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.repo import WHEELS_LOCK
from saltext_venvbuild.core.repo import RepoLayout
from saltext_venvbuild.core.repo import published_manifests

PLATFORM = "debian-12-x86_64-cp311"
OTHER = "ubuntu-24.04-x86_64-cp312"
HOUR = 3600
SPECS = [f"{n:016x}" for n in range(1, 8)]  # 0000000000000001 ...


def _age(path, seconds):
    when = time.time() - seconds
    os.utime(path, (when, when), follow_symlinks=False)


def publish(root, venv, spec, wheels, age=10 * HOUR, platform=PLATFORM, release=None):
    """Publish ``venv``'s ``spec`` with ``wheels`` ({filename: bytes}), aged ``age`` seconds."""
    layout = RepoLayout(root, platform, release=release)
    built = layout.staging("t")
    for name, data in wheels.items():
        with open(os.path.join(built, name), "wb") as handle:
            handle.write(data)
    pins, _new = layout.publish_wheels(built)
    layout.remove_staging(built)
    manifest = Manifest.create(venv, spec, platform, [f"{p.name}=={p.version}" for p in pins], pins)
    layout.publish_manifest(manifest)
    _age(layout.manifest_path(venv, spec), age)
    for pin in pins:
        _age(layout.wheel_path(pin), age)
        _age(os.path.dirname(layout.wheel_path(pin)), age)
    return layout, manifest


def wheel(name, version, tag=b""):
    return {f"{name}-{version}-py3-none-any.whl": f"{name} {version}".encode() + tag}


def wheel_dirs(layout):
    return sorted(os.listdir(layout.wheels_dir))


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / "repo")


def test_keeps_in_use_and_the_newest_removes_the_rest_with_their_wheels(root):
    """Five specs of app, oldest first: the newest two (keep=2) and the in-use oldest stay;
    the other two go, with the wheel only they name; shared wheels stay."""
    shared = wheel("dep", "1.0")
    manifests = {}
    for index, spec in enumerate(SPECS[:5]):
        layout, manifests[spec] = publish(root, "app", spec, {**shared, **wheel("app", f"1.{index}")},
                                          age=(10 - index) * HOUR)
    in_use = [f"{PLATFORM}/app-{SPECS[0]}"]
    before = published_manifests(root)
    dry = core_prune.prune(root, in_use, keep=2, min_age=HOUR)
    assert dry["test"] is True
    assert published_manifests(root) == before  # a dry run removes nothing
    assert dry["removed"]["manifests"] == [f"{PLATFORM}/app-{SPECS[1]}", f"{PLATFORM}/app-{SPECS[2]}"]
    assert dry["removed"]["wheels"] == 2  # app 1.1 and app 1.2; dep is shared
    assert dry["removed"]["bytes"] == len(b"app 1.1") + len(b"app 1.2")
    assert dry["kept"]["manifests"] == {f"{PLATFORM}/app-{SPECS[0]}": "in use",
                                        f"{PLATFORM}/app-{SPECS[3]}": "newest",
                                        f"{PLATFORM}/app-{SPECS[4]}": "newest"}
    assert dry["kept"]["wheels"] == 4 and dry["skipped"] == []

    real = core_prune.prune(root, in_use, keep=2, min_age=HOUR, test=False)
    assert real["test"] is False
    assert {k: v for k, v in real.items() if k != "test"} == \
        {k: v for k, v in dry.items() if k != "test"}  # the dry run was the plan
    assert sorted(published_manifests(root)) == sorted(dry["kept"]["manifests"])
    kept_shas = {pin.sha256 for spec in (SPECS[0], SPECS[3], SPECS[4]) for pin in manifests[spec].pins}
    assert set(wheel_dirs(layout)) == kept_shas
    for spec in (SPECS[0], SPECS[3], SPECS[4]):  # what remains is complete
        assert layout.missing_wheels(manifests[spec]) == []
    again = core_prune.prune(root, in_use, keep=2, min_age=HOUR, test=False)
    assert again["removed"] == {"manifests": [], "wheels": 0, "bytes": 0}


def test_newest_is_per_venv_platform_and_release(root):
    for platform, release in ((PLATFORM, None), (OTHER, None), (PLATFORM, "2025.2")):
        for index, spec in enumerate(SPECS[:2]):
            for venv in ("app", "db"):
                publish(root, venv, spec, wheel(venv, f"{index}", platform.encode()),
                        age=(10 - index) * HOUR, platform=platform, release=release)
    out = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert sorted(out["kept"]["manifests"]) == sorted(
        f"{loc}/{venv}-{SPECS[1]}" for loc in (PLATFORM, OTHER, f"2025.2/{PLATFORM}")
        for venv in ("app", "db"))
    assert len(out["removed"]["manifests"]) == 6 and out["removed"]["wheels"] == 6


def test_an_in_use_key_without_release_keeps_the_spec_at_every_release(root):
    for release in (None, "2025.1", "2025.2"):
        for index, spec in enumerate(SPECS[:3]):
            publish(root, "app", spec, wheel("app", f"{index}"), age=(10 - index) * HOUR,
                    release=release)
    in_use = [f"{PLATFORM}/app-{SPECS[0]}", f"2025.1/{PLATFORM}/app-{SPECS[1]}"]
    out = core_prune.prune(root, in_use, keep=1, min_age=0)
    kept = out["kept"]["manifests"]
    assert kept[f"{PLATFORM}/app-{SPECS[0]}"] == "in use"
    assert kept[f"2025.1/{PLATFORM}/app-{SPECS[0]}"] == "in use"
    assert kept[f"2025.2/{PLATFORM}/app-{SPECS[0]}"] == "in use"
    assert kept[f"2025.1/{PLATFORM}/app-{SPECS[1]}"] == "in use"
    assert out["removed"]["manifests"] == [f"2025.2/{PLATFORM}/app-{SPECS[1]}",
                                           f"{PLATFORM}/app-{SPECS[1]}"]


def test_the_grace_period_keeps_recent_manifests_and_wheels(root):
    layout, _ = publish(root, "app", SPECS[0], wheel("app", "0"), age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=30 * 60)  # recent
    publish(root, "app", SPECS[2], wheel("app", "2"), age=20 * 60)  # newest
    # A wheel stored a minute ago that no manifest names yet (a build publishing).
    fresh = layout.staging("t")
    with open(os.path.join(fresh, "new-1.0-py3-none-any.whl"), "wb") as handle:
        handle.write(b"new")
    layout.publish_wheels(fresh)
    out = core_prune.prune(root, [], keep=1, min_age=HOUR, test=False)
    assert out["removed"]["manifests"] == [f"{PLATFORM}/app-{SPECS[0]}"]
    assert out["kept"]["manifests"] == {f"{PLATFORM}/app-{SPECS[1]}": "recent",
                                        f"{PLATFORM}/app-{SPECS[2]}": "newest"}
    assert out["removed"]["wheels"] == 1  # app 0's; the fresh unreferenced one stays
    assert len(wheel_dirs(layout)) == 3


def test_only_unreferenced_wheels_are_removed_even_across_venvs(root):
    """A wheel an old manifest of app names is kept while a manifest of db names it."""
    shared = wheel("dep", "1.0")
    layout, old = publish(root, "app", SPECS[0], {**shared, **wheel("app", "0")}, age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=9 * HOUR)
    publish(root, "db", SPECS[0], shared, age=9 * HOUR)
    out = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert out["removed"]["manifests"] == [f"{PLATFORM}/app-{SPECS[0]}"]
    dep = next(pin for pin in old.pins if pin.name == "dep")
    assert os.path.exists(layout.wheel_path(dep))
    assert out["removed"]["wheels"] == 1


def test_an_unreadable_manifest_is_kept_and_keeps_no_wheel(root):
    layout, damaged = publish(root, "app", SPECS[0], wheel("app", "0"), age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=9 * HOUR)
    path = layout.manifest_path("app", SPECS[0])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("garbage\n")
    _age(path, 10 * HOUR)
    # A manifest whose content names another spec than its file name: unreadable too.
    other = Manifest.create("app", SPECS[3], PLATFORM, ["x"], damaged.pins)
    with open(layout.manifest_path("app", SPECS[2]), "w", encoding="utf-8") as handle:
        handle.write(other.render())
    _age(layout.manifest_path("app", SPECS[2]), 10 * HOUR)
    out = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert out["kept"]["manifests"] == {f"{PLATFORM}/app-{SPECS[0]}": "unreadable",
                                        f"{PLATFORM}/app-{SPECS[1]}": "newest",
                                        f"{PLATFORM}/app-{SPECS[2]}": "unreadable"}
    assert out["removed"]["manifests"] == []
    assert os.path.exists(path)
    assert not os.path.exists(layout.wheel_path(damaged.pins[0]))  # named only by garbage
    assert out["removed"]["wheels"] == 1


def test_a_venv_whose_build_runs_is_skipped(root):
    layout, _ = publish(root, "app", SPECS[0], wheel("app", "0"), age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=9 * HOUR)
    publish(root, "db", SPECS[0], wheel("db", "0"), age=10 * HOUR)
    publish(root, "db", SPECS[1], wheel("db", "1"), age=9 * HOUR)
    with layout.lock("build-app") as locked:  # a build of app holds it
        assert locked
        for test in (True, False):
            out = core_prune.prune(root, [], keep=1, min_age=0, test=test)
            assert out["skipped"] == [{"location": PLATFORM, "venv": "app",
                                       "reason": "a build of this venv is running"}]
            assert out["removed"]["manifests"] == [f"{PLATFORM}/db-{SPECS[0]}"]
            assert f"{PLATFORM}/app-{SPECS[0]}" not in out["kept"]["manifests"]
    assert os.path.exists(layout.manifest_path("app", SPECS[0]))
    assert not os.path.exists(layout.manifest_path("db", SPECS[0]))


def test_wheels_are_left_alone_while_a_build_or_local_install_holds_them(root):
    layout, old = publish(root, "app", SPECS[0], wheel("app", "0"), age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=9 * HOUR)
    with layout.lock(WHEELS_LOCK, shared=True) as locked:  # a build of another venv
        assert locked
        out = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert out["removed"]["manifests"] == [f"{PLATFORM}/app-{SPECS[0]}"]
    assert out["removed"]["wheels"] == 0
    assert out["skipped"] == [{"location": PLATFORM, "reason": "a build or local install on this "
                               "platform is running: its wheels were not pruned"}]
    assert os.path.exists(layout.wheel_path(old.pins[0]))
    later = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert later["removed"]["wheels"] == 1 and later["skipped"] == []


def test_a_dry_run_creates_no_lock_file(root):
    layout, _ = publish(root, "app", SPECS[0], wheel("app", "0"))
    before = sorted(os.listdir(layout.locks_dir))
    core_prune.prune(root, [], keep=1, min_age=0)
    assert sorted(os.listdir(layout.locks_dir)) == before


def test_what_is_not_venvbuild_s_is_left_alone(root):
    layout, _ = publish(root, "app", SPECS[0], wheel("app", "0"), age=10 * HOUR)
    publish(root, "app", SPECS[1], wheel("app", "1"), age=9 * HOUR)
    stray = os.path.join(layout.wheels_dir, "not-a-sha")
    os.mkdir(stray)
    note = os.path.join(layout.manifests_dir, "README")
    with open(note, "w", encoding="utf-8") as handle:
        handle.write("x")
    link = os.path.join(layout.wheels_dir, "e" * 64)
    os.symlink("/", link)
    out = core_prune.prune(root, [], keep=1, min_age=0, test=False)
    assert out["removed"]["wheels"] == 1
    assert os.path.isdir(stray) and os.path.exists(note) and os.path.islink(link)


def test_an_empty_or_missing_repo_prunes_nothing(root):
    empty = {"test": True, "removed": {"manifests": [], "wheels": 0, "bytes": 0},
             "kept": {"manifests": {}, "wheels": 0}, "skipped": []}
    assert core_prune.prune(root) == empty


@pytest.mark.parametrize("in_use", [
    "debian-12-x86_64-cp311/app-0000000000000001",  # a string, not a list
    ["app-0000000000000001"],
    ["debian-12-x86_64-cp311/app-00000001"],
    ["a/b/debian-12-x86_64-cp311/app-0000000000000001"],
    ["../debian-12-x86_64-cp311/app-0000000000000001"],
    [1],
    {"debian-12-x86_64-cp311/app-0000000000000001": 1},
])
def test_in_use_keys_are_checked(in_use):
    with pytest.raises(SpecError, match="in_use"):
        core_prune.check_in_use(in_use)


def test_in_use_keys_accepted():
    keys = [f"{PLATFORM}/app-{SPECS[0]}", f"2025.2/{PLATFORM}/my.venv_1-{SPECS[1]}"]
    assert core_prune.check_in_use(keys) == frozenset(keys)
    assert core_prune.check_in_use(None) == frozenset()


@pytest.mark.parametrize(("keep", "min_age"), [(0, 0), (-1, 0), (True, 0), ("3", 0), (1.5, 0),
                                               (1, -1), (1, "0"), (1, float("nan")), (1, None)])
def test_keep_and_min_age_are_checked(keep, min_age):
    with pytest.raises(SpecError, match="keep|min_age"):
        core_prune.check_keep(keep, min_age)
