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

Nothing a minion publishes is trusted (``core/fleet.py``): every entry is
checked by a strict schema, what does not fit is listed under ``malformed``,
every string shown is escaped and cut, and a ``venvbuild_repo`` entry counts as
a builder's only for minions the master names (``builders=``, or the builder
targeting of the targets' pillars as the master compiles them); any other is
listed under ``unverified``.
"""

import functools
import gc
import logging
import os
import typing

import salt.client
import salt.pillar
import salt.utils.minions

from saltext_venvbuild.core import arrange as core_arrange
from saltext_venvbuild.core import fleet as core_fleet
from saltext_venvbuild.core import names
from saltext_venvbuild.core import preflight as core_preflight
from saltext_venvbuild.core import prune as core_prune
from saltext_venvbuild.core import spec as core_spec
from saltext_venvbuild.core import trust as core_trust
from saltext_venvbuild.core.errors import VenvbuildError
from saltext_venvbuild.core.options import TGT_TYPES
from saltext_venvbuild.utils import pillar as pillar_util

if typing.TYPE_CHECKING:
    __opts__: dict
    __salt__: dict

log = logging.getLogger(__name__)

__virtualname__ = "venvbuild"

FLEET_ALIAS = core_fleet.FLEET_ALIAS
REPO_ALIAS = core_fleet.REPO_ALIAS


def __virtual__():
    # Salt 3008's runner client writes <cachedir>/proc/<jid> before it calls a
    # runner, and fails with FileNotFoundError where no master ever ran with
    # this configuration: say what is needed instead.
    proc = os.path.join(__opts__.get("cachedir") or "", "proc")
    if not os.path.isdir(proc):
        return False, (
            f"the master's cache directory {proc} does not exist: run salt-run on the master, with "
            "its configuration (-c) and as its user; the fleet view reads the mine the master "
            "keeps for its minions (salt '*' mine.update)"
        )
    return __virtualname__


def _settled(func):
    """Run a runner function, then collect its garbage before Salt stores the job.

    Salt 3006.2x and 3008 destroy a loader's modules when a ``LocalClient``, a
    ``MasterMinion`` or a pillar's loaders are finalized (``clean_modules``
    removes every ``salt.loaded.int.returner.*`` entry from ``sys.modules``).
    Left to the garbage collector, that can happen while ``salt-run`` imports
    the job cache's returner to store this job, which then fails with
    ``Returner 'local_cache' does not support function prep_jid``. Collecting
    here finalizes what the function left behind before that import."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            gc.collect()

    return wrapper


def _fail(message):
    return {"error": message, "retcode": 1}


def _mine_get(tgt, fun, tgt_type):
    """The master's mine.get (its own matching, its own cache); VenvbuildError if Salt fails."""
    try:
        return __salt__["mine.get"](tgt, fun, tgt_type) or {}
    except Exception as exc:  # pylint: disable=broad-except
        raise VenvbuildError(f"mine.get {fun} of {tgt_type} {tgt!r} failed on the master: {exc}") from None


def _builders_matching(tgt, tgt_type):
    return [key for key in _mine_get(tgt, REPO_ALIAS, tgt_type) if isinstance(key, str)]


def _compiled_pillar(minion_id):
    """The pillar the master compiles for ``minion_id`` (its pillar cache with
    ``pillar_cache: True``), never what the minion sent with it (pillar_override).
    The grains are the minion's last report, so pillar top entries matched by
    grain are the minion's claim (docs/security.md: assign pillar by id)."""
    _, grains, _ = salt.utils.minions.get_minion_data(minion_id, __opts__)
    grains = dict(grains or {})
    grains["id"] = minion_id
    cls = salt.pillar.PillarCache if __opts__.get("pillar_cache") else salt.pillar.Pillar
    pillar = cls(__opts__, grains, minion_id, None, pillarenv=__opts__.get("pillarenv"))
    try:
        return pillar.compile_pillar()
    finally:
        if hasattr(pillar, "destroy"):
            pillar.destroy()


