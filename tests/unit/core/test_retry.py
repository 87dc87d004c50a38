"""core/retry.py: what is retried (real pip, uv, git, apt and dnf texts), and how.

The pip texts are pip 26.3's (and pip 23.2's where they differ), uv's are uv
0.13.9's, git's 2.39's, apt's Debian 12's: each ran against a local server that
answered 503, dropped the connection or stalled, a closed port, or a name
that does not resolve (tests/servers.py), and a package that fails to build.
"""

import logging

import pytest

from saltext_venvbuild.core import retry
from saltext_venvbuild.core.errors import BuildError

# -- pip ------------------------------------------------------------------------------

PIP_503 = """\
Looking in links: http://127.0.0.1:38179/
Collecting vbdep==1.0
ERROR: Exception:
pip._vendor.urllib3.exceptions.ResponseError: too many 503 error responses

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/tmp/env/lib/python3.11/site-packages/pip/_vendor/requests/adapters.py", line 696, in send
    resp = conn.urlopen(
pip._vendor.urllib3.exceptions.MaxRetryError: HTTPConnectionPool(host='127.0.0.1', port=38179): Max retries exceeded with url: /vbdep-1.0.tar.gz (Caused by ResponseError('too many 503 error responses'))
pip._vendor.requests.exceptions.RetryError: HTTPConnectionPool(host='127.0.0.1', port=38179): Max retries exceeded with url: /vbdep-1.0.tar.gz (Caused by ResponseError('too many 503 error responses'))
"""

PIP_RESET = """\
Looking in links: http://127.0.0.1:44651/
Collecting vbdep==1.0
error: connection-failed

× Failed to connect to 127.0.0.1 while fetching http://127.0.0.1:44651/vbdep-1.0.tar.gz
╰─> the connection was closed without a reply from the server.

hint: Are you connected to the Internet? If so, check whether your system can connect to 127.0.0.1 before trying again. There may be a firewall or proxy that's preventing the connection.
"""

PIP_TIMEOUT = """\
Looking in links: http://127.0.0.1:36389/
Collecting vbdep==1.0
error: connection-timeout

× Unable to fetch http://127.0.0.1:36389/vbdep-1.0.tar.gz
╰─> 127.0.0.1 didn't respond within 1.0 seconds
"""

PIP23_RESET = """\
pip._vendor.requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=33491): Max retries exceeded with url: /vbdep-1.0.tar.gz (Caused by ProtocolError('Connection aborted.', RemoteDisconnected('Remote end closed connection without response')))
"""

PIP23_TIMEOUT = """\
pip._vendor.requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=41065): Max retries exceeded with url: /vbdep-1.0.tar.gz (Caused by ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=41065): Read timed out. (read timeout=1.0)"))
"""

PIP_INDEX_REFUSED = """\
Looking in indexes: http://127.0.0.1:9/simple
WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError("HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection refused")': /simple/vbdep/
ERROR: Could not find a version that satisfies the requirement vbdep==1.0 (from versions: none)
ERROR: No matching distribution found for vbdep==1.0
"""

PIP_INDEX_DNS = """\
Looking in indexes: https://venvbuild-test.invalid/simple
WARNING: Retrying (Retry(total=1, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NameResolutionError("HTTPSConnection(host='venvbuild-test.invalid', port=443): Failed to resolve 'venvbuild-test.invalid' ([Errno -2] Name or service not known)")': /simple/vbdep/
ERROR: Could not find a version that satisfies the requirement vbdep==1.0 (from versions: none)
ERROR: No matching distribution found for vbdep==1.0
"""

