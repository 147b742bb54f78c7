"""Both engines' code locations against a stored snapshot: asset keys, deps, groups, kinds,
checks, jobs, schedules, sensors and resources.

A layout move changes no line of the snapshot; a change to the graph shows up in review as a
change to ``snapshots/code_location_<engine>.json``. To accept an intended change, run
``BAROMETER_UPDATE_SNAPSHOT=1 pytest tests/test_code_location_snapshot.py`` and commit the diff.
"""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions
from orchestration.settings import Settings

SNAPSHOTS = Path(__file__).parent / "snapshots"


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "step": node.assets_def.node_def.name,
        }
    checks = sorted(
        f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys
    )
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in repository.get_all_jobs()),
        "schedules": sorted(s.name for s in repository.schedule_defs),
        "sensors": sorted(s.name for s in repository.sensor_defs),
        "resources": sorted(defs.resources or {}),
    }


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_code_location_is_as_snapshotted(engine, tmp_path):
    settings = Settings.from_env(
        {"BAROMETER_WAREHOUSE_DIR": str(tmp_path), "BAROMETER_ENGINE": engine}
    )
    found = describe(build_definitions(settings))
    path = SNAPSHOTS / f"code_location_{engine}.json"
    if os.environ.get("BAROMETER_UPDATE_SNAPSHOT"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert found == json.loads(path.read_text(encoding="utf-8"))
