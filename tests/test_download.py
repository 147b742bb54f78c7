"""The HTTP downloader (orchestration/sources/download.py) against a real server on 127.0.0.1.

Each test scripts what the server answers per path; the server records every request's headers,
so the tests can see what the downloader sent, and how often.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

import pytest

from orchestration.sources.download import Download, DownloadError, download

BODY = "Område;Indikator nr.;Værdi\nArbejde;1.2;58,4\n".encode()
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # "length": Content-Length; "chunked": Transfer-Encoding; "close": no length, body ends at EOF
    framing: Literal["length", "chunked", "close"] = "length"
    content_length: int | None = None  # a Content-Length other than the body's (a lying server)
    delay: float = 0.0  # seconds before answering, to provoke a read timeout


Script = Reply | Callable[[dict[str, str]], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # lower-case names
    status: int


class Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.scripts: dict[str, list[Script]] = {}
        self.requests: list[Request] = []

    def route(self, path: str, *replies: Script) -> str:
        """Answer ``path`` with these replies in turn, the last one from then on; return its URL."""
        self.scripts[path] = list(replies)
        return self.url(path)

    def handle_error(self, request, client_address) -> None:
        # A client hanging up mid-reply (timeout, size limit) is what several tests provoke.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        script = self.scripts.get(path, [Reply(404)])
        step = script.pop(0) if len(script) > 1 else script[0]
        return step(headers) if callable(step) else step


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # needed for chunked replies and keep-alive
    server: Server

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.next_reply(self.path, headers)
        self.server.requests.append(Request(self.path, headers, reply.status))
        time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(reply.body), 4096):
                chunk = reply.body[start : start + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif reply.framing == "close":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
            self.close_connection = True
        else:
            length = len(reply.body) if reply.content_length is None else reply.content_length
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def fetch(url: str, tmp_path: Path, **options) -> Download:
    """download() into tmp_path/landing with a tiny backoff, so retries cost milliseconds."""
    options = {"backoff": 0.01, "timeout": 2.0, **options}
    return download(url, tmp_path / "landing", tmp_path / "downloads.json", **options)


def conditional(body: bytes = BODY) -> Callable[[dict[str, str]], Reply]:
    """A server that validates: 304 when the client already has this version."""

    def reply(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == ETAG:
            return Reply(304, headers={"ETag": ETAG})
        return Reply(200, body, {"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    return reply


def landing_files(tmp_path: Path) -> list[str]:
    """Everything in the landing folder, temp files included."""
    return sorted(p.name for p in (tmp_path / "landing").glob("*"))  # pathlib's * matches .files


def test_serves_a_file_writes_it_and_saves_the_state(server, tmp_path):
    url = server.route("/exports/barometer_1.csv", conditional())

    result = fetch(url, tmp_path)

    assert result.path == tmp_path / "landing" / "barometer_1.csv"
    assert result.path.read_bytes() == BODY
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert (result.unchanged, result.attempts) == (False, 1)
    assert landing_files(tmp_path) == ["barometer_1.csv"]  # no temp file left over
    state = json.loads((tmp_path / "downloads.json").read_text())
    assert state[url]["etag"] == ETAG
    assert state[url]["last_modified"] == LAST_MODIFIED
    assert state[url]["sha256"] == result.sha256
    assert state[url]["file_name"] == "barometer_1.csv"
    assert state[url]["fetched_at"]
    first = server.requests_to("/exports/barometer_1.csv")[0]
    assert "if-none-match" not in first.headers and "if-modified-since" not in first.headers


def test_second_call_is_conditional_and_304_downloads_nothing(server, tmp_path):
    url = server.route("/barometer_1.csv", conditional())
    first = fetch(url, tmp_path)
    stat_before = first.path.stat()
    state_before = (tmp_path / "downloads.json").read_text()

    again = fetch(url, tmp_path)

    sent = server.requests_to("/barometer_1.csv")[1].headers
    assert sent["if-none-match"] == ETAG
    assert sent["if-modified-since"] == LAST_MODIFIED
    assert again == Download(url, first.path, first.sha256, unchanged=True, attempts=1)
    assert [r.status for r in server.requests_to("/barometer_1.csv")] == [200, 304]
    assert first.path.stat().st_mtime_ns == stat_before.st_mtime_ns  # not written again
    assert first.path.stat().st_ino == stat_before.st_ino
    assert (tmp_path / "downloads.json").read_text() == state_before


def test_a_missing_previous_file_is_downloaded_again_unconditionally(server, tmp_path):
    url = server.route("/barometer_1.csv", conditional())
    fetch(url, tmp_path).path.unlink()  # e.g. the landing folder was cleaned

    again = fetch(url, tmp_path)

    assert "if-none-match" not in server.requests_to("/barometer_1.csv")[1].headers
    assert not again.unchanged and again.path.read_bytes() == BODY


def test_fails_twice_with_5xx_then_succeeds_on_the_third_attempt(server, tmp_path, caplog):
    url = server.route(
        "/flaky.csv", Reply(500, b"SECRET-BODY"), Reply(503, b"SECRET-BODY"), Reply(200, BODY)
    )

    with caplog.at_level(logging.WARNING, logger="orchestration.sources.download"):
        result = fetch(url, tmp_path, attempts=3)

    assert result.attempts == 3 and result.path.read_bytes() == BODY
    assert [r.status for r in server.requests_to("/flaky.csv")] == [500, 503, 200]
    retries = [r.getMessage() for r in caplog.records]
    assert len(retries) == 2
    assert "HTTP 500 Internal Server Error; retrying in 0.01 s" in retries[0]
    assert "HTTP 503 Service Unavailable; retrying in 0.02 s" in retries[1]  # backoff doubles
    assert "SECRET-BODY" not in caplog.text  # response bodies are never logged


def test_always_503_gives_up_after_the_configured_attempts(server, tmp_path):
    url = server.route("/down.csv", Reply(503))

    with pytest.raises(DownloadError) as error:
        fetch(url, tmp_path, attempts=4)

    assert str(error.value) == f"{url}: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    assert len(server.requests_to("/down.csv")) == 4
    assert not (tmp_path / "downloads.json").exists()


def test_404_fails_at_once_naming_url_and_status(server, tmp_path):
    url = server.route("/missing.csv", Reply(404))

    with pytest.raises(DownloadError) as error:
        fetch(url, tmp_path, attempts=3)

    assert str(error.value) == f"{url}: HTTP 404 Not Found"
    assert error.value.url == url
    assert len(server.requests_to("/missing.csv")) == 1  # a 4xx is not retried


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(Reply(200, b"x" * 5000, framing="chunked"), id="chunked"),
        pytest.param(Reply(200, b"x" * 5000, framing="close"), id="no-length-until-close"),
        # Content-Length is the gzip body's (~1 kB): only the decoded size is over the limit.
        pytest.param(
            Reply(200, gzip.compress(b"0" * 1_000_000), {"Content-Encoding": "gzip"}),
            id="gzip-bomb",
        ),
    ],
)
def test_a_body_over_max_bytes_fails_while_streaming_and_leaves_no_file(server, tmp_path, reply):
    url = server.route("/big.csv", reply)

    with pytest.raises(DownloadError, match=r"body exceeds the limit of 2000 bytes") as error:
        fetch(url, tmp_path, max_bytes=2000)

    assert str(error.value).startswith(f"{url}: ")
    assert landing_files(tmp_path) == []
    assert len(server.requests_to("/big.csv")) == 1  # too big stays too big: no retry


def test_a_larger_content_length_is_rejected_before_reading_the_body(server, tmp_path):
    # The server announces 1 GB but sends 10 bytes: reading the body would hang until the timeout.
    url = server.route("/huge.csv", Reply(200, b"x" * 10, content_length=1_000_000_000))

    # Only the up-front check can say this: reading would time out and retry instead.
    with pytest.raises(DownloadError, match=r"Content-Length 1000000000 bytes exceeds the limit"):
        fetch(url, tmp_path, max_bytes=1000, timeout=1.0)

    assert landing_files(tmp_path) == []


def test_a_failed_download_leaves_the_previous_file_intact(server, tmp_path):
    url = server.route(
        "/barometer_1.csv", Reply(200, BODY), Reply(200, b"y" * 5000, framing="chunked")
    )
    first = fetch(url, tmp_path)

    with pytest.raises(DownloadError):
        fetch(url, tmp_path, max_bytes=1000)

    assert first.path.read_bytes() == BODY
    assert landing_files(tmp_path) == ["barometer_1.csv"]


def test_a_read_timeout_is_retried(server, tmp_path, caplog):
    url = server.route("/slow.csv", Reply(200, BODY, delay=0.5), Reply(200, BODY))

    with caplog.at_level(logging.WARNING, logger="orchestration.sources.download"):
        result = fetch(url, tmp_path, timeout=0.1)

    assert result.attempts == 2 and result.path.read_bytes() == BODY
    assert "ReadTimeout" in caplog.text


def test_a_connection_error_is_retried_then_fails(tmp_path, caplog):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/barometer_1.csv"

    with caplog.at_level(logging.WARNING, logger="orchestration.sources.download"):
        with pytest.raises(DownloadError, match=r"ConnectError.*gave up after 3 attempts") as error:
            fetch(url, tmp_path, attempts=3)

    assert str(error.value).startswith(f"{url}: ")
    assert len(caplog.records) == 2  # two retries logged, each with its reason and wait
    assert all(
        "ConnectError" in r.getMessage() and "retrying in" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    ("path", "disposition", "expected"),
    [
        ("/export?id=7", 'attachment; filename="barometer_2024.csv"', "barometer_2024.csv"),
        ("/export", "attachment; filename*=UTF-8''omr%C3%A5de.csv", "område.csv"),
        # Only the last component counts: a server cannot write outside the landing folder.
        ("/export", 'attachment; filename="../../etc/evil.csv"', "evil.csv"),
        ("/exports/barometer%201.csv", None, "barometer 1.csv"),
        ("/", None, "download.csv"),
    ],
)
def test_the_file_name(server, tmp_path, path, disposition, expected):
    headers = {"Content-Disposition": disposition} if disposition else {}
    url = server.route(path, Reply(200, BODY, headers))

    result = fetch(url, tmp_path)

    assert result.path == tmp_path / "landing" / expected
    assert landing_files(tmp_path) == [expected]


def test_only_http_urls_are_accepted(tmp_path):
    with pytest.raises(DownloadError, match=r"^file:///etc/passwd: only http and https"):
        fetch("file:///etc/passwd", tmp_path)
