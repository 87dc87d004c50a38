"""Sphinx configuration: the Markdown pages (MyST), an API reference generated
from the execution, state and runner modules' docstrings, and diagrams from
Graphviz sources rendered at build time. Built with warnings as errors by
scripts/docs."""

import pathlib
import sys
from importlib import metadata

from packaging.version import Version

TOP = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "src"))

project = "saltext-venvbuild"
author = "saltext-venvbuild developers"
copyright = "saltext-venvbuild developers"  # noqa: A001  (Sphinx's name)
# The installed distribution's version (scripts/docs installs the checkout first),
# which setuptools-scm took from git tags; without its local part.
release = Version(metadata.version("saltext-venvbuild")).public

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.graphviz",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
html_theme = "furo"
html_title = f"saltext-venvbuild {release}"
graphviz_output_format = "svg"
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_member_order = "bysource"
nitpicky = False
# The execution module's docstrings name core modules with :mod:/:func: roles;
# those pages are not part of the site.
suppress_warnings = ["ref.python"]


def _option_lists(app, what, name, obj, options, lines):  # Sphinx's signature
    """List the options of the execution functions that take them as keyword arguments
    (``OPTION_PARAMETERS``: ``install``, ``build_wheels``, ``spec_hash``) before their
    CLI example. Their docstrings leave the options out because Salt prints a
    function's docstring as its usage after any invalid argument; the reference keeps
    them, generated from core/options.py like the state's."""
    module, _, function = name.rpartition(".")
    if what != "function" or module != "saltext_venvbuild.modules.venvbuild":
        return
    from saltext_venvbuild.core.options import parameter_docs  # noqa: PLC0415
    from saltext_venvbuild.modules.venvbuild import OPTION_PARAMETERS  # noqa: PLC0415

    if function not in OPTION_PARAMETERS:
        return
    listed = parameter_docs(OPTION_PARAMETERS[function], indent=0).splitlines()
    at = lines.index("CLI Example:") if "CLI Example:" in lines else len(lines)
    lines[at:at] = ["The options, as keyword arguments:", "", *listed, ""]


def setup(app):
    app.connect("autodoc-process-docstring", _option_lists)