def _venv_configs(minion_id):
    try:
        compiled = _compiled_pillar(minion_id)
    except Exception as exc:  # pylint: disable=broad-except
        log.debug("venvbuild.fleet: pillar of %s", minion_id, exc_info=True)
        raise VenvbuildError(f"the master could not compile its pillar: {exc}") from None
    errors = compiled.get("_errors") if isinstance(compiled, dict) else None
    if errors:
        raise VenvbuildError(f"its pillar has errors: {'; '.join(map(str, errors))}")
    return pillar_util.venv_configs(pillar_util.read(compiled))


def _check_target(tgt, tgt_type, what, type_name):
    if tgt_type not in TGT_TYPES:
        raise VenvbuildError(f"{type_name} {tgt_type!r}: must be one of {', '.join(TGT_TYPES)}")
    if isinstance(tgt, (list, tuple)):
        tgt = ",".join(map(str, tgt))
    if not isinstance(tgt, str) or not tgt:
        raise VenvbuildError(f"{what} {tgt!r}: must be a target expression")
    return tgt


@_settled
def fleet(tgt="*", tgt_type="glob", builders=None, builders_tgt_type="glob"):
    """
    Show, per venv, which spec and manifest each minion runs and which minions
    drift from their pillar, and which builders serve which platforms, from the
    mine (``venvbuild_venvs`` of the targets, ``venvbuild_repo`` of the builders).

    Minions are not trusted: entries that do not fit venvbuild's schema are
    left out and listed under ``malformed`` (minion id and reason), every string
    shown is escaped (no control character reaches your terminal) and cut, and
    a ``venvbuild_repo`` entry counts as a builder's only if the master names
    that minion (below); the others are listed under ``unverified`` and the
    manifests they claim are not taken as published.

    tgt, tgt_type
        The minions to show (default every minion that publishes ``venvbuild_venvs``).
    builders, builders_tgt_type
        The builders to count, matched by the master (by id, pillar or
        nodegroup; a grain match is the minions' own claim and a note says so).
        Default: those that the targets' pillars name (``venvbuild:builder``,
        a venv's ``builder`` or ``builder_target``), which costs one pillar
        compilation per target shown on the master; give ``builders`` on a
        large fleet to skip that.

    For each venv: ``minions`` (each minion's wanted and installed spec, its
    manifest's sha256 and how it was authenticated), ``specs`` (which minions
    run which spec), ``drift`` (minions whose installed spec is not what their
    pillar wants, with why), ``unpublished`` (minions running, on a builder's
    word, a manifest none of their builders publishes any more). Then
    ``builders``, ``unverified``, ``malformed``; the role's pre-flight check
    (as ``venvbuild.build`` makes it, from the targets' pillars; not with
    ``builders=``): ``local_builds`` (the targets that build their wheels
    themselves, per venv why), ``unserved`` (per target, a venv whose platform
    no builder serves and that may not build for itself) and ``preflight``
    (why ``venvbuild.build`` would refuse: more than 2 targets build for
    themselves; else None); ``notes`` (how builders were chosen, what could
    not be read) and a ``summary``.

    CLI Example:

    .. code-block:: bash

        salt-run venvbuild.fleet
        salt-run venvbuild.fleet tgt='api*' builders=build01,build02 builders_tgt_type=list
    """
    if not (__opts__.get("minion_data_cache") or __opts__.get("enforce_mine_cache")):
        return _fail("this master keeps no mine (minion_data_cache and enforce_mine_cache are "
                     "False in its configuration): set minion_data_cache: True (Salt's default), "
                     "restart the master, then run salt '*' mine.update")
    notes = []
    try:
        tgt = _check_target(tgt, tgt_type, "tgt", "tgt_type")
        if builders is not None:
            builders = _check_target(builders, builders_tgt_type, "builders", "builders_tgt_type")
        targets, problems = core_fleet.read_venvs(_mine_get(tgt, FLEET_ALIAS, tgt_type))
        repos, repo_problems = core_fleet.read_repos(_mine_get("*", REPO_ALIAS, "glob"))
        with_venvs = [minion_id for minion_id, venvs in targets.items() if venvs]
        configs_of = _once(_venv_configs)
        if builders is not None:
            scope = core_fleet.explicit_scope(builders, builders_tgt_type, _builders_matching, notes)
        elif repos:
            scope = core_fleet.pillar_scope(with_venvs, configs_of, _builders_matching, notes)
        else:
            scope = core_fleet.BuilderScope(frozenset())
    except VenvbuildError as exc:
        return _fail(str(exc))
    if not targets and not repos and not problems and not repo_problems:
        notes.append(f"no minion publishes {FLEET_ALIAS} or {REPO_ALIAS} in the mine: give targets "
                     f"the mine function venvbuild.fleet_info as {FLEET_ALIAS} and builders "
                     f"venvbuild.repo_info as {REPO_ALIAS} (mine_functions, docs/cluster.md), "
                     "then run salt '*' mine.update")
    preflight = None
    if builders is None:
        preflight = _fleet_preflight(with_venvs, configs_of, targets, repos, scope, notes)
    elif with_venvs:
        notes.append("who builds for itself (local_builds, unserved, preflight) is not assessed: "
                     "with builders= the targets' pillars are not compiled")
    return core_fleet.view(targets, repos, scope, problems + repo_problems, notes, preflight)


