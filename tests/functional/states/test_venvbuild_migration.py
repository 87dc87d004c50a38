"""Migrating from the python_venv_build role without surprises (#16 items 6, 7, 8).

The role's variables as OpenStack-Ansible writes them, through the real state
module: ``venv_wheel_build_enable: false``, package lists with empty entries,
argument strings, bare sdist paths and URLs, ``file://`` constraints files, and
``package_state: latest`` in test mode. Real pip and uv on the test packages;
no package index. docs/mapping.md names each test.
"""

import os

import pytest

import sdists
import servers
from saltext_venvbuild.core.repo import list_platforms
from saltext_venvbuild.core.repo import published_manifests
from saltext_venvbuild.core.stamp import installed_versions
from saltext_venvbuild.utils import pillar as pillar_util

# pip and uv behaviour through venvbuild's options, the same on every Salt.
pytestmark = pytest.mark.newest_salt


def versions(path):
    """What the venv at ``path`` runs, but the pip and setuptools a pip venv starts with."""
    return {name: version for name, version in installed_versions(os.path.realpath(path)).items()
            if name not in ("pip", "setuptools")}


def manifests(repo_path):
    """The manifest files of a local repo, by file name."""
    found = set()
    for root, _dirs, files in os.walk(repo_path):
        if root.endswith("manifests"):
            found |= set(files)
    return found


@pytest.fixture
def index(tmp_path):
    """A find-links directory of this test's own, in a directory whose name has a space
    (quoting in argument strings matters): vbdep 1.0 and vbapp 1.0."""
    path = tmp_path / "my sdists"
    sdists.make_index(path, [("vbdep", "1.0"), ("vbapp", "1.0")])
    return path


# -- item 6: venv_wheel_build_enable ------------------------------------------------------


@pytest.fixture
def own_builder(modules, minion_opts, tmp_path, build_args):
    """This minion as its own builder, found through the (masterless) mine: a repo with
    the spec of vbdep==1.0 built, served over HTTP, and its venvbuild.repo_info-shaped
    entry in the local mine cache. Yields (builder repo, Server)."""
    repo = str(tmp_path / "builder-repo")
    built = modules.venvbuild.build_wheels("served", packages=["vbdep==1.0"], repo_path=repo,
                                           build_args=build_args, install_tool="uv")
    assert built["manifest_sha256"], built
    with servers.serve(repo) as (url, server):
        info = {"url": url, "path": repo, "platforms": list_platforms(repo),
                "published": list_platforms(repo), "manifests": published_manifests(repo)}
        modules.data.update("mine_cache", {"venvbuild_repo": info})
        try:
            yield repo, server
        finally:
            modules.data.pop("mine_cache")


