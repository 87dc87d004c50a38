"""Unit tests of saltext_venvbuild.core.constraints: parse, load (path and URL), write.

``UPPER_CONSTRAINTS_2024_1`` at the end of this file is OpenStack's real
``upper-constraints.txt`` of the 2024.1 (Caracal) release, 619 lines, verbatim
(openstack/requirements, branch unmaintained/2024.1).
"""

import functools
import hashlib
import http.server
import os
import stat
import threading

import pytest
import requests

from saltext_venvbuild.core import constraints
from saltext_venvbuild.core.errors import RepoError
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import TrustError
from saltext_venvbuild.core.errors import UnreachableError
from saltext_venvbuild.core.manifest import ConstraintFile
from saltext_venvbuild.core.remote import Http

# -- parse --------------------------------------------------------------------------


def test_parse_skips_comments_and_blank_lines():
    text = "# a comment\n\n   \nfoo===1.0\n  # indented comment\nBar_Baz===2.0\n"
    assert constraints.parse(text, "/x") == ["foo===1.0", "bar-baz===2.0"]


def test_parse_strips_inline_comments():
    text = "foo===1.0 # pinned for #1234\nbar===2.0\t# tab comment\nzed===3.0;python_version=='3.10'  # m\n"
    assert constraints.parse(text, "/x") == [
        "foo===1.0",
        "bar===2.0",
        'zed===3.0; python_version == "3.10"',
    ]


def test_parse_keeps_a_url_fragment():
    # "#" without a space before it is not a comment.
    text = "foo @ https://example.com/foo-1.0.tar.gz#sha256=" + "a" * 64 + "\n"
    assert constraints.parse(text, "/x") == ["foo @ https://example.com/foo-1.0.tar.gz#sha256=" + "a" * 64]


def test_parse_normalizes_requirements():
    text = "oslo.config===9.4.0\nPyMySQL<=1.1.0,>=1.0\nsqlalchemy[asyncio]==2.0.29\n"
    assert constraints.parse(text, "/x") == [
        "oslo-config===9.4.0",
        "pymysql<=1.1.0,>=1.0",
        "sqlalchemy[asyncio]==2.0.29",
    ]


def test_parse_keeps_order_and_duplicates_with_markers():
    text = ("tomli===2.0.1;python_version=='3.10'\n"
            "tomli===2.0.1;python_version=='3.8'\n"
            "numpy===1.26.4;python_version>='3.9'\n")
    assert constraints.parse(text, "/x") == [
        'tomli===2.0.1; python_version == "3.10"',
        'tomli===2.0.1; python_version == "3.8"',
        'numpy===1.26.4; python_version >= "3.9"',
    ]


def test_parse_accepts_crlf():
    assert constraints.parse("foo===1.0\r\nbar===2.0\r\n", "/x") == ["foo===1.0", "bar===2.0"]


def test_parse_of_an_empty_file():
    assert constraints.parse("", "/x") == []
    assert constraints.parse("# only comments\n\n", "/x") == []


@pytest.mark.parametrize(
    "line",
    [
        "-r /etc/shadow",
        "--requirement=/etc/shadow",
        "-c https://evil.example/more.txt",
        "--constraint /x",
        "--index-url https://evil.example/simple",
        "-i https://evil.example/simple",
        "--extra-index-url https://evil.example/simple",
        "--find-links /tmp",
        "-f /tmp",
        "-e git+https://evil.example/x.git#egg=x",
        "--trusted-host evil.example",
        "--pre",
        "   -r indented.txt",
        "\t--index-url=x",
    ],
)
def test_parse_refuses_pip_options(line):
    text = f"foo===1.0\n{line}\nbar===2.0\n"
    with pytest.raises(SpecError, match=r"^constraints file /srv/uc\.txt, line 2: .* is a pip option"):
        constraints.parse(text, "/srv/uc.txt")


@pytest.mark.parametrize("sep", ["\f", "\v", "\x1c", "\x85", "\u2028", "\u2029"])
def test_parse_splits_on_every_line_break_pip_knows(sep):
    # pip splits with str.splitlines(); an option smuggled after such a break
    # is a line of its own there, and refused here.
    with pytest.raises(SpecError, match="line 2: .* is a pip option"):
        constraints.parse(f"foo===1.0{sep}-r /etc/shadow\n", "/x")


@pytest.mark.parametrize("line", ["foo===1.0\x00", "foo\u202e===1.0", "foo===1.0\x1b[2J", "foo\u200b===1.0"])
def test_parse_refuses_control_characters(line):
    with pytest.raises(SpecError, match="line 1"):
        constraints.parse(line + "\n", "/x")


@pytest.mark.parametrize("line", ["foo bar", "foo==", "===1.0", "foo (>=1", "foo;;"])
def test_parse_refuses_what_is_not_a_requirement(line):
    with pytest.raises(SpecError, match=r"^constraints file /x, line 3:.*not a valid requirement"):
        constraints.parse(f"# header\nok===1\n{line}\n", "/x")


def test_parse_hides_credentials_of_the_source():
    with pytest.raises(SpecError) as info:
        constraints.parse("-r x\n", "https://user:s3cret@example.com/uc.txt")
    assert "s3cret" not in str(info.value)
    assert "https://****@example.com/uc.txt" in str(info.value)


