"""The formulas that come with saltext-venvbuild, served by Salt's fileserver.

Installing the extension installs its SLS formulas as package data
(``saltext_venvbuild/formula/``: ``venvbuild/init.sls``, ``builder.sls``,
``repo.sls``, ``files/`` and ``orch/venvbuild.sls``). This backend serves them
as ``salt://venvbuild/...`` and ``salt://orch/venvbuild.sls``, so
``state.apply venvbuild`` and ``state.orchestrate orch.venvbuild`` work with
one line of configuration and no copy to keep in step with the extension:

.. code-block:: yaml

    # the master's configuration, or the minion's for salt-call --local
    fileserver_backend:
      - roots        # your own states first: a file there wins over the packaged one
      - venvbuild

It serves them in every saltenv (the formulas belong to the installed
extension, as its modules do) and lists only ``base`` as an environment of its
own. It is read-only: it serves the installed files and writes only its hash and
file-list caches, under ``<cachedir>/venvbuild-fileserver``.

It is Salt's own ``roots`` backend (path checks, hashing, caching, chunked
serving), given ``file_roots`` that hold only the formula directory and a cache
directory of their own, so nothing is written beside what the real ``roots``
backend keeps and no path handling is written twice.
"""

import os
import typing

import salt.loader

import saltext_venvbuild

if typing.TYPE_CHECKING:
    __opts__: dict

__virtualname__ = "venvbuild"

CACHE_SUBDIR = "venvbuild-fileserver"

# Salt's roots backend, loaded once per loader of this module (a loader runs
# this module afresh, so each has its own).
_ROOTS = None


def __virtual__():
    formulas = os.path.join(saltext_venvbuild.formula_dir(), "venvbuild", "init.sls")
    if not os.path.isfile(formulas):
        return (False, f"venvbuild fileserver: {formulas} is missing; the saltext-venvbuild "
                       "installation is incomplete (reinstall it from its wheel)")
    return __virtualname__


def _roots():
    global _ROOTS
    if _ROOTS is None:
        opts = dict(__opts__)
        opts.update(
            # "__env__": the same directory for whatever saltenv is asked for.
            file_roots={"__env__": [saltext_venvbuild.formula_dir()]},
            cachedir=os.path.join(__opts__["cachedir"], CACHE_SUBDIR),
            # roots' update events would be tagged as the real roots backend's.
            fileserver_events=False,
        )
        _ROOTS = salt.loader.fileserver(opts, ["roots"],
                                        loaded_base_name="saltext_venvbuild.loaded.fileserver")
    return _ROOTS


def envs():
    """The environments this backend brings: ``base`` (it serves the formulas in any)."""
    return ["base"]


def find_file(path, saltenv="base", **kwargs):
    """Find ``path`` among the packaged formulas (Salt's ``fnd`` structure)."""
    return _roots()["roots.find_file"](path, saltenv, **kwargs)


def serve_file(load, fnd):
    """A chunk of a file found by :func:`find_file`."""
    return _roots()["roots.serve_file"](load, fnd)


def file_hash(load, fnd):
    """The hash of a file found by :func:`find_file`."""
    return _roots()["roots.file_hash"](load, fnd)


def update():
    """Reap stale hash caches (Salt calls this on its fileserver update interval)."""
    return _roots()["roots.update"]()


def file_list(load):
    """Every file of the packaged formulas."""
    return _roots()["roots.file_list"](load)


def file_list_emptydirs(load):
    """Empty directories of the packaged formulas (none)."""
    return _roots()["roots.file_list_emptydirs"](load)


def dir_list(load):
    """Every directory of the packaged formulas."""
    return _roots()["roots.dir_list"](load)


def symlink_list(load):
    """Symlinks among the packaged formulas (none)."""
    return _roots()["roots.symlink_list"](load)
