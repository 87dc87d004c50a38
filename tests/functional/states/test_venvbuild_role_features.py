"""Every feature of the python_venv_build role, through the real state module.

One test (or more) per row of docs/mapping.md; the row is named in each test's
docstring. Real pip, uv, git, openssl and Debian packages; no package index.
"""

import configparser
import fcntl
import json
import os
import pathlib
import shutil
import subprocess

import pytest
from packaging.utils import canonicalize_name
from packaging.utils import parse_wheel_filename

import sdists
import servers
from saltext_venvbuild.core.builder import Builder
from saltext_venvbuild.core.fsutil import sha256_file
from saltext_venvbuild.core.interpreter import resolve
from saltext_venvbuild.core.manifest import Manifest
from saltext_venvbuild.core.stamp import installed_versions
from saltext_venvbuild.core.tools import ToolSettings

# pip and uv behaviour through venvbuild's options, the same on every Salt.
pytestmark = pytest.mark.newest_salt

OTHER_PYTHON = "/usr/bin/python3"


@pytest.fixture
def base(tmp_path, build_args):
    return {
        "repo_path": str(tmp_path / "repo"),
        "build_args": build_args,
        "install_tool": "uv",
    }


def venv(tmp_path, name="app"):
    return str(tmp_path / "venvs" / name)


def versions(path):
    return installed_versions(os.path.realpath(path))


def py(path, code):
    return subprocess.run([os.path.join(path, "bin", "python"), "-c", code],
                          capture_output=True, text=True, check=True).stdout.strip()


def only_manifest(repo_path):
    found = []
    for root, _dirs, files in os.walk(repo_path):
        if root.endswith("manifests"):
            found += [os.path.join(root, f) for f in files]
    assert len(found) == 1, found
    with open(found[0], encoding="utf-8") as handle:
        return Manifest.parse(handle.read())


# -- packages, default_packages, constraints, global_constraints, package_state ------


def test_default_packages_are_merged_with_packages(states, modules, tmp_path, base):
    """venv_default_pip_packages -> default_packages"""
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                     default_packages=["vbdep==1.0"], **base)
    assert ret.result is True, ret.comment
    assert ret.changes["requirements"] == {"added": ["vbapp", "vbdep==1.0"]}
    assert versions(venv(tmp_path)) == {"vbapp": "1.0", "vbdep": "1.0"}
    assert modules.venvbuild.status(venv(tmp_path))["requirements"] == ["vbapp", "vbdep==1.0"]


def test_global_constraints_apply_with_constraints(states, tmp_path, base):
    """venv_build_global_constraints -> global_constraints, venv_build_constraints -> constraints"""
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                     global_constraints=["vbdep<1.1"], **base)
    assert ret.result is True, ret.comment
    assert versions(venv(tmp_path))["vbdep"] == "1.0"  # 1.1 is available, the pin holds
    clash = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                       global_constraints=["vbdep<1.1"],
                                       constraints=["vbdep==1.1"], **base)
    assert clash.result is False
    assert "vbdep" in clash.comment
    assert versions(venv(tmp_path))["vbdep"] == "1.0", "a failed build touched the venv"


@pytest.fixture
def private_index(tmp_path):
    """A find-links directory of its own, with vbdep 1.0 only (1.1 is added by the test)."""
    path = tmp_path / "index"
    sdists.make_index(path, [("vbdep", "1.0"), ("vbapp", "1.0")])
    return path