def test_venv_wheel_build_enable_false_is_no_builder_for_the_venv(states, minion_opts,
                                                                   tmp_path, build_args,
                                                                   own_builder):
    """venv_wheel_build_enable: false -> builder_target: null (and builder: null) for the
    venv: it builds on this minion, as the role's target builds from the index. Our
    wheel_build: false is another thing: with builders configured it changes nothing (the
    builder's wheels are installed), and without one it fails instead of building."""
    builder_repo, server = own_builder
    target_repo = str(tmp_path / "target-repo")
    pillar = {"venvbuild": {
        "builder": {"target": minion_opts["id"], "tgt_type": "list"},
        "repo": {"path": target_repo},
        "defaults": {"build_args": build_args, "install_tool": "uv", "wait_timeout": 30,
                     "packages": ["vbdep==1.0"]},
        "venvs": {
            "served": {"path": str(tmp_path / "venvs" / "served"), "wheel_build": False},
            "here": {"path": str(tmp_path / "venvs" / "here"), "builder_target": None},
            "nowhere": {"path": str(tmp_path / "venvs" / "nowhere"), "builder_target": None,
                        "wheel_build": False},
        },
    }}
    configs = pillar_util.venv_configs(pillar_util.read(pillar))
    assert configs["here"]["builder_target"] is None  # the venv's null wins over venvbuild:builder

    def apply(venv_id):  # as states/venvbuild/init.sls passes a venv to the state
        cfg = dict(configs[venv_id])
        return states.venvbuild.installed(name=cfg.pop("path"), venv_id=venv_id, **cfg)

    served = apply("served")
    assert served.result is True, served.comment
    assert "from builder " in served.comment
    assert versions(tmp_path / "venvs" / "served") == {"vbdep": "1.0"}
    assert manifests(target_repo) == set(), "wheel_build: false built on the target"
    assert any("/manifests/served-" in path for path in server.hits)

    hits = dict(server.hits)
    here = apply("here")
    assert here.result is True, here.comment
    assert "built 1 wheels" in here.comment and "builder" not in here.comment
    assert versions(tmp_path / "venvs" / "here") == {"vbdep": "1.0"}
    assert [name.split("-")[0] for name in manifests(target_repo)] == ["here"]
    assert server.hits == hits, "the venv without a builder asked the builder"
    assert manifests(builder_repo) == {name for name in manifests(builder_repo)
                                       if name.startswith("served-")}

    nowhere = apply("nowhere")
    assert nowhere.result is False
    assert "wheel_build is false and neither builder" in nowhere.comment
    assert not os.path.lexists(tmp_path / "venvs" / "nowhere")


# -- item 7: OpenStack-Ansible's inputs as written ----------------------------------------


def test_osa_lists_with_empty_entries_and_argument_strings(states, modules, tmp_path, index):
    """OSA templates write '' through ternary and the role's *_args are strings on a
    command line: empty entries are dropped, strings split as shlex.split does (quotes
    kept together, nothing expanded), and every word is still allow-listed."""
    path = str(tmp_path / "venvs" / "app")
    as_role = {
        "packages": ["vbapp", ""], "default_packages": [""],
        "constraints": ["", "vbdep<1.1"], "global_constraints": [""],
        "build_pkgs": [""], "install_pkgs": [""], "build_requirements_extra": [""],
        "default_build_args": "--no-build-isolation",
        "build_args": f"--no-index --find-links '{index}'",
        "install_args": "--compile-bytecode", "install_tool": "uv",
        "repo_path": str(tmp_path / "repo"),
    }
    ret = states.venvbuild.installed(name=path, **as_role)
    assert ret.result is True, ret.comment
    assert ret.changes["requirements"] == {"added": ["vbapp"]}
    assert "distro_packages" not in ret.changes
    assert versions(path) == {"vbapp": "1.0", "vbdep": "1.0"}
    compiled = [f for _root, _dirs, files in os.walk(os.path.realpath(path)) for f in files
                if f.startswith("__init__.") and f.endswith(".pyc")]
    assert compiled, "install_args given as a string did not reach uv"

    as_lists = dict(as_role, packages=["vbapp"], default_packages=None,
                    constraints=["vbdep<1.1"], global_constraints=None, build_pkgs=None,
                    install_pkgs=None, build_requirements_extra=None,
                    default_build_args=["--no-build-isolation"],
                    build_args=["--no-index", "--find-links", str(index)],
                    install_args=["--compile-bytecode"])
    same = states.venvbuild.installed(name=path, **as_lists)
    assert same.result is True and same.changes == {}, "the same inputs made another spec"

    marker = tmp_path / "ran"
    for hostile in (f"--no-index --find-links $(touch {marker})", f"--no-index; touch {marker}",
                    "--no-index --target /tmp/elsewhere", "--find-links '/srv"):
        refused = states.venvbuild.installed(name=str(tmp_path / "venvs" / "bad"),
                                             **dict(as_role, build_args=hostile))
        assert refused.result is False, hostile
        assert refused.comment.startswith("build_args"), refused.comment
    assert not marker.exists() and not os.path.lexists(tmp_path / "venvs" / "bad")
    assert not os.path.exists("/tmp/elsewhere")


