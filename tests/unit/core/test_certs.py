"""core/certs.py: the system's CA store, as only root can change it."""

import os
import ssl

import pytest

from saltext_venvbuild.core import certs


@pytest.fixture
def no_system_store(monkeypatch):
    """A system whose OpenSSL defaults and usual places hold nothing."""
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: ssl.DefaultVerifyPaths(
        None, None, "SSL_CERT_FILE", "/nonexistent/cert.pem", "SSL_CERT_DIR", "/nonexistent/certs"))
    monkeypatch.setattr(certs, "FILE_CANDIDATES", ("/nonexistent/ca-bundle.crt",))
    monkeypatch.setattr(certs, "DIR_CANDIDATES", ("/nonexistent/certs",))


def bundle(directory, mode=0o644):
    directory.mkdir(mode=0o755, exist_ok=True)
    path = directory / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    path.chmod(mode)
    return str(path)


def test_a_root_only_ssl_cert_file_comes_first(tmp_path):
    path = bundle(tmp_path / "certs")
    assert certs.system_ca({"SSL_CERT_FILE": path}) == path


def test_an_ssl_cert_file_others_can_change_is_passed_over(tmp_path, no_system_store):
    writable = bundle(tmp_path / "certs", mode=0o666)
    assert certs.system_ca({"SSL_CERT_FILE": writable}) is None
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    in_open_dir = bundle(open_dir / "certs")  # anyone may replace the directory it is in
    assert certs.system_ca({"SSL_CERT_FILE": in_open_dir}) is None
    assert certs.system_ca({"SSL_CERT_FILE": "relative/ca.pem"}) is None


def test_openssl_defaults_then_the_distributions_bundles(tmp_path, monkeypatch, no_system_store):
    distro = bundle(tmp_path / "distro")
    monkeypatch.setattr(certs, "FILE_CANDIDATES", ("/nonexistent/ca.crt", distro))
    assert certs.system_ca({}) == distro
    default = bundle(tmp_path / "openssl")
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: ssl.DefaultVerifyPaths(
        None, None, "SSL_CERT_FILE", default, "SSL_CERT_DIR", "/nonexistent/certs"))
    assert certs.system_ca({}) == default


def test_a_directory_of_hashed_certificates_when_there_is_no_file(tmp_path, monkeypatch,
                                                                 no_system_store):
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    hashed = tmp_path / "hashed"
    hashed.mkdir(mode=0o755)
    (hashed / "5ad8a5d6.0").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(certs, "DIR_CANDIDATES", (str(empty), str(hashed)))
    assert certs.system_ca({}) == str(hashed)
    other = tmp_path / "other"
    other.mkdir(mode=0o755)
    (other / "0123abcd.1").write_text("-----BEGIN CERTIFICATE-----\n")
    assert certs.system_ca({"SSL_CERT_DIR": f"relative:{other}"}) == str(other)
    other.chmod(0o777)
    assert certs.system_ca({"SSL_CERT_DIR": str(other)}) == str(hashed)


def test_this_machine_has_a_system_store():
    """Debian and RHEL alike: the store is found from a clean environment."""
    found = certs.system_ca({})
    if found is None and not any(os.path.exists(p) for p in certs.FILE_CANDIDATES):
        pytest.skip("no CA store on this machine (ca-certificates is not installed)")
    assert found and os.path.exists(found)
