"""Trust boundaries, attacked through the real state and execution modules.

Only the master and its pillar are trusted. Each test performs one attack of
docs/security.md and asserts that it is refused with a clear error and that
nothing outside was touched: files elsewhere intact, the live venv intact,
the repo readable. Attacks that need a master, a second minion or the mine
(peer requests, builder impersonation, mine-anchored manifests) are in
tests/integration/test_trust.py.
"""

import base64
import hashlib
import io
import os
import pwd
import shutil
import stat
import subprocess
import threading
import time
import zipfile

import pytest

import servers
from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core.fsutil import sha256_file
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.manifest import Pin
from snapshots import files_holding
from snapshots import tree

SECRET = "s3cr3t-venvbuild"


def venv(tmp_path, name="app"):
    return str(tmp_path / "venvs" / name)


@pytest.fixture(scope="module")
def built(loaders, tmp_path_factory, build_args):
    """A repo with venv 'app' (vbdep==1.0) built, and the spec's id and platform."""
    base = tmp_path_factory.mktemp("trust")
    repo = str(base / "repo")
    args = {"packages": ["vbdep==1.0"], "build_args": build_args, "install_tool": "uv"}
    ret = loaders.states.venvbuild.wheels_built(name="app", repo_path=repo, **args)
    assert ret.result is True, ret.comment
    platform = loaders.modules.venvbuild.platform()["key"]
    spec_id = loaders.modules.venvbuild.spec_hash("app", **args)
    path = os.path.join(repo, platform, "manifests", f"app-{spec_id}.txt")
    with open(path, encoding="utf-8") as handle:
        manifest = Manifest.parse(handle.read())
    return {"repo": repo, "platform": platform, "spec_id": spec_id, "manifest": manifest,
            "args": args, "base": base}


def copy_repo(built, dest):
    shutil.copytree(built["repo"], dest, ignore=shutil.ignore_patterns(".locks", ".staging"))
    return str(dest)


def rebuilt_wheel(path, marker=b"# changed by an attacker\n"):
    """The wheel at ``path`` with one file's content changed and its RECORD made to match."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        record_name = next(n for n in src.namelist() if n.endswith(".dist-info/RECORD"))
        rows = []
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "vbdep/__init__.py":
                data += marker
            if info.filename != record_name:
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                rows.append(f"{info.filename},sha256={digest.decode()},{len(data)}")
                dst.writestr(info, data)
        rows.append(f"{record_name},,")
        dst.writestr(record_name, "\n".join(rows) + "\n")
    return out.getvalue()


# -- 3. manifest authenticity (repo_url with manifest_sha256) ------------------------


def test_a_rebuilt_wheel_with_a_matching_manifest_is_refused(states, tmp_path, built):
    """An attacker serves a rebuilt wheel and a manifest that matches it; the pillar's
    manifest_sha256 names the builder's manifest, so the install is refused."""
    evil = copy_repo(built, tmp_path / "evil")
    genuine = built["manifest"]
    (pin,) = genuine.pins
    data = rebuilt_wheel(os.path.join(built["repo"], built["platform"], "wheels", pin.path))
    sha = hashlib.sha256(data).hexdigest()
    wheels = os.path.join(evil, built["platform"], "wheels")
    os.makedirs(os.path.join(wheels, sha))
    with open(os.path.join(wheels, sha, pin.filename), "wb") as handle:
        handle.write(data)
    forged = Manifest.create(genuine.venv_id, genuine.spec_id, genuine.platform,
                             genuine.requirements, [Pin.from_wheel(pin.filename, sha, len(data))])
    with open(os.path.join(evil, built["platform"], "manifests", genuine.filename), "w",
              encoding="utf-8") as handle:
        handle.write(forged.render())

    with servers.serve(evil) as (url, _server):
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                         manifest_sha256=genuine.sha256, wait_timeout=5,
                                         **built["args"])
        assert ret.result is False
        assert "refused" in ret.comment and "manifest_sha256" in ret.comment
        assert not os.path.lexists(venv(tmp_path))

        # Without an anchor a plain-HTTP repo_url is installed, with a warning
        # that says what that means.
        open_ = states.venvbuild.installed(name=venv(tmp_path, "open"), venv_id="app",
                                           repo_url=url, wait_timeout=5, **built["args"])
        assert open_.result is True, open_.comment
        assert any("nothing authenticates" in w for w in open_.full_return["warnings"])

    with servers.serve(built["repo"]) as (url, _server):
        ok = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                        manifest_sha256=genuine.sha256, **built["args"])
        assert ok.result is True, ok.comment
        assert "warnings" not in ok.full_return
    status = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                        manifest_sha256=genuine.sha256, **built["args"])
    assert status.changes == {}  # the no-op needs no server


