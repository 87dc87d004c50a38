"""pip and uv: how they are found, configured and asked to create venvs.

:class:`ToolSettings` carries everything that decides how a tool runs (which
tool, where uv is, the CA bundle, pip's config, extra environment, the
timeout, the working directory and caches), so the builder and the installer
configure tools the same way.

Every process runs as root on the caller's behalf, so nothing of the caller's
surroundings may steer it (docs/security.md, "What steers a tool"):

- its working directory is one venvbuild owns (``<state dir>/work``, else
  ``/``), never the caller's: Python puts the working directory first on
  ``sys.path`` and uv discovers ``uv.toml``/``pyproject.toml`` from it;
- Python runs isolated (``-I``: no ``PYTHON*`` variables, no user site, no
  working directory on ``sys.path``), uv with ``UV_NO_CONFIG=1``;
- the environment is built, not inherited: of the caller's variables only
  ``PATH`` (directories only root can write), the locale, ``TZ`` and the
  proxy variables pass (:data:`runner.INHERITED`); ``HOME`` is the effective user's
  home from the password database, pip's and uv's caches are venvbuild's own
  (``PIP_CACHE_DIR``, ``UV_CACHE_DIR``), and the operator's ``build_env`` /
  ``install_env`` come last.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from typing import TYPE_CHECKING
from typing import Mapping
from typing import Sequence

from . import runner
from .errors import ToolError

if TYPE_CHECKING:
    from .interpreter import Interpreter

# ``python`` + these runs pip isolated: not from the working directory, no PYTHON* variables.
PIP = ("-I", "-m", "pip")

# Environment every tool run gets: quiet, no self-update checks, and uv never
# downloads an interpreter behind the operator's back.
BASE_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
    # uv discovers uv.toml and pyproject.toml from the working directory up; its
    # settings come from venvbuild's command line and the *_env options only.
    "UV_NO_CONFIG": "1",
}

# uv verifies HTTPS against the system's CA store, as pip (24.2 and later) and
# venvbuild's own fetches do, not against its bundled Mozilla roots; an
# SSL_CERT_FILE (ca_bundle, or the system's own) still takes precedence in uv.
# UV_SYSTEM_CERTS is the current name, UV_NATIVE_TLS the one older releases read.
# Left out when build_env/install_env set either.
SYSTEM_CERTS_ENV = {"UV_SYSTEM_CERTS": "1", "UV_NATIVE_TLS": "1"}

@dataclasses.dataclass(frozen=True)
class ToolSettings:
    """How pip or uv run: the tool, where uv is, the CA bundle, pip's config, extra
    environment and the timeout; the builder and the installer share them."""

    tool: str = "pip"  # "pip" or "uv"
    uv_bin: str | None = None
    ca_bundle: str | None = None
    pip_noconf: bool = False  # for the builder environment's provisioning only (environ)
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # build_env or install_env
    timeout: float | None = None  # seconds; None: unbounded
    timeout_option: str = ""  # the option that sets timeout, for messages
    workdir: str | None = None  # the working directory of every run (None: "/")
    cache_dir: str | None = None  # pip's and uv's caches go below it (None: under HOME)

    def environ(self, extra: Mapping[str, str] | None = None, *,
                tool_upgrade: bool = False) -> dict[str, str]:
        """The environment of a pip/uv run (see the module's doc).

        ``tool_upgrade``: the run provisions the builder environment (the role's
        tool-upgrade step), the only run ``pip_noconf`` applies to; builds and
        installs read pip's configuration files (a mirror set there)."""
        env = runner.inherited_environ()
        env.update(BASE_ENV)
        if not SYSTEM_CERTS_ENV.keys() & (self.env or {}).keys():
            env.update(SYSTEM_CERTS_ENV)
        if self.cache_dir:
            env["PIP_CACHE_DIR"] = os.path.join(self.cache_dir, "pip")
            env["UV_CACHE_DIR"] = os.path.join(self.cache_dir, "uv")
        if self.ca_bundle:
            # uv reads SSL_CERT_FILE, not REQUESTS_CA_BUNDLE or PIP_CERT; pip's
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override its --cert.
            for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT"):
                env[var] = self.ca_bundle
        env.update(extra or {})
        env.update(self.env or {})
        if tool_upgrade and self.pip_noconf:  # wins over an environment that names a config file
            env["PIP_CONFIG_FILE"] = os.devnull
        return env

    def cert_args(self, tool: str | None = None) -> list[str]:
        """pip's ``--cert``: on pip's command line, since a ``cert`` in pip's config
        file takes precedence over the PIP_CERT variable."""
        return ["--cert", self.ca_bundle] if self.ca_bundle and (tool or self.tool) == "pip" else []

    def uv(self) -> str:
        """The uv binary (see :func:`find_uv`); ToolError if there is none."""
        return find_uv(self.uv_bin)

    def run(self, cmd: Sequence[object], error: type[Exception], what: str, log_path: str | None = None,
            cwd: str | None = None, extra_env: Mapping[str, str] | None = None, *,
            tool_upgrade: bool = False) -> str:
        """Run ``cmd`` with this tool's environment and timeout (:func:`runner.run`); its
        output. ``tool_upgrade``: see :meth:`environ`."""
        command = runner.Command(cmd, env=self.environ(extra_env, tool_upgrade=tool_upgrade),
                                 cwd=cwd or self.workdir,
                                 timeout=self.timeout, timeout_option=self.timeout_option)
        return runner.run(command, error, what, log_path=log_path)

    def create_venv(self, interpreter: Interpreter, directory: str, error: type[Exception],
                    log_path: str | None = None, clear: bool = False) -> str:
        """Create a venv at ``directory`` for ``interpreter`` with this tool; return its ``bin/python``."""
        what = f"venv {directory}: creating it"
        if self.tool == "uv":
            cmd = [self.uv(), "venv", "--python", interpreter.executable, directory]
        else:
            cmd = [interpreter.executable, "-I", "-m", "venv", directory]
        if clear:
            cmd.insert(-1, "--clear")
        self.run(cmd, error, what, log_path=log_path)
        return os.path.join(directory, "bin", "python")

    def install_cmd(self, python: str) -> list[str]:
        """The start of an install command into the venv of ``python``."""
        if self.tool == "uv":
            return [self.uv(), "pip", "install", "--python", python]
        return [python, *PIP, "install", *self.cert_args()]


def find_uv(uv_bin: str | None = None) -> str:
    """Locate the uv binary: ``uv_bin``, then PATH, then the ``uv`` Python package."""
    if uv_bin:
        if os.path.isfile(uv_bin) and os.access(uv_bin, os.X_OK):
            return uv_bin
        raise ToolError(f"uv_bin {uv_bin!r}: no executable there")
    found = shutil.which("uv", path=runner.trusted_path(os.environ.get("PATH")))
    if found:
        return found
    try:
        # Imported when needed only: the uv package is optional (the [uv] extra).
        import uv  # noqa: PLC0415

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    raise ToolError(
        "install_tool 'uv': uv was not found on PATH nor as the 'uv' Python package "
        "beside Salt; install it (salt-pip install uv, or "
        "pip install 'saltext-venvbuild[uv]') or set install_tool: pip"
    )
