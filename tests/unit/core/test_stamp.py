"""Unit tests of saltext_venvbuild.core.stamp: the stamp file and what a venv really holds."""

import base64
import dataclasses
import hashlib
import json
import os
import stat

import pytest

from saltext_venvbuild.core.interpreter import Interpreter
from saltext_venvbuild.core.stamp import STAMP_NAME
from saltext_venvbuild.core.stamp import Stamp
from saltext_venvbuild.core.stamp import installed_distributions
from saltext_venvbuild.core.stamp import installed_versions
from saltext_venvbuild.core.stamp import python_record
from saltext_venvbuild.core.stamp import read_stamp
from saltext_venvbuild.core.stamp import record_problems
from saltext_venvbuild.core.stamp import site_packages
from saltext_venvbuild.core.stamp import write_stamp

PY311 = Interpreter("python3", "/usr/bin/python3.11", "cpython", "3.11.2", 3, 11, False, "x86_64")
PY313T = Interpreter("python3.13t", "/usr/bin/python3.13t", "cpython", "3.13.1", 3, 13, True, "aarch64")


def _stamp(**changes):
    fields = {
        "venv_id": "keystone",
        "spec_id": "0123456789abcdef",
        "manifest_sha256": "a" * 64,
        "python": python_record(PY311),
        "requirements": ["keystone==26.0.0"],
        "versions": {"keystone": "26.0.0", "pbr": "6.0.0"},
        "seeded": {"pip": "24.0"},
        "install_tool": "pip",
        "source": "/srv/venvbuild",
        "created": "20240101T000000Z",
    }
    fields.update(changes)
    return Stamp(**fields)


# -- python_record ------------------------------------------------------------------


def test_python_record():
    assert python_record(PY311) == {"executable": "/usr/bin/python3.11", "version": "3.11.2", "tag": "cp311"}
    assert python_record(PY313T) == {"executable": "/usr/bin/python3.13t", "version": "3.13.1", "tag": "cp313t"}


# -- Stamp, read_stamp, write_stamp -------------------------------------------------


def test_stamp_defaults():
    stamp = _stamp()
    assert (stamp.symlink_pkgs, stamp.linked, stamp.install_pkgs, stamp.trust) == ([], {}, [], "")
    assert stamp.as_dict()["trust"] == ""
    assert set(stamp.as_dict()) == {f.name for f in dataclasses.fields(Stamp)}


def test_write_and_read_stamp(tmp_path):
    stamp = _stamp(symlink_pkgs=["python3-libvirt"], linked={"libvirt-python": "9.0.0"},
                   install_pkgs=["libvirt-daemon"], trust="sha256 pinned in the pillar")
    write_stamp(str(tmp_path), stamp)
    path = tmp_path / STAMP_NAME
    assert STAMP_NAME == "venvbuild.json"
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o644
    assert json.loads(path.read_text()) == stamp.as_dict()
    assert read_stamp(str(tmp_path)) == stamp


def test_write_stamp_replaces_atomically(tmp_path):
    write_stamp(str(tmp_path), _stamp())
    write_stamp(str(tmp_path), _stamp(spec_id="fedcba9876543210"))
    assert read_stamp(str(tmp_path)).spec_id == "fedcba9876543210"
    assert os.listdir(tmp_path) == [STAMP_NAME]


def test_write_stamp_replaces_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / STAMP_NAME).symlink_to(victim)
    write_stamp(str(venv), _stamp())
    assert victim.read_text() == "keep me"
    assert not os.path.islink(venv / STAMP_NAME)


def test_read_stamp_of_a_venv_without_one(tmp_path):
    assert read_stamp(str(tmp_path)) is None
    assert read_stamp(str(tmp_path / "nothing")) is None


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]", '"text"', "null", "{}", '{"venv_id": "x"}'])
def test_read_stamp_of_a_damaged_one_is_none(tmp_path, content):
    (tmp_path / STAMP_NAME).write_text(content)
    assert read_stamp(str(tmp_path)) is None


def test_read_stamp_of_binary_garbage_is_none(tmp_path):
    (tmp_path / STAMP_NAME).write_bytes(b"\xff\xfe\x00")
    assert read_stamp(str(tmp_path)) is None


def test_read_stamp_of_a_directory_is_none(tmp_path):
    (tmp_path / STAMP_NAME).mkdir()
    assert read_stamp(str(tmp_path)) is None


def test_read_stamp_tolerates_unknown_keys(tmp_path):
    data = _stamp().as_dict()
    data["written_by"] = "a newer venvbuild"
    data["future"] = {"nested": [1, 2]}
    (tmp_path / STAMP_NAME).write_text(json.dumps(data))
    assert read_stamp(str(tmp_path)) == _stamp()


