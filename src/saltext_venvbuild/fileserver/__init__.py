"""Salt fileserver backends of saltext-venvbuild (``venvbuild``: the packaged formulas)."""