def _once(venv_configs):
    """``venv_configs`` compiling each minion's pillar at most once (its error too)."""
    done = {}

    def configs_of(minion_id):
        if minion_id not in done:
            try:
                done[minion_id] = venv_configs(minion_id)
            except VenvbuildError as exc:
                done[minion_id] = exc
        if isinstance(done[minion_id], VenvbuildError):
            raise done[minion_id]
        return done[minion_id]
    return configs_of


def _fleet_preflight(with_venvs, configs_of, targets, repos, scope, notes):
    """The pre-flight check of the fleet view (core/preflight.py) from the targets'
    pillars, builders named by the scope aside; a pillar the master cannot compile
    is a note (the same one pillar_scope makes, once)."""
    configs = {}
    failed = []
    for minion_id in with_venvs:
        try:
            configs[minion_id] = configs_of(minion_id)
        except VenvbuildError as exc:
            failed.append((minion_id, exc))
    if not repos:  # pillar_scope, which notes them, did not run
        for minion_id, exc in failed[:core_fleet.MAX_PROBLEMS]:
            notes.append(f"who builds for itself on {minion_id} is unknown: {exc}")
    result = core_preflight.assess(configs, core_fleet.served_by(targets, repos, scope),
                                   scope.verified)
    return result.as_view()


# -- master-arranged builds -----------------------------------------------------------


def _minions(tgt, tgt_type):
    """The accepted minion ids ``tgt`` matches, by the master's own matching."""
    found = salt.utils.minions.CkMinions(__opts__).check_minions(tgt, tgt_type)
    ids = found.get("minions", []) if isinstance(found, dict) else list(found or [])
    return sorted(minion for minion in ids if isinstance(minion, str))


def _platforms(targets):
    """Each target's platform key per venv, from its ``venvbuild_venvs`` mine entry
    (checked by core/fleet.py); it only decides which builder builds a spec."""
    if not targets:
        return {}
    entries, _problems = core_fleet.read_venvs(_mine_get(",".join(targets), FLEET_ALIAS, "list"))
    return {minion: {venv_id: state.platform for venv_id, state in venvs.items() if state.platform}
            for minion, venvs in entries.items()}


def _candidates(job, builders, builders_tgt_type):
    """The builders that may build ``job``, best first: those ``builders`` (or the
    targets' own builder targeting) names, whose mine entry serves the job's
    platform and whom ``builder_platforms`` allows, ranked per spec (rendezvous
    hashing, so specs spread over builders and a builder's loss moves only its own)."""
    if builders is not None:
        ids = _minions(builders, builders_tgt_type)
    elif job.builder:
        ids = [job.builder]
    else:
        ids = _minions(job.builder_target, job.builder_tgt_type)
    if not ids:
        return []
    repos = _mine_get(",".join(ids), REPO_ALIAS, "list")
    return [builder for builder, _info in core_trust.ranked_builders(
        f"{job.venv_id}-{job.spec_id}", {b: repos.get(b) for b in ids}, job.platform,
        job.builder_platforms)]


