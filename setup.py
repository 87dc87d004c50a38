"""saltext-venvbuild: build Python wheels once, install them into virtualenvs everywhere.

The version has one source, ``__version__`` in ``src/saltext_venvbuild/__init__.py``
(read here without importing the package, which would import Salt).
"""

import pathlib
import re

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(r'^__version__ = "([^"]+)"$',
                    (HERE / "src" / "saltext_venvbuild" / "__init__.py").read_text(), re.M).group(1)

setup(
    name="saltext-venvbuild",
    version=VERSION,
    description=(
        "Salt extension: build Python wheels once on a build minion and install them "
        "into virtualenvs on any number of minions, idempotently"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    license_files=["LICENSE"],
    python_requires=">=3.9",
    package_dir={"": "src"},
    packages=find_packages("src"),
    package_data={"saltext_venvbuild": ["py.typed"]},
    install_requires=["salt>=3006", "packaging>=22", "requests>=2.25"],
    extras_require={
        # uv is the fast install tool; the PyPI package ships the binary.
        "uv": ["uv>=0.4"],
        "tests": ["pytest>=8", "pytest-salt-factories>=1.0.5", "trove-classifiers", "build"],
        "docs": ["sphinx>=7", "furo", "myst-parser"],
        "lint": ["ruff", "towncrier", "mypy", "types-requests"],
    },
    entry_points={
        # The package form: Salt finds modules/ and states/ under it.
        "salt.loader": ["saltext_venvbuild = saltext_venvbuild"],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Plugins",
        "Intended Audience :: System Administrators",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: System :: Installation/Setup",
        "Topic :: System :: Software Distribution",
        "Topic :: System :: Systems Administration",
    ],
)
