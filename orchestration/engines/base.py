"""``Engine``: one engine's part of the night, a Dagster resource (``engines/__init__.py``)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd

from orchestration.settings import Settings


class Engine(dg.ConfigurableResource):
    """One engine's part of the night. Holds what it needs for the whole run (the DuckDB file's
    refresh lock is the ``duckdb`` resource's; the server's night lock is this resource's)."""

    name: ClassVar[str]  # ``duckdb`` or ``postgres``: the kind of the dbt assets
    # Where dbt builds the marts, and the gates read them before publishing.
    built_marts_schema: ClassVar[str]
    published_kinds: ClassVar[set[str]]  # the kinds of the ``serving`` asset
    # What a night's generation holds on this engine (publish/generation.py): switched together.
    generation_paths: ClassVar[tuple[str, ...]]

    @abstractmethod
    def published_place(self) -> str:
        """Where the night is published, in words for messages and alerts."""

    def night_lock(self) -> AbstractContextManager[None]:
        """Held by ``barometer refresh`` before its run starts, re-entered by the run; raises
        ``EngineError`` naming the holder when another night holds the engine."""
        return nullcontext()

    def dbt_environment(self) -> dict[str, str]:
        """Variables for tonight's dbt process on top of the settings' own."""
        return {}

    def before_dbt(self, settings: Settings, log: dg.DagsterLogManager) -> None:  # noqa: B027
        """Bring tonight's raw rows to where dbt reads them (nothing to do when that is the raw
        store itself)."""

    def after_dbt(self, settings: Settings) -> None:  # noqa: B027
        """Put right what dbt wrote about the build rather than about the publication."""

    @abstractmethod
    def frame(self, query: str) -> pd.DataFrame:
        """A query on tonight's built marts, as pandas: the gates' batches."""

    @abstractmethod
    def describer(self) -> AbstractContextManager[Callable[[dg.AssetKey], dict]]:
        """While open: the metadata (row count, preview) of the relation behind a dbt asset."""

    @abstractmethod
    def previous_published_at(self, settings: Settings) -> datetime | None:
        """When the marts now served were published; None before the first publication."""

    @abstractmethod
    def publish(
        self, settings: Settings, tables: list[str], log: dg.DagsterLogManager
    ) -> Published:
        """Publish tonight's checked marts as one night, with their descriptions and a row in
        ``marts.publication``; compare them with the previous publication. Begins tonight's
        generation (publish/generation.py), which the ``published`` step switches to."""

    @abstractmethod
    def report_database(self, settings: Settings, refresh: bool = False) -> Path:
        """A DuckDB file holding tonight's marts, which the report page reads; ``refresh``: the
        marts as published now (``barometer report``)."""

    def check(self) -> Iterator[tuple[str, str, bool]]:
        """What ``barometer check-config`` checks beyond the variables: (what, verdict, whether
        the night can run so)."""
        return iter(())


@dataclass(frozen=True)
class Published:
    """What publishing did: rows per table, the publication row it wrote, Copenhagen's changes
    against the previous publication (the data alerts) and the engine's own metadata."""

    counts: Mapping[str, int]
    publication: Mapping[str, object]
    changes: list[dict]
    metadata: Mapping[str, object] = field(default_factory=dict)