def test_a_wheel_altered_in_the_repo_is_refused_and_nothing_is_kept(states, loaders, tmp_path,
                                                                    built):
    """The web server's user swaps a served wheel's bytes: the hash check refuses them."""
    evil = copy_repo(built, tmp_path / "evil")
    (pin,) = built["manifest"].pins
    cache = os.path.join(loaders.opts["cachedir"], "venvbuild", "wheels")
    shutil.rmtree(os.path.join(cache, pin.sha256), ignore_errors=True)  # not cached by another test
    target = os.path.join(evil, built["platform"], "wheels", pin.path)
    altered = rebuilt_wheel(os.path.join(built["repo"], built["platform"], "wheels", pin.path),
                            marker=b"# altered in the repo\n")
    with open(target, "wb") as handle:
        handle.write(altered)
    with servers.serve(evil) as (url, _server):
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                         manifest_sha256=built["manifest"].sha256,
                                         wait_timeout=3, **built["args"])
    assert ret.result is False
    assert "do not match the manifest" in ret.comment and "refused" in ret.comment
    assert not os.path.lexists(venv(tmp_path))
    assert not os.path.exists(os.path.join(cache, hashlib.sha256(altered).hexdigest()))
    for root, _dirs, files in os.walk(cache):
        assert not [f for f in files if f.startswith(".part-")], "a partial download was left"
        for name in files:
            if name.endswith(".whl"):
                assert sha256_file(os.path.join(root, name)) == os.path.basename(root), \
                    "bytes that do not match their hash were kept in the wheel cache"


# -- 4. manifest contents are input --------------------------------------------------


@pytest.mark.parametrize("header, value", [
    ("venv", "../../../../tmp/venvbuild-escape"),
    ("spec", "../../x"),
    ("venv", "other"),
    ("spec", "0123456789abcdef"),
    ("platform", "evil-1-x86_64-cp311"),
])
def test_a_crafted_manifest_writes_nothing(states, loaders, tmp_path, built, header, value):
    """Headers of a fetched manifest never reach a path: it must name exactly the spec."""
    evil = copy_repo(built, tmp_path / "evil")
    path = os.path.join(evil, built["platform"], "manifests", built["manifest"].filename)
    lines = built["manifest"].render().splitlines()
    lines = [f"# {header}: {value}" if line.startswith(f"# {header}: ") else line for line in lines]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    logs = os.path.join(loaders.opts["cachedir"], "venvbuild", "logs")
    os.makedirs(logs, exist_ok=True)
    sentinel = os.path.join(logs, "install-other-0123456789abcdef.log")
    with open(sentinel, "w", encoding="utf-8") as handle:
        handle.write("an operator's log\n")
    before = tree(str(tmp_path))

    with servers.serve(evil) as (url, _server):
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=url,
                                         wait_timeout=2, **built["args"])
    assert ret.result is False
    assert ret.comment.startswith(f"{url}/{built['platform']}/manifests/app-"), ret.comment
    assert tree(str(tmp_path)) == before
    assert not os.path.exists("/tmp/venvbuild-escape")
    with open(sentinel, encoding="utf-8") as handle:
        assert handle.read() == "an operator's log\n"


