"""The Dagster UI, started for real on a free loopback port, shows the whole code location."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestration.settings import PROJECT_ROOT

QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    owners { ... on TeamAssetOwner { team } }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes { jobs { name } schedules { name } sensors { name } }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webserver(tmp_path, dbt_manifest):
    port = free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BAROMETER_WAREHOUSE_DIR": str(tmp_path)}
    webserver_bin = Path(sys.executable).with_name("dagster-webserver")
    process = subprocess.Popen(
        [str(webserver_bin), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):  # the code location loads in a few seconds; allow a slow machine
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the webserver exited"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def graphql(url: str) -> dict:
    for _ in range(120):  # the server answers before the code location has loaded
        response = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=30).json()
        if response["data"]["assetNodes"]:
            return response["data"]
        time.sleep(0.5)
    raise AssertionError(f"the code location did not load: {response}")


def test_ui_lists_every_asset_check_job_schedule_and_sensor(webserver):
    data = graphql(webserver)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert {
        "raw/barometer_indicator_values",
        "staging/stg_barometer__indicator_values",
        "marts/fct_target_gap",
        "serving",
    } <= set(nodes)
    assert nodes["raw/barometer_indicator_values"]["groupName"] == "extract"
    assert nodes["serving"]["groupName"] == "publish"
    assert nodes["serving"]["owners"] == [{"team": "integrationsdata"}]
    checks = {c["name"]: c for c in nodes["marts/fct_target_gap"]["assetChecksOrError"]["checks"]}
    assert checks["great_expectations"]["blocking"] is True
    raw_checks = nodes["raw/barometer_indicator_values"]["assetChecksOrError"]["checks"]
    assert {"great_expectations", "freshness_check"} <= {c["name"] for c in raw_checks}
    (repository,) = data["repositoriesOrError"]["nodes"]
    assert "nightly_refresh" in {j["name"] for j in repository["jobs"]}
    assert [s["name"] for s in repository["schedules"]] == ["nightly_refresh_at_0200"]
    assert {"barometer_drop_folder", "freshness_checks_sensor"} <= {
        s["name"] for s in repository["sensors"]
    }
