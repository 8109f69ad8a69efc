"""Safe fetching (issue 9; docs/limits.md): the address rule after name resolution, the connection to the checked
address, redirects checked again, proxies from the environment, caps, deadlines and malformed URLs.

Offline: names are resolved by a patched socket.getaddrinfo, and every test runs under a guard that lets
sockets connect to 127.0.0.1 and ::1 only (a refusal that failed would otherwise reach out).
"""

import io
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from costcalc import count_request
from costcalc.cli import cli
from costcalc.errors import ImageReadError
from costcalc.inspection import fetch
from costcalc.inspection.fetch import INSTALL_HINT, address_refusal, inspect_url

pytest.importorskip("httpx2")


def png(size):
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


PNG = png((300, 200))
PROXIED = png((640, 480))
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    """Only loopback connections, recorded; no proxy settings from the machine running the tests."""
    connections = []

    def create_connection(address, *args, **kwargs):
        host = address[0]
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"the test tried to connect to {address}")
        connections.append(address)
        return _real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    for variable in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)
    return connections


@pytest.fixture
def dns(monkeypatch):
    """fake[name] = [addresses] (or a callable giving them) answers for that name; lookups are counted."""
    fake, lookups = {}, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in fake:
            lookups.append(host)
            answer = fake[host]() if callable(fake[host]) else fake[host]
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port or 0))
                for ip in answer
            ]
        if host in ("127.0.0.1", "::1"):
            return _real_getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake, lookups


class Recording(BaseHTTPRequestHandler):
    """Records (request line, Host) of every request in its class's `seen`; quiet."""

    seen: list = []

    def log_message(self, *args):
        pass

    def record(self):
        type(self).seen.append((self.requestline, self.headers.get("Host")))

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client stops after the header, on purpose

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Handler(Recording):
    seen: list = []

    def do_GET(self):
        self.record()
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/img.png":
            self._send(PNG)
        elif parts.path == "/padded.png":
            self._send(PNG + bytes(3_000_000))
        elif parts.path == "/redirect":
            self._redirect(query["to"][0])
        elif parts.path.startswith("/hops/"):
            left = int(parts.path.rsplit("/", 1)[1])
            self._redirect(f"/hops/{left - 1}" if left > 1 else "/img.png")
        elif parts.path == "/junk":
            self._send(b"\xff\xd8" + (b"\xff\xe1\xff\xff" + bytes(65533)) * 40)  # a JPEG with no frame header in 2.6 MB
        elif parts.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(50):  # 1 byte every 0.1 s: each read succeeds, the whole never ends in time
                    self.wfile.write(b"\x89")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        else:
            self.send_error(404)


class ProxyHandler(Recording):
    """A forward proxy that fetches nothing: it records the request line and answers with an image."""

    seen: list = []

    def do_GET(self):
        self.record()
        self._send(PROXIED)


def serve(handler, wrap=None):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda *args: None
    if wrap:
        httpd.socket = wrap(httpd.socket)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture(scope="module")
def port():
    httpd = serve(Handler)
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture
def proxy():
    ProxyHandler.seen.clear()
    httpd = serve(ProxyHandler)
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture(autouse=True)
def fresh_log():
    Handler.seen.clear()


def refused(url, **options):
    with pytest.raises(ImageReadError) as caught:
        inspect_url(url, timeout=5, **options)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(url)
    return message


# ------------------------------------------------------------------ the address rule


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "10.1.2.3",
        "169.254.169.254",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "127.1",
        "2130706433",
        "0x7f.1",
        "172.16.0.9",
        "192.168.1.1",
        "100.64.0.1",
        "[fe80::1]",
        "[fd00::1]",
        "[::]",
        "224.0.0.1",
        "240.0.0.1",
        "[64:ff9b::7f00:1]",
        "192.0.2.1",
    ],
)
def test_non_public_addresses_are_refused(host, port, guard):
    message = refused(f"http://{host}:{port}/img.png")
    assert "refusing to fetch" in message
    assert ("allow_private" in message) is (host not in ("0.0.0.0", "[::]", "224.0.0.1"))  # nothing lifts those
    assert guard == [] and Handler.seen == []  # refused before any connection


