"""Targets and remote repos: choosing a builder, fetching its manifests.

A builder serves the root of its repo as static files (any web server; nginx
``autoindex`` in ``states/venvbuild/repo.sls``), so URLs mirror the layout::

    <repo url>[/<release>]/<platform>/manifests/<venv>-<spec id>.txt
    <repo url>[/<release>]/<platform>/wheels/     (a directory listing: --find-links)
"""

import hashlib
import time

import requests

from .errors import RepoError
from .manifest import Manifest
from .manifest import manifest_filename
from .repo import location


def _base(repo_url):
    return repo_url.rstrip("/")


def manifest_url(repo_url, platform, venv_id, spec_id, release=None):
    return (f"{_base(repo_url)}/{location(platform, release)}/manifests/"
            f"{manifest_filename(venv_id, spec_id)}")


def wheels_url(repo_url, platform, release=None):
    return f"{_base(repo_url)}/{location(platform, release)}/wheels/"


def choose_builder(target_id, builders, platform):
    """Pick one builder for ``target_id`` among ``builders`` serving ``platform``.

    ``builders`` maps minion ids to their ``venvbuild.repo_info`` mine data.
    Rendezvous hashing: every target ranks builders by hash(target, builder) and
    takes the first, so the choice is stable, load spreads evenly, and adding a
    builder moves only the targets that now prefer it. Returns ``(id, info)`` or
    None when no builder serves the platform with a URL.
    """
    eligible = {
        builder_id: info
        for builder_id, info in (builders or {}).items()
        if isinstance(info, dict) and info.get("url") and platform in (info.get("platforms") or [])
    }
    if not eligible:
        return None

    def rank(builder_id):
        return hashlib.sha256(f"{target_id}\0{builder_id}".encode()).hexdigest()

    chosen = max(sorted(eligible), key=rank)
    return chosen, eligible[chosen]


def fetch_manifest(url, ca_bundle=None, timeout=30, session=None):
    """The manifest at ``url``; None if the repo answers 404 (not built yet).

    Any other failure (refused, timeout, TLS, 5xx, a malformed manifest) is a
    RepoError naming the URL: a target never installs from what it could not
    read completely.
    """
    http = session or requests
    verify = ca_bundle if ca_bundle else True
    try:
        resp = http.get(url, timeout=timeout, verify=verify)
    except requests.exceptions.SSLError as exc:
        raise RepoError(
            f"manifest {url}: TLS verification failed ({exc}); set ca_bundle to the CA "
            "that signed the repo's certificate"
        ) from None
    except requests.exceptions.RequestException as exc:
        raise RepoError(f"manifest {url}: repo unreachable: {exc}") from None
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise RepoError(f"manifest {url}: HTTP {resp.status_code} from the repo")
    resp.encoding = "utf-8"
    return Manifest.parse(resp.text, source=url)


def wait_for_manifest(url, wait_timeout, interval=5.0, ca_bundle=None, hint="", clock=time):
    """Fetch the manifest at ``url``, polling until it exists or ``wait_timeout`` s pass."""
    deadline = clock.monotonic() + max(0.0, float(wait_timeout))
    with requests.Session() as session:
        while True:
            manifest = fetch_manifest(url, ca_bundle=ca_bundle, session=session)
            if manifest is not None:
                return manifest
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise RepoError(
                    f"manifest {url} not found after {float(wait_timeout):.0f} s; "
                    f"is the builder's build done?{' ' + hint if hint else ''}"
                )
            clock.sleep(min(interval, remaining))
