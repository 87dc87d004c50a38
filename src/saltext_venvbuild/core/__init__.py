"""The pure core of saltext-venvbuild: no Salt imports below this package.

Modules, one idea each:

- ``spec``: a venv's inputs, normalized, and their content-addressed spec id.
- ``interpreter``: what a Python executable is (tag, version), cached by file identity.
- ``platform``: the platform key wheels are built and published for.
- ``manifest``: the published list of pins with wheel hashes (also the install lock file).
- ``repo``: the repo layout on disk and atomic, no-clobber publication.
- ``builder``: building a spec's wheels and publishing its manifest.
- ``prune``: removing the manifests no target uses and the wheels no manifest names.
- ``installer``: building a complete new venv from a manifest and switching to it.
- ``stamp``: what an installed venv records about itself.
- ``fsutil``, ``runner``: atomic files, locks, path checks; running tools.
"""
