"""The ``venvbuild`` pillar: read plainly on every Salt, checked key by key.

Salt 3008 wraps pillar in masked containers and its ``pillar.get`` returns
``'**********'`` for every value outside a renderer; 3006 and 3007 return plain
values and have no ``unmask``. Reading ``__pillar__`` directly and copying it
into plain dicts and lists works the same on all of them.
"""

from collections.abc import Mapping

from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.options import OPTIONS
from saltext_venvbuild.core.options import unknown_keys
from saltext_venvbuild.core.text import looks_like_hidden_userinfo
from saltext_venvbuild.core.text import redact_loose
from saltext_venvbuild.core.text import redact_query

TOP_KEYS = ("builder", "repo", "defaults", "venvs", "orch")
REPO_KEYS = ("path", "url", "user", "group", "nginx")
BUILDER_KEYS = ("target", "tgt_type", "platforms")
NGINX_KEYS = ("listen", "port", "server_name", "config", "package", "manage_service")
ORCH_KEYS = ("builders", "builders_tgt_type", "targets", "targets_tgt_type", "target_sls", "batch",
             "allow_local_builds")
# Pillar keys a venv inherits from venvbuild:repo and venvbuild:builder.
INHERITED = {
    "repo_path": ("repo", "path"),
    "repo_user": ("repo", "user"),
    "repo_group": ("repo", "group"),
    "builder_target": ("builder", "target"),
    "builder_tgt_type": ("builder", "tgt_type"),
    "builder_platforms": ("builder", "platforms"),
}
_VENV_KEYS = frozenset(OPTIONS) | {"path"}
_SECRET_KEYS = ("build_env", "install_env")
_ARG_KEYS = ("build_args", "default_build_args", "install_args")
_REQUIREMENT_KEYS = ("packages", "constraints", "global_constraints")
_LIST_KEYS = _ARG_KEYS + _REQUIREMENT_KEYS


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


# What an unknown key is told instead of a guess (the guess would mislead).
_INSTEAD = {
    "defaults": {"path": "path is each venv's own key (venvbuild:venvs:<id>:path), never a default"},
    "venv": {"name": "did you mean 'path'? (a state's name is a venv's path in pillar)"},
}


def _known(data, allowed, where, problems, instead=None):
    """Add a sentence to ``problems`` for each key of ``data`` not in ``allowed``."""
    problems += unknown_keys(data, allowed, f"pillar {where}", instead=instead)


def _section(data, key, where, problems):
    """``data[key]`` as a mapping; a problem (and ``{}``) if it is something else."""
    try:
        return _mapping(data.get(key), where)
    except SpecError as exc:
        problems.append(str(exc))
        return {}


def _problems(data, need_path):
    """The problems of the plain ``venvbuild`` pillar ``data``, one sentence each."""
    found = []
    try:
        data = _mapping(data, "venvbuild")
    except SpecError as exc:
        return [str(exc)]
    _known(data, TOP_KEYS, "venvbuild", found)
    repo = _section(data, "repo", "venvbuild:repo", found)
    _known(repo, REPO_KEYS, "venvbuild:repo", found)
    _known(_section(repo, "nginx", "venvbuild:repo:nginx", found), NGINX_KEYS,
           "venvbuild:repo:nginx", found)
    _known(_section(data, "builder", "venvbuild:builder", found), BUILDER_KEYS,
           "venvbuild:builder", found)
    _known(_section(data, "orch", "venvbuild:orch", found), ORCH_KEYS, "venvbuild:orch", found)
    _known(_section(data, "defaults", "venvbuild:defaults", found), OPTIONS,
           "venvbuild:defaults", found, _INSTEAD["defaults"])
    venvs = _section(data, "venvs", "venvbuild:venvs", found)
    for venv_id in sorted(venvs, key=str):
        where = f"venvbuild:venvs:{venv_id}"
        cfg = _section(venvs, venv_id, where, found)
        _known(cfg, _VENV_KEYS, where, found, _INSTEAD["venv"])
        if need_path and "path" not in cfg:
            found.append(f"pillar {where}: no 'path'; set e.g. path: /opt/venvs/{venv_id}")
    return found


def problems(pillar):
    """Every problem of the ``venvbuild`` pillar, one sentence each (``[]`` if none):
    unknown keys (each with its closest match), sections that are not mappings,
    venvs without a ``path``."""
    return _problems(plain((pillar or {}).get("venvbuild")), need_path=True)


def read(pillar):
    """The plain, checked ``venvbuild`` pillar (``{}`` if there is none); its problems
    but a missing ``path`` (which :func:`venv_configs` refuses) are refused at once,
    one line each."""
    data = plain((pillar or {}).get("venvbuild"))
    found = _problems(data, need_path=False)
    if found:
        raise SpecError("\n".join(found))
    return data or {}


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
    """``value`` for showing: environment values hidden, URL credentials and queries
    hidden (in arguments and requirements also credentials redact cannot delimit).

    Under ``build_env``/``install_env`` nothing but a mapping's names is shown,
    whatever the shape (a list of mappings, a ``NAME=value`` string, a key holding
    ``=``): the options' checks refuse those shapes, but this shows what the
    pillar holds, before any check."""
    if key in _SECRET_KEYS and value is not None:
        if isinstance(value, dict):
            return {_secret_name(name): "****" for name in value}
        return "****"
    if isinstance(value, dict):
        return {name: redacted(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [redacted(item, key if key in _LIST_KEYS else None) for item in value]
    if not isinstance(value, str):
        return value
    if key in _ARG_KEYS:
        return redact_query(redact_loose(value))
    if key in _REQUIREMENT_KEYS and looks_like_hidden_userinfo(value):
        return redact_query(redact_loose(value))
    return redact_query(value)


def _secret_name(name):
    return name.split("=", 1)[0] + "=****" if isinstance(name, str) and "=" in name else name
