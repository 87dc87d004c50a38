"""pip and uv: how they are found, configured and asked to create venvs.

:class:`ToolSettings` carries everything that decides how a tool runs (which
tool, where uv is, the CA bundle, pip's config, extra environment, the
timeout), so the builder and the installer configure tools the same way.
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

# Environment every tool run gets: quiet, no self-update checks, and uv never
# downloads an interpreter behind the operator's back.
BASE_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
}


@dataclasses.dataclass(frozen=True)
class ToolSettings:
    """How pip or uv run: the tool, where uv is, the CA bundle, pip's config, extra
    environment and the timeout; the builder and the installer share them."""

    tool: str = "pip"  # "pip" or "uv"
    uv_bin: str | None = None
    ca_bundle: str | None = None
    pip_noconf: bool = False
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # build_env or install_env
    timeout: float | None = None  # seconds; None: unbounded
    timeout_option: str = ""  # the option that sets timeout, for messages

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a pip/uv run."""
        env = dict(os.environ)
        env.update(BASE_ENV)
        if self.ca_bundle:
            # uv reads SSL_CERT_FILE, not REQUESTS_CA_BUNDLE or PIP_CERT; pip's
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override its --cert.
            for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT"):
                env[var] = self.ca_bundle
        env.update(extra or {})
        env.update(self.env or {})
        if self.pip_noconf:  # wins over an environment that names a config file
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
            cwd: str | None = None, extra_env: Mapping[str, str] | None = None) -> str:
        """Run ``cmd`` with this tool's environment and timeout (:func:`runner.run`); its output."""
        command = runner.Command(cmd, env=self.environ(extra_env), cwd=cwd, timeout=self.timeout,
                                 timeout_option=self.timeout_option)
        return runner.run(command, error, what, log_path=log_path)

    def create_venv(self, interpreter: Interpreter, directory: str, error: type[Exception],
                    log_path: str | None = None, clear: bool = False) -> str:
        """Create a venv at ``directory`` for ``interpreter`` with this tool; return its ``bin/python``."""
        what = f"venv {directory}: creating it"
        if self.tool == "uv":
            cmd = [self.uv(), "venv", "--python", interpreter.executable, directory]
        else:
            cmd = [interpreter.executable, "-m", "venv", directory]
        if clear:
            cmd.insert(-1, "--clear")
        self.run(cmd, error, what, log_path=log_path)
        return os.path.join(directory, "bin", "python")

    def install_cmd(self, python: str) -> list[str]:
        """The start of an install command into the venv of ``python``."""
        if self.tool == "uv":
            return [self.uv(), "pip", "install", "--python", python]
        return [python, "-m", "pip", "install", *self.cert_args()]


def find_uv(uv_bin: str | None = None) -> str:
    """Locate the uv binary: ``uv_bin``, then PATH, then the ``uv`` Python package."""
    if uv_bin:
        if os.path.isfile(uv_bin) and os.access(uv_bin, os.X_OK):
            return uv_bin
        raise ToolError(f"uv_bin {uv_bin!r}: no executable there")
    found = shutil.which("uv")
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
