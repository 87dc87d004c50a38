"""The ``venvbuild`` pillar: read plainly on every Salt, checked key by key.

Salt 3008 wraps pillar in masked containers and its ``pillar.get`` returns
``'**********'`` for every value outside a renderer; 3006 and 3007 return plain
values and have no ``unmask``. Reading ``__pillar__`` directly and copying it
into plain dicts and lists works the same on all of them.
"""

from collections.abc import Mapping

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.options import OPTIONS
from saltext_venvbuild.core.text import redact
from saltext_venvbuild.core.text import redact_loose

TOP_KEYS = ("builder", "repo", "defaults", "venvs", "orch")
REPO_KEYS = ("path", "url", "user", "group", "nginx")
BUILDER_KEYS = ("target", "tgt_type", "platforms")
NGINX_KEYS = ("listen", "port", "server_name", "config", "package", "manage_service")
ORCH_KEYS = ("builders", "builders_tgt_type", "targets", "targets_tgt_type", "target_sls", "batch")
# Pillar keys a venv inherits from venvbuild:repo and venvbuild:builder.
INHERITED = {
    "repo_path": ("repo", "path"),
    "repo_user": ("repo", "user"),
    "repo_group": ("repo", "group"),
    "builder_target": ("builder", "target"),
    "builder_tgt_type": ("builder", "tgt_type"),
    "builder_platforms": ("builder", "platforms"),
}
_SECRET_KEYS = ("build_env", "install_env")
_ARG_KEYS = ("build_args", "default_build_args", "install_args")


def plain(value):
    """``value`` with every mapping and list copied into a plain dict or list."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def _mapping(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError(f"pillar {where}: must be a mapping, not {type(value).__name__}")
    return value


def _known(data, allowed, where):
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise SpecError(
            f"pillar {where}: unknown key(s) {', '.join(unknown)}; known ones are "
            f"{', '.join(sorted(allowed))}"
        )


def read(pillar):
    """The plain, checked ``venvbuild`` pillar (``{}`` if there is none)."""
    data = _mapping(plain((pillar or {}).get("venvbuild")), "venvbuild")
    _known(data, TOP_KEYS, "venvbuild")
    repo = _mapping(data.get("repo"), "venvbuild:repo")
    _known(repo, REPO_KEYS, "venvbuild:repo")
    _known(_mapping(repo.get("nginx"), "venvbuild:repo:nginx"), NGINX_KEYS, "venvbuild:repo:nginx")
    _known(_mapping(data.get("builder"), "venvbuild:builder"), BUILDER_KEYS, "venvbuild:builder")
    _known(_mapping(data.get("orch"), "venvbuild:orch"), ORCH_KEYS, "venvbuild:orch")
    defaults = _mapping(data.get("defaults"), "venvbuild:defaults")
    _known(defaults, OPTIONS, "venvbuild:defaults")
    for venv_id, cfg in _mapping(data.get("venvs"), "venvbuild:venvs").items():
        _known(_mapping(cfg, f"venvbuild:venvs:{venv_id}"), set(OPTIONS) | {"path"},
               f"venvbuild:venvs:{venv_id}")
    return data


def venv_configs(data):
    """Each venv of ``venvbuild:venvs`` merged over ``defaults`` and what it inherits."""
    out = {}
    for venv_id, cfg in sorted((data.get("venvs") or {}).items(), key=lambda item: str(item[0])):
        merged = {}
        for key, (section, sub) in INHERITED.items():
            value = (data.get(section) or {}).get(sub)
            if value is not None:
                merged[key] = value
        merged.update(data.get("defaults") or {})
        merged.update(cfg or {})
        if "path" not in merged:
            raise SpecError(
                f"pillar venvbuild:venvs:{venv_id}: no 'path'; set e.g. path: /opt/venvs/{venv_id}"
            )
        out[str(venv_id)] = merged
    return out


def redacted(value, key=None):
    """``value`` for showing: environment values hidden, URL credentials hidden (in
    arguments also those redact cannot delimit, which the options' checks refuse)."""
    if isinstance(value, dict):
        if key in _SECRET_KEYS:
            return {name: "****" for name in value}
        return {name: redacted(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [redacted(item, key if key in _ARG_KEYS else None) for item in value]
    if not isinstance(value, str):
        return value
    return redact_loose(value) if key in _ARG_KEYS else redact(value)