def test_multicast_and_unspecified_are_refused_even_with_allow_private(port, guard):
    for host in ("0.0.0.0", "[::]", "224.0.0.1", "[ff02::1]"):
        message = refused(f"http://{host}:{port}/img.png", allow_private=True)
        assert "refusing" in message and "allow_private" not in message  # nothing lifts it
    assert guard == []


PRIVATE_NETWORKS = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "198.18.0.0/15",
    "192.0.0.0/24",
]  # RFC 1918, 1122, 3927, 6598, 2544


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PRIVATE_NETWORKS), st.integers(min_value=1, max_value=2**24 - 2))
def test_every_address_in_the_private_ranges_is_refused_in_both_spellings(network, offset):
    net = ipaddress.ip_network(network)
    ip = net.network_address + offset % (net.num_addresses - 1) + 1
    assert address_refusal(str(ip), False) is not None
    assert address_refusal(f"::ffff:{ip}", False) is not None
    assert address_refusal(str(ip), True) is None


def test_public_addresses_are_allowed():
    for ip in ("93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"):
        assert address_refusal(ip, False) is None


def test_a_name_that_resolves_to_loopback_is_refused(port, dns, guard):
    fake, lookups = dns
    fake["images.example.test"] = ["127.0.0.1"]
    fake["mixed.example.test"] = ["93.184.216.34", "10.0.0.7"]  # one private answer is enough
    assert "images.example.test (127.0.0.1): a loopback address" in refused(
        f"http://images.example.test:{port}/img.png"
    )
    assert "10.0.0.7" in refused(f"http://mixed.example.test:{port}/img.png")
    assert guard == [] and Handler.seen == [] and lookups == ["images.example.test", "mixed.example.test"]


def test_the_connection_goes_to_the_checked_address(port, dns, guard):
    fake, lookups = dns
    fake["example.test"] = ["127.0.0.1"]
    remote = inspect_url(f"http://example.test:{port}/img.png", allow_private=True)
    assert (remote.info.width, remote.info.height) == (300, 200)
    assert guard == [("127.0.0.1", port)]
    assert Handler.seen == [("GET /img.png HTTP/1.1", f"example.test:{port}")]  # the Host header keeps the name


def test_no_second_lookup_can_swap_the_address(port, dns, guard, monkeypatch):
    """DNS rebinding: the first answer passes the rule, any later one would not; only the first is ever used."""
    fake, lookups = dns
    answers = iter([["127.0.0.1"]] + [["10.9.9.9"]] * 5)
    fake["rebind.example.test"] = lambda: next(answers)
    real_rule = fetch.address_refusal
    monkeypatch.setattr(fetch, "address_refusal", lambda ip, allow: None if ip == "127.0.0.1" else real_rule(ip, allow))
    remote = inspect_url(f"http://rebind.example.test:{port}/img.png")
    assert remote.info.width == 300 and lookups == ["rebind.example.test"] and guard == [("127.0.0.1", port)]


def test_redirects_to_private_addresses_are_refused(port, dns, guard, monkeypatch):
    fake, _ = dns
    fake["internal.example.test"] = ["10.1.2.3"]
    fake["localhost"] = ["127.0.0.2"]
    real_rule = fetch.address_refusal  # this test's server counts as public; nothing else does
    monkeypatch.setattr(fetch, "address_refusal", lambda ip, allow: None if ip == "127.0.0.1" else real_rule(ip, allow))
    start = f"http://127.0.0.1:{port}/redirect?to="
    assert inspect_url(start + f"http://127.0.0.1:{port}/img.png").info.width == 300  # the redirect itself works
    for target in (
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{port}/img.png",
        "http://internal.example.test/img.png",
        f"http://localhost:{port}/img.png",
    ):
        assert "refusing to fetch" in refused(start + target)
    assert set(guard) == {("127.0.0.1", port)}
    assert [line for line, _ in Handler.seen].count("GET /img.png HTTP/1.1") == 1


