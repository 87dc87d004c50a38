#!/usr/bin/env python3
"""Every public function of the execution module and the runner shows how to call it.

    scripts/check_cli_examples.py              the execution module and the runner
    scripts/check_cli_examples.py FILE...      those files (what pre-commit passes)

A public function is one Salt's loader exposes: defined at the top level of the
module, its name not starting with ``_``. Each needs ``CLI Example:`` in its
docstring (``salt-call sys.doc`` shows it; so does Salt after an invalid
argument). Reads the source with ``ast``: imports nothing, needs no Salt. Prints
one line per function without one and exits 1; exits 0 when all have one.
"""

import ast
import pathlib
import sys

TOP = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = (
    TOP / "src" / "saltext_venvbuild" / "modules" / "venvbuild.py",
    TOP / "src" / "saltext_venvbuild" / "runners" / "venvbuild.py",
)
MARK = "CLI Example:"


def missing(path):
    """``(line, name)`` of every public function of ``path`` without a CLI example."""
    tree = ast.parse(pathlib.Path(path).read_text(encoding="utf-8"), filename=str(path))
    return [(node.lineno, node.name) for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            and MARK not in (ast.get_docstring(node) or "")]


def main(argv):
    paths = argv or [str(path) for path in DEFAULT]
    failed = 0
    for path in paths:
        for line, name in missing(path):
            print(f"{path}:{line}: {name}() has no '{MARK}' in its docstring")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