# -- 5. repo ownership and symlinks --------------------------------------------------


def test_a_repo_directory_others_can_write_is_refused(states, tmp_path, built):
    """repo_user/repo_group only ever get read access; a writable repo is an error."""
    repo = copy_repo(built, tmp_path / "repo")
    wheels = os.path.join(repo, built["platform"], "wheels")
    os.chmod(wheels, 0o775)
    before = tree(repo)
    ret = states.venvbuild.wheels_built(name="app2", repo_path=repo, **built["args"])
    assert ret.result is False
    assert "writable by its group" in ret.comment and "chmod go-w" in ret.comment
    assert tree(repo) == before


def test_a_planted_symlink_in_the_repo_is_an_error_and_is_not_followed(states, tmp_path, built):
    repo = copy_repo(built, tmp_path / "repo")
    secret = tmp_path / "root-only"
    secret.write_text("root's secret\n")
    os.chmod(secret, 0o600)
    manifest = os.path.join(repo, built["platform"], "manifests", built["manifest"].filename)
    os.unlink(manifest)
    os.symlink(secret, manifest)
    for rebuild in (False, True):
        ret = states.venvbuild.wheels_built(name="app", repo_path=repo, wheels_rebuild=rebuild,
                                            **built["args"])
        assert ret.result is False
        assert "is a symlink where venvbuild expects its own file" in ret.comment
        assert os.path.islink(manifest)
    assert secret.read_text() == "root's secret\n" and stat.S_IMODE(secret.stat().st_mode) == 0o600

    os.unlink(manifest)
    wheels = os.path.join(repo, built["platform"], "wheels")
    shutil.rmtree(wheels)
    os.symlink(tmp_path, wheels)
    linked = states.venvbuild.wheels_built(name="app", repo_path=repo, wheels_rebuild=True,
                                           **built["args"])
    assert linked.result is False
    assert "is a symlink inside venvbuild's own directory" in linked.comment
    assert not any(name.endswith(".whl") for name in os.listdir(tmp_path))


# -- 6. never destroy what venvbuild did not create ----------------------------------


def test_a_directory_that_is_not_a_venv_is_refused_in_test_mode_too(states, tmp_path, built):
    home = tmp_path / "venvs" / "app"
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("precious\n")
    args = dict(built["args"], repo_path=built["repo"])
    for test in (True, False):
        ret = states.venvbuild.installed(name=str(home), test=test, **args)
        assert ret.result is False, test
        assert "not a venv" in ret.comment and "adopt_existing" in ret.comment
    assert (home / "notes.txt").read_text() == "precious\n"
    assert not os.path.lexists(tmp_path / "venvs" / ".app.versions")


def test_adopt_existing_moves_it_aside_and_never_prunes_it(states, tmp_path, built):
    home = tmp_path / "venvs" / "app"
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("precious\n")
    args = dict(built["args"], repo_path=built["repo"], adopt_existing=True, keep_versions=1)
    predicted = states.venvbuild.installed(name=str(home), test=True, **args)
    assert predicted.result is None
    ret = states.venvbuild.installed(name=str(home), **args)
    assert ret.result is True, ret.comment
    assert ret.changes["existing"] == predicted.changes["existing"]
    for _ in range(2):
        assert states.venvbuild.installed(name=str(home), rebuild=True, **args).result is True
    versions = tmp_path / "venvs" / ".app.versions"
    kept = [d for d in os.listdir(versions) if d.startswith("preexisting-")]
    assert len(kept) == 1
    assert (versions / kept[0] / "notes.txt").read_text() == "precious\n"