def test_redirects_stay_bounded_and_http_only(port):
    assert inspect_url(f"http://127.0.0.1:{port}/hops/5", allow_private=True).url.endswith("/img.png")
    assert "more than 5 redirects" in refused(f"http://127.0.0.1:{port}/hops/6", allow_private=True)
    assert "only http and https" in refused(
        f"http://127.0.0.1:{port}/redirect?to=file:///etc/passwd", allow_private=True
    )


def test_count_request_refuses_private_urls_unless_allowed(port):
    payload = {
        "model": "gpt-4o",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": f"http://127.0.0.1:{port}/img.png"}}]}],
    }
    assert "refusing to fetch" in count_request(payload, fetch=True).images[0].error
    assert count_request(payload, fetch=True, allow_private=True).images[0].width == 300


def test_cli_request_allow_private(port, tmp_path):
    payload = {
        "model": "gpt-4o",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": f"http://127.0.0.1:{port}/img.png"}}]}],
    }
    (tmp_path / "payload.json").write_text(json.dumps(payload))
    refused_run = CliRunner().invoke(cli, ["request", str(tmp_path / "payload.json"), "--fetch", "--json"])
    assert refused_run.exit_code == 1 and "Traceback" not in refused_run.output
    assert "refusing to fetch" in json.loads(refused_run.stdout)["images"][0]["error"]
    allowed = CliRunner().invoke(
        cli, ["request", str(tmp_path / "payload.json"), "--fetch", "--allow-private", "--json"]
    )
    assert allowed.exit_code == 0 and json.loads(allowed.stdout)["images"][0]["width"] == 300


# ------------------------------------------------------------------ proxies


def test_the_environment_proxy_is_used_and_resolves_the_name(proxy, dns, guard, monkeypatch):
    fake, lookups = dns
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy}")
    remote = inspect_url("http://images.example.test/photos/a.png")  # not resolvable here: the proxy resolves it
    assert (remote.info.width, remote.info.height) == (640, 480)
    assert ProxyHandler.seen == [("GET http://images.example.test/photos/a.png HTTP/1.1", "images.example.test")]
    assert lookups == [] and guard == [("127.0.0.1", proxy)]


def test_through_a_proxy_literal_private_hosts_and_localhost_are_refused(proxy, monkeypatch):
    monkeypatch.setenv("http_proxy", f"127.0.0.1:{proxy}")  # lower case, no scheme: as curl reads it
    for url in (
        "http://10.0.0.1/a.png",
        "http://169.254.169.254/latest/",
        "http://localhost/a.png",
        "http://app.localhost/a.png",
        "http://127.1/a.png",
        "http://[::ffff:192.168.0.1]/a.png",
    ):
        assert "refusing to fetch" in refused(url)
    assert ProxyHandler.seen == []
    assert inspect_url("http://10.0.0.1/a.png", allow_private=True).info.width == 640
    assert ProxyHandler.seen == [("GET http://10.0.0.1/a.png HTTP/1.1", "10.0.0.1")]


def test_no_proxy_hosts_go_direct_and_are_checked(proxy, port, dns, guard, monkeypatch):
    fake, lookups = dns
    fake["images.example.test"] = ["127.0.0.1"]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy}")
    monkeypatch.setenv("NO_PROXY", "example.test")
    assert "a loopback address" in refused(f"http://images.example.test:{port}/img.png")
    assert inspect_url(f"http://images.example.test:{port}/img.png", allow_private=True).info.width == 300
    assert ProxyHandler.seen == [] and lookups == ["images.example.test"] * 2


# ------------------------------------------------------------------ caps and deadlines


def test_only_the_header_is_read(port):
    remote = inspect_url(f"http://127.0.0.1:{port}/padded.png", allow_private=True, max_bytes=2_000_000)
    assert remote.info.width == 300 and remote.bytes_read <= 128 * 1024


def test_the_byte_cap_holds(port):
    start = time.monotonic()
    message = refused(f"http://127.0.0.1:{port}/junk", allow_private=True, max_bytes=100_000)
    assert "within the first 100,000 bytes" in message and time.monotonic() - start < 3


def test_one_deadline_for_a_server_that_drips(port):
    start = time.monotonic()
    with pytest.raises(ImageReadError, match="no answer within 1 s"):
        inspect_url(f"http://127.0.0.1:{port}/drip", allow_private=True, timeout=1.0)
    assert time.monotonic() - start < 1.8  # each read succeeded in 0.1 s: only an overall deadline stops it