def test_bare_sdist_paths_and_urls_in_packages_are_built(states, modules, tmp_path, index):
    """pip takes an sdist's path or URL in place of a requirement, and so does the role;
    here each becomes the 'name @ URL' requirement pip reads it as, with the spec id of
    that requirement written out, and is built like any other."""
    args = {"repo_path": str(tmp_path / "repo"), "install_tool": "pip",
            "build_args": ["--no-build-isolation", "--no-index", "--find-links", str(index)]}
    other = tmp_path / "other"
    sdists.make_sdist("vbdep", "1.1", other.mkdir() or other)
    with servers.serve(index) as (url, server):
        packages = [f"{url}/vbapp-1.0.tar.gz", str(other / "vbdep-1.1.tar.gz")]
        path = str(tmp_path / "venvs" / "bare")
        ret = states.venvbuild.installed(name=path, packages=packages, **args)
        assert ret.result is True, ret.comment
        assert server.hits.get("/vbapp-1.0.tar.gz") == 1
    assert versions(path) == {"vbapp": "1.0", "vbdep": "1.1"}
    written_out = [f"vbapp @ {url}/vbapp-1.0.tar.gz",
                   f"vbdep @ file://{str(other).replace(' ', '%20')}/vbdep-1.1.tar.gz"]
    assert modules.venvbuild.status(path)["requirements"] == written_out
    assert modules.venvbuild.spec_hash("bare", packages=packages, **args) == \
        modules.venvbuild.spec_hash("bare", packages=written_out, **args)

    file_url = f"file://{str(index).replace(' ', '%20')}/vbdep-1.0.tar.gz"
    by_file_url = states.venvbuild.installed(name=str(tmp_path / "venvs" / "file"),
                                             packages=["vbapp", file_url], **args)
    assert by_file_url.result is True, by_file_url.comment
    assert versions(tmp_path / "venvs" / "file") == {"vbapp": "1.0", "vbdep": "1.0"}

    for bad, says in (("./vbdep-1.0.tar.gz", "must be absolute"),
                      (f"{index}/../my sdists/vbdep-1.0.tar.gz", "without '..'"),
                      (str(index), "no package name in its file name"),
                      ("file://elsewhere/srv/vbdep-1.0.tar.gz", "on this minion")):
        refused = states.venvbuild.installed(name=str(tmp_path / "venvs" / "bad"),
                                             packages=[bad], **args)
        assert refused.result is False, bad
        assert refused.comment.startswith("package ") and says in refused.comment, refused.comment
    assert not os.path.lexists(tmp_path / "venvs" / "bad")


def test_a_file_constraints_url_is_read_as_pins_only(states, tmp_path, index):
    """-c file:///... as the role's users write it: accepted, and, like an http(s) URL's
    content, it may choose versions only, never where code comes from."""
    sdists.make_sdist("vbdep", "1.1", index)
    pins = tmp_path / "upper constraints.txt"
    pins.write_text("vbdep===1.0\n")
    url = "file://" + str(pins).replace(" ", "%20")
    args = {"repo_path": str(tmp_path / "repo"), "install_tool": "uv",
            "build_args": ["--no-build-isolation", "--no-index", "--find-links", str(index)]}
    ret = states.venvbuild.installed(name=str(tmp_path / "venvs" / "pinned"), packages=["vbapp"],
                                     global_constraints=[f"--constraint {url}"], **args)
    assert ret.result is True, ret.comment
    assert versions(tmp_path / "venvs" / "pinned")["vbdep"] == "1.0"  # 1.1 is there, the pin holds

    steering = tmp_path / "steering.txt"
    steering.write_text(f"vbdep @ file://{str(index).replace(' ', '%20')}/vbdep-1.1.tar.gz\n")
    refused = states.venvbuild.installed(name=str(tmp_path / "venvs" / "steered"),
                                         packages=["vbapp"],
                                         constraints=[f"-c file://{steering}"], **args)
    assert refused.result is False
    assert "line 1" in refused.comment and "may hold only version pins" in refused.comment
    assert not os.path.lexists(tmp_path / "venvs" / "steered")