def test_absent_keeps_what_adopt_existing_moved_aside(states, modules, tmp_path, built):
    """adopt_existing promised to keep the user's data: absent (and remove, and
    test=True) removes venvbuild's own venvs only and says where the rest is."""
    home = tmp_path / "venvs" / "app"
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("precious\n")
    args = dict(built["args"], repo_path=built["repo"], adopt_existing=True)
    assert states.venvbuild.installed(name=str(home), **args).result is True
    versions = tmp_path / "venvs" / ".app.versions"
    (kept,) = [versions / d for d in os.listdir(versions) if d.startswith("preexisting-")]
    (own,) = [versions / d for d in os.listdir(versions) if not d.startswith("preexisting-")]
    predicted = states.venvbuild.absent(name=str(home), test=True)
    assert predicted.result is None
    assert predicted.changes["removed"]["paths"] == [str(home), str(own)]
    assert predicted.changes["removed"]["kept"] == [str(kept)]
    assert f"kept {kept}" in predicted.comment
    assert os.path.islink(home) and own.is_dir()
    ret = states.venvbuild.absent(name=str(home))
    assert ret.result is True, ret.comment
    assert ret.changes == predicted.changes
    assert f"kept {kept}" in ret.comment
    assert not os.path.lexists(home) and not own.exists()
    assert (kept / "notes.txt").read_text() == "precious\n"
    assert os.listdir(versions) == [kept.name]
    # Again: nothing of venvbuild's is left, the kept data is still named.
    again = states.venvbuild.absent(name=str(home))
    assert again.result is True and again.changes == {}
    assert "already absent" in again.comment and str(kept) in again.comment
    assert modules.venvbuild.remove(str(home)) == {"removed": [], "kept": [str(kept)]}
    assert (kept / "notes.txt").read_text() == "precious\n"


def test_a_venv_made_by_other_means_is_moved_aside_and_kept(states, tmp_path, built):
    path = tmp_path / "venvs" / "app"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(path)], check=True)
    args = dict(built["args"], repo_path=built["repo"])
    ret = states.venvbuild.installed(name=str(path), **args)
    assert ret.result is True, ret.comment
    assert ret.changes["existing"]["old"] == "a venv made by other means"
    kept = [d for d in os.listdir(tmp_path / "venvs" / ".app.versions") if d.startswith("preexisting-")]
    assert len(kept) == 1
    assert os.path.isfile(tmp_path / "venvs" / ".app.versions" / kept[0] / "pyvenv.cfg")


def _as_nobody(path):
    """Hand ``path`` (and what is below it) to nobody, as if nobody had made it."""
    nobody = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), nobody.pw_uid, nobody.pw_gid)
    os.lchown(path, nobody.pw_uid, nobody.pw_gid)