def test_package_state_latest_upgrades_within_constraints(states, tmp_path, private_index):
    """venv_pip_package_state -> package_state"""
    args = {"repo_path": str(tmp_path / "repo"), "install_tool": "uv",
            "build_args": ["--no-index", "--find-links", str(private_index)],
            "package_state": "latest"}
    first = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args)
    capped = states.venvbuild.installed(name=venv(tmp_path, "capped"), packages=["vbapp"],
                                        constraints=["vbdep<1.1"], **args)
    assert first.result is True and capped.result is True
    assert versions(venv(tmp_path))["vbdep"] == "1.0"

    sdists.make_sdist("vbdep", "1.1", private_index)  # a new release appears upstream
    upgraded = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args)
    assert upgraded.result is True, upgraded.comment
    assert upgraded.changes["packages"] == {"changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    assert "manifest" in upgraded.changes and "spec_id" not in upgraded.changes
    assert versions(venv(tmp_path))["vbdep"] == "1.1"

    within = states.venvbuild.installed(name=venv(tmp_path, "capped"), packages=["vbapp"],
                                        constraints=["vbdep<1.1"], **args)
    assert within.result is True and within.changes == {}
    assert versions(venv(tmp_path, "capped"))["vbdep"] == "1.0"

    again = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args)
    assert again.result is True and again.changes == {}


def test_present_does_not_upgrade(states, tmp_path, private_index):
    """venv_pip_package_state: present builds a spec once"""
    args = {"repo_path": str(tmp_path / "repo"), "install_tool": "uv",
            "build_args": ["--no-index", "--find-links", str(private_index)]}
    assert states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args).result
    sdists.make_sdist("vbdep", "1.1", private_index)
    again = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args)
    assert again.result is True and again.changes == {}
    assert versions(venv(tmp_path))["vbdep"] == "1.0"


# -- git sources ---------------------------------------------------------------------


@pytest.fixture
def git_repo(tmp_path):
    """A local git repository of vbdep at version 2.0, tagged v2.0."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    repo = tmp_path / "vbdep.git"
    shutil.copytree(sdists.PACKAGES / "vbdep", repo)
    (repo / "VBVERSION").write_text("2.0\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t.invalid")
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "vbdep 2.0"],
                ["tag", "v2.0"]):
        subprocess.run(["git", *cmd], cwd=repo, env=env, check=True)
    return repo


@pytest.mark.parametrize("form", ["pep508", "egg"])
def test_git_source_constraints_are_built_and_pinned(states, tmp_path, base, git_repo, form):
    """venv_build_constraints with git references"""
    url = f"git+file://{git_repo}@v2.0"
    constraint = f"vbdep @ {url}" if form == "pep508" else f"{url}#egg=vbdep"
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                     constraints=[constraint], **base)
    assert ret.result is True, ret.comment
    manifest = only_manifest(base["repo_path"])
    # The manifest pins the built version by name: targets install vbdep==2.0 from the wheel.
    assert manifest.versions() == {"vbapp": "1.0", "vbdep": "2.0"}
    assert any(line.startswith("vbdep==2.0 --hash=sha256:") for line in manifest.render().splitlines())
    assert versions(venv(tmp_path))["vbdep"] == "2.0"


# -- build_args, build_env, install_args, install_env, pip_noconf, ca_bundle ---------


def test_build_env_reaches_the_build(states, tmp_path, sdist_dir):
    """venv_pip_build_env -> build_env (and venv_pip_build_args -> build_args)"""
    # uv provisions the builder environment (reading UV_FIND_LINKS), pip wheel
    # builds (reading PIP_FIND_LINKS): both only from build_env.
    args = {"repo_path": str(tmp_path / "repo"), "install_tool": "uv",
            "build_args": ["--no-index"]}
    without = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"], **args)
    assert without.result is False  # no index, no find-links: nothing to build from
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbapp"],
                                     build_env={"PIP_FIND_LINKS": str(sdist_dir),
                                                "UV_FIND_LINKS": str(sdist_dir)}, **args)
    assert ret.result is True, ret.comment


def test_install_args_and_install_env(states, tmp_path, base):
    """venv_pip_install_args -> install_args, venv_pip_install_env -> install_env"""
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     install_env={"UV_LINK_MODE": "symlink"},
                                     install_args=["--compile-bytecode"], **base)
    assert ret.result is True, ret.comment
    package = py(venv(tmp_path), "import vbdep, os; print(os.path.dirname(vbdep.__file__))")
    assert os.path.islink(os.path.join(package, "__init__.py")), "install_env did not reach uv"
    assert os.listdir(os.path.join(package, "__pycache__")), "install_args did not reach uv"


def builder_env(loaders, marker):
    """The one builder environment whose record mentions ``marker``."""
    builders = os.path.join(loaders.opts["cachedir"], "venvbuild", "builders")
    envs = []
    for root, _dirs, files in os.walk(builders):
        if "venvbuild-builder.json" in files:
            with open(os.path.join(root, "venvbuild-builder.json"), encoding="utf-8") as handle:
                if marker in handle.read():
                    envs.append(root)
    (env_dir,) = envs
    return env_dir


def builder_record(env_dir):
    with open(os.path.join(env_dir, "venvbuild-builder.json"), encoding="utf-8") as handle:
        return json.load(handle)


def test_pip_noconf_ignores_pip_config(states, loaders, tmp_path, base):
    """venv_pip_upgrade_noconf -> pip_noconf: in the builder environment's tool
    upgrade (its provisioning), as the role's covers its tool-upgrade steps only"""
    # A pip.conf in the builder environment (pip's site configuration) whose
    # [install] section only `pip install` reads: the provisioning, not `pip wheel`.
    # A global constraint no other test has gives this test an environment of its own.
    args = dict(base, install_tool="pip", global_constraints=["vbnoconf<1"])
    first = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"], **args)
    assert first.result is True, first.comment
    bad = os.path.join(builder_env(loaders, "vbnoconf"), "pip.conf")
    with open(bad, "w", encoding="utf-8") as handle:
        handle.write("[install]\nconstraint = /nonexistent/venvbuild-constraints.txt\n")
    try:
        # package_state latest upgrades the builder environment: its provisioning runs.
        broken = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.1"],
                                            package_state="latest", **args)
        assert broken.result is False
        assert "builder environment" in broken.comment
        assert "venvbuild-constraints.txt" in broken.comment
        ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.1"],
                                         package_state="latest", pip_noconf=True, **args)
        assert ret.result is True, ret.comment
        assert versions(venv(tmp_path))["vbdep"] == "1.1"
    finally:
        os.unlink(bad)


