"""The full log of a night run from the command line: one private file a night, the last kept."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TextIO

KEEP = 30  # nights of logs; older ones are removed when a night starts


def night_log_path(logs_dir: Path) -> Path:
    """``logs/refresh-20261204-020000.log``; the oldest beyond ``KEEP`` are removed."""
    logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for old in sorted(logs_dir.glob("refresh-*.log"))[: -(KEEP - 1) or None]:
        old.unlink(missing_ok=True)
    return logs_dir / f"refresh-{datetime.now():%Y%m%d-%H%M%S}.log"


def open_log(path: Path) -> NightLog:
    """The log opened for appending, readable by its owner only (it names files and tables)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return NightLog(os.fdopen(descriptor, "w", encoding="utf-8", buffering=1))


class NightLog:
    """The night's log file, which never fails the night: on a full disk the log stops and the
    night goes on to say so in its own words (``lost`` is why the log is incomplete)."""

    def __init__(self, file: TextIO):
        self.file = file
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                self.file.write(text)
            except OSError as error:
                self.lost = error
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                self.file.flush()
            except OSError as error:
                self.lost = error

    def isatty(self) -> bool:
        return False

    def __enter__(self) -> NightLog:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.file.close()
        except OSError as error:
            self.lost = self.lost or error


class Tee:
    """Writes to the log and the console at once (``barometer refresh -v``)."""

    def __init__(self, *streams: TextIO):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()

    def isatty(self) -> bool:
        return False