def test_a_link_another_user_makes_in_a_sticky_directory_is_not_venvbuilds(states, modules,
                                                                              tmp_path, built):
    """In a sticky directory (/tmp, /var/tmp) any user may make the venv's name once
    it is free. A venv nobody made there is adopted and kept; nobody then copies
    venvbuild's stamp and lock file into it, plants a python, and after ``absent``
    links the path to it, imitating venvbuild's own link. venvbuild must not take
    that for its live venv (the state a no-op, status and the mine saying
    'current' while root runs nobody's python)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    home = shared / "app"
    markers = tmp_path / "markers"
    markers.mkdir()
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(home)], check=True)
    _as_nobody(home)
    args = dict(built["args"], repo_path=built["repo"])
    ret = states.venvbuild.installed(name=str(home), **args)
    assert ret.result is True, ret.comment
    assert ret.changes["existing"]["old"] == "a venv made by other means"
    versions = shared / ".app.versions"
    (kept,) = [versions / d for d in os.listdir(versions) if d.startswith("preexisting-")]
    (own,) = [versions / d for d in os.listdir(versions) if not d.startswith("preexisting-")]
    for name in ("venvbuild.json", "venvbuild-lock.txt"):
        shutil.copy(own / name, kept / name)
    planted = kept / "bin" / "python"
    planted.unlink()
    planted.write_text(f"#!/bin/sh\necho ran > {markers}/python\n")
    planted.chmod(0o755)
    _as_nobody(kept)
    assert states.venvbuild.absent(name=str(home)).result is True
    os.symlink(f".app.versions/{kept.name}", home)
    os.lchown(home, pwd.getpwnam("nobody").pw_uid, -1)  # nobody's link, as nobody would make it

    assert modules.venvbuild.status(str(home)) is None
    assert modules.venvbuild.verify(str(home))["ok"] is False
    for test in (True, False):
        ret = states.venvbuild.installed(name=str(home), test=test, **args)
        assert ret.result is False and not ret.changes
        assert "symlink to .app.versions/" in ret.comment and "did not create" in ret.comment
    assert os.readlink(home) == f".app.versions/{kept.name}" and os.listdir(markers) == []
    # The operator's choice: adopt_existing replaces the link with venvbuild's own.
    ret = states.venvbuild.installed(name=str(home), adopt_existing=True, **args)
    assert ret.result is True, ret.comment
    assert os.lstat(home).st_uid == 0 and not os.readlink(home).endswith(kept.name)
    assert modules.venvbuild.status(str(home))["spec_id"] == built["spec_id"]
    assert (kept / "bin" / "python").exists() and os.listdir(markers) == []


def test_a_callers_umask_makes_no_venv_others_can_write(states, modules, tmp_path, built):
    """salt-call under umask 002: the venv venvbuild makes is still root's alone (no
    group-writable code), so it is its own and the next run is a no-op."""
    path = venv(tmp_path)
    args = dict(built["args"], repo_path=built["repo"])
    old = os.umask(0o002)
    try:
        ret = states.venvbuild.installed(name=path, **args)
        assert ret.result is True, ret.comment
        again = states.venvbuild.installed(name=path, **args)
    finally:
        os.umask(old)
    assert again.result is True and again.changes == {}, again.comment
    live = modules.venvbuild.status(path)["venv_dir"]
    # uv makes its empty lock file (.lock) writable by all on purpose; it holds no code.
    writable = [os.path.join(root, name) for root, dirs, files in os.walk(live)
                for name in dirs + files + [""]
                if not os.path.islink(os.path.join(root, name)) and name != ".lock"
                and os.lstat(os.path.join(root, name)).st_mode & 0o022]
    assert writable == []


def test_a_venv_made_by_other_means_is_not_reported_as_venvbuilds(modules, tmp_path, built):
    """A venv another user made at the path, carrying a stamp copied from a venv
    venvbuild made, is not venvbuild's: status is None and the mine entry says
    nothing is installed, until an install moves it aside."""
    path = tmp_path / "venvs" / "app"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(path)], check=True)
    source = tmp_path / "venvs" / "source"
    ret = modules.venvbuild.install(str(source), venv_id="app", repo_path=built["repo"],
                                    **built["args"])
    assert ret["spec_id"] == built["spec_id"]
    live = modules.venvbuild.status(str(source))["venv_dir"]
    for name in ("venvbuild.json", "venvbuild-lock.txt"):
        shutil.copy(os.path.join(live, name), path / name)
    _as_nobody(path)
    assert modules.venvbuild.status(str(path)) is None
    assert modules.venvbuild.verify(str(path))["ok"] is False


@pytest.mark.parametrize("name, message", [
    ("/var/log/venvbuild-app", "inside /var/log"),
    ("/etc/venvbuild-app", "inside /etc"),
    ("/home/venvbuild-someone", "home directory"),
    ("/root", "system directory"),
])
def test_system_and_home_directories_are_refused(states, built, name, message):
    ret = states.venvbuild.installed(name=name, repo_path=built["repo"], **built["args"])
    assert ret.result is False
    assert message in ret.comment
    assert not os.path.lexists(name) or name == "/root"


def test_a_path_through_a_symlinked_parent_is_checked_where_it_leads(states, tmp_path, built):
    os.symlink("/etc", tmp_path / "etc-link")
    name = str(tmp_path / "etc-link" / "venvbuild-app")
    for test in (True, False):
        ret = states.venvbuild.installed(name=name, repo_path=built["repo"], test=test,
                                         **built["args"])
        assert ret.result is False
        assert "inside /etc" in ret.comment and "resolves to /etc/venvbuild-app" in ret.comment
    assert not os.path.lexists("/etc/venvbuild-app")


# -- 7. a symlinked versions directory -----------------------------------------------


def test_a_symlinked_versions_directory_is_refused(states, tmp_path, built):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keepme").mkdir(parents=True)
    (tmp_path / "venvs").mkdir()
    os.symlink(elsewhere, tmp_path / "venvs" / ".app.versions")
    ret = states.venvbuild.installed(name=venv(tmp_path), repo_path=built["repo"], keep_versions=1,
                                     **built["args"])
    assert ret.result is False
    assert ".app.versions is a symlink" in ret.comment
    assert os.listdir(elsewhere) == ["keepme"]


# -- 8. line separators ----------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
                                       "\u2029", "\x00", "\u202e"])
def test_no_line_separator_reaches_a_requirements_file(states, tmp_path, build_args, separator):
    repo = str(tmp_path / "repo")
    for field in ("packages", "constraints", "global_constraints"):
        values = {"packages": ["vbdep==1.0"], field: [f"vbdep{separator}-r /etc/shadow"]}
        ret = states.venvbuild.installed(name=venv(tmp_path), repo_path=repo,
                                         build_args=build_args, **values)
        assert ret.result is False, (field, ret.comment)
        assert f"U+{ord(separator):04X}" in ret.comment
        assert "root:" not in ret.comment
    assert not os.path.exists(repo)


# -- 9. absent/remove ----------------------------------------------------------------


def test_absent_refuses_what_venvbuild_did_not_install(states, tmp_path):
    target = tmp_path / "python3"
    target.write_text("#!/bin/sh\n")
    link = tmp_path / "venvs" / "python3"
    link.parent.mkdir()
    os.symlink(target, link)
    for test in (True, False):
        ret = states.venvbuild.absent(name=str(link), test=test)
        assert ret.result is False
        assert "refusing to remove it" in ret.comment
    assert os.path.islink(link) and target.exists()


def test_absent_test_mode_is_exact_and_removal_waits_for_an_install(states, loaders, tmp_path,
                                                                    built):
    path = venv(tmp_path)
    assert states.venvbuild.installed(name=path, repo_path=built["repo"], **built["args"]).result
    predicted = states.venvbuild.absent(name=path, test=True)
    assert predicted.result is None
    assert os.path.islink(path)

    from saltext_venvbuild.core.layout import VenvPaths  # pylint: disable=import-outside-toplevel

    state_dir = os.path.join(loaders.opts["cachedir"], "venvbuild")
    finished = []
    with fsutil.file_lock(VenvPaths(path, state_dir).lock_file):  # an install holds the venv
        worker = threading.Thread(target=lambda: finished.append(states.venvbuild.absent(name=path)))
        worker.start()
        time.sleep(1.5)
        assert not finished, "absent did not wait for the venv's lock"
        assert os.path.islink(path)
    worker.join(60)
    (ret,) = finished
    assert ret.result is True
    assert ret.changes == predicted.changes
    assert not os.path.lexists(path)


# -- 10. secrets -----------------------------------------------------------------------


def test_credentials_in_a_requirement_url_reach_no_record(states, modules, loaders, tmp_path,
                                                          build_args, sdist_dir):
    """``name @ https://user:token@host/...`` is fetched with its credentials, but the
    manifest (served to anyone), the venv's lock file and stamp, the changes,
    the comment and the logs record it as ``https://****@host/...``."""
    with servers.serve(sdist_dir) as (url, _server):
        secret_url = url.replace("http://", f"http://venvbuild:{SECRET}@") + "/vbdep-1.0.tar.gz"
        packages = ["vbapp", f"vbdep @ {secret_url}"]
        path = venv(tmp_path, "cred")
        args = {"packages": packages, "build_args": build_args, "install_tool": "uv",
                "repo_path": str(tmp_path / "repo")}
        predicted = states.venvbuild.installed(name=path, venv_id="cred", test=True, **args)
        ret = states.venvbuild.installed(name=path, venv_id="cred", **args)
        assert ret.result is True, ret.comment
        again = states.venvbuild.installed(name=path, venv_id="cred", test=True, **args)
        assert again.result is True and again.changes == {}, again.comment
        absent = states.venvbuild.installed(name=venv(tmp_path, "cred2"), venv_id="cred2",
                                            wheel_build=False, wait_timeout=0, **args)
    redacted = url.replace("http://", "http://****@") + "/vbdep-1.0.tar.gz"
    assert f"vbdep @ {redacted}" in ret.changes["requirements"]["added"]
    status = modules.venvbuild.status(path)
    assert f"vbdep @ {redacted}" in status["requirements"]
    lock = os.path.join(os.path.realpath(path), "venvbuild-lock.txt")
    with open(lock, encoding="utf-8") as handle:
        assert f"# requirement: vbdep @ {redacted}" in handle.read()
    shown = [str(r.raw) for r in (predicted, ret, again, absent)] + [str(status)]
    assert not any(SECRET in text for text in shown)
    state_dir = os.path.join(loaders.opts["cachedir"], "venvbuild")
    assert files_holding(SECRET, (os.path.join(state_dir, "logs"), str(tmp_path))) == []