def test_pip_noconf_leaves_pip_config_to_the_build(states, loaders, tmp_path, base):
    """venv_pip_upgrade_noconf -> pip_noconf: builds still read pip's configuration
    (a mirror set there), as the role's wheel build does"""
    mirror = tmp_path / "mirror"  # what only pip's configuration names
    mirror.mkdir()
    sdists.make_sdist("vbdep", "3.0", mirror)
    args = dict(base, install_tool="pip", pip_noconf=True, global_constraints=["vbnoconfbuild<1"])
    first = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"], **args)
    assert first.result is True, first.comment
    missing = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==3.0"], **args)
    assert missing.result is False  # not in the build's --find-links
    conf = os.path.join(builder_env(loaders, "vbnoconfbuild"), "pip.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(f"[global]\nfind-links = {mirror}\n")
    try:
        ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==3.0"], **args)
        assert ret.result is True, ret.comment
        assert versions(venv(tmp_path))["vbdep"] == "3.0"
    finally:
        os.unlink(conf)


@pytest.fixture
def https_repo(tmp_path):
    """Serve tmp_path/served over HTTPS with a certificate of a private CA (openssl)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    served = tmp_path / "served"
    served.mkdir()
    tls = tmp_path / "tls"
    tls.mkdir()
    with servers.serve_https(served, tls) as (url, ca):
        yield {"path": str(served), "url": url, "ca": ca}


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_ca_bundle_for_an_https_repo_with_a_release_level(states, tmp_path, build_args,
                                                         https_repo, tool):
    """openstack_repo_url -> repo_url, CA bundle for requests, pip and uv, release level"""
    built = states.venvbuild.wheels_built(name="app", packages=["vbapp", "vbdep==1.0"],
                                          build_args=build_args, repo_path=https_repo["path"],
                                          release="2025.2", install_tool=tool)
    assert built.result is True, built.comment
    args = {"packages": ["vbapp", "vbdep==1.0"], "build_args": build_args, "venv_id": "app",
            "repo_url": https_repo["url"], "release": "2025.2", "install_tool": tool,
            "wait_timeout": 1}
    untrusted = states.venvbuild.installed(name=venv(tmp_path), **args)
    assert untrusted.result is False
    assert "ca_bundle" in untrusted.comment
    ret = states.venvbuild.installed(name=venv(tmp_path), ca_bundle=https_repo["ca"], **args)
    assert ret.result is True, ret.comment
    installed = versions(venv(tmp_path))
    assert (installed["vbapp"], installed["vbdep"]) == ("1.0", "1.0")


@pytest.fixture
def system_store(tmp_path, monkeypatch):
    """``use(*ca files)`` makes a bundle of those CAs the system's CA store for the
    test, the way OpenSSL (and so pip, uv and venvbuild) is told of one: SSL_CERT_FILE
    naming a file root owns, mode 0644, in directories only root can write.
    ``use(..., mode=0o666)`` makes it a bundle others could change."""
    store = tmp_path / "system-certs"
    store.mkdir(mode=0o755)
    bundle = store / "ca-certificates.crt"

    def use(*cas, mode=0o644):
        text = ""
        for ca in cas:
            with open(ca, encoding="ascii") as handle:
                text += handle.read()
        bundle.write_text(text)
        bundle.chmod(mode)
        assert os.stat(bundle).st_uid == 0 and os.stat(store).st_uid == 0
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        return str(bundle)

    return use


def test_the_system_ca_store_verifies_https_without_ca_bundle(states, tmp_path, sdist_dir,
                                                              https_repo, system_store):
    """venv_pip_install_env: REQUESTS_CA_BUNDLE -> not needed when the CA is in the
    system's store: a constraints file by URL, uv's package index and a repo over HTTPS"""
    served = pathlib.Path(https_repo["path"])
    for wheel in sdist_dir.glob("*.whl"):  # a package index (PEP 503) of the build tools
        project = served / "simple" / canonicalize_name(parse_wheel_filename(wheel.name)[0])
        project.mkdir(parents=True, exist_ok=True)
        shutil.copy(wheel, project)
    (served / "upper.txt").write_text("vbdep===1.0\n")
    url = https_repo["url"]
    other = tmp_path / "other"  # a CA that signed nothing here
    other.mkdir()
    other_ca = servers.make_ca_and_cert(other)[0]
    build = {"packages": ["vbapp"], "constraints": [f"--constraint {url}/upper.txt"],
             "build_args": ["--no-build-isolation", "--find-links", str(sdist_dir)],
             # uv provisions the builder environment from the index over HTTPS too;
             # pip builds from the sdists only.
             "build_env": {"UV_INDEX_URL": f"{url}/simple/", "PIP_NO_INDEX": "1"},
             "install_tool": "uv"}
    target = dict(build, venv_id="app", repo_url=f"{url}/repo", wait_timeout=1)

    # The CA is in neither ca_bundle nor the system's store: a clear error, nothing built.
    store = system_store(other_ca)
    refused = states.venvbuild.wheels_built(name="app", repo_path=str(served / "repo"), **build)
    assert refused.result is False
    assert f"{url}/upper.txt: TLS verification failed" in refused.comment
    assert f"against the system's CA store {store}" in refused.comment
    assert "set ca_bundle" in refused.comment
    uv_refused = states.venvbuild.wheels_built(name="app", repo_path=str(served / "repo"),
                                               **dict(build, constraints=["vbdep===1.0"]))
    assert uv_refused.result is False
    assert "builder environment" in uv_refused.comment
    assert f"{url}/simple/" in uv_refused.comment  # pip's or pbr's page, whichever uv asks first
    assert "invalid peer certificate" in uv_refused.comment
    assert not (served / "repo").exists()

    # In the system's store: the constraints file, uv's index and the repo all verify.
    system_store(https_repo["ca"])
    built = states.venvbuild.wheels_built(name="app", repo_path=str(served / "repo"), **build)
    assert built.result is True, built.comment
    ret = states.venvbuild.installed(name=venv(tmp_path), **target)
    assert ret.result is True, ret.comment
    assert versions(venv(tmp_path))["vbdep"] == "1.0"  # pinned by the file fetched over HTTPS

    # A target whose store lacks the CA, or whose bundle others could change, is refused.
    for cas, mode in (((other_ca,), 0o644), ((https_repo["ca"],), 0o666)):
        store = system_store(*cas, mode=mode)
        untrusted = states.venvbuild.installed(name=venv(tmp_path, "other"), **target)
        assert untrusted.result is False
        assert "TLS verification failed" in untrusted.comment and "set ca_bundle" in untrusted.comment
        assert (f"system's CA store {store}" in untrusted.comment) is (mode == 0o644)
        assert not os.path.lexists(venv(tmp_path, "other"))


# -- build requirements under the venv's constraints ----------------------------------


@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_the_venvs_constraints_reach_the_builder_environment(states, loaders, tmp_path, base,
                                                             sdist_dir, tool):
    """venv_build_constraints and venv_build_global_constraints -> constraints and
    global_constraints: applied to the builder environment's build requirements too"""
    assert (sdist_dir / "vbdep-1.1.tar.gz").exists()  # the newest vbdep offline: not taken
    pins = tmp_path / "pins.txt"
    pins.write_text("vbdep==1.0\n")
    marker = f"vbbuildercons{tool}<1"  # gives this test an environment of its own
    args = dict(base, install_tool=tool, packages=["vbapp"], build_requirements_extra=["vbdep"],
                constraints=[marker, f"-c {pins}"])
    ret = states.venvbuild.installed(name=venv(tmp_path), **args)
    assert ret.result is True, ret.comment
    env_dir = builder_env(loaders, marker)
    assert versions(env_dir)["vbdep"] == "1.0"
    assert builder_record(env_dir)["constraints"] == [marker, "vbdep==1.0"]
    assert versions(venv(tmp_path))["vbdep"] == "1.0"

    # Other pins are another builder environment; the first keeps what it holds.
    pins.write_text("vbdep==1.1\n")
    again = states.venvbuild.installed(name=venv(tmp_path), **dict(args, wheels_rebuild=True))
    assert again.result is True, again.comment
    assert versions(env_dir)["vbdep"] == "1.0"
    held = sorted(versions(root)["vbdep"] for root, _dirs, files in os.walk(os.path.dirname(env_dir))
                  if "venvbuild-builder.json" in files
                  and marker in builder_record(root).get("constraints", []))
    assert held == ["1.0", "1.1"]
    assert versions(venv(tmp_path))["vbdep"] == "1.1"


# -- python, one builder environment per interpreter --------------------------------


def test_python_per_venv_with_a_builder_env_each(states, loaders, tmp_path, base):
    """venv_python_executable -> python"""
    if not os.path.exists(OTHER_PYTHON):
        pytest.skip(f"{OTHER_PYTHON} is not on this machine")
    one = states.venvbuild.installed(name=venv(tmp_path, "one"), packages=["vbdep==1.0"], **base)
    two = states.venvbuild.installed(name=venv(tmp_path, "two"), packages=["vbdep==1.1"],
                                     python=OTHER_PYTHON, **base)
    assert one.result is True and two.result is True, (one.comment, two.comment)
    assert py(venv(tmp_path, "two"), "import sys; print(sys.base_prefix)") == "/usr"
    state_dir = os.path.join(loaders.opts["cachedir"], "venvbuild")
    envs = {
        os.path.basename(Builder(None, resolve(python), state_dir, ToolSettings(tool="uv")).env_root)
        for python in ("python3", OTHER_PYTHON)
    }
    assert len(envs) == 2
    assert envs <= set(os.listdir(os.path.join(state_dir, "builders")))


# -- rebuild, wheels_rebuild ---------------------------------------------------------


def test_wheels_rebuild_keeps_wheels_other_venvs_use(states, tmp_path, base):
    """venv_wheels_rebuild -> wheels_rebuild (and venv_rebuild -> rebuild)"""
    x = states.venvbuild.installed(name=venv(tmp_path, "x"), venv_id="x",
                                   packages=["vbapp", "vbdep==1.0"], **base)
    y = states.venvbuild.installed(name=venv(tmp_path, "y"), venv_id="y",
                                   packages=["vbdep==1.0"], **base)
    assert x.result is True and y.result is True
    wheels = [os.path.join(r, f) for r, _d, fs in os.walk(base["repo_path"]) for f in fs
              if f.endswith(".whl")]
    vbdep = next(w for w in wheels if os.path.basename(w).startswith("vbdep-1.0"))
    vbapp = next(w for w in wheels if os.path.basename(w).startswith("vbapp-1.0"))
    vbdep_bytes = open(vbdep, "rb").read()
    with open(vbapp, "wb") as handle:
        handle.write(b"an interrupted download")  # a damaged wheel, as the role feared

    ret = states.venvbuild.wheels_built(name="x", packages=["vbapp", "vbdep==1.0"],
                                        wheels_rebuild=True, build_args=base["build_args"],
                                        repo_path=base["repo_path"], install_tool="uv")
    assert ret.result is True, ret.comment
    # Rebuilt from source with pip's caches off; the build is reproducible, so the
    # damaged file is stored again under its content's name.
    assert os.path.basename(vbapp) in ret.changes["wheels"]["added"]
    assert sha256_file(vbapp) == os.path.basename(os.path.dirname(vbapp))
    assert open(vbdep, "rb").read() == vbdep_bytes, "a wheel another venv uses was replaced"
    fresh = states.venvbuild.installed(name=venv(tmp_path, "y"), venv_id="y",
                                       packages=["vbdep==1.0"], rebuild=True, **base)
    assert fresh.result is True and fresh.changes == {"rebuilt": True}
    again = states.venvbuild.installed(name=venv(tmp_path, "x2"), venv_id="x",
                                       packages=["vbapp", "vbdep==1.0"], **base)
    assert again.result is True, again.comment


# -- distro packages -----------------------------------------------------------------


def test_symlink_pkgs_link_distro_modules(states, modules, tmp_path, base):
    """venv_packages_to_symlink -> symlink_pkgs"""
    if not os.path.isdir("/usr/lib/python3/dist-packages/yaml") or not os.path.exists(OTHER_PYTHON):
        pytest.skip("python3-yaml (Debian) is not installed")
    args = dict(base, python=OTHER_PYTHON, pkgs_cache_valid_time=10**9)
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     symlink_pkgs=["python3-yaml"], **args)
    assert ret.result is True, ret.comment
    assert ret.changes["symlink_pkgs"] == {"added": ["python3-yaml"]}
    site = py(venv(tmp_path), "import vbdep, os; print(os.path.dirname(os.path.dirname(vbdep.__file__)))")
    assert os.readlink(os.path.join(site, "yaml")) == "/usr/lib/python3/dist-packages/yaml"
    assert py(venv(tmp_path), "import yaml; print(yaml.safe_load('a: 1'))") == "{'a': 1}"
    assert modules.venvbuild.verify(venv(tmp_path), deep=True) == {"ok": True, "problems": []}
    assert "pyyaml" in modules.venvbuild.status(venv(tmp_path))["linked"]

    assert states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                      symlink_pkgs=["python3-yaml"], **args).changes == {}
    dropped = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"], **args)
    assert dropped.changes["symlink_pkgs"] == {"removed": ["python3-yaml"]}
    assert not os.path.lexists(os.path.join(os.path.realpath(venv(tmp_path)),
                                            os.path.relpath(site, venv(tmp_path)), "yaml"))