def _publish(builder, job, timeout, wait=True):
    """Ask ``builder`` to build ``job`` (``venvbuild.build_wheels`` with the job's
    options); its answer, or None when it did not answer. Without ``wait``, the
    job id of the build started."""
    try:
        with salt.client.LocalClient(mopts=__opts__) as client:
            if not wait:
                return client.cmd_async(builder, "venvbuild.build_wheels", arg=[job.venv_id],
                                        kwarg=job.options, tgt_type="list")
            ret = client.cmd(builder, "venvbuild.build_wheels", arg=[job.venv_id],
                             kwarg=job.options, tgt_type="list", timeout=timeout,
                             full_return=True)
    except Exception as exc:  # pylint: disable=broad-except
        # A builder Salt cannot reach is a builder that did not answer: the next one is asked.
        log.warning("venvbuild.build: publishing to %s failed", builder, exc_info=True)
        raise _NoAnswer(f"{builder}: {type(exc).__name__}: {exc}") from None
    answer = (ret or {}).get(builder)
    # Salt marks a minion that did not answer ("failed", or out "no_return":
    # "Minion did not return. [Not connected]" / "[No response]").
    if (not isinstance(answer, dict) or "ret" not in answer or answer.get("failed")
            or answer.get("out") == "no_return"):
        return None
    return answer["ret"]


class _NoAnswer(Exception):
    """A builder could not be asked."""


def _jobs_for(targets, venv=None):
    configs, problems = {}, []
    for minion in targets:
        try:
            configs[minion] = _venv_configs(minion)
        except VenvbuildError as exc:
            problems.append({"minion": minion, "problem": str(exc)})
    jobs, more = core_arrange.plan(configs, _platforms(list(configs)), venv)
    return configs, jobs, problems + more


def _builder_ids(configs, builders, builders_tgt_type):
    """The minions the master names as builders: those ``builders`` matches, or
    those the builder targeting of the targets' pillars matches (each distinct
    targeting resolved once, by the master's matching)."""
    if builders is not None:
        return set(_minions(builders, builders_tgt_type))
    targetings = set()
    for venvs in configs.values():
        for cfg in venvs.values():
            try:
                found = core_fleet.targeting(cfg)
            except VenvbuildError:
                continue  # the planner reports a bad pillar entry
            if found is not None:
                targetings.add(found)
    ids = set()
    for found in sorted(targetings, key=lambda t: (t.tgt_type, t.target)):
        ids.update(_minions(found.target, found.tgt_type))
    return ids


def _job_key(job):
    return (job.spec_id, job.platform)


def _preflight(configs, jobs, candidates, builder_ids, venv):
    """Who would build for itself and which venvs nothing serves (core/preflight.py):
    a venv from builders is served when its job has a builder serving its platform."""
    by_venv = {(target, job.venv_id): job for job in jobs for target in job.targets}

    def served(minion, venv_id, _opts):
        job = by_venv.get((minion, venv_id))
        found = candidates.get(_job_key(job)) if job is not None else None
        if found is None:  # no job (the planner said why) or its builders are unknown
            return None, None
        return job.platform, bool(found)

    return core_preflight.assess(configs, served, builder_ids, venv)