def test_parse_of_openstack_upper_constraints():
    lines = constraints.parse(UPPER_CONSTRAINTS_2024_1, "uc")
    assert len(UPPER_CONSTRAINTS_2024_1.splitlines()) == 619
    assert len(lines) == 619
    assert len(set(lines)) == 619
    assert "oslo-config===9.4.0" in lines
    assert "pastedeploy===3.1.0" in lines
    assert "xstatic-angular-bootstrap===2.5.0.0" in lines
    assert 'async-timeout===4.0.3; python_version == "3.10"' in lines
    assert 'numpy===1.26.4; python_version >= "3.9"' in lines
    assert 'numpy===1.24.4; python_version == "3.8"' in lines
    assert all(line == line.strip() and "\n" not in line for line in lines)


# -- load ---------------------------------------------------------------------------


@pytest.fixture
def uc_file(tmp_path):
    path = tmp_path / "upper-constraints.txt"
    path.write_bytes(UPPER_CONSTRAINTS_2024_1.encode("utf-8"))
    return path


def test_load_a_local_openstack_file(uc_file):
    lines, record = constraints.load(str(uc_file))
    assert lines == constraints.parse(UPPER_CONSTRAINTS_2024_1, "uc")
    assert len(lines) == 619
    assert record == ConstraintFile(str(uc_file), hashlib.sha256(uc_file.read_bytes()).hexdigest())


def test_load_hash_follows_the_content(tmp_path, uc_file):
    _lines, one = constraints.load(str(uc_file))
    uc_file.write_text(UPPER_CONSTRAINTS_2024_1.replace("oslo.config===9.4.0", "oslo.config===9.5.0"))
    lines, two = constraints.load(str(uc_file))
    assert "oslo-config===9.5.0" in lines
    assert one.ref == two.ref
    assert one.sha256 != two.sha256


def test_load_a_missing_file(tmp_path):
    with pytest.raises(SpecError, match=r"constraints file .*/nothing\.txt: cannot read it: No such file"):
        constraints.load(str(tmp_path / "nothing.txt"))


def test_load_a_directory(tmp_path):
    with pytest.raises(SpecError, match="cannot read it"):
        constraints.load(str(tmp_path))


def test_load_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "uc.txt"
    path.write_bytes(b"foo===1.0\n\xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8 text"):
        constraints.load(str(path))


def test_load_a_file_with_options(tmp_path):
    path = tmp_path / "uc.txt"
    path.write_text("foo===1.0\n-r /etc/shadow\n")
    with pytest.raises(SpecError, match=r"line 2: '-r /etc/shadow' is a pip option"):
        constraints.load(str(path))


def test_load_a_huge_file(tmp_path):
    path = tmp_path / "uc.txt"
    with open(path, "wb") as handle:
        handle.write(b"# " + b"x" * constraints.MAX_BYTES + b"\n")
    with pytest.raises(SpecError, match="larger than"):
        constraints.load(str(path))


@pytest.mark.parametrize("url", ["https://releases.openstack.org/constraints/upper/2024.1",
                                 "http://user:tok@mirror.example/uc.txt"])
def test_load_a_url_without_an_http_client(url):
    with pytest.raises(RepoError, match="no HTTP client to fetch it with") as info:
        constraints.load(url)
    assert "tok@" not in str(info.value)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on the loopback serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_client():
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for the loopback
    with Http(session=session) as client:
        yield client


def test_load_a_url(http_root, http_client):
    root, base = http_root
    (root / "upper-constraints.txt").write_bytes(UPPER_CONSTRAINTS_2024_1.encode())
    lines, record = constraints.load(f"{base}/upper-constraints.txt", http=http_client)
    assert len(lines) == 619
    assert "oslo-config===9.4.0" in lines
    assert record == ConstraintFile(f"{base}/upper-constraints.txt",
                                    hashlib.sha256(UPPER_CONSTRAINTS_2024_1.encode()).hexdigest())


