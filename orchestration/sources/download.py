"""Download barometer exports over HTTP(S) for the nightly extract, free of Dagster and dbt.

One call fetches one URL into a folder and returns where the file is and its sha256. It is safe to
run every night against a slow or flaky server:

- timeouts on connect and on every read, and a size limit checked both against
  ``Content-Length`` and while streaming, so a runaway response cannot fill the disk;
- retries with exponential backoff on 5xx responses and on connection errors or timeouts, but none
  on 4xx, which will not fix themselves;
- conditional requests (``If-None-Match`` / ``If-Modified-Since``) from a small JSON state file,
  so an unchanged export is not downloaded again (``304 Not Modified``);
- the file appears atomically (temp file + ``os.replace``): a reader never sees half a file and a
  failed download leaves the previous one untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

logger = logging.getLogger("orchestration.sources.download")

FALLBACK_FILE_NAME = "download.csv"
_CHUNK_SIZE = 64 * 1024
_USER_AGENT = "barometer-warehouse (Koebenhavns Kommune)"  # header values must be ASCII
# Failures a later attempt can cure. Others (bad URL, unsupported scheme, too many redirects) can't.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class DownloadError(RuntimeError):
    """A download that failed for good; the message names the URL and what went wrong."""

    def __init__(self, url: str, reason: str, *, transient: bool = False):
        self.url, self.reason = url, reason
        self.transient = transient  # the server or network failed: a later try may succeed
        super().__init__(f"{url}: {reason}")


@dataclass(frozen=True)
class Download:
    url: str
    path: Path | None  # the file on disk (new or previously downloaded); None if 304 and it's gone
    sha256: str | None
    unchanged: bool  # True on 304 Not Modified: nothing was downloaded
    attempts: int  # requests made, retries included


class _Retry(Exception):
    """An attempt that failed in a way the next one may not."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def download(
    url: str,
    dest_dir: Path,
    state_path: Path,
    *,
    max_bytes: int = 50_000_000,
    timeout: float = 30.0,
    attempts: int = 3,
    backoff: float = 1.0,
    client: httpx.Client | None = None,
) -> Download:
    """Fetch ``url`` into ``dest_dir`` unless unchanged since the download in ``state_path``.

    ``timeout`` bounds the connect and each read (not the whole transfer); ``max_bytes`` bounds the
    (decoded) body. Attempt ``n`` that fails transiently is followed by a wait of
    ``backoff * 2 ** (n - 1)`` seconds. Raises ``DownloadError`` once the download cannot succeed.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(url, "only http and https URLs can be downloaded")
    dest_dir = Path(dest_dir)
    state = _load_state(state_path)
    previous = state.get(url)
    previous_path = _previous_file(dest_dir, previous)

    headers = {"User-Agent": _USER_AGENT}
    # Only ask "changed since?" when the file we would fall back to is still there, intact;
    # otherwise a 304 would leave the caller without the data.
    if previous and previous_path:
        if previous.get("etag"):
            headers["If-None-Match"] = previous["etag"]
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = previous["last_modified"]

    own_client = client is None
    http = client or httpx.Client()
    try:
        for attempt in range(1, attempts + 1):
            try:
                result = _attempt(http, url, dest_dir, headers, max_bytes, timeout)
            except _Retry as retry:
                if attempt == attempts:
                    raise DownloadError(
                        url, f"{retry.reason} (gave up after {attempts} attempts)", transient=True
                    ) from None
                wait = backoff * 2 ** (attempt - 1)
                logger.warning(
                    "%s: %s; retrying in %.2f s (attempt %d of %d failed)",
                    url,
                    retry.reason,
                    wait,
                    attempt,
                    attempts,
                )
                time.sleep(wait)
                continue
            if result is None:  # 304
                logger.info("%s: not modified since the last download", url)
                return Download(
                    url=url,
                    path=previous_path,
                    sha256=previous["sha256"] if previous and previous_path else None,
                    unchanged=True,
                    attempts=attempt,
                )
            path, sha256, response_headers = result
            state[url] = {
                "etag": response_headers.get("ETag"),
                "last_modified": response_headers.get("Last-Modified"),
                "sha256": sha256,
                "file_name": path.name,
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _save_state(state_path, state)
            return Download(url=url, path=path, sha256=sha256, unchanged=False, attempts=attempt)
    finally:
        if own_client:
            http.close()
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _attempt(
    http: httpx.Client,
    url: str,
    dest_dir: Path,
    headers: dict[str, str],
    max_bytes: int,
    timeout: float,
) -> tuple[Path, str, httpx.Headers] | None:
    """One request: the written file, its sha256 and the response headers; None on 304."""
    try:
        with http.stream(
            "GET", url, headers=headers, timeout=timeout, follow_redirects=True
        ) as response:
            status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            if response.status_code == 304:
                return None
            if response.status_code >= 500:
                raise _Retry(status)
            if response.status_code != 200:  # 4xx, or a 2xx/3xx we can't treat as the file
                raise DownloadError(url, status)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise DownloadError(
                    url, f"Content-Length {declared} bytes exceeds the limit of {max_bytes}"
                )
            target = dest_dir / _file_name(url, response.headers.get("Content-Disposition"))
            sha256 = _write_atomically(response, target, max_bytes, url)
            return target, sha256, response.headers
    except _TRANSIENT as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
    except httpx.HTTPError as exc:
        raise DownloadError(url, f"{type(exc).__name__}: {exc}") from None


def _write_atomically(response: httpx.Response, target: Path, max_bytes: int, url: str) -> str:
    """Stream the body into a temp file beside ``target``, then rename it; return its sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    # Same folder as the target, so os.replace is an atomic rename on one filesystem.
    tmp_path = _temp_beside(target)
    try:
        with tmp_path.open("xb") as tmp:
            for chunk in response.iter_bytes(_CHUNK_SIZE):
                size += len(chunk)
                # Checked as we go: the body may have no Content-Length, or a wrong one.
                if size > max_bytes:
                    raise DownloadError(url, f"body exceeds the limit of {max_bytes} bytes")
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _temp_beside(target: Path) -> Path:
    # Not tempfile.mkstemp: its files are mode 0600, and the export should get the usual umask.
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")