@_settled
def build(tgt="*", tgt_type="glob", venv=None, builders=None,  # noqa: PLR0917 (Salt's CLI)
          builders_tgt_type="glob", test=False, timeout=30, allow_local_builds=False):
    """
    Build what the targeted minions' own pillars ask for, on their builders.

    The master compiles each targeted minion's pillar, computes the spec of each
    venv installed from a builder (``builder``/``builder_target``) on the
    platform the minion installs for (its ``venvbuild_venvs`` mine entry), and
    builds each distinct spec once, on a builder that serves that platform,
    with the options of the pillar (``venvbuild.build_wheels``). Nothing a
    target publishes chooses what is built, and nothing needs adding to the
    builder's pillar: declare venvs where they are used. When the chosen
    builder does not answer, the next one serving the platform is asked.

    tgt, tgt_type
        The minions whose venvs to build (default: every minion).
    venv
        Only this venv id.
    builders, builders_tgt_type
        Build only on these (matched by the master); default: the builders
        each venv's pillar names.
    test
        Say what would be built where; build nothing.
    timeout
        Seconds a builder has to answer before the next one is asked (default
        30); a build it is running extends the wait (Salt asks the builder
        whether the job still runs), up to its ``build_timeout``.
    allow_local_builds
        Go on even when more than 2 targets would build their wheels
        themselves (default False; ``orch.venvbuild`` passes the pillar key
        ``venvbuild:orch:allow_local_builds``).

    First, the role's pre-flight check (core/preflight.py): a target builds
    its own wheels when a venv of its pillar has no builder and no
    ``repo_url``, or its builders serve no build of its platform and it has
    ``build_fallback: true``. When more than 2 targets (builders aside) would,
    the runner builds nothing and refuses, naming them, unless
    ``allow_local_builds=True``: each would fetch and compile every source from
    the package index and git servers, as the role refuses for more than 2
    hosts without wheel building. A venv whose platform no builder serves and
    that may not build for itself (``build_fallback: false``), or with no
    builder, no ``repo_url`` and ``wheel_build: false``, is a problem named
    per target.

    Returns ``builds`` (each spec: venv, spec id, platform, targets, builder,
    result, comment), ``problems`` and ``local_builds`` (the targets that build
    for themselves, per venv why); a refusal, a failed build or a problem adds
    an ``Error`` key, so an orchestration's ``salt.runner`` step fails.

    CLI Example:

    .. code-block:: bash

        salt-run venvbuild.build
        salt-run venvbuild.build tgt='api*' venv=keystone test=True
        salt-run venvbuild.build tgt='lab*' allow_local_builds=True
    """
    try:
        allow = core_preflight.check_allow(allow_local_builds)
        tgt = _check_target(tgt, tgt_type, "tgt", "tgt_type")
        if builders is not None:
            builders = _check_target(builders, builders_tgt_type, "builders", "builders_tgt_type")
        configs, jobs, problems = _jobs_for(_minions(tgt, tgt_type), venv)
        builder_ids = _builder_ids(configs, builders, builders_tgt_type)
    except VenvbuildError as exc:
        return {"Error": str(exc), "builds": [], "problems": []}
    # Every spec's builders first: whether the fleet may go on depends on them all.
    candidates, finding = {}, {}
    for job in jobs:
        try:
            candidates[_job_key(job)] = _candidates(job, builders, builders_tgt_type)
        except VenvbuildError as exc:
            finding[_job_key(job)] = str(exc)
    preflight = _preflight(configs, jobs, candidates, builder_ids, venv)
    problems = problems + preflight.unserved
    refusal = preflight.refusal(allow)
    if refusal:
        return {"Error": f"refused: {refusal}", "builds": [], "problems": problems,
                "local_builds": preflight.local_view()}
    builds = []
    for job in jobs:
        report = job.describe()
        found = candidates.get(_job_key(job))
        if found is None:
            report.update(result=False, comment=f"finding its builders failed: {finding[_job_key(job)]}")
        elif not found:
            fallback = sorted(t for t in job.targets if job.venv_id in preflight.local.get(t, {}))
            comment = (f"no builder serves platform {job.platform} (its venvbuild_repo mine entry "
                       "lists the platforms it builds for; builder_platforms may exclude it)")
            if fallback:
                comment += f"; {', '.join(fallback)} build it themselves (build_fallback: true)"
            # Only targets that may not build for themselves make it a failure (named in problems).
            report.update(result=None if len(fallback) == len(job.targets) else False,
                          comment=comment)
        elif test:
            report.update(result=None, builder=found[0], comment=f"would be built on {found[0]}")
        else:
            tried = []
            for builder in found:
                try:
                    answer = _publish(builder, job, timeout)
                except _NoAnswer as exc:
                    tried.append(str(exc))
                    continue
                if answer is None:
                    tried.append(f"{builder} did not answer")
                    continue
                problem = core_arrange.check_answer(job, builder, answer)
                report.update(builder=builder, result=problem is None,
                              comment=problem or answer.get("comment"))
                if problem is None:
                    report["manifest_sha256"] = answer.get("manifest_sha256")
                break
            else:
                report.update(result=False, comment="; ".join(tried))
            if tried:
                report["failover"] = tried
        builds.append(report)
    out = {"builds": builds, "problems": problems, "local_builds": preflight.local_view(),
           "summary": {"specs": len(builds),
                       "built": sum(1 for b in builds if b.get("result") is True),
                       "failed": sum(1 for b in builds if b.get("result") is False),
                       "local": len(preflight.hosts())}}
    if problems or out["summary"]["failed"]:
        out["Error"] = (f"{out['summary']['failed']} of {len(builds)} builds failed, "
                        f"{len(problems)} problems (see builds and problems)")
    return out