def test_credentials_are_hidden_everywhere(states, modules, loaders, tmp_path, built):
    build_args = list(built["args"]["build_args"]) + [
        "--extra-index-url", f"https://venvbuild:{SECRET}@127.0.0.1:9/simple"]
    args = dict(built["args"], build_args=build_args)
    served = str(tmp_path / "served")
    assert states.venvbuild.wheels_built(name="app", repo_path=served, **args).result
    with servers.serve(served) as (url, _server):
        repo_url = url.replace("http://", f"http://venvbuild:{SECRET}@")
        ret = states.venvbuild.installed(name=venv(tmp_path), venv_id="app", repo_url=repo_url,
                                         repo_path=str(tmp_path / "repo"), **args)
        assert ret.result is True, ret.comment
        built_here = states.venvbuild.installed(name=venv(tmp_path, "local"), venv_id="local",
                                                repo_path=str(tmp_path / "repo"), **args)
        assert built_here.result is True, built_here.comment
        broken = states.venvbuild.installed(
            name=venv(tmp_path, "broken"), venv_id="broken", repo_url=repo_url + "/nowhere",
            wait_timeout=0, **args)
        assert broken.result is False
    shown = [ret.comment, built_here.comment, broken.comment, str(ret.changes),
             str(modules.venvbuild.status(venv(tmp_path))),
             str(modules.venvbuild.venv_configs())]
    assert not any(SECRET in text for text in shown)
    state_dir = os.path.join(loaders.opts["cachedir"], "venvbuild")
    assert files_holding(SECRET, (state_dir, str(tmp_path))) == []
    for name in os.listdir(os.path.join(state_dir, "logs")):
        if name.startswith(("build-", "install-")) and "-other-" not in name:  # not a test's file
            assert stat.S_IMODE(os.stat(os.path.join(state_dir, "logs", name)).st_mode) == 0o600


