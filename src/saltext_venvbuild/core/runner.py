"""Running pip, uv and Python: argument lists, never a shell; logs kept for errors."""

import os
import shutil
import subprocess

from .errors import ToolError

# Environment every tool run gets: quiet, no self-update checks, and uv never
# downloads an interpreter behind the operator's back.
BASE_ENV = {
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    "UV_NO_PROGRESS": "1",
}


def tool_env(extra=None, ca_bundle=None):
    """The environment of a pip/uv run; ``ca_bundle`` for uv (pip gets ``--cert``)."""
    env = dict(os.environ)
    env.update(BASE_ENV)
    if ca_bundle:
        # uv reads SSL_CERT_FILE, not REQUESTS_CA_BUNDLE or PIP_CERT; pip's
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override its --cert.
        for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT"):
            env[var] = ca_bundle
    env.update(extra or {})
    return env


def cert_args(tool, ca_bundle):
    """pip's ``--cert``: on pip's command line, since a ``cert`` in pip's config file
    takes precedence over the PIP_CERT variable."""
    return ["--cert", ca_bundle] if ca_bundle and tool == "pip" else []


def tail(text, lines=25, chars=3000):
    kept = "\n".join(text.rstrip().splitlines()[-lines:])
    return kept[-chars:]


def run(cmd, error, what, env=None, cwd=None, log_path=None, timeout=None):
    """Run ``cmd``; on failure raise ``error`` with ``what`` and the output's tail.

    The whole output goes to ``log_path`` (appended) when given, so the comment
    of a failed state can stay short and point there.
    """
    try:
        proc = subprocess.run(
            [str(arg) for arg in cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise error(f"{what}: {cmd[0]} not found") from None
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what}: still running after {timeout} s, stopped") from exc
    if log_path:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(str(arg) for arg in cmd)}\n{proc.stdout}\n")
    if proc.returncode != 0:
        where = f" (full log: {log_path})" if log_path else ""
        raise error(
            f"{what}: {os.path.basename(str(cmd[0]))} exited {proc.returncode}{where}; "
            f"last output:\n{tail(proc.stdout)}"
        )
    return proc.stdout


def find_uv(uv_bin=None):
    """Locate the uv binary: ``uv_bin``, then PATH, then the ``uv`` Python package."""
    if uv_bin:
        if os.path.isfile(uv_bin) and os.access(uv_bin, os.X_OK):
            return uv_bin
        raise ToolError(f"uv_bin {uv_bin!r}: no executable there")
    found = shutil.which("uv")
    if found:
        return found
    try:
        import uv  # pylint: disable=import-outside-toplevel

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    raise ToolError(
        "install_tool 'uv': uv was not found on PATH nor as the 'uv' Python package "
        "beside Salt; install it (salt-pip install uv, or "
        "pip install 'saltext-venvbuild[uv]') or set install_tool: pip"
    )