@_settled
def request(venv_id, spec_id, platform):
    """
    Build one spec the calling minion's own pillar defines: what a target with
    ``request_build: true`` asks for through the master's ``peer_run`` rule
    (docs/security.md). The caller is the minion id the master authenticated
    (``__opts__['id']`` of a peer_run call); the spec is recomputed from that
    minion's pillar as the master compiles it on the platform the caller
    installs for, and refused unless it is ``spec_id``. The build is started on
    a builder serving the platform and the call returns at once (the target
    waits for the manifest as usual).

    venv_id, spec_id, platform
        The venv of the caller's pillar, the spec id it computed and its
        platform key.

    Allow exactly this runner to peers, anchored:

    .. code-block:: yaml

        peer_run:
          '.*':
            - '^venvbuild\\.request$'

    CLI Example:

    .. code-block:: bash

        # on a target (venvbuild.install does this itself with request_build: true)
        salt-call publish.runner venvbuild.request arg='[keystone, 3f9a1c0e2b7d4a65, debian-12-x86_64-cp311]'
    """
    caller = __opts__.get("id")
    answer = {"venv_id": venv_id, "spec_id": spec_id, "minion": caller}
    try:
        core_spec.check_venv_id(venv_id)
        core_spec.check_spec_id(spec_id)
        if not isinstance(platform, str) or not names.PLATFORM_KEY.fullmatch(platform):
            raise VenvbuildError(f"platform {platform!r}: not a platform key")
        if not isinstance(caller, str) or _minions(caller, "list") != [caller]:
            raise VenvbuildError("venvbuild.request is for minions calling through peer_run; "
                                 "from the master, use salt-run venvbuild.build")
        jobs, problems = core_arrange.plan({caller: _venv_configs(caller)},
                                           {caller: {venv_id: platform}}, venv_id)
    except VenvbuildError as exc:
        return dict(answer, result=False, comment=str(exc))
    job = next((j for j in jobs if j.spec_id == spec_id), None)
    if job is None:
        why = "; ".join(p["problem"] for p in problems) or (
            f"{caller}'s pillar defines {', '.join(j.spec_id for j in jobs) or 'no spec'} for "
            f"venv {venv_id} on {platform}, not {spec_id}")
        return dict(answer, result=False, comment=f"refused: {why}")
    candidates = _candidates(job, None, "glob")
    if not candidates:
        return dict(answer, result=False, comment=f"no builder serves platform {platform}")
    try:
        jid = _publish(candidates[0], job, None, wait=False)
    except _NoAnswer as exc:
        return dict(answer, result=False, comment=f"could not start the build: {exc}")
    log.info("venvbuild.request: %s asked for %s spec %s on %s: build job %s on %s",
             caller, venv_id, spec_id, platform, jid, candidates[0])
    return dict(answer, result=True, builder=candidates[0], jid=jid,
                comment=f"build of spec {spec_id} started on {candidates[0]}")


# -- a bounded repo --------------------------------------------------------------------


