"""core/distro.py: which entries of a distro package's file list go into a venv."""

import pytest

from saltext_venvbuild.core import distro
from saltext_venvbuild.core.errors import SpecError

DIST = "/usr/lib/python3/dist-packages"

# What `dpkg -L python3-yaml` lists on Debian 12 (directories included).
PYTHON3_YAML = [
    "/.",
    "/usr",
    "/usr/lib",
    "/usr/lib/python3",
    DIST,
    f"{DIST}/PyYAML-6.0.dist-info",
    f"{DIST}/PyYAML-6.0.dist-info/INSTALLER",
    f"{DIST}/PyYAML-6.0.dist-info/METADATA",
    f"{DIST}/PyYAML-6.0.dist-info/top_level.txt",
    f"{DIST}/_yaml",
    f"{DIST}/_yaml/__init__.py",
    f"{DIST}/_yaml/_yaml.cpython-311-x86_64-linux-gnu.so",
    f"{DIST}/yaml",
    f"{DIST}/yaml/__init__.py",
    f"{DIST}/yaml/composer.py",
    f"{DIST}/yaml/constructor.py",
    f"{DIST}/yaml/cyaml.py",
    "/usr/share",
    "/usr/share/doc",
    "/usr/share/doc/python3-yaml",
    "/usr/share/doc/python3-yaml/changelog.Debian.gz",
    "/usr/share/doc/python3-yaml/copyright",
]


def test_python3_yaml_gives_its_top_level_entries_sorted():
    assert distro.python_entries("python3-yaml", PYTHON3_YAML, 3, 11) == [
        f"{DIST}/PyYAML-6.0.dist-info",
        f"{DIST}/_yaml",
        f"{DIST}/yaml",
    ]


def test_entries_are_unique_whatever_the_order_of_the_list():
    files = list(reversed(PYTHON3_YAML)) + PYTHON3_YAML
    assert distro.python_entries("python3-yaml", files, 3, 11) == [
        f"{DIST}/PyYAML-6.0.dist-info",
        f"{DIST}/_yaml",
        f"{DIST}/yaml",
    ]


def test_top_level_module_files_are_entries_themselves():
    files = [
        f"{DIST}/six.py",
        f"{DIST}/six-1.16.0.egg-info/PKG-INFO",
        "/usr/share/doc/python3-six/copyright",
    ]
    assert distro.python_entries("python3-six", files, 3, 11) == [
        f"{DIST}/six-1.16.0.egg-info",
        f"{DIST}/six.py",
    ]


def test_apt_pkg_extension_for_the_venvs_python_is_linked():
    files = [
        f"{DIST}/apt_pkg.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/apt_inst.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/apt_pkg.pyi",
        f"{DIST}/apt/__init__.py",
        f"{DIST}/apt/cache.py",
    ]
    assert distro.python_entries("python3-apt", files, 3, 11) == [
        f"{DIST}/apt",
        f"{DIST}/apt_inst.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/apt_pkg.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/apt_pkg.pyi",
    ]


def test_pycache_and_pth_files_are_skipped():
    files = [
        f"{DIST}/__pycache__/six.cpython-311.pyc",
        f"{DIST}/distutils-precedence.pth",
        f"{DIST}/zope.interface-5.5.2-nspkg.pth",
        f"{DIST}/zope/interface/__init__.py",
    ]
    assert distro.python_entries("python3-zope.interface", files, 3, 11) == [f"{DIST}/zope"]


def test_only_pycache_and_pth_is_no_python_module():
    files = [f"{DIST}/__pycache__/x.cpython-311.pyc", f"{DIST}/x.pth"]
    with pytest.raises(SpecError, match="installs no Python 3 module"):
        distro.python_entries("python3-x", files, 3, 11)