# -- item 8: package_state ------------------------------------------------------------------


def test_latest_in_test_mode_predicts_what_the_real_run_does(states, tmp_path, index):
    """package_state: latest re-resolves on every run; test=True resolves too (pip's
    dry run in the builder environment), so it predicts the upgrade a real run makes,
    builds and installs nothing, and predicts no change when there is none."""
    path = str(tmp_path / "venvs" / "app")
    args = {"packages": ["vbapp"], "repo_path": str(tmp_path / "repo"), "install_tool": "uv",
            "build_args": ["--no-build-isolation", "--no-index", "--find-links", str(index)],
            "package_state": "latest"}
    assert states.venvbuild.installed(name=path, **args).result is True
    live = os.path.realpath(path)
    assert states.venvbuild.installed(name=path, test=True, **args).changes == {}

    sdists.make_sdist("vbdep", "1.1", index)  # a new release appears upstream
    before = manifests(args["repo_path"])
    predicted = states.venvbuild.installed(name=path, test=True, **args)
    predicted_build = states.venvbuild.wheels_built(name="app", test=True,
                                                    **{k: v for k, v in args.items()})
    assert predicted.result is None, predicted.comment
    assert predicted_build.result is None, predicted_build.comment
    assert manifests(args["repo_path"]) == before and os.path.realpath(path) == live
    assert versions(path)["vbdep"] == "1.0"

    real = states.venvbuild.installed(name=path, **args)
    assert real.result is True, real.comment
    assert set(predicted.changes) == set(real.changes) == {"packages", "manifest"}
    assert predicted.changes["packages"] == real.changes["packages"] == {
        "changed": {"vbdep": {"old": "1.0", "new": "1.1"}}}
    assert predicted.changes["manifest"]["old"] == real.changes["manifest"]["old"]
    assert predicted_build.changes["packages"] == real.changes["packages"]
    assert versions(path)["vbdep"] == "1.1"

    after = states.venvbuild.installed(name=path, test=True, **args)
    assert after.result is True and after.changes == {}, after.comment
    assert states.venvbuild.installed(name=path, **args).changes == {}


@pytest.mark.parametrize("state, instead", [
    ("absent", "venvbuild.absent state"), ("forcereinstall", "set rebuild: true for one run")])
def test_the_roles_absent_and_forcereinstall_are_refused_naming_the_choices(
        states, tmp_path, build_args, state, instead):
    """The role's uv branch takes venv_pip_package_state absent (uv pip uninstall) and
    forcereinstall (--reinstall); here they are refused, naming the choices and what does
    their work, and the venv stays as it was."""
    path = str(tmp_path / "venvs" / "app")
    args = {"packages": ["vbdep==1.0"], "repo_path": str(tmp_path / "repo"),
            "build_args": build_args, "install_tool": "uv"}
    assert states.venvbuild.installed(name=path, **args).result is True
    live = os.path.realpath(path)
    ret = states.venvbuild.installed(name=path, package_state=state, **args)
    assert ret.result is False
    assert ret.comment.startswith(f"package_state '{state}': must be one of present, latest")
    assert instead in ret.comment
    assert os.path.realpath(path) == live and versions(path) == {"vbdep": "1.0"}
    if state == "forcereinstall":  # what does its work: a fresh venv with every package
        fresh = states.venvbuild.installed(name=path, rebuild=True, **args)
        assert fresh.result is True and fresh.changes == {"rebuilt": True}
        assert os.path.realpath(path) != live and versions(path) == {"vbdep": "1.0"}
