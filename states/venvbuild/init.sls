#!py
"""Install every venv of this minion's pillar (venvbuild:venvs, merged over
venvbuild:defaults). Each becomes a state with the id <venv id>_venv, so
services can `watch: - venvbuild: <venv id>_venv`.

Written for Salt's py renderer rather than Jinja: this SLS runs on every
highstate of every target, and compiling a Jinja template cost more than the
no-op venvbuild.installed state itself (docs/benchmark.md).

A pillar with problems (a typo such as `pakages`) installs nothing: each problem
becomes a failed state whose name is the problem, one line each, in place of the
py renderer's traceback."""

from salt.exceptions import SaltInvocationError


def _refused(problems):
    note = (f"venvbuild: {len(problems)} problem(s) in this minion's pillar; nothing was "
            "installed (salt-call venvbuild.check_pillar lists them)")
    return {f"venvbuild_pillar_problem_{number}": {"test.fail_without_changes": [
        {"name": problem}, {"comment": note}]} for number, problem in enumerate(problems, 1)}


def run():
    try:
        venvs = __salt__["venvbuild.venv_configs"](show_secrets=True)
    except SaltInvocationError as exc:
        return _refused(__salt__["venvbuild.check_pillar"]()["problems"] or str(exc).splitlines())
    if not venvs:
        return {"venvbuild_no_venvs": {"test.show_notification": [{
            "text": "venvbuild: no venvs in this minion's pillar (venvbuild:venvs); "
                    "nothing to install"}]}}
    states = {}
    for venv_id, cfg in venvs.items():
        args = [{"name": cfg["path"]}, {"venv_id": venv_id}]
        args += [{key: value} for key, value in sorted(cfg.items()) if key != "path"]
        states[f"{venv_id}_venv"] = {"venvbuild.installed": args}
    return states