def test_symlink_pkgs_refuses_a_package_without_python_modules(states, tmp_path, base):
    """venv_packages_to_symlink: a clear error, nothing changed"""
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     symlink_pkgs=["coreutils"], pkgs_cache_valid_time=10**9,
                                     **base)
    assert ret.result is False
    assert "coreutils installs no Python 3 module" in ret.comment
    assert not os.path.lexists(venv(tmp_path))


APT_PACKAGES = ["sl", "figlet"]


def dpkg_installed(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name],
                         capture_output=True, text=True, check=False)
    return out.stdout.endswith("installed") and "not-installed" not in out.stdout


def apt_remove(names):
    subprocess.run(["apt-get", "remove", "-y", "-qq", *names], capture_output=True, check=False,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def apt_candidates(names):
    out = subprocess.run(["apt-cache", "policy", *names], capture_output=True, text=True,
                         check=False).stdout
    return out.count("Candidate:") - out.count("Candidate: (none)") == len(names)


@pytest.fixture
def apt_packages():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("installing Debian packages needs root and apt")
    # scripts/test runs two Salt versions' suites at once: one apt test at a time.
    with open("/tmp/venvbuild-tests-apt.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _apt_packages()


def _apt_packages():
    if not apt_candidates(APT_PACKAGES):
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
    if not apt_candidates(APT_PACKAGES):
        pytest.skip(f"Debian packages {APT_PACKAGES} are not available from apt here")
    apt_remove(APT_PACKAGES)
    assert not any(dpkg_installed(name) for name in APT_PACKAGES)
    yield APT_PACKAGES
    apt_remove(APT_PACKAGES)


def test_build_pkgs_and_install_pkgs_through_salt_pkg(states, tmp_path, base,
                                                      apt_packages):
    """venv_build_distro_package_list -> build_pkgs, venv_install_distro_package_list ->
    install_pkgs, venv_distro_package_state -> pkgs_state, venv_distro_cache_valid_time ->
    pkgs_cache_valid_time"""
    build_pkg, install_pkg = apt_packages
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     build_pkgs=[build_pkg], install_pkgs=[install_pkg],
                                     pkgs_state="present", pkgs_cache_valid_time=3600, **base)
    assert ret.result is True, ret.comment
    assert dpkg_installed(build_pkg), "build_pkgs not installed"
    assert dpkg_installed(install_pkg), "install_pkgs not installed"
    assert install_pkg in ret.changes["distro_packages"]
    assert ret.changes["install_pkgs"] == {"added": [install_pkg]}
    again = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                       build_pkgs=[build_pkg], install_pkgs=[install_pkg],
                                       pkgs_state="present", pkgs_cache_valid_time=3600, **base)
    assert again.result is True and again.changes == {}
    latest = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                        build_pkgs=[build_pkg], install_pkgs=[install_pkg],
                                        pkgs_state="latest", pkgs_cache_valid_time=3600, **base)
    assert latest.result is True and latest.changes == {}  # already the newest version


