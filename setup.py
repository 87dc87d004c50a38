"""A shim for tools that still run ``setup.py``: the metadata is in pyproject.toml
(PEP 621) and the version comes from git tags (setuptools-scm)."""

from setuptools import setup

setup()
