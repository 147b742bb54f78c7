"""The night's pages over HTTP on 127.0.0.1 as `make dev` serves them, and the links the Dagster
UI shows for them: a real server, real requests, the assets' and checks' own metadata."""

import dataclasses
import http.client
import socket
from pathlib import Path

import dagster as dg
import httpx
import pytest
from conftest import refresh
from test_quality_gate import as_fractions, rewrite

from orchestration.assets.report import dbt_docs, report
from orchestration.engines import engine_for
from orchestration.quality.checks import DATA_DOCS, DATA_DOCS_LINK
from orchestration.ui.pages import serve_pages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(published_copy):
    """The copy's pages on a free port, and its settings with that port."""
    server = serve_pages(published_copy.warehouse_dir, free_port())
    try:
        yield dataclasses.replace(published_copy, pages_port=server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def status(settings, path: str) -> int:
    """The status of a request for ``path`` exactly as written (no client normalises it)."""
    connection = http.client.HTTPConnection("127.0.0.1", settings.pages_port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_report_and_dbt_docs_link_to_their_served_pages(served):
    resources = {"settings": served, "engine": engine_for(served)}
    result = dg.materialize([report, dbt_docs], resources=resources)
    assert result.success
    for materialization in result.get_asset_materialization_events():
        metadata = materialization.materialization.metadata
        url, path = metadata["open"].value, Path(metadata["path"].value)
        assert url.startswith(f"http://127.0.0.1:{served.pages_port}/")
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200
        assert response.content == path.read_bytes()


def test_a_failed_check_links_its_data_docs_page(served):
    rewrite(served.source_dir / "barometer_1_arbejde.csv", as_fractions)
    result = refresh(served)
    (failed,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    page = Path(failed.metadata[DATA_DOCS].value)
    response = httpx.get(failed.metadata[DATA_DOCS_LINK].value, timeout=10)
    assert response.status_code == 200 and response.content == page.read_bytes()
    assert "Failed Only" in response.text
    # Its stylesheets are served beside it, as the browser will ask for them.
    stylesheet = httpx.get(httpx.URL(str(response.url)).join("static/bootstrap/bootstrap.min.css"))
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"] == "text/css"


def test_only_report_and_docs_are_served(served):
    server_home = httpx.get(f"http://127.0.0.1:{served.pages_port}/", timeout=10)
    assert server_home.status_code == 200 and 'href="report/index.html"' in server_home.text
    assert status(served, "/report/index.html") == 200
    # The warehouse folder around them holds personal data.
    assert (served.warehouse_dir / "warehouse.duckdb").exists()
    for path in (
        "/warehouse.duckdb",
        "/serving.duckdb",
        "/report/../warehouse.duckdb",
        "/docs/%2e%2e/warehouse.duckdb",
        "/landing/",
    ):
        assert status(served, path) == 404, path


def test_the_server_listens_on_loopback_only(tmp_path):
    server = serve_pages(tmp_path, free_port())
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