def test_read_stamp_of_an_older_release_fills_in_defaults(tmp_path):
    data = _stamp().as_dict()
    for key in ("symlink_pkgs", "linked", "install_pkgs", "trust"):
        del data[key]
    (tmp_path / STAMP_NAME).write_text(json.dumps(data))
    stamp = read_stamp(str(tmp_path))
    assert stamp == _stamp()
    assert stamp.trust == ""


@pytest.mark.parametrize("key", ["venv_id", "spec_id", "manifest_sha256", "python", "versions", "created"])
def test_read_stamp_missing_a_required_key_is_none(tmp_path, key):
    data = _stamp().as_dict()
    del data[key]
    (tmp_path / STAMP_NAME).write_text(json.dumps(data))
    assert read_stamp(str(tmp_path)) is None


# -- installed_distributions --------------------------------------------------------


def _site(venv, py="python3.11"):
    site = venv / "lib" / py / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    return site


def _dist(site, name, version, files=None, metadata=None, record=None):
    """A dist-info directory, with a RECORD of ``files`` ({relative path: bytes})."""
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        metadata if metadata is not None else f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nbody\n"
    )
    rows = []
    for rel, data in (files or {}).items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{rel},sha256={digest},{len(data)}")
    rel_record = f"{dist_info.name}/RECORD"
    rows.append(f"{rel_record},,")
    (dist_info / "RECORD").write_text(record if record is not None else "\n".join(rows) + "\n")
    return dist_info


def test_site_packages(tmp_path):
    assert site_packages(str(tmp_path)) == []
    site = _site(tmp_path)
    assert site_packages(str(tmp_path)) == [str(site)]


def test_installed_distributions(tmp_path):
    site = _site(tmp_path)
    foo = _dist(site, "Foo.Bar", "1.0")
    pbr = _dist(site, "pbr", "6.0.0")
    assert installed_distributions(str(tmp_path)) == {
        "foo-bar": ("1.0", str(foo)),
        "pbr": ("6.0.0", str(pbr)),
    }
    assert installed_versions(str(tmp_path)) == {"foo-bar": "1.0", "pbr": "6.0.0"}


def test_installed_distributions_skips_incomplete_metadata(tmp_path):
    site = _site(tmp_path)
    _dist(site, "good", "1.0")
    _dist(site, "noversion", "1.0", metadata="Metadata-Version: 2.1\nName: noversion\n")
    _dist(site, "noname", "1.0", metadata="Metadata-Version: 2.1\nVersion: 1.0\n")
    (site / "nometa-1.0.dist-info").mkdir()
    (site / "egg-1.0.egg-info").mkdir()
    assert installed_versions(str(tmp_path)) == {"good": "1.0"}


def test_installed_distributions_of_no_venv(tmp_path):
    assert installed_distributions(str(tmp_path / "nothing")) == {}


# -- record_problems ----------------------------------------------------------------


def test_record_problems_of_an_intact_distribution(tmp_path):
    site = _site(tmp_path)
    dist_info = _dist(site, "foo", "1.0", {"foo/__init__.py": b"x = 1\n", "foo/data.txt": b"data"})
    assert record_problems(str(dist_info), str(site)) == []


def test_record_problems_finds_changed_and_missing_files(tmp_path):
    site = _site(tmp_path)
    dist_info = _dist(site, "foo", "1.0", {"foo/__init__.py": b"x = 1\n", "foo/a.py": b"a", "foo/b.py": b"b"})
    (site / "foo" / "a.py").write_bytes(b"tampered")
    (site / "foo" / "b.py").unlink()
    assert record_problems(str(dist_info), str(site)) == [
        "foo/a.py: content differs from its RECORD",
        "foo/b.py: missing",
    ]


def test_record_problems_skips_rows_without_a_sha256(tmp_path):
    site = _site(tmp_path)
    record = "foo/__pycache__/x.pyc,,\nfoo/y.py,md5=abc,1\nshort\n\n"
    dist_info = _dist(site, "foo", "1.0", record=record)
    assert record_problems(str(dist_info), str(site)) == []


def test_record_problems_files_outside_the_site(tmp_path):
    # Scripts live in bin/: RECORD names them relative to site-packages.
    site = _site(tmp_path)
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "foo"
    script.write_bytes(b"#!python\n")
    digest = base64.urlsafe_b64encode(hashlib.sha256(b"#!python\n").digest()).rstrip(b"=").decode()
    dist_info = _dist(site, "foo", "1.0", record=f"../../../bin/foo,sha256={digest},9\n")
    assert record_problems(str(dist_info), str(site)) == []
    script.write_bytes(b"#!/bin/sh\nevil\n")
    assert record_problems(str(dist_info), str(site)) == ["../../../bin/foo: content differs from its RECORD"]


def test_record_problems_of_an_unreadable_record(tmp_path):
    site = _site(tmp_path)
    dist_info = site / "foo-1.0.dist-info"
    dist_info.mkdir()
    problems = record_problems(str(dist_info), str(site))
    assert len(problems) == 1
    assert problems[0].startswith("foo-1.0.dist-info: RECORD unreadable:")