# -- facts and events ----------------------------------------------------------------


def persisted_grains(loaders):
    """The grains file grains.set writes (the loaders' in-memory grains are a copy)."""
    import yaml  # pylint: disable=import-outside-toplevel

    path = os.path.join(os.path.dirname(loaders.opts["conf_file"]), "grains")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_facts_when_changed(states, loaders, tmp_path, base):
    """venv_facts_when_changed -> facts_when_changed, venv_facts_dest -> facts_dest"""
    facts = [{"section": "app", "option": "venv_tag", "value": "1.0"}]
    ret = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                     facts_when_changed=facts, facts_dest="vbfacts", **base)
    assert ret.result is True, ret.comment
    assert persisted_grains(loaders)["vbfacts"]["app"]["venv_tag"] == "1.0"
    fact_file = os.path.join(os.path.dirname(loaders.opts["conf_file"]), "facts.d", "vbfacts.fact")
    parser = configparser.ConfigParser()
    parser.read(fact_file)
    assert parser.get("app", "venv_tag") == "1.0"
    mtime = os.stat(fact_file).st_mtime_ns

    facts[0]["value"] = "2.0"
    unchanged = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.0"],
                                           facts_when_changed=facts, facts_dest="vbfacts", **base)
    assert unchanged.changes == {}
    assert os.stat(fact_file).st_mtime_ns == mtime, "facts were set without a venv change"
    changed = states.venvbuild.installed(name=venv(tmp_path), packages=["vbdep==1.1"],
                                         facts_when_changed=facts, facts_dest="vbfacts", **base)
    assert changed.result is True
    assert persisted_grains(loaders)["vbfacts"]["app"]["venv_tag"] == "2.0"
    assert parser.read(fact_file) and parser.get("app", "venv_tag") == "2.0"


