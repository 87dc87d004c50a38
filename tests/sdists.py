"""Make sdists of the test packages in tests/packages, with no network.

An sdist is a gzipped tar of ``<name>-<version>/`` with the sources and a
PKG-INFO; pip builds it with setuptools from the same --find-links directory,
so the directory also gets the setuptools, wheel and pip wheels of the
wheelhouse that scripts/setup-venv downloads.
"""

import glob
import io
import os
import pathlib
import shutil
import tarfile

PACKAGES = pathlib.Path(__file__).parent / "packages"
WHEELHOUSE = pathlib.Path(__file__).parent.parent / ".cache" / "wheelhouse"


def make_sdist(name, version, dest):
    base = f"{name}-{version}"
    out = pathlib.Path(dest) / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted((PACKAGES / name).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                tar.add(path, arcname=f"{base}/{path.relative_to(PACKAGES / name)}")
        for member, text in (
            ("VBVERSION", f"{version}\n"),
            ("PKG-INFO", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return out


def make_index(dest, packages):
    """Write sdists of ``packages`` (``[(name, version), ...]``) and the build backends."""
    os.makedirs(dest, exist_ok=True)
    backends = glob.glob(str(WHEELHOUSE / "*.whl"))
    if not any(os.path.basename(p).startswith("setuptools-") for p in backends):
        raise RuntimeError(
            f"no setuptools wheel in {WHEELHOUSE}; run scripts/setup-venv first"
        )
    for wheel in backends:
        shutil.copy(wheel, dest)
    return [make_sdist(name, version, dest) for name, version in packages]


DEFAULT_PACKAGES = [("vbdep", "1.0"), ("vbapp", "1.0"), ("vbcext", "1.0"), ("vbbroken", "1.0"),
                    ("vbslow", "1.0"), ("vbhelper", "1.0"), ("vbhelped", "1.0")]
