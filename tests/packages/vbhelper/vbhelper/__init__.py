"""A build helper (as pbr, Cython or setuptools_scm are): vbhelped's setup.py imports it."""


def generated():
    return "made by vbhelper"
