"""dbt's unit tests of the gap, status and verdict logic: run here, not in the nightly build."""

import json
import os
import re
import subprocess

from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR


def test_every_dbt_unit_test_passes(published_copy, dbt_manifest, tmp_path):
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    expected = len(manifest["unit_tests"])
    assert expected >= 7  # gap, status, projection and verdict cases, case outcomes

    # dbt unit tests read the column types of their inputs from the warehouse, so they run
    # against a built copy; their own target folder leaves the prepared manifest alone.
    result = subprocess.run(
        [str(DBT_EXECUTABLE), "test", "--select", "test_type:unit"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "DBT_TARGET_PATH": str(tmp_path / "target")},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout[-4000:]
    assert re.search(rf"PASS={expected}\b", result.stdout), result.stdout[-2000:]
