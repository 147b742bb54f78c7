"""The night's pages, ``report/`` and ``docs/`` of the warehouse folder, over HTTP on 127.0.0.1.

A browser opens no ``file://`` link from a web page such as the Dagster UI, so `barometer dev`
serves the pages beside the UI and the assets link here (``Settings.page_url``). Only these two
folders: the rest of the warehouse folder holds personal data and is never served.
"""

from __future__ import annotations

import functools
import io
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PUBLISHED = ("report", "docs")
HOME = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Barometer pages</title></head><body>
<h1>The night's pages</h1><ul>
<li><a href="report/index.html">The report</a></li>
<li><a href="docs/quality/index.html">Data quality (Great Expectations)</a></li>
<li><a href="docs/dbt/index.html">The models (dbt docs)</a></li>
</ul></body></html>
"""


class PagesHandler(SimpleHTTPRequestHandler):
    def send_head(self):
        # translate_path has already dropped any "..", so this is where the file really is.
        parts = Path(self.translate_path(self.path)).relative_to(self.directory).parts
        if not parts:
            return self._home()
        if parts[0] not in PUBLISHED:
            self.send_error(HTTPStatus.NOT_FOUND, "only report/ and docs/ are served")
            return None
        return super().send_head()

    def _home(self) -> io.BytesIO:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HOME)))
        self.end_headers()
        return io.BytesIO(HOME)

    def log_message(self, format, *args) -> None:
        pass  # the terminal is the UI's log; a line per stylesheet would drown it


def serve_pages(warehouse_dir: Path, port: int) -> ThreadingHTTPServer:
    """Serve in a thread of this process until ``shutdown()``; binds 127.0.0.1 only."""
    handler = functools.partial(PagesHandler, directory=str(warehouse_dir))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="pages", daemon=True).start()
    return server