PIP_GIT_500 = """\
Collecting vbdep @ git+http://127.0.0.1:39567/repo.git
  Cloning http://127.0.0.1:39567/repo.git to /tmp/pip-wheel-rld0rh9d/vbdep_8c8d
  Running command git clone --filter=blob:none --quiet http://127.0.0.1:39567/repo.git /tmp/pip-wheel-rld0rh9d/vbdep_8c8d
  fatal: unable to access 'http://127.0.0.1:39567/repo.git/': The requested URL returned error: 500
  error: subprocess-exited-with-error

  × git clone --filter=blob:none --quiet http://127.0.0.1:39567/repo.git /tmp/pip-wheel-rld0rh9d/vbdep_8c8d did not run successfully.
  │ exit code: 128
  ╰─> No available output.

  note: This error originates from a subprocess, and is likely not a problem with pip.
ERROR: Failed to build 'vbdep' when git clone --filter=blob:none --quiet http://127.0.0.1:39567/repo.git /tmp/pip-wheel-rld0rh9d/vbdep_8c8d
"""

PIP_GIT_REFUSED = """\
  fatal: unable to access 'http://127.0.0.1:9/repo.git/': Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server
  error: subprocess-exited-with-error
"""

PIP_GIT_DNS = """\
  fatal: unable to access 'https://venvbuild-test.invalid/repo.git/': Could not resolve host: venvbuild-test.invalid
  error: subprocess-exited-with-error
"""

# -- uv -------------------------------------------------------------------------------

UV_503 = """\
Using Python 3.11.7 environment at: uvenv
error: Failed to fetch: http://127.0.0.1:37913/vbdep-1.0.tar.gz
  cause: HTTP status server error (503 venvbuild test: a server error) for url (http://127.0.0.1:37913/vbdep-1.0.tar.gz)
"""

UV_RESET = """\
error: Failed to fetch: http://127.0.0.1:35667/vbdep-1.0.tar.gz
  cause: error sending request for url (http://127.0.0.1:35667/vbdep-1.0.tar.gz)
  cause: client error (SendRequest)
  cause: connection closed before message completed
"""

UV_REFUSED = """\
error: Failed to fetch: http://127.0.0.1:9/simple/vbdep/
  cause: error sending request for url (http://127.0.0.1:9/simple/vbdep/)
  cause: client error (Connect)
  cause: tcp connect error
  cause: Connection refused (os error 111)
"""

UV_DNS = """\
error: Failed to fetch: http://venvbuild-test.invalid/simple/vbdep/
  cause: error sending request for url (http://venvbuild-test.invalid/simple/vbdep/)
  cause: client error (Connect)
  cause: dns error
  cause: error resolving DNS
  cause: failed to lookup address information: Name or service not known
"""

UV_TIMEOUT = """\
error: Failed to read `--find-links` URL: http://127.0.0.1:45353/
  cause: Failed to fetch: http://127.0.0.1:45353/
  cause: error sending request for url (http://127.0.0.1:45353/)
  cause: operation timed out
"""

# -- what is never retried ------------------------------------------------------------

PIP_VBBROKEN = """\
Processing ./sdists/vbbroken-1.0.tar.gz
  Preparing metadata (pyproject.toml): started
  Preparing metadata (pyproject.toml): finished with status 'error'
  error: subprocess-exited-with-error

  × Preparing metadata (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [1 lines of output]
      vbbroken: this package fails to build on purpose (venvbuild's failure tests)
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: metadata-generation-failed
"""

PIP_COMPILE_ERROR = """\
Building wheels for collected packages: badc
  Building wheel for badc (pyproject.toml): started
  Building wheel for badc (pyproject.toml): finished with status 'error'
Failed to build badc
  error: subprocess-exited-with-error

  × Building wheel for badc (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [9 lines of output]
      running build_ext
      building 'badc' extension
      gcc -Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -fPIC -I/tmp/env/include -c badc.c -o build/temp.linux-x86_64-cpython-311/badc.o
      badc.c:1:13: error: expected declaration specifiers or '...' before '{' token
          1 | int broken( { return 0 }
            |             ^
      error: Command '['gcc', '-Wsign-compare', '-c', 'badc.c']' returned non-zero exit status 1.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for badc
ERROR: Failed to build one or more wheels
"""

PIP_NOT_FOUND = """\
Looking in links: /tmp/h2-exp/sdists
ERROR: Could not find a version that satisfies the requirement nosuchpackage (from versions: none)
ERROR: No matching distribution found for nosuchpackage
"""