# -- 11. publish only what can be read back ------------------------------------------


def test_a_spec_with_no_wheel_publishes_nothing(states, tmp_path, build_args):
    repo = str(tmp_path / "repo")
    ret = states.venvbuild.installed(name=venv(tmp_path), repo_path=repo, build_args=build_args,
                                     packages=['vbdep; python_version < "3"'])
    assert ret.result is False
    assert "produced no wheel" in ret.comment
    manifests = [f for _r, _d, fs in os.walk(repo) for f in fs if f.endswith(".txt")]
    assert manifests == []


def test_a_damaged_manifest_is_a_clear_error_and_wheels_rebuild_recovers(states, tmp_path, built):
    repo = copy_repo(built, tmp_path / "repo")
    path = os.path.join(repo, built["platform"], "manifests", built["manifest"].filename)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("--pre\n")
    args = dict(built["args"], repo_path=repo)
    ret = states.venvbuild.installed(name=venv(tmp_path), **args)
    assert ret.result is False
    assert "wheels_rebuild" in ret.comment
    fixed = states.venvbuild.installed(name=venv(tmp_path), wheels_rebuild=True, **args)
    assert fixed.result is True, fixed.comment
    again = states.venvbuild.installed(name=venv(tmp_path), **args)
    assert again.result is True and again.changes == {}