def test_one_deadline_for_a_slow_name_lookup(dns):
    fake, _ = dns
    fake["slow.example.test"] = lambda: time.sleep(3) or ["127.0.0.1"]
    start = time.monotonic()
    with pytest.raises(ImageReadError, match="no answer within 0.5 s"):
        inspect_url("http://slow.example.test/img.png", allow_private=True, timeout=0.5)
    assert time.monotonic() - start < 1.5


# ------------------------------------------------------------------ malformed URLs


@pytest.mark.parametrize(
    "url",
    [
        "http:///x.png",
        "http://h:99999/x",
        "http://[::1/x",
        "http://:80/x.png",
        "http://h:0/x",
        "http://exa mple.com/x",
        "http://\N{SNOWMAN}.net/x.png",
        "http://h:port/x",
        "ftp://example.test/x.png",
        "//x.png",
    ],
)
def test_malformed_urls_are_one_line_errors(url, guard):
    refused(url)
    assert guard == []


def test_unprintable_urls_stay_on_one_line(guard):
    for url, shown in (
        ("http://a\nb/x.png", "http://a\\nb/x.png"),
        ("http://\ud800/x", "http://\\ud800/x"),
        ("http://a\x00b/x", "http://a\\x00b/x"),
    ):
        with pytest.raises(ImageReadError) as caught:
            inspect_url(url)
        assert str(caught.value).startswith(f"{shown}: not a valid URL") and str(caught.value).isprintable()
    assert guard == []


def test_malformed_urls_in_a_payload_become_error_rows():
    urls = ["http:///x.png", "http://h:99999/x", "http://[::1/x"]
    payload = {
        "model": "gpt-4o",
        "messages": [{"content": [{"type": "image_url", "image_url": {"url": url}} for url in urls]}],
    }
    images = count_request(payload, fetch=True).images
    assert [image.tokens for image in images] == [None] * 3
    assert all("not a valid URL" in image.error for image in images)


def test_international_names_are_sent_as_idna(port, dns):
    fake, lookups = dns
    fake["xn--bcher-kva.example.test"] = ["127.0.0.1"]
    assert inspect_url(f"http://bücher.example.test:{port}/img.png", allow_private=True).info.width == 300
    assert lookups == ["xn--bcher-kva.example.test"]
    assert Handler.seen[-1][1] == f"xn--bcher-kva.example.test:{port}"


def test_without_httpx2_fetching_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx2", None)  # import httpx2 now raises ImportError
    with pytest.raises(ImageReadError) as caught:
        inspect_url("https://example.test/a.png")
    assert str(caught.value) == f"https://example.test/a.png: {INSTALL_HINT}"


# ------------------------------------------------------------------ TLS to the pinned address


@pytest.mark.skipif(not __import__("shutil").which("openssl"), reason="needs the openssl command")
def test_tls_checks_the_name_while_connecting_to_the_checked_address(tmp_path, dns, monkeypatch):
    """The certificate and SNI are for the URL's name; the socket goes to the address that name was checked at."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            tmp_path / "key.pem",
            "-out",
            tmp_path / "cert.pem",
            "-subj",
            "/CN=img.example.test",
            "-addext",
            "subjectAltName=DNS:img.example.test",
        ],
        check=True,
        capture_output=True,
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    httpd = serve(Handler, lambda sock: server_context.wrap_socket(sock, server_side=True))
    try:
        fake, _ = dns
        fake["img.example.test"] = ["127.0.0.1"]
        fake["other.example.test"] = ["127.0.0.1"]
        monkeypatch.setattr(fetch, "_ssl_context", lambda: ssl.create_default_context(cafile=tmp_path / "cert.pem"))
        tls_port = httpd.server_address[1]
        assert inspect_url(f"https://img.example.test:{tls_port}/img.png", allow_private=True).info.width == 300
        assert names == ["img.example.test"]
        message = refused(f"https://other.example.test:{tls_port}/img.png", allow_private=True)
        assert "cannot fetch" in message and "certificate" in message.lower()
    finally:
        httpd.shutdown()