@pytest.mark.parametrize(
    "root",
    [
        "/usr/lib/python3.11/site-packages",  # Fedora/RHEL
        "/usr/lib/python3.11/dist-packages",
        "/usr/lib64/python3.11/site-packages",  # Fedora/RHEL extension modules
        "/usr/local/lib/python3/dist-packages",
        "/usr/local/lib/python3.11/dist-packages",
        "/usr/lib/python3/site-packages",
    ],
)
def test_other_python3_roots_are_accepted_for_a_matching_venv(root):
    files = [
        f"{root}/libvirt.py",
        f"{root}/libvirtmod.cpython-311-x86_64-linux-gnu.so",
        f"{root}/libvirt_python-9.0.0.dist-info/METADATA",
    ]
    assert distro.python_entries("python3-libvirt", files, 3, 11) == [
        f"{root}/libvirt.py",
        f"{root}/libvirt_python-9.0.0.dist-info",
        f"{root}/libvirtmod.cpython-311-x86_64-linux-gnu.so",
    ]


def test_entries_from_several_roots_are_all_kept():
    files = [
        "/usr/lib64/python3.11/site-packages/rados.cpython-311-x86_64-linux-gnu.so",
        "/usr/lib/python3.11/site-packages/rados-2.0.0-py3.11.egg-info",
    ]
    assert distro.python_entries("python3-rados", files, 3, 11) == [
        "/usr/lib/python3.11/site-packages/rados-2.0.0-py3.11.egg-info",
        "/usr/lib64/python3.11/site-packages/rados.cpython-311-x86_64-linux-gnu.so",
    ]


def test_python2_and_other_directories_are_ignored():
    files = [
        "/usr/lib/python2.7/dist-packages/yaml/__init__.py",
        "/usr/lib/python3/dist-packages",  # the directory itself, nothing below
        "/usr/share/python3/runtime.d/foo.rtupdate",
        "/opt/lib/python3/dist-packages/foo/__init__.py",
        "/usr/lib/python3/dist-packagesX/foo/__init__.py",
        f"{DIST}/foo/__init__.py",
    ]
    assert distro.python_entries("python3-foo", files, 3, 11) == [f"{DIST}/foo"]


def test_a_directory_for_another_python_version_is_refused():
    path = "/usr/lib/python3.12/dist-packages/yaml/__init__.py"
    files = [f"{DIST}/yaml/cyaml.py", path]
    with pytest.raises(SpecError) as exc:
        distro.python_entries("python3-yaml", files, 3, 11)
    message = str(exc.value)
    assert "python3-yaml" in message
    assert path in message
    assert "for Python 3.12" in message
    assert "runs Python 3.11" in message


def test_a_site_packages_directory_for_another_python_version_is_refused():
    path = "/usr/lib64/python3.9/site-packages/rados.cpython-39-x86_64-linux-gnu.so"
    with pytest.raises(SpecError) as exc:
        distro.python_entries("python3-rados", [path], 3, 11)
    message = str(exc.value)
    assert "python3-rados" in message and path in message
    assert "for Python 3.9" in message and "runs Python 3.11" in message


def test_python3_1_is_not_python3_11():
    # A prefix of the version must not pass for it.
    with pytest.raises(SpecError, match=r"for Python 3\.1, "):
        distro.python_entries("python3-x", ["/usr/lib/python3.1/site-packages/x.py"], 3, 11)


def test_an_extension_module_for_another_cpython_is_refused():
    path = f"{DIST}/_yaml/_yaml.cpython-312-x86_64-linux-gnu.so"
    files = [f"{DIST}/yaml/__init__.py", f"{DIST}/_yaml/__init__.py", path]
    with pytest.raises(SpecError) as exc:
        distro.python_entries("python3-yaml", files, 3, 11)
    message = str(exc.value)
    assert "python3-yaml" in message
    assert path in message
    assert "CPython 3.12" in message
    assert "runs Python 3.11" in message


def test_an_extension_module_for_cpython_3_10_is_refused_for_3_11():
    path = f"{DIST}/apt_pkg.cpython-310-x86_64-linux-gnu.so"
    with pytest.raises(SpecError, match=r"CPython 3\.10\b"):
        distro.python_entries("python3-apt", [path], 3, 11)