# -- repo ownership and release level ------------------------------------------------


def test_repo_reader_and_release_level(states, tmp_path, base):
    """venv_build_host_user_name/_group_name -> repo_user/repo_group, os-releases/<release>

    The web server only reads the repo: files stay root's, the group gets read
    access, nobody else any (docs/security.md)."""
    if os.geteuid() != 0:
        pytest.skip("changing groups needs root")
    import grp  # pylint: disable=import-outside-toplevel
    import pwd  # pylint: disable=import-outside-toplevel
    import stat  # pylint: disable=import-outside-toplevel

    user = "nobody"
    gid = pwd.getpwnam(user).pw_gid
    ret = states.venvbuild.wheels_built(name="app", packages=["vbdep==1.0"], release="2025.2",
                                        repo_user=user, build_args=base["build_args"],
                                        repo_path=base["repo_path"], install_tool="uv")
    assert ret.result is True, ret.comment
    (platform,) = os.listdir(os.path.join(base["repo_path"], "2025.2"))
    platform_dir = os.path.join(base["repo_path"], "2025.2", platform)
    for root, dirs, files in os.walk(base["repo_path"]):
        if "/." in root[len(base["repo_path"]):]:
            continue  # .locks, .staging: root's alone
        for name in dirs + files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            if name.startswith("."):
                assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o700), full
                continue
            assert (st.st_uid, st.st_gid) == (0, gid), full
            assert stat.S_IMODE(st.st_mode) == (0o750 if stat.S_ISDIR(st.st_mode) else 0o640), full
    assert os.listdir(os.path.join(platform_dir, "manifests"))
    group = grp.getgrgid(gid).gr_name
    by_group = states.venvbuild.wheels_built(name="app", packages=["vbdep==1.0"], release="2025.2",
                                             repo_group=group, build_args=base["build_args"],
                                             repo_path=base["repo_path"], install_tool="uv")
    assert by_group.result is True and by_group.changes == {}
    bad = states.venvbuild.wheels_built(name="app", packages=["vbdep==1.0"],
                                        repo_user="no-such-user-venvbuild",
                                        repo_path=base["repo_path"])
    assert bad.result is False and "no-such-user-venvbuild" in bad.comment


