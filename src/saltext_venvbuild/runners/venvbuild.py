"""The fleet view: which venv spec every minion runs, who drifts, which builders serve what.

.. code-block:: bash

    salt-run venvbuild.fleet
    salt-run venvbuild.fleet tgt='api*'

It reads what Salt already has, the **mine**: each target's ``venvbuild_venvs``
entry (``venvbuild.fleet_info``: per venv the spec its pillar wants there and
the spec and manifest installed) and each builder's ``venvbuild_repo`` entry
(``venvbuild.repo_info``: its URL, platforms and manifest hashes). The mine was
chosen over live job returns because it answers at once, for minions that are
down too (their last known state), without a job on every minion; and over a
returner because it needs no database. Minions refresh their entries after
every change venvbuild makes, so the view is as fresh as the last run (or
``mine_interval``); run ``salt '*' mine.update`` first to be sure.
"""

import typing

if typing.TYPE_CHECKING:
    __salt__: dict

__virtualname__ = "venvbuild"

FLEET_ALIAS = "venvbuild_venvs"
REPO_ALIAS = "venvbuild_repo"


def __virtual__():
    return __virtualname__


def _builders(entries):
    out = {}
    for builder_id, info in sorted((entries or {}).items()):
        if not isinstance(info, dict):
            continue
        manifests = info.get("manifests") if isinstance(info.get("manifests"), dict) else {}
        out[builder_id] = {
            "url": info.get("url"),
            "platforms": sorted(info.get("platforms") or []),
            "manifests": len(manifests),
        }
    return out


def _published(entries):
    """Every manifest sha256 some builder publishes."""
    shas = set()
    for info in (entries or {}).values():
        if isinstance(info, dict) and isinstance(info.get("manifests"), dict):
            shas |= set(info["manifests"].values())
    return shas


def fleet(tgt="*", tgt_type="glob", builders=None, builders_tgt_type="glob"):
    """
    Show, per venv, which spec and manifest each minion runs and which minions
    drift from their pillar, and which builders serve which platforms, from the
    mine (``venvbuild_venvs`` of the targets, ``venvbuild_repo`` of the builders).

    tgt, tgt_type
        The minions to show (default every minion that publishes ``venvbuild_venvs``).
    builders, builders_tgt_type
        The builders to show (default: every minion that publishes ``venvbuild_repo``).

    For each venv: ``minions`` (each minion's wanted and installed spec, its
    manifest's sha256 and how it was authenticated), ``specs`` (which minions
    run which spec), ``drift`` (minions whose installed spec is not what their
    pillar wants, with why), ``unpublished`` (minions running a manifest no
    builder publishes any more). Then ``builders`` and a ``summary``.

    CLI Example:

    .. code-block:: bash

        salt-run venvbuild.fleet
        salt-run venvbuild.fleet tgt='api*' builders=build01,build02 builders_tgt_type=list
    """
    targets = __salt__["mine.get"](tgt, FLEET_ALIAS, tgt_type) or {}
    repos = __salt__["mine.get"](builders or "*", REPO_ALIAS,
                                 builders_tgt_type if builders else "glob") or {}
    published = _published(repos)
    venvs = {}
    for minion_id, entries in sorted(targets.items()):
        if not isinstance(entries, dict):
            continue
        for venv_id, entry in sorted(entries.items()):
            if not isinstance(entry, dict):
                continue
            view = venvs.setdefault(venv_id, {"minions": {}, "specs": {}, "drift": {},
                                              "unpublished": []})
            view["minions"][minion_id] = {
                key: entry.get(key)
                for key in ("path", "platform", "wanted", "installed", "manifest_sha256", "trust")
            }
            if entry.get("installed"):
                view["specs"].setdefault(entry["installed"], []).append(minion_id)
            if not entry.get("current"):
                view["drift"][minion_id] = (
                    entry.get("error") or ("not installed" if not entry.get("installed") else
                                           f"runs {entry.get('installed')}, its pillar wants "
                                           f"{entry.get('wanted')}"))
            sha = entry.get("manifest_sha256")
            if sha and published and sha not in published and entry.get("trust", "").startswith(
                    "manifest sha256 published by builder"):
                view["unpublished"].append(minion_id)
    drifting = sorted({m for view in venvs.values() for m in view["drift"]})
    return {
        "venvs": venvs,
        "builders": _builders(repos),
        "summary": {
            "minions": len(targets),
            "venvs": len(venvs),
            "current": sum(len(v["minions"]) - len(v["drift"]) for v in venvs.values()),
            "drifting": drifting,
        },
    }