# A compile error after pip got past a flaky index: the compile error decides.
PIP_FLAKY_INDEX_THEN_COMPILE_ERROR = PIP_INDEX_REFUSED.splitlines()[1] + "\n" + PIP_COMPILE_ERROR

# -- distro packages (Salt's pkg.install errors carry the package manager's) ----------

APT_REFUSED = """\
venv /opt/venvs/app: install_pkgs: distro packages sl could not be installed: Problem encountered installing package(s). Additional info follows:

errors:
    - E: Failed to fetch http://deb.debian.org/debian/pool/main/s/sl/sl_5.02-1%2bb1_amd64.deb  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
"""

APT_LOCK = """\
errors:
    - E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4321 (apt-get)
      E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?
"""

APT_NOT_FOUND = """\
venv /opt/venvs/app: install_pkgs: distro packages nosuchpackage-venvbuild could not be installed: Problem encountered installing package(s). Additional info follows:

errors:
    - E: Unable to locate package nosuchpackage-venvbuild
"""

DNF_MIRROR = """\
Error: Failed to download metadata for repo 'baseos': Cannot prepare internal mirrorlist: Curl error (6): Couldn't resolve host name for https://mirrors.rockylinux.org/mirrorlist?arch=x86_64&repo=BaseOS-9 [Could not resolve host: mirrors.rockylinux.org]
"""

DNF_NOT_FOUND = "Error: Unable to find a match: nosuchpackage-venvbuild\n"


@pytest.mark.parametrize("text, line", [
    (PIP_503, "too many 503 error responses"),
    (PIP_RESET, "error: connection-failed"),
    (PIP_TIMEOUT, "error: connection-timeout"),
    (PIP23_RESET, "Connection aborted."),
    (PIP23_TIMEOUT, "Read timed out."),
    (PIP_INDEX_REFUSED, "after connection broken by"),
    (PIP_INDEX_DNS, "Name or service not known"),
    (PIP_GIT_500, "The requested URL returned error: 500"),
    (PIP_GIT_REFUSED, "Failed to connect to 127.0.0.1 port 9"),
    (PIP_GIT_DNS, "Could not resolve host: venvbuild-test.invalid"),
    (UV_503, "HTTP status server error (503"),
    (UV_RESET, "error sending request for url"),
    (UV_REFUSED, "error sending request for url"),
    (UV_DNS, "error sending request for url"),
    (UV_TIMEOUT, "error sending request for url"),
])
def test_network_failures_of_pip_uv_and_git_are_passing(text, line):
    cause = retry.transient_cause(text)
    assert cause is not None and line in cause
    assert "\n" not in cause and len(cause) <= 300


# A certificate that does not verify (the CA is in no trust store venvbuild uses).
UV_UNKNOWN_CA = """\
error: Request failed after 3 retries
  Caused by: Failed to fetch: `https://127.0.0.1:44927/simple/pbr/`
  Caused by: error sending request for url (https://127.0.0.1:44927/simple/pbr/)
  Caused by: client error (Connect)
  Caused by: invalid peer certificate: UnknownIssuer
"""
PIP_UNKNOWN_CA = """\
WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after \
connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] \
certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'))': /simple/vbdep/
ERROR: Could not find a version that satisfies the requirement vbdep (from versions: none)
"""


@pytest.mark.parametrize("text", [PIP_VBBROKEN, PIP_COMPILE_ERROR, PIP_NOT_FOUND,
                                  PIP_FLAKY_INDEX_THEN_COMPILE_ERROR, UV_UNKNOWN_CA,
                                  PIP_UNKNOWN_CA, ""])
def test_build_and_compile_errors_and_missing_packages_are_not(text):
    assert retry.transient_cause(text) is None


@pytest.mark.parametrize("text", [APT_REFUSED, APT_LOCK, DNF_MIRROR])
def test_package_manager_locks_and_unreachable_mirrors_are_passing(text):
    assert retry.transient_cause(text, retry.PACKAGES) is not None


