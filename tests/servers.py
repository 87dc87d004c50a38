"""HTTP servers for tests: a directory served as it is, or served badly on purpose.

``serve(directory, host)`` is a context manager giving the base URL of a
threaded server. ``misbehave`` maps a part of a path to a list of faults, used
up one per request for a path containing it: ``500`` or ``503`` (an error status), ``reset`` (the
connection dropped before an answer), ``truncate`` (the full Content-Length
announced, half the body sent), ``slow`` (nothing sent for ``slow_seconds``),
``wrong`` (other bytes of the same length), ``redirect-endless`` (a redirect to
the same path whose body never ends) and ``redirect-file`` (a redirect to a
``file:`` URL). ``hits`` counts requests per
path.
"""

import contextlib
import http.server
import os
import socket
import threading
import time


def host_address():
    """This machine's first non-loopback IPv4 address (what `hostname -I` shows first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = sock.getsockname()[0]
        except OSError:
            address = "127.0.0.1"
    if address.startswith("127."):
        for candidate in os.popen("hostname -I 2>/dev/null").read().split():
            if "." in candidate and not candidate.startswith("127."):
                return candidate
    return address


class Server:
    def __init__(self, directory, misbehave=None, slow_seconds=5.0):
        self.directory = str(directory)
        self.misbehave = {key: list(value) for key, value in (misbehave or {}).items()}
        self.slow_seconds = slow_seconds
        self.hits = {}
        self.lock = threading.Lock()

    def fault(self, path):
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            for suffix, faults in self.misbehave.items():
                if suffix in path and faults:
                    return faults.pop(0)
        return None

    def handler(self):
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=server.directory, **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                fault = server.fault(self.path)
                if fault is None:
                    return super().do_GET()
                if fault in ("500", "503"):
                    self.send_error(int(fault), "venvbuild test: a server error")
                    return None
                if fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                    return super().do_GET()
                if fault.startswith("redirect"):
                    return self._redirect(fault)
                path = self.translate_path(self.path)
                with open(path, "rb") as handle:
                    data = handle.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault == "truncate":
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "wrong":
                    self.wfile.write(bytes(b ^ 0x5A for b in data))
                return None

            def _redirect(self, fault):
                # redirect-endless: to the same path (served plainly the next time),
                # with a body that has no length and no end; redirect-file: to a file.
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd" if fault == "redirect-file"
                                 else self.path)
                self.close_connection = True
                if fault == "redirect-file":
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                self.end_headers()
                deadline = time.monotonic() + 60
                with contextlib.suppress(OSError):
                    while time.monotonic() < deadline:
                        self.wfile.write(b"x" * 65536)
                return None

        return Handler


@contextlib.contextmanager
def serve(directory, host="127.0.0.1", misbehave=None, slow_seconds=5.0):
    """Serve ``directory``; yields ``(base url, Server)``."""
    state = Server(directory, misbehave, slow_seconds)
    httpd = http.server.ThreadingHTTPServer((host, 0), state.handler())
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def make_ca_and_cert(directory, host="127.0.0.1"):
    """A private CA and a server certificate for ``host`` it signed (openssl).

    The CA has keyUsage (Python 3.13 verifies strictly and refuses a CA without
    it, as it would a user's private CA made the same way); rustls, in uv,
    refuses a self-signed certificate used as the server's own, hence the CA.
    Returns ``(ca, cert, key)`` paths.
    """
    import subprocess  # pylint: disable=import-outside-toplevel

    directory = str(directory)
    ca, ca_key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    cert, key = os.path.join(directory, "srv.pem"), os.path.join(directory, "srv.key")
    csr, ext = os.path.join(directory, "srv.csr"), os.path.join(directory, "srv.ext")
    alt = f"IP:{host}" if host.replace(".", "").isdigit() else f"DNS:{host}"
    with open(ext, "w", encoding="utf-8") as handle:
        handle.write(f"subjectAltName={alt}\nbasicConstraints=CA:FALSE\n"
                     "keyUsage=critical,digitalSignature,keyEncipherment\n"
                     "extendedKeyUsage=serverAuth\n")
    for cmd in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=venvbuild test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", ca_key, "-out", ca],
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
         "-keyout", key, "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "1", "-extfile", ext, "-out", cert],
    ):
        subprocess.run(["openssl", *cmd], check=True, capture_output=True)
    return ca, cert, key


@contextlib.contextmanager
def serve_https(directory, tls_dir, host="127.0.0.1"):
    """Serve ``directory`` over HTTPS; yields ``(base url, ca path)``."""
    import ssl  # pylint: disable=import-outside-toplevel

    ca, cert, key = make_ca_and_cert(tls_dir, host)
    state = Server(directory)
    httpd = http.server.ThreadingHTTPServer((host, 0), state.handler())
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://{host}:{httpd.server_address[1]}", ca
    finally:
        httpd.shutdown()
        httpd.server_close()
