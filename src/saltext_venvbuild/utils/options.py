"""The options of a venv (pillar keys and state arguments): defaults and validation.

Every option is validated before anything runs, so a typo or a bad value is a
SaltInvocationError naming the option, never a failure half-way through.
"""

import grp
import pwd

from salt.exceptions import SaltInvocationError

from saltext_venvbuild.core import installer as core_installer
from saltext_venvbuild.core import spec as core_spec
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.utils import facts
from saltext_venvbuild.utils import pkgs

DEFAULT_REPO_PATH = "/srv/venvbuild"

# Every option a venv accepts, with its default. Pillar keys and state
# arguments use these names (see docs/mapping.md).
OPTIONS = {
    "packages": None,
    "default_packages": None,
    "constraints": None,
    "global_constraints": None,
    "python": "python3",
    "install_tool": "pip",
    "build_args": None,
    "build_env": None,
    "install_args": None,
    "install_env": None,
    "package_state": "present",
    "rebuild": False,
    "wheels_rebuild": False,
    "repo_path": None,
    "repo_url": None,
    "builder": None,
    "builder_target": None,
    "builder_tgt_type": "glob",
    "wheel_build": True,
    "wait_timeout": 300,
    "request_build": False,
    "ca_bundle": None,
    "pip_noconf": False,
    "uv_bin": None,
    "keep_versions": core_installer.KEEP_VERSIONS,
    "build_pkgs": None,
    "install_pkgs": None,
    "pkgs_state": "present",
    "pkgs_cache_valid_time": 600,
    "symlink_pkgs": None,
    "facts_when_changed": None,
    "facts_dest": "venvbuild",
    "release": None,
    "repo_user": None,
    "repo_group": None,
}



def validate(kwargs, config_get):
    """Validate and default ``kwargs``; ``config_get`` is Salt's ``config.get``."""
    unknown = sorted(k for k in kwargs if not k.startswith("__") and k not in OPTIONS)
    if unknown:
        raise SaltInvocationError(
            f"venvbuild: unknown argument(s) {', '.join(unknown)}; "
            f"known ones are {', '.join(sorted(OPTIONS))}"
        )
    opts = {key: kwargs.get(key) if kwargs.get(key) is not None else default
            for key, default in OPTIONS.items()}
    try:
        core_spec.check_choice(opts["install_tool"], core_spec.INSTALL_TOOLS, "install_tool")
        core_spec.check_choice(opts["package_state"], core_spec.PACKAGE_STATES, "package_state")
        opts["build_env"] = core_spec.check_env(opts["build_env"], "build_env")
        opts["install_env"] = core_spec.check_env(opts["install_env"], "install_env")
        opts["install_args"] = core_spec.check_args(opts["install_args"], "install_args")
        opts["keep_versions"] = positive_int(opts["keep_versions"], "keep_versions")
        for key in ("build_pkgs", "install_pkgs", "symlink_pkgs"):
            opts[key] = pkgs.check_names(opts[key], key)
        core_spec.check_choice(opts["pkgs_state"], core_spec.PACKAGE_STATES, "pkgs_state")
        opts["facts_when_changed"], opts["facts_dest"] = facts.check(
            opts["facts_when_changed"], opts["facts_dest"])
        if opts["release"] is not None:
            opts["release"] = core_spec.check_venv_id(str(opts["release"]), "release")
        opts["repo_owner"] = owner(opts["repo_user"], opts["repo_group"])
    except SpecError as exc:
        raise SaltInvocationError(str(exc)) from None
    if opts["repo_path"] is None:
        opts["repo_path"] = config_get("venvbuild:repo:path", DEFAULT_REPO_PATH)
    opts["wait_timeout"] = non_negative_seconds(opts["wait_timeout"], "wait_timeout")
    opts["pkgs_cache_valid_time"] = non_negative_seconds(opts["pkgs_cache_valid_time"],
                                                     "pkgs_cache_valid_time")
    return opts


def owner(user, group):
    """``(uid, gid)`` for repo_user/repo_group, or None when neither is set."""
    if user is None and group is None:
        return None
    uid = gid = None
    try:
        if user is not None:
            uid = pwd.getpwnam(str(user)).pw_uid
        if group is not None:
            gid = grp.getgrnam(str(group)).gr_gid
    except KeyError as exc:
        raise SpecError(f"repo_user/repo_group: {exc.args[0]}; create it or fix the name") from None
    return uid, gid


def positive_int(value, what):
    if isinstance(value, bool):
        raise SpecError(f"{what} {value!r}: must be a whole number of at least 1")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SpecError(f"{what} {value!r}: must be a whole number of at least 1") from None
    if number < 1 or str(number) != str(value).strip():
        raise SpecError(f"{what} {value!r}: must be a whole number of at least 1")
    return number


def non_negative_seconds(value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SaltInvocationError(f"{what} {value!r}: must be a number of seconds") from None
    if number < 0:
        raise SaltInvocationError(f"{what} {value!r}: must not be negative")
    return number