def test_load_a_url_hides_credentials_in_the_record(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_text("foo===1.0\n")
    url = base.replace("http://", "http://user:s3cret@") + "/uc.txt"
    lines, record = constraints.load(url, http=http_client)
    assert lines == ["foo===1.0"]
    assert "s3cret" not in record.ref
    assert record.ref == base.replace("http://", "http://****@") + "/uc.txt"


def test_load_a_missing_url(http_root, http_client):
    _root, base = http_root
    with pytest.raises(RepoError, match="HTTP 404"):
        constraints.load(f"{base}/nothing.txt", http=http_client)


def test_load_a_url_with_options(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_text("foo===1.0\n--extra-index-url https://evil.example/simple\n")
    with pytest.raises(SpecError, match="line 2: .* is a pip option"):
        constraints.load(f"{base}/uc.txt", http=http_client)


# -- a constraints file fetched by URL is input from the network ---------------------
#
# It chooses versions, never where code comes from: only version pins (with
# markers). Each refusal names the URL and the line, and comes from load(),
# which the builder calls before it creates an environment or runs pip.


@pytest.mark.parametrize(
    "line",
    [
        "foo @ http://evil.example/foo.tar.gz",
        "foo@http://evil.example/foo.tar.gz",
        "foo[extra] @ https://evil.example/foo-1.0-py3-none-any.whl ; python_version >= '3'",
        "git+https://evil.example/foo.git@main#egg=foo",
        "foo @ git+https://evil.example/foo.git@main",
        "git+ssh://git@evil.example/foo.git#egg=foo",
        "https://evil.example/foo-1.0.tar.gz",
        "./local/path",
        "../up/path",
        "/abs/path/foo-1.0.tar.gz",
        "~/foo",
        "local/path",
        "-e git+https://evil.example/x.git#egg=x",
        "-e ./local/path",
        "--index-url https://evil.example/simple",
        "--extra-index-url=https://evil.example/simple",
        "-f https://evil.example/links",
        "-r https://evil.example/more.txt",
        "-c https://evil.example/more.txt",
    ],
)
def test_a_fetched_file_may_hold_only_version_pins(http_root, http_client, line):
    root, base = http_root
    (root / "uc.txt").write_text(f"# upper constraints\nfoo===1.0\n{line}\nbar===2.0\n")
    url = f"{base}/uc.txt"
    with pytest.raises(SpecError) as info:
        constraints.load(url, http=http_client)
    message = str(info.value)
    assert message.startswith(f"constraints file {url}, line 3: ")
    assert "is a pip option" in message or "may hold only version pins" in message


@pytest.mark.parametrize("line", ['foo==1.0; python_version ~= "${UV_INDEX_PRIV_PASSWORD}"',
                                  "foo==${VERSION}", "foo==1.0; platform_release == '$HOME'"])
def test_a_fetched_line_with_a_dollar_is_refused(http_root, http_client, line):
    # pip expands ${NAME} from the build's environment (build_env holds secrets): in a
    # marker, pip's error would quote the value into the state's comment.
    root, base = http_root
    (root / "uc.txt").write_text(f"foo===1.0\n{line}\n")
    with pytest.raises(SpecError, match=r"line 2: holds '\$'") as info:
        constraints.load(f"{base}/uc.txt", http=http_client)
    assert "nothing was built" in str(info.value)


def test_a_query_in_a_constraints_url_is_recorded_and_shown_hidden(http_root, http_client):
    # GitLab's raw files take ?private_token=...: the manifest (served to anyone) and
    # every message show the URL with its query hidden; the spec id covers it whole.
    root, base = http_root
    (root / "uc.txt").write_text("foo===1.0\n")
    lines, record = constraints.load(f"{base}/uc.txt?private_token=glpat-secret", http=http_client)
    assert lines == ["foo===1.0"]
    assert record.ref == f"{base}/uc.txt?****"
    (root / "bad.txt").write_text("foo @ https://evil.example/foo.tar.gz\n")
    with pytest.raises(SpecError) as info:
        constraints.load(f"{base}/bad.txt?private_token=glpat-secret", http=http_client)
    assert "glpat-secret" not in str(info.value) and f"{base}/bad.txt?****" in str(info.value)
    with pytest.raises(RepoError) as info:
        constraints.load(f"{base}/missing.txt?private_token=glpat-secret", http=http_client)
    assert "glpat-secret" not in str(info.value)


@pytest.mark.parametrize("line", ["foo @ https://example.com/foo-1.0.tar.gz", "./local/path"])
def test_a_local_file_keeps_its_direct_references(tmp_path, line):
    # The builder's own file (an absolute path root chose): not network input.
    path = tmp_path / "uc.txt"
    path.write_text(f"{line}\n")
    if line.startswith("."):
        with pytest.raises(SpecError, match="must be absolute"):
            constraints.load(str(path))
    else:
        assert constraints.load(str(path))[0] == [line]


@pytest.mark.parametrize(
    "line",
    ["foo @ http://evil.example/foo.tar.gz", "git+https://evil.example/foo.git@main#egg=foo",
     "https://evil.example/foo-1.0.tar.gz", "/abs/path/foo-1.0.tar.gz",
     "file:///abs/path/foo-1.0.tar.gz", "./local/path", "-r /etc/shadow",
     "--index-url https://evil.example/simple"],
)
def test_a_file_url_is_read_as_a_fetched_file_pins_only(tmp_path, line):
    """-c file:///... (which the role's pip accepts) names a file by URL: version pins only,
    like an http(s) URL's content, not what a local path may hold."""
    path = tmp_path / "uc.txt"
    path.write_text(f"foo===1.0\n{line}\n")
    url = f"file://{path}"
    with pytest.raises(SpecError) as info:
        constraints.load(url)
    assert str(info.value).startswith(f"constraints file {url}, line 2: ")
    assert "is a pip option" in str(info.value) or "may hold only version pins" in str(info.value)


def test_load_a_file_url(tmp_path, uc_file):
    data = uc_file.read_bytes()
    copy = tmp_path / "my dir" / "uc.txt"
    copy.parent.mkdir()
    copy.write_bytes(data)
    url = "file://" + str(copy).replace(" ", "%20")
    lines, record = constraints.load(url)
    assert lines == constraints.load(str(uc_file))[0]
    assert record == ConstraintFile(url, hashlib.sha256(data).hexdigest())
    pinned, _ = constraints.load(f"{url}#sha256={hashlib.sha256(data).hexdigest()}")
    assert pinned == lines
    with pytest.raises(TrustError, match="its content has sha256"):
        constraints.load(f"{url}#sha256={'0' * 64}")
    with pytest.raises(SpecError, match="cannot read it"):
        constraints.load(f"file://{tmp_path}/missing.txt")
    assert constraints.warnings([url]) == []


def test_a_fetched_file_hides_the_credentials_of_its_url(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_text("foo @ http://user:pw@evil.example/foo.tar.gz\n")
    url = base.replace("http://", "http://me:s3cret@") + "/uc.txt"
    with pytest.raises(SpecError) as info:
        constraints.load(url, http=http_client)
    assert "s3cret" not in str(info.value) and "pw@" not in str(info.value)
    assert "line 1" in str(info.value)


def test_the_fetched_openstack_file_is_all_version_pins(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_bytes(UPPER_CONSTRAINTS_2024_1.encode())
    lines, _record = constraints.load(f"{base}/uc.txt", http=http_client)
    assert len(lines) == 619 and not any(" @ " in line for line in lines)


UC_TEXT = b"foo===1.0\nbar===2.0;python_version>='3.9'\n"
UC_SHA = hashlib.sha256(UC_TEXT).hexdigest()


def test_a_sha256_pinned_url_with_the_right_content_is_accepted(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_bytes(UC_TEXT)
    ref = f"{base}/uc.txt#sha256={UC_SHA}"
    lines, record = constraints.load(ref, http=http_client)
    assert lines == ["foo===1.0", 'bar===2.0; python_version >= "3.9"']
    # The manifest records the reference as the spec has it, pin included.
    assert record == ConstraintFile(ref, UC_SHA)
    assert constraints.warnings([ref]) == []  # a pinned plain-HTTP URL is authenticated


def test_a_sha256_pinned_url_with_other_content_is_refused(http_root, http_client):
    root, base = http_root
    (root / "uc.txt").write_bytes(UC_TEXT + b"baz===3.0\n")
    actual = hashlib.sha256(UC_TEXT + b"baz===3.0\n").hexdigest()
    with pytest.raises(TrustError) as info:
        constraints.load(f"{base}/uc.txt#sha256={UC_SHA}", http=http_client)
    message = str(info.value)
    assert message.startswith(f"constraints file {base}/uc.txt: its content has sha256 {actual}, "
                              f"but the #sha256= pin of the spec says {UC_SHA}; refused")


def test_the_pin_is_checked_before_the_content_is_parsed(http_root, http_client):
    # Content parse() would refuse with its own error: the hash check comes first.
    root, base = http_root
    (root / "uc.txt").write_bytes(b"--index-url https://evil.example/simple\n")
    with pytest.raises(TrustError, match="its content has sha256"):
        constraints.load(f"{base}/uc.txt#sha256={UC_SHA}", http=http_client)
    (root / "bin.txt").write_bytes(b"\xff\xfe not text")
    with pytest.raises(TrustError, match="its content has sha256"):
        constraints.load(f"{base}/bin.txt#sha256={UC_SHA}", http=http_client)


def test_the_pin_fragment_is_not_sent(http_root, http_client, monkeypatch):
    root, base = http_root
    (root / "uc.txt").write_bytes(UC_TEXT)
    asked = []
    real = http_client.get_bytes
    monkeypatch.setattr(http_client, "get_bytes", lambda url, *a, **k: asked.append(url) or real(url, *a, **k))
    constraints.load(f"{base}/uc.txt#sha256={UC_SHA}", http=http_client)
    assert asked == [f"{base}/uc.txt"]


def test_a_plain_http_url_without_a_pin_warns():
    (warning,) = constraints.warnings(["http://u:tok@mirror.example/uc.txt", "https://h/uc.txt",
                                       "/etc/uc.txt", f"http://h/uc.txt#sha256={UC_SHA}"])
    assert warning.startswith("constraints file http://****@mirror.example/uc.txt is plain HTTP "
                              "without a sha256 pin")
    assert "'-c http://****@mirror.example/uc.txt#sha256=<sha256 of the file>'" in warning
    assert "tok" not in warning


def test_a_constraints_file_that_drips_ends_at_the_deadline(monkeypatch):
    # A real server sending one byte every half second: the fetch ends at wait_timeout.
    import time  # pylint: disable=import-outside-toplevel

    class Drip(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                time.sleep(0.5)
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    session = requests.Session()
    session.trust_env = False
    url = f"http://127.0.0.1:{server.server_address[1]}/uc.txt"
    started = time.monotonic()
    try:
        with Http(session=session, deadline=time.monotonic() + 2) as client:
            with pytest.raises(UnreachableError, match=r"not received completely within wait_timeout"):
                constraints.load(url, http=client)
    finally:
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 4


# -- write --------------------------------------------------------------------------


def test_write_and_read_back(tmp_path, uc_file):
    lines, _record = constraints.load(str(uc_file))
    path = tmp_path / "constraints.txt"
    constraints.write(str(path), lines)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text == "".join(f"{line}\n" for line in lines)
    # What venvbuild hands pip reads back as the same lines.
    assert constraints.parse(text, str(path)) == lines


def test_write_no_lines(tmp_path):
    path = tmp_path / "constraints.txt"
    constraints.write(str(path), [])
    assert path.read_text() == ""


def test_write_refuses_an_existing_file(tmp_path):
    path = tmp_path / "constraints.txt"
    path.write_text("old\n")
    with pytest.raises(FileExistsError):
        constraints.write(str(path), ["foo===1.0"])
    assert path.read_text() == "old\n"


@pytest.mark.parametrize("dangling", [False, True])
def test_write_refuses_a_symlink(tmp_path, dangling):
    victim = tmp_path / "victim"
    if not dangling:
        victim.write_text("keep me\n")
    path = tmp_path / "constraints.txt"
    path.symlink_to(victim)
    with pytest.raises(FileExistsError):
        constraints.write(str(path), ["foo===1.0"])
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text() == "keep me\n"
    assert os.path.islink(path)


# OpenStack 2024.1 upper-constraints.txt, verbatim (see the module docstring).
UPPER_CONSTRAINTS_2024_1 = """\
voluptuous===0.14.2
chardet===5.2.0
enum-compat===0.0.3
rsa===4.9
restructuredtext-lint===1.4.0
netmiko===4.1.2
sshtunnel===0.4.0
PasteDeploy===3.1.0
typing===3.7.4.3
python-saharaclient===4.2.0
Routes===2.5.1
rtslib-fb===2.1.76
oslo.limit===2.4.0
tzdata===2024.1
smmap===5.0.1
confget===5.1.2
XStatic-Angular-Bootstrap===2.5.0.0
WebOb===1.8.7
sphinxcontrib-actdiag===3.0.0
pecan===1.5.1
os-api-ref===3.0.0
python-ldap===3.4.4
oslo.concurrency===6.0.0
websocket-client===1.7.0
osprofiler===4.1.0
os-resource-classes===1.1.0
tabulate===0.9.0
python-ironic-inspector-client===5.1.0
lxml===5.1.0
vintage===0.4.1
rst2txt===1.1.0
setproctitle===1.3.3
pytest===8.0.1
python-slugify===8.0.4
cursive===0.2.3
oslo.service===3.4.1
django-appconf===1.0.6
ntc_templates===4.3.0
sphinxcontrib-nwdiag===2.0.0
rbd-iscsi-client===0.1.8
requests-aws===0.1.8
alabaster===0.7.13;python_version=='3.8'
alabaster===0.7.16;python_version>='3.9'
pbr===6.0.0
munch===4.0.0
waiting===1.4.1
attrs===23.2.0
microversion-parse===1.0.1
jwcrypto===1.5.4
Pint===0.21.1;python_version=='3.8'
Pint===0.23;python_version>='3.9'
oslo.i18n===6.3.0
jsonpath-rw-ext===1.2.2
python-mistralclient===5.2.0
oslo.context===5.5.0
python-senlinclient===3.1.0
rcssmin===1.1.1
pycadf===3.1.1
grpcio===1.60.1
pysendfile===2.0.1
sniffio===1.3.0
fixtures===4.1.0
neutron-lib===3.11.1
XStatic-FileSaver===1.3.2.0
oslo.metrics===0.8.0
storage-interfaces===1.0.5
persist-queue===0.8.1
pystache===0.6.5
XStatic-Font-Awesome===4.7.0.0
nose===1.3.7
nosehtmloutput===0.0.7
waitress===3.0.0
os-refresh-config===13.2.0
pysnmp===4.4.12
Mako===1.3.2
pyScss===1.4.0
sphinxcontrib-htmlhelp===2.0.1;python_version=='3.8'
sphinxcontrib-htmlhelp===2.0.5;python_version>='3.9'
XStatic-jQuery===3.5.1.1
ddt===1.7.1
XStatic-Graphlib===2.1.7.0
pyserial===3.5
moto===5.0.1
infi.dtypes.wwn===0.1.1
python-freezerclient===5.2.0
python-vitrageclient===5.0.0
py-pure-client===1.47.0
nosexcover===1.0.11
krest===1.3.6
psycopg2===2.9.9
networkx===3.1;python_version=='3.8'
networkx===3.2.1;python_version>='3.9'
XStatic-Angular===1.8.2.2
pyngus===2.3.1
zuul-sphinx===0.7.0
Tempita===0.5.2
ply===3.11
google-api-core===2.17.1
requests-toolbelt===1.0.0
simplejson===3.19.2
types-paramiko===3.4.0.20240205
immutables===0.20
python-swiftclient===4.5.0
pyOpenSSL===24.0.0
monasca-common===3.8.0
zeroconf===0.131.0
scipy===1.10.1;python_version=='3.8'
scipy===1.12.0;python_version>='3.9'
opentelemetry-exporter-otlp===1.22.0
python-gnupg===0.5.2
mypy-extensions===1.0.0
rsd-lib===1.2.0
XStatic-Jasmine===2.4.1.2
googleapis-common-protos===1.62.0
python-glanceclient===4.5.0
prometheus_client===0.20.0
jaraco.classes===3.3.1
pyinotify===0.9.6
debtcollector===3.0.0
requests-unixsocket===0.3.0
responses===0.25.0
croniter===2.0.1
horizon===24.0.2
octavia-lib===3.5.0
python-watcherclient===4.4.0
MarkupSafe===2.1.5
types-python-dateutil===2.8.19.20240106
ruamel.yaml.clib===0.2.8
doc8===1.1.1
pymongo===4.6.1
python-cloudkittyclient===5.0.1
soupsieve===2.5
sqlparse===0.4.4
oslotest===5.0.0
jsonpointer===2.4
defusedxml===0.7.1
opentelemetry-sdk===1.22.0
netaddr===0.10.1
pyghmi===1.5.67
sphinxcontrib-blockdiag===3.0.0
thrift===0.16.0
gnocchiclient===7.0.8
backoff===2.2.1
wcwidth===0.2.13
sphinxcontrib.datatemplates===0.11.0
jsonpath-rw===1.4.0
prettytable===3.9.0
vine===5.1.0
taskflow===5.6.0
traceback2===1.4.0
arrow===1.3.0
semantic-version===2.10.0
async-timeout===4.0.3;python_version=='3.10'
async-timeout===4.0.3;python_version=='3.8'
async-timeout===4.0.3;python_version=='3.9'
virtualbmc===3.1.0
SQLAlchemy===1.4.51
pyroute2===0.7.12
google-auth===2.28.0
pyasn1-lextudio===1.1.2
kazoo===2.10.0
pyspnego===0.10.2
XStatic-roboto-fontface===0.5.0.0
pyudev===0.24.1
eventlet===0.35.1
openstack-doc-tools===3.3.1
oslo.messaging===14.7.2
jira===3.6.0
extras===1.0.0
PyJWT===2.8.0
typing_extensions===4.9.0
XStatic-lodash===4.16.4.2
zVMCloudConnector===1.6.3
paramiko===3.4.0
ifaddr===0.2.0
reno===4.1.0
ncclient===0.6.15
imagesize===1.4.1
pydot===2.0.0
urllib3===1.26.18
graphviz===0.20.1
PyKMIP===0.10.0
python-observabilityclient===0.1.1
whereto===0.4.0
pywbem===1.6.2
python-subunit===1.4.4
tornado===6.4
pycparser===2.21
mock===5.1.0
PyYAML===6.0.1
beautifulsoup4===4.12.3
ovs===3.1.2
cryptography===42.0.4
httpcore===1.0.3
URLObject===2.4.3
nocasedict===2.0.1
psycopg2-binary===2.9.9
openstack-release-test===5.0.0
pylxd===2.3.2
pycryptodomex===3.20.0
requests-mock===1.11.0
os-apply-config===13.2.0
oslosphinx===4.18.0
gunicorn===21.2.0
storpool===7.3.0
textfsm===1.1.2
python-3parclient===4.2.13
unittest2===1.1.0
django-compressor===4.4
libvirt-python===10.0.0
python-zunclient===5.0.0
tzlocal===5.2
sphinxcontrib-jsmath===1.0.1
python-novaclient===18.6.0
pact===1.12.0
bcrypt===4.0.1
exceptiongroup===1.2.0;python_version=='3.10'
exceptiongroup===1.2.0;python_version=='3.8'
exceptiongroup===1.2.0;python_version=='3.9'
os-client-config===2.1.0
XStatic-Angular-Gettext===2.4.1.0
Deprecated===1.2.14
h11===0.14.0
Pygments===2.17.2
XStatic-Hogan===2.0.0.3
XStatic-objectpath===1.2.1.0
python-manilaclient===4.8.1
sphinxcontrib-serializinghtml===1.1.5;python_version=='3.8'
sphinxcontrib-serializinghtml===1.1.10;python_version>='3.9'
requests===2.31.0
snowballstemmer===2.2.0
Jinja2===3.1.3
XStatic-Bootstrap-SCSS===3.4.1.0
pyzabbix===1.3.1
ptyprocess===0.7.0
threadloop===1.0.2
amqp===5.2.0
ruamel.yaml===0.18.6
websockify===0.11.0
gssapi===1.8.3
XStatic-JQuery.quicksearch===2.0.3.2
mpmath===1.3.0
python-binary-memcached===0.31.2
django-debreach===2.1.0
sphinx-feature-classification===1.1.0
django-pymemcache===1.0.0
XStatic-JQuery-Migrate===3.3.2.1
pytest-html===4.1.1
appdirs===1.4.4
google-auth-httplib2===0.2.0
pkgutil_resolve_name===1.3.10;python_version=='3.8'
daiquiri===3.2.5.1
influxdb===5.3.1
funcparserlib===1.0.1
passlib===1.7.4
dib-utils===0.0.11
cliff===4.6.0
os-brick===6.7.3
ansible-runner===2.3.5
scp===0.14.5
python-zaqarclient===2.7.0
lockfile===0.12.2
ldappool===3.0.0
termcolor===2.4.0
joblib===1.3.2
google-api-python-client===2.118.0
castellan===5.0.0
oslo.versionedobjects===3.3.0
enmerkar===0.7.1
webcolors===1.13
aodhclient===3.5.1
autobahn===23.1.2;python_version=='3.8'
autobahn===23.6.2;python_version>='3.9'
SQLAlchemy-Utils===0.41.1
retryz===0.1.9
pluggy===1.4.0
coverage===7.4.1
freezegun===1.4.0
toml===0.10.2
pycdlib===1.14.0
pyperclip===1.8.2
cassandra-driver===3.29.0
XStatic-Angular-Schema-Form===0.8.13.0
opentelemetry-exporter-otlp-proto-http===1.22.0
gabbi===2.4.0
nwdiag===3.0.0
XStatic-bootswatch===3.3.7.0
pytest-xdist===3.5.0
XStatic-JS-Yaml===3.8.1.0
XStatic-term.js===0.0.7.0
oslo.log===5.5.1
nodeenv===1.8.0
gossip===2.4.0
suds-community===1.1.2
importlib-metadata===6.2.1;python_version=='3.8'
importlib-metadata===6.2.1;python_version=='3.9'
importlib-metadata===6.11.0;python_version>='3.10'
oslo.middleware===6.1.0
XStatic-mdi===1.6.50.2
django-pyscss===2.0.3
uritemplate===4.1.1
docutils===0.20.1
threadpoolctl===3.3.0
os-ken===2.8.2
ujson===5.9.0
selenium===3.141.0
mistral-lib===2.10.0
dogtag-pki===11.2.1
XStatic-Angular-UUID===0.0.4.0
purestorage===1.19.0
sphinxcontrib-seqdiag===3.0.0
os-win===5.9.0
capacity===1.3.14
retrying===1.3.4
XStatic-Dagre===0.6.4.1
platformdirs===4.2.0
pydotplus===2.0.2
boto3===1.34.44
jeepney===0.8.0
stestr===4.1.0
pillow===9.5.0
infoblox-client===0.6.0
pysmi-lextudio===1.1.13
oslo.serialization===5.4.1
warlock===2.0.1
exabgp===4.2.21
sphinxcontrib-httpdomain===1.8.1
metalsmith===2.1.2
s3transfer===0.10.0
text-unidecode===1.3
sphinxcontrib-svg2pdfconverter===1.2.2
murano-pkg-check===0.3.0
oslo.vmware===4.4.0
XStatic-moment===2.8.4.3
autopage===0.5.2
sqlalchemy-migrate===0.13.0
gitdb===4.0.11
python-monascaclient===2.8.0
ldap3===2.9.1
opentelemetry-api===1.22.0
requests-ntlm===1.2.0
automaton===3.2.0
os-service-types===1.7.0
keyring===24.3.0
elementpath===4.2.1
jsonschema-specifications===2023.12.1
testscenarios===0.5.0
sphinxcontrib-pecanwsme===0.11.0
sadisplay===0.4.9
infinisdk===240.1.2
packaging===23.2
opentelemetry-exporter-otlp-proto-grpc===1.22.0
XStatic-Dagre-D3===0.4.17.0
nose-exclude===0.5.0
psutil===5.9.8
txaio===23.1.1
elasticsearch===2.4.1
django-nose===1.4.7
asgiref===3.7.2
XStatic-JQuery.TableSorter===2.14.5.2
pifpaf===3.1.5
pysmi===0.3.4
blockdiag===3.0.0
testtools===2.7.1
infi.dtypes.iqn===0.4.0
XStatic-tv4===1.2.7.0
XStatic-JSEncrypt===2.3.1.1
python-cinderclient===9.5.0
keystonemiddleware===10.6.0
django-formtools===2.5.1
XStatic-Spin===1.2.5.3
tap-as-a-service===13.0.0.0rc1
os-traits===3.0.0
typepy===1.3.2
SecretStorage===3.3.3
opentracing===2.4.0
XStatic-Rickshaw===1.5.1.0
iso8601===2.1.0
tooz===6.2.0
linecache2===1.0.0
oauth2client===4.1.3
idna===3.6
yamlloader===1.3.2
protobuf===4.25.3
sushy===5.0.1
python-neutronclient===11.2.0
pika===1.3.2
oslo.cache===3.7.0
WebTest===3.0.0
openstack.nose-plugin===0.11
os-collect-config===13.2.0
edgegrid-python===1.3.1
python-qpid-proton===0.39.0
python-octaviaclient===3.7.1
pysaml2===7.3.1;python_version=='3.8'
pysaml2===7.4.2;python_version>='3.9'
requests-oauthlib===1.3.1
oslo.reports===3.3.0
pysnmp-lextudio===5.0.33
bitmath===1.3.3.1
ceilometermiddleware===3.3.1
pyasn1-modules-lextudio===0.2.9
testrepository===0.0.20
sympy===1.12
Logbook===1.7.0.post0
PyNaCl===1.5.0
osc-lib===3.0.1
python-consul===1.1.0
more-itertools===10.2.0
seqdiag===3.0.0
numpy===1.24.4;python_version=='3.8'
numpy===1.26.4;python_version>='3.9'
msgpack===1.0.7
Sphinx===7.1.2;python_version=='3.8'
Sphinx===7.2.6;python_version>='3.9'
oslo.config===9.4.0
openstackdocstheme===3.2.0
osc-placement===4.3.0
rpds-py===0.18.0
zake===0.2.2
python-rsdclient===1.0.2
flux===1.3.5
python-solumclient===3.8.0
pysnmpcrypto===0.0.4
krb5===0.5.1
PyMySQL===1.1.0
uhashring===2.3
kubernetes===29.0.0
httplib2===0.22.0
betamax===0.9.0
construct===2.10.70
pytest-metadata===3.1.1
pyparsing===3.1.1
geomet===0.2.1.post1
opentelemetry-exporter-otlp-proto-common===1.22.0
distlib===0.3.8
XStatic-Moment-Timezone===0.5.22.0
dogpile.cache===1.3.1
python-barbicanclient===5.7.0
salt===3006.6
opentelemetry-semantic-conventions===0.43b0
api-object-schema===2.0.0
blinker===1.7.0
WSME===0.12.1
tomli===2.0.1;python_version=='3.10'
tomli===2.0.1;python_version=='3.8'
tomli===2.0.1;python_version=='3.9'
proboscis===1.2.6.0
backports.zoneinfo===0.2.1;python_version=='3.8'
oslo.upgradecheck===2.3.0
stevedore===5.2.0
pywinrm===0.4.3
botocore===1.34.44
xmltodict===0.13.0
pyasn1===0.5.1
oslo.rootwrap===7.2.0
Django===4.2.10
pexpect===4.9.0
contextvars===2.4
cmd2===2.4.3
python-json-logger===2.0.7
redis===5.0.1
jmespath===1.0.1
click===8.1.7
XStatic-smart-table===1.4.13.2
kuryr-lib===3.0.0
scrypt===0.8.20
jsonpatch===1.33
python-daemon===3.0.1
os-testr===3.0.0
cotyledon===1.7.3
xattr===1.1.0
systemd-python===235
python-memcached===1.62
openstacksdk===3.0.0
infi.dtypes.nqn===0.1.0
looseversion===1.3.0
six===1.16.0
dulwich===0.21.7
dfs-sdk===1.2.27
sentinels===1.0.0
kombu===5.3.5
distro===1.9.0
zstd===1.5.5.1
yaql===3.0.0
requestsexceptions===1.4.0
testresources===2.0.1
falcon===3.1.3
tomlkit===0.12.3
etcd3gw===2.4.0
Flask-RESTful===0.3.10
GitPython===3.1.42
python-ironicclient===5.5.1
XStatic===1.0.3
XStatic-Angular-FileUpload===12.2.13.0
python-openstackclient===6.6.1
pyzmq===25.1.2
nocaselist===2.0.0
oslo.db===15.0.0
simplegeneric===0.8.1
python-pcre===0.7
yappi===1.6.0
mbstrdecoder===1.1.3
pymemcache===4.0.0
wrapt===1.16.0
oslo.privsep===3.3.0
sphinxcontrib-apidoc===0.5.0
oslo.policy===4.3.0
python-muranoclient===2.8.0
hvac===2.1.0
pyeclib===1.6.1
wsgi-intercept===1.13.0
ndg-httpsclient===0.5.1
repoze.lru===0.7
rfc3986===2.0.0
tenacity===8.2.3
python-designateclient===6.0.1
future===0.18.3
pytest-cov===4.1.0
reactivex===4.0.4
Paste===3.7.1
pytest-django===4.8.0
jaeger-client===4.8.0
XStatic-Json2yaml===0.1.1.0
boto===2.49.0
os-vif===3.5.0
hyperlink===21.0.0
mitba===1.1.1
python-masakariclient===8.4.0
Werkzeug===3.0.1
pyasn1-modules===0.3.0
APScheduler===3.10.4
xmlschema===2.5.1
python-troveclient===8.4.0
cachez===0.1.2
XStatic-Bootstrap-Datepicker===1.4.0.0
CouchDB===1.2
netifaces===0.11.0
cachetools===5.3.2
ws4py===0.5.1
sphinxcontrib-qthelp===1.0.3;python_version=='3.8'
sphinxcontrib-qthelp===1.0.7;python_version>='3.9'
keystoneauth1===5.6.1
statsd===4.0.1
python-keystoneclient===5.4.0
ceilometer===22.0.0.0rc1
diskimage-builder===3.32.0
heat-translator===3.0.0
python-magnumclient===4.4.0
docker===7.0.0
storops===1.2.11
anyio===4.2.0
XStatic-Angular-lrdragndrop===1.0.2.6
ovsdbapp===2.6.1
aniso8601===9.0.1
rjsmin===1.2.1
icalendar===5.0.11
decorator===5.1.1
DateTimeRange===2.2.0
cffi===1.16.0
python-cyborgclient===2.3.0
futurist===3.0.0
jsonschema===4.19.2
sphinxcontrib-devhelp===1.0.2;python_version=='3.8'
sphinxcontrib-devhelp===1.0.6;python_version>='3.9'
python-blazarclient===4.0.1
alembic===1.9.4
execnet===2.0.2
glance-store===4.7.1
sphinxcontrib-programoutput===0.17
storpool.spopenstack===3.2.0
sphinx-testing===1.0.1
dnspython===2.5.0
oauthlib===3.2.2
Babel===2.14.0
logutils===0.3.5
zipp===3.17.0
greenlet===3.0.3
XStatic-Angular-Vis===4.16.0.0
iniconfig===2.0.0
referencing===0.33.0
confluent-kafka===2.3.0
xvfbwrapper===0.2.9
influxdb-client===1.40.0
tosca-parser===2.10.0
charset-normalizer===3.3.2
Flask===3.0.2
httpx===0.26.0
sqlalchemy-filters===0.13.0
marathon===0.13.0
sphinxcontrib-runcmd===0.2.0
confspirator===0.3.0
fasteners===0.19
sortedcontainers===2.4.0
python-linstor===1.21.0
filelock===3.13.1
python-tackerclient===2.0.0
python-heatclient===3.5.0
kafka-python===2.0.2
oslo.utils===7.1.0
gitdb2===4.0.2
requests-kerberos===0.14.0
itsdangerous===2.1.2
XStatic-jquery-ui===1.13.0.1
monasca-statsd===2.7.0
python-dateutil===2.8.2
virtualenv===20.25.0
colorama===0.4.6
confetti===2.5.3
ironic-lib===6.0.0
pytz===2024.1
opentelemetry-proto===1.22.0
XStatic-D3===3.5.17.0
actdiag===3.0.0
sysv-ipc===1.1.0
sphinxcontrib-applehelp===1.0.4;python_version=='3.8'
sphinxcontrib-applehelp===1.0.8;python_version>='3.9'
scikit-learn===1.3.2;python_version=='3.8'
scikit-learn===1.4.0;python_version>='3.9'
"""
