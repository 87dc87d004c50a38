"""saltext-venvbuild: build wheels once, install venvs from them everywhere.

Salt loads ``modules/``, ``states/``, ``runners/`` and ``fileserver/`` below this
package through the ``salt.loader`` entry point. ``core/`` is plain Python and
imports no Salt. ``formula/`` holds the SLS formulas (the repository's
``states/`` directory, shipped as package data): the ``venvbuild`` fileserver
backend serves it, or ``file_roots`` can name :func:`formula_dir`.

Importing this package reads nothing and imports nothing: Salt imports it for
every loader it builds.
"""

import os


def formula_dir():
    """The directory holding the packaged formulas (``venvbuild/``, ``orch/``), with
    symlinks resolved: put it in ``file_roots`` to serve them from disk.

    ``python -c 'import saltext_venvbuild as v; print(v.formula_dir())'``
    """
    return os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "formula"))


def __getattr__(name):
    # The version comes from the installed distribution's metadata (setuptools-scm
    # wrote it from the git tag at build time), looked up only when asked for.
    if name == "__version__":
        from importlib import metadata  # noqa: PLC0415  only when asked for

        try:
            return metadata.version("saltext-venvbuild")
        except metadata.PackageNotFoundError:
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
