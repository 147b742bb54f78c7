"""Faults of the machine in the product's own words: a full disk is one sentence, in any step.

A full disk shows up as ``OSError`` (ENOSPC, EDQUOT, EFBIG) from Python, as "No space left on
device" inside a DuckDB error, or in the output of dbt's process. Waiting frees no disk, so the
night fails at once, without retries, saying where and what to do.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

_SIGNS = ("No space left on device", "Disk quota exceeded", "File too large")


def is_disk_full(error: BaseException | str) -> bool:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    return any(sign in str(error) for sign in _SIGNS)


def disk_full_failure(folder: Path, reason: str, published: str) -> dg.Failure:
    """The fault table's line for a full disk under ``folder``; ``published``: the engine's
    published place (engines.published_place)."""
    lines = reason.strip().splitlines() or ["no details"]
    said = next((line for line in lines if is_disk_full(line)), lines[0])  # DuckDB's own words
    return dg.Failure(
        f"The disk holding {folder} is full ({said.strip()}): the night "
        f"stopped and the published {published} is as it was; free space there and run the "
        "refresh again",
        allow_retries=False,
    )


@contextmanager
def disk_faults(folder: Path, published: str) -> Iterator[None]:
    """Turn a full disk met inside the block into the fault table's line."""
    try:
        yield
    except (OSError, duckdb.Error) as error:
        if not is_disk_full(error):
            raise
        said = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise disk_full_failure(folder, said, published) from None
