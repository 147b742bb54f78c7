"""The night's child processes: forked from one server process (multiprocessing's forkserver)
that has imported what they run: dbt for the dbt step (transform/dbt_process.py), Great
Expectations for the gates (quality/validators.py).

The server is started once a process, as a night starts (``start_children``): its imports
(about 4 s) run on the other core beside Dagster's set-up and the extracts, and a child then
starts in milliseconds. A process that runs many nights (the tests, ``barometer dev``) imports
them once. The server itself opens no file of the night's and holds no lock: one left by a
killed night holds nothing the next night needs, and it ends when the night's process does.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver

# In the order the night needs them: the raw gates come before dbt.
PRELOAD = [
    "orchestration.quality.validators",
    "great_expectations",
    "great_expectations.render.renderer",
    "orchestration.transform.dbt_process",
    "dbt.cli.main",
    "orchestration.children_server",
]


def children() -> multiprocessing.context.ForkServerContext:
    """The context whose ``Process`` forks from the server, starting it if need be."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_children() -> None:
    """Start the server now, so that its imports run in the background."""
    children()
    multiprocessing.forkserver.ensure_running()


def freeze_imports() -> None:
    """Called first in a child: what the server imported (GE's and dbt's hundreds of thousands
    of objects) is left out of the child's garbage collections, which would otherwise walk it
    every time (bench/RESULTS.md: 0.3 s of a night's dbt step). O(1): the lists are moved."""
    gc.freeze()