@_settled
def prune(builders=None, builders_tgt_type="glob", keep=3, min_age=3600,  # noqa: PLR0917 (CLI)
          test=True, timeout=60):
    """
    Prune the builders' repos: keep the manifests any target uses and the newest
    ``keep`` per venv, remove the rest and the wheels no remaining manifest
    names. **A dry run unless ``test=False``.**

    What is in use comes from the mine: every target's ``venvbuild_venvs``
    entry (``venvbuild.fleet_info``) names, per venv, its platform and the spec
    it wants, runs and keeps for rollback. Each builder then runs
    ``venvbuild.prune_repo`` with those keys (docs/usage.md says what it keeps:
    also what was published less than ``min_age`` seconds ago, and never a
    venv whose build is running). A target that publishes no ``venvbuild_venvs``
    entry is invisible here: its specs survive only as one of the newest
    ``keep``; such minions are listed under ``without_entry``.

    builders, builders_tgt_type
        The builders to prune, matched by the master (required: a destructive
        command acts only on the repos you name). Only minions with a
        ``venvbuild_repo`` mine entry are asked.
    keep
        Newest manifests kept per venv besides those in use (default 3).
    min_age
        Seconds a manifest or wheel must have existed before it is removed (default 3600).
    test
        Report what would be removed; remove nothing (the default).
    timeout
        Seconds the builders have to answer (default 60).

    Returns per builder what ``venvbuild.prune_repo`` returned, with
    ``in_use`` (how many keys were sent), ``without_entry``, ``malformed``
    (target entries that could not be read) and ``notes``; a builder that
    fails or does not answer adds an ``Error``.

    CLI Example:

    .. code-block:: bash

        salt-run venvbuild.prune builders=build01,build02 builders_tgt_type=list
        salt-run venvbuild.prune builders=build01 keep=2 test=False
    """
    if not (__opts__.get("minion_data_cache") or __opts__.get("enforce_mine_cache")):
        return _fail("this master keeps no mine (minion_data_cache is False): the targets' "
                     "venvs are unknown, so nothing can be pruned safely")
    if builders is None:
        return _fail("name the builders to prune: builders=build01 (or builders=... "
                     "builders_tgt_type=list); a destructive command acts only on the repos "
                     "you name")
    notes = []
    try:
        keep, min_age = core_prune.check_keep(keep, min_age)
        builders = _check_target(builders, builders_tgt_type, "builders", "builders_tgt_type")
        ids = sorted(core_fleet.explicit_scope(builders, builders_tgt_type, _builders_matching,
                                               notes).verified)
        targets, problems = core_fleet.read_venvs(_mine_get("*", FLEET_ALIAS, "glob"))
        repos, _repo_problems = core_fleet.read_repos(_mine_get(",".join(ids), REPO_ALIAS, "list")
                                                      if ids else {})
        accepted = _minions("*", "glob")
    except VenvbuildError as exc:
        return _fail(str(exc))
    if not ids:
        return _fail(f"no minion the master matches with builders={builders!r} "
                     f"({builders_tgt_type}) publishes {REPO_ALIAS}: nothing to prune")
    in_use = sorted(core_fleet.in_use_keys(targets, repos))
    kwarg = {"in_use": in_use, "keep": keep, "min_age": min_age, "test": bool(test)}
    with salt.client.LocalClient(mopts=__opts__) as client:
        ret = client.cmd(",".join(ids), "venvbuild.prune_repo", kwarg=kwarg, tgt_type="list",
                         timeout=timeout, full_return=True) or {}
    results, failed = {}, []
    for builder in ids:
        answer = ret.get(builder)
        if not isinstance(answer, dict) or "ret" not in answer:
            results[core_fleet.show_id(builder)] = {"result": False, "comment": "did not answer"}
            failed.append(builder)
        elif answer.get("retcode") or not isinstance(answer["ret"], dict):
            results[core_fleet.show_id(builder)] = {
                "result": False, "comment": core_fleet.show(str(answer["ret"]), core_fleet.ERROR_LIMIT)}
            failed.append(builder)
        else:
            results[core_fleet.show_id(builder)] = dict(answer["ret"], result=True)
    without = sorted(core_fleet.show_id(m) for m in set(accepted) - set(targets) - set(ids))
    if without:
        notes.append(f"{len(without)} minion(s) publish no {FLEET_ALIAS} entry: their venvs are "
                     f"unknown, so their specs are kept only as one of the newest {keep} per venv "
                     f"(give them mine_function venvbuild.fleet_info as {FLEET_ALIAS})")
    out = {"test": bool(test), "builders": results, "in_use": len(in_use),
           "without_entry": without[:core_fleet.MAX_VENVS],
           "malformed": [p.as_dict() for p in problems],
           "notes": [core_fleet.show(n, core_fleet.ERROR_LIMIT) for n in notes]}
    if failed:
        out["Error"] = f"{len(failed)} of {len(ids)} builders did not prune (see builders)"
    return out