def _file_name(url: str, content_disposition: str | None) -> str:
    """The Content-Disposition filename, else the URL path's last segment, else a fallback.

    Only the last path component is kept, so a server cannot write outside ``dest_dir``.
    """
    candidates = []
    if content_disposition:
        message = Message()
        message["Content-Disposition"] = content_disposition
        candidates.append(message.get_filename())  # handles filename*=UTF-8''… too
    candidates.append(unquote(urlsplit(url).path))
    for candidate in candidates:
        if not candidate:
            continue
        name = PurePosixPath(candidate.replace("\\", "/")).name.strip()
        if name not in ("", ".", "..") and "\x00" not in name:
            return name
    return FALLBACK_FILE_NAME


def _previous_file(dest_dir: Path, previous: dict[str, Any] | None) -> Path | None:
    """The file of the last download if it is still there with the recorded content."""
    if not previous or not previous.get("file_name"):
        return None
    path = dest_dir / previous["file_name"]
    if not path.is_file():
        return None
    # Another URL with the same file name, or a hand edit, may have replaced it since.
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    return path if digest.hexdigest() == previous.get("sha256") else None


def _load_state(state_path: Path) -> dict[str, dict[str, Any]]:
    try:
        state = json.loads(Path(state_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        # Losing the state only costs one full download per URL; don't fail the night for it.
        logger.warning("%s: unreadable download state (%s); starting afresh", state_path, exc)
        return {}
    return state if isinstance(state, dict) else {}


def _save_state(state_path: Path, state: dict[str, dict[str, Any]]) -> None:
    state_path = Path(state_path)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _temp_beside(state_path)
    try:
        with tmp_path.open("x", encoding="utf-8") as tmp:
            json.dump(state, tmp, indent=2, sort_keys=True, ensure_ascii=False)
            tmp.write("\n")
        os.replace(tmp_path, state_path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
