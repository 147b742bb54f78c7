"""Sensors: a file dropped in BAROMETER_DROP_DIR starts a refresh."""

import json

import dagster as dg

from orchestration.automation.schedules import nightly_refresh
from orchestration.raw.store import file_sha256
from orchestration.settings import Settings
from orchestration.sources.inventory import dropped_files


@dg.sensor(
    name="barometer_drop_folder",
    job=nightly_refresh,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Starts a refresh when a new or changed export appears in BAROMETER_DROP_DIR; a file "
        "with the same sha256 as before is skipped, a symbolic link ignored with a warning."
    ),
)
def barometer_drop_folder(
    context: dg.SensorEvaluationContext, settings: dg.ResourceParam[Settings]
):
    if settings.drop_dir is None:
        return dg.SkipReason("BAROMETER_DROP_DIR is not set: no drop folder to watch")
    seen = json.loads(context.cursor) if context.cursor else {}
    current = {
        path.name: file_sha256(path)
        for path in dropped_files(settings.drop_dir, context.log.warning)
    }
    changed = sorted(name for name, sha in current.items() if seen.get(name) != sha)
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:
        return dg.SkipReason(
            f"{len(current)} file(s) in {settings.drop_dir}, none new or changed "
            "(same sha256 as before): skipped"
        )
    return dg.RunRequest(
        run_key=",".join(f"{name}:{current[name][:16]}" for name in changed),
        tags={"barometer/trigger": "drop_folder", "barometer/files": ", ".join(changed)},
    )
