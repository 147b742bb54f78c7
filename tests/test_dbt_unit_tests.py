"""dbt's unit tests of the gap, status and verdict logic: run here, not in the nightly build."""

import json
import re

from conftest import dbt


def test_every_dbt_unit_test_passes(published_copy, dbt_manifest, tmp_path):
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    expected = len(manifest["unit_tests"])
    assert expected >= 7  # gap, status, projection and verdict cases, case outcomes

    # dbt unit tests read the column types of their inputs from the warehouse, so they run
    # against a built copy.
    target = tmp_path / "target"
    result = dbt(published_copy.warehouse_path, target, "test", "--select", "test_type:unit")

    assert result.returncode == 0, result.stdout[-4000:]
    assert re.search(rf"PASS={expected}\b", result.stdout), result.stdout[-2000:]
