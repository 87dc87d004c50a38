"""The system's CA trust store: what verifies HTTPS when ``ca_bundle`` is not set.

pip (24.2 and later, through truststore) and uv (``--system-certs``, which
venvbuild turns on) verify against the operating system's CA store, so a repo
or an index behind an internal CA that is in that store works without
``ca_bundle``; venvbuild's own fetches (manifests, wheels, constraints files,
with ``requests``) do the same instead of certifi's bundle.

The store is what OpenSSL itself would use: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``
from the environment, else the paths OpenSSL was built with
(:func:`ssl.get_default_verify_paths`), else the usual places of the
distributions' bundles (Python builds such as Salt's onedir may carry
defaults of their own that do not exist). Unlike OpenSSL, only files and
directories only root can change are taken: the environment is the caller's,
and a bundle another user can write would let them choose what root trusts
(the same rule as for the tools, :func:`runner.inherited_environ`).
"""

from __future__ import annotations

import os
import re
import ssl
from typing import Mapping

from . import fsutil

# The distributions' bundles (one file each) and hashed certificate directories.
FILE_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # RHEL, CentOS, Fedora
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7 and later
    "/etc/ssl/ca-bundle.pem",  # openSUSE, SLES
    "/etc/pki/tls/cert.pem",  # RHEL, Fedora
    "/etc/ssl/cert.pem",  # Alpine, RHEL 9 and later
)
DIR_CANDIDATES = ("/etc/ssl/certs", "/etc/pki/tls/certs")
_HASHED = re.compile(r"^[0-9a-fA-F]{8}\.[0-9]+$")  # c_rehash's names: <subject hash>.<n>


def trusted_cert_file(environ: Mapping[str, str]) -> str | None:
    """``SSL_CERT_FILE`` of ``environ`` if it names a file only root can change, else None."""
    path = environ.get("SSL_CERT_FILE") or ""
    return path if os.path.isabs(path) and fsutil.is_trusted_file(path) else None


def trusted_cert_dirs(environ: Mapping[str, str]) -> list[str]:
    """The entries of ``SSL_CERT_DIR`` of ``environ`` that are directories only root can change."""
    return [d for d in (environ.get("SSL_CERT_DIR") or "").split(os.pathsep)
            if d and os.path.isabs(d) and fsutil.is_trusted_dir(d)]


def _has_certs(directory: str) -> bool:
    try:
        return any(_HASHED.match(name) for name in os.listdir(directory))
    except OSError:
        return False


def system_ca(environ: Mapping[str, str] | None = None) -> str | None:
    """The system's CA store for ``requests``' ``verify``: a bundle file, else a
    directory of hashed certificates; None if the system has none (or none only
    root can change).

    In order: a trusted ``SSL_CERT_FILE`` of ``environ`` (default ``os.environ``),
    OpenSSL's default file, the distributions' bundles (:data:`FILE_CANDIDATES`);
    then a trusted ``SSL_CERT_DIR``, OpenSSL's default directory and
    :data:`DIR_CANDIDATES`, if it holds certificates.
    """
    environ = os.environ if environ is None else environ
    defaults = ssl.get_default_verify_paths()
    found = trusted_cert_file(environ)
    if found:
        return found
    for path in (defaults.openssl_cafile, *FILE_CANDIDATES):
        if path and os.path.isabs(path) and fsutil.is_trusted_file(path):
            return path
    for directory in (*trusted_cert_dirs(environ), defaults.openssl_capath, *DIR_CANDIDATES):
        if (directory and os.path.isabs(directory) and fsutil.is_trusted_dir(directory)
                and _has_certs(directory)):
            return directory
    return None