def test_debug_and_free_threaded_tags_are_read_as_their_version():
    # cpython-311d (debug build): version 3.11 matches.
    files = [f"{DIST}/foo.cpython-311d-x86_64-linux-gnu.so"]
    assert distro.python_entries("python3-foo-dbg", files, 3, 11) == list(files)
    with pytest.raises(SpecError, match=r"CPython 3\.13\b"):
        distro.python_entries("python3-foo", [f"{DIST}/foo.cpython-313t-x86_64-linux-gnu.so"], 3, 11)


def test_abi3_extension_modules_are_accepted():
    files = [
        f"{DIST}/cryptography/__init__.py",
        f"{DIST}/cryptography/hazmat/bindings/_rust.abi3.so",
        f"{DIST}/nacl/_sodium.abi3.so",
    ]
    assert distro.python_entries("python3-cryptography", files, 3, 11) == [
        f"{DIST}/cryptography",
        f"{DIST}/nacl",
    ]


def test_pyc_files_of_another_version_inside_a_package_are_not_extension_modules():
    files = [f"{DIST}/yaml/__init__.py", f"{DIST}/yaml/__pycache__/__init__.cpython-312.pyc"]
    assert distro.python_entries("python3-yaml", files, 3, 11) == [f"{DIST}/yaml"]


def test_a_package_built_for_several_pythons_fits_each_of_them():
    files = [
        f"{DIST}/yaml/__init__.py",
        f"{DIST}/_yaml/__init__.py",
        f"{DIST}/_yaml/_yaml.cpython-311-x86_64-linux-gnu.so",
        f"{DIST}/_yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
    ]
    assert distro.python_entries("python3-yaml", files, 3, 12) == [f"{DIST}/_yaml", f"{DIST}/yaml"]


@pytest.mark.parametrize(
    "files",
    [
        [],
        ["/usr/share/doc/libvirt0/copyright", "/usr/lib/x86_64-linux-gnu/libvirt.so.0"],
        ["/usr/lib/python2.7/dist-packages/yaml/__init__.py"],
        ["/usr/bin/python3.11", "/usr/lib/python3.11/os.py"],  # the stdlib, not a packages dir
    ],
)
def test_a_package_without_python3_modules_is_refused(files):
    with pytest.raises(SpecError, match="installs no Python 3 module") as exc:
        distro.python_entries("libvirt0", files, 3, 11)
    assert "libvirt0" in str(exc.value)


# -- the role's base package lists ----------------------------------------------------


def test_base_packages_are_the_roles_vars_per_os_family():
    """The role's vars/debian.yml and vars/redhat.yml, list for list."""
    assert set(distro.base_packages("Debian", "build")) == {
        "cmake", "g++", "python3-pkgconfig", "python3-dev", "python3-venv",
        "python3-packaging", "python3-setuptools"}
    assert set(distro.base_packages("Debian", "install")) == {
        "python3-packaging", "python3-setuptools", "python3-venv"}
    assert set(distro.base_packages("RedHat", "build")) == {
        "autoconf", "cmake", "gcc", "gcc-c++", "python3-devel", "python3-packaging"}
    assert set(distro.base_packages("RedHat", "install")) == {"python3-packaging"}


@pytest.mark.parametrize("family", ["Suse", "Arch", "", None])
def test_another_os_family_has_no_base_packages(family):
    assert distro.base_packages(family, "build") == ()
    assert distro.base_packages(family, "install") == ()


def test_base_packages_are_valid_package_names():
    from saltext_venvbuild.core.options import check_package_names  # pylint: disable=import-outside-toplevel

    for lists in distro.BASE_PACKAGES.values():
        for names in lists.values():
            assert check_package_names(list(names), "base") == sorted(names)


def test_scripts_test_installs_the_debian_base_packages_before_the_suite():
    import pathlib  # pylint: disable=import-outside-toplevel

    script = (pathlib.Path(__file__).resolve().parents[3] / "scripts" / "test").read_text()
    line = script.split("for pkg in ", 1)[1].split("; do", 1)[0]
    assert set(line.replace("\\", " ").split()) == set(distro.base_packages("Debian", "build"))
