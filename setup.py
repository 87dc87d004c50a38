"""saltext-venvbuild: build Python wheels once, install them into virtualenvs everywhere."""

from setuptools import find_packages
from setuptools import setup

setup(
    name="saltext-venvbuild",
    version="0.1.0",
    description=(
        "Salt extension: build Python wheels once on a build minion and install them "
        "into virtualenvs on any number of minions, idempotently"
    ),
    long_description=open("README.md", encoding="utf-8").read(),  # noqa: SIM115
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    package_dir={"": "src"},
    packages=find_packages("src"),
    install_requires=["salt>=3006", "packaging>=22", "requests>=2.25"],
    extras_require={
        # uv is the fast install tool; the PyPI package ships the binary.
        "uv": ["uv>=0.4"],
        "tests": ["pytest>=8", "pytest-salt-factories>=1.0.5"],
    },
    entry_points={
        # The package form: Salt finds modules/ and states/ under it.
        "salt.loader": ["saltext_venvbuild = saltext_venvbuild"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Salt",
        "License :: OSI Approved :: Apache Software License",
    ],
)
