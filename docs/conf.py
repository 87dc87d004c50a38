"""Sphinx configuration: the Markdown pages (MyST), an API reference generated
from the execution, state and runner modules' docstrings, and diagrams from
Graphviz sources rendered at build time. Built with warnings as errors by
scripts/docs."""

import pathlib
import re
import sys

TOP = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "src"))

project = "saltext-venvbuild"
author = "saltext-venvbuild developers"
copyright = "saltext-venvbuild developers"  # noqa: A001  (Sphinx's name)
release = re.search(r'^__version__ = "([^"]+)"$',
                    (TOP / "src" / "saltext_venvbuild" / "__init__.py").read_text(), re.M).group(1)

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