@pytest.mark.parametrize("text", [APT_NOT_FOUND, DNF_NOT_FOUND])
def test_a_package_that_does_not_exist_is_not(text):
    assert retry.transient_cause(text, retry.PACKAGES) is None


def test_the_cause_hides_credentials():
    text = ("WARNING: Retrying (Retry(total=0)) after connection broken by 'NewConnectionError()': "
            "https://user:s3cret@mirror.example/simple/vbdep/\n")
    cause = retry.transient_cause(text)
    assert cause is not None and "s3cret" not in cause


def test_the_cause_of_a_failed_run_is_read_from_its_whole_output():
    # The message carries the output's tail only; the marker may be above it.
    error = BuildError("venv app: building wheels: python exited 1; last output:\nERROR: ...")
    error.output = PIP_INDEX_REFUSED + "\n" * 40 + "ERROR: ...\n"
    assert retry.output_cause(error) is not None
    assert retry.output_cause(BuildError(PIP_INDEX_REFUSED)) is not None  # no output: the message
    assert retry.output_cause(BuildError("venv app: python exited 1")) is None


def test_policy_waits_double_from_the_delay_up_to_a_bound():
    policy = retry.Policy(retries=12, delay=2)
    assert [policy.wait(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    assert policy.wait(12) == retry.MAX_WAIT
    assert retry.Policy(retries=3, delay=0).wait(3) == 0


class Flaky:
    """Fails ``failures`` times with ``error``, then returns "done"."""

    def __init__(self, failures, error):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def _passing_error():
    error = BuildError("venv app: building wheels for spec 0123: python exited 2; last output: ...")
    error.output = PIP_503
    return error


def test_a_passing_failure_is_retried_with_backoff_and_each_attempt_logged(caplog):
    caplog.set_level(logging.WARNING, logger="saltext_venvbuild.core.retry")
    waits = []
    func = Flaky(2, _passing_error())
    assert retry.call(func, retry.Policy(5, 0.5), retry.output_cause, "venv app: building wheels",
                      (BuildError,), sleep=waits.append) == "done"
    assert func.calls == 3
    assert waits == [0.5, 1.0]
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("venvbuild: venv app: building wheels: attempt 1 of 6 failed (")
    assert "too many 503 error responses" in messages[0]
    assert messages[1].startswith("venvbuild: venv app: building wheels: attempt 2 of 6 failed")
    assert messages[1].endswith("retrying in 1.0 s")


def test_a_compile_error_fails_at_once():
    error = BuildError("venv app: building wheels: python exited 1")
    error.output = PIP_COMPILE_ERROR
    func = Flaky(1, error)
    with pytest.raises(BuildError) as info:
        retry.call(func, retry.Policy(5, 0), retry.output_cause, "build", (BuildError,),
                   sleep=lambda s: pytest.fail("slept"))
    assert info.value is error and func.calls == 1


def test_the_last_failure_says_how_often_it_was_tried():
    func = Flaky(10, _passing_error())
    waits = []
    with pytest.raises(BuildError) as info:
        retry.call(func, retry.Policy(2, 1), retry.output_cause, "build", (BuildError,),
                   sleep=waits.append)
    assert func.calls == 3 and waits == [1, 2]
    message = str(info.value)
    assert message.startswith("venv app: building wheels for spec 0123: python exited 2")
    assert "failed 3 times with a passing cause" in message and "raise retries" in message


def test_no_retries_means_one_attempt_and_the_error_as_it_is():
    error = _passing_error()
    func = Flaky(1, error)
    with pytest.raises(BuildError) as info:
        retry.call(func, retry.Policy(0, 1), retry.output_cause, "build", (BuildError,),
                   sleep=lambda s: pytest.fail("slept"))
    assert info.value is error and func.calls == 1


def test_errors_of_other_types_pass_through():
    func = Flaky(1, OSError("disk full"))
    with pytest.raises(OSError, match="disk full"):
        retry.call(func, retry.Policy(5, 0), retry.output_cause, "build", (BuildError,))
    assert func.calls == 1