# -- 12. timeouts ----------------------------------------------------------------------


def test_a_hanging_build_is_stopped_with_everything_it_started(states, tmp_path, build_args):
    pidfile = tmp_path / "vbslow.pid"
    repo = str(tmp_path / "repo")
    started = time.monotonic()
    ret = states.venvbuild.installed(name=venv(tmp_path), repo_path=repo, packages=["vbslow"],
                                     build_args=build_args, build_timeout=8,
                                     build_env={"CFLAGS": f"-DVBSLOW_PIDFILE={pidfile}"})
    assert time.monotonic() - started < 60
    assert ret.result is False
    assert "still running after 8 s" in ret.comment and "build_timeout" in ret.comment
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{child}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}"), "the build's child process was left running"
    staging = [d for d, _s, _f in os.walk(repo) if d.endswith(".staging")]
    assert staging and all(os.listdir(d) == [] for d in staging)
    assert not [f for _r, _d, fs in os.walk(repo) for f in fs if f.endswith(".txt")]


# -- 13. strict types and keys ---------------------------------------------------------


@pytest.mark.parametrize("override, message", [
    ({"build_args": {"--no-index": True}}, "build_args must be a list"),
    ({"install_args": 5}, "install_args must be a list"),
    ({"rebuild": "false"}, "rebuild 'false': must be true or false"),
    ({"wait_timeout": float("nan")}, "wait_timeout nan"),
    ({"build_timeout": float("inf")}, "build_timeout inf"),
    ({"install_env": {"TZ": {"nested": 1}}}, "install_env: TZ must be a string or a number"),
    ({"install_args": ["--target", "/tmp/elsewhere"]}, "install_args (install_tool uv): --target is not allowed"),
    ({"install_args": ["--prefix=/usr"]}, "install_args (install_tool uv): --prefix is not allowed"),
    ({"install_args": ["--user"]}, "install_args (install_tool uv): --user is not allowed"),
    ({"repo_url": ["http://a", "http://b"]}, "repo_url ['http://a', 'http://b']: must be a URL"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle /nonexistent/ca.pem: cannot read it"),
    ({"keep_versions": "2"}, "keep_versions '2': must be a whole number"),
    ({"builder": "build*"}, "must be one minion id"),
    ({"pakages": ["vbdep"]}, "unknown argument 'pakages'; did you mean 'packages'?"),
])
def test_bad_types_are_refused_naming_the_key(modules, tmp_path, built, override, message):
    from salt.exceptions import SaltInvocationError  # pylint: disable=import-outside-toplevel

    args = dict(built["args"], repo_path=built["repo"])
    args.update(override)
    with pytest.raises(SaltInvocationError) as info:
        modules.venvbuild.install(venv(tmp_path), **args)
    assert message in str(info.value)
    assert not os.path.lexists(venv(tmp_path))


def test_an_unwritable_repo_path_is_a_clear_error(states, tmp_path, built):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ret = states.venvbuild.wheels_built(name="app", repo_path=str(blocker / "repo"),
                                        **built["args"])
    assert ret.result is False
    assert "Not a directory" in ret.comment and "repo_path" in ret.comment
    assert "Traceback" not in ret.comment

