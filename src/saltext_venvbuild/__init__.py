"""saltext-venvbuild: build wheels once, install venvs from them everywhere.

Salt loads ``modules/`` and ``states/`` below this package through the
``salt.loader`` entry point. ``core/`` is plain Python and imports no Salt.
"""

__version__ = "0.2.0"