def test_wheel_build_and_build_fallback_without_a_serving_builder(states, tmp_path, base):
    """venv_wheel_build_enable -> wheel_build; no builder for the platform fails, as the
    role does, unless build_fallback lets the target build (with a warning)"""
    args = dict(base, packages=["vbdep==1.0"], builder_target="no-such-builder-*")
    refused = states.venvbuild.installed(name=venv(tmp_path, "strict"), **args)
    assert refused.result is False
    assert "no builder serves platform" in refused.comment
    assert "build_fallback" in refused.comment
    assert not os.path.lexists(venv(tmp_path, "strict"))

    ret = states.venvbuild.installed(name=venv(tmp_path), build_fallback=True, **args)
    assert ret.result is True, ret.comment
    assert "built locally" in ret.comment
    assert any("build_fallback" in w for w in ret.full_return["warnings"])
    assert versions(venv(tmp_path)) == {"vbdep": "1.0"}

    never = states.venvbuild.installed(name=venv(tmp_path, "never"), wheel_build=False,
                                       build_fallback=True, **args)
    assert never.result is False
    assert "wheel_build is false" in never.comment
    alone = states.venvbuild.installed(name=venv(tmp_path, "alone"), wheel_build=False,
                                       **dict(base, packages=["vbdep==1.0"]))
    assert alone.result is False
    assert "nothing to install from" in alone.comment
    assert not os.path.lexists(venv(tmp_path, "never")) and not os.path.lexists(venv(tmp_path, "alone"))
