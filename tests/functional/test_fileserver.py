"""The ``venvbuild`` fileserver backend through Salt's own Fileserver and loader:
it serves the packaged formulas (here the checkout's, through the editable
install's ``formula`` link), in any saltenv, read-only, behind the backends
listed before it, and refuses what is not below the formula directory."""

import hashlib
import os
import pathlib

import pytest
import salt.fileserver

import saltext_venvbuild
from tests.conftest import STATES_DIR

FORMULA_FILES = sorted(str(p.relative_to(STATES_DIR)) for p in STATES_DIR.rglob("*") if p.is_file())


@pytest.fixture
def fileserver(minion_opts, tmp_path):
    def make(backends, file_roots=None):
        opts = dict(minion_opts, cachedir=str(tmp_path / "cache"), fileserver_backend=backends,
                    file_roots=file_roots or {"base": [str(tmp_path / "empty")]})
        server = salt.fileserver.Fileserver(opts)
        server.init()
        server.update()
        return server
    return make


def _read(server, path, saltenv="base"):
    load = {"path": path, "saltenv": saltenv, "loc": 0}
    data = server.serve_file(dict(load))["data"]
    return data.encode() if isinstance(data, str) else data


def test_the_backend_serves_the_packaged_formulas(fileserver, tmp_path):
    assert os.path.samefile(saltext_venvbuild.formula_dir(), STATES_DIR)
    server = fileserver(["venvbuild"])
    assert server.envs() == ["base"]
    assert server.file_list({"saltenv": "base"}) == FORMULA_FILES
    assert set(server.dir_list({"saltenv": "base"})) >= {"venvbuild", "orch", "venvbuild/files"}
    for rel in FORMULA_FILES:
        content = (STATES_DIR / rel).read_bytes()
        fnd = server.find_file(rel, "base")
        assert fnd["back"] == "venvbuild" and fnd["rel"] == rel
        assert _read(server, rel) == content
        digest = server.file_hash({"path": rel, "saltenv": "base"})
        assert digest["hsum"] == hashlib.new(digest["hash_type"], content).hexdigest()
    # The same formulas in another saltenv, for states applied there.
    assert server.find_file("venvbuild/init.sls", "prod")["back"] == "venvbuild"
    assert server.file_list({"saltenv": "prod"}) == FORMULA_FILES


def test_nothing_outside_the_formulas_is_served(fileserver, tmp_path):
    server = fileserver(["venvbuild"])
    for path in ("../pyproject.toml", "venvbuild/../../pyproject.toml", "/etc/passwd",
                 str(STATES_DIR.parent / "pyproject.toml"), "venvbuild/missing.sls"):
        assert not server.find_file(path, "base").get("path"), path
        assert _read(server, path) in (b"", None), path
    # A saltenv is only a name: one that climbs writes nothing outside the backend's cache.
    before = {p: p.stat().st_mtime_ns for p in pathlib.Path(STATES_DIR).rglob("*")}
    server.file_list({"saltenv": "../../../escape"})
    server.file_hash({"path": "venvbuild/init.sls", "saltenv": "../../../escape"})
    server.update()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written
    assert [p for p in written if not p.is_relative_to(tmp_path / "cache" / "venvbuild-fileserver")] == []
    # Read-only: the formula files are as they were.
    assert {p: p.stat().st_mtime_ns for p in pathlib.Path(STATES_DIR).rglob("*")} == before


def test_a_backend_listed_before_it_wins(fileserver, tmp_path):
    """roots first: a venvbuild/init.sls of the operator's own replaces the packaged one."""
    own = tmp_path / "own"
    (own / "venvbuild").mkdir(parents=True)
    (own / "venvbuild" / "init.sls").write_text("mine: {test.nop: []}\n")
    server = fileserver(["roots", "venvbuild"], file_roots={"base": [str(own)]})
    assert server.find_file("venvbuild/init.sls", "base")["back"] == "roots"
    assert _read(server, "venvbuild/init.sls") == b"mine: {test.nop: []}\n"
    assert server.find_file("venvbuild/builder.sls", "base")["back"] == "venvbuild"
    assert server.file_list({"saltenv": "base"}) == FORMULA_FILES
    # Each keeps its own caches: the roots backend's file list is still its own.
    assert server.file_list({"saltenv": "base", "fsbackend": "roots"}) == ["venvbuild/init.sls"]
    assert server.file_list({"saltenv": "base", "fsbackend": "venvbuild"}) == FORMULA_FILES
    assert (tmp_path / "cache" / "roots").is_dir()
    assert (tmp_path / "cache" / "venvbuild-fileserver" / "roots").is_dir()
