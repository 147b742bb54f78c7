"""A gate's suites validated side by side in child processes of the night's server
(children.py), which imported Great Expectations as the night started.

GE's import (about 2.2 s) so runs on the other core beside the night's first steps, and never
in the night's own process. A gate starts at most one child a core and hands each its suites
one at a time, while it reads the next batch; the child validates, writes the suite's Data
Docs page (data_docs.py) and sends back the verdict, with whatever GE printed, for the night's
log. A child lives as long as its gate: it ends when the gate closes its pipe, or dies with
the night. Knows GE and processes, not Dagster.
"""

from __future__ import annotations

import io
import logging
import os
import traceback
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from pathlib import Path

import pandas as pd

from orchestration.children import children, freeze_imports
from orchestration.privacy import make_umask_private
from orchestration.quality.data_docs import write_suite_page
from orchestration.quality.suites import Suite
from orchestration.quality.validation import SuiteResult, validate_frame
from orchestration.settings import TELEMETRY_OFF

WORKERS = os.cpu_count() or 1  # GE computes on one core
NO_VERDICT = (None, None, "", None)  # what a child that died sent


class Validation:
    """One suite handed to a child: its verdict when asked."""

    def __init__(self, suite: str, worker: _Worker) -> None:
        self.suite = suite
        self.worker = worker
        self.outcome: tuple | None = None

    def wait(self) -> None:
        if self.outcome is None:
            self.worker.receive()

    def result(self) -> tuple[SuiteResult, Path]:
        """The verdict and the suite's page; what the child raised is raised here."""
        self.wait()
        result, page, printed, error = self.outcome
        if printed:
            print(printed, end="", flush=True)  # the night's log: the step's captured output
        if error is not None:
            raise error
        if result is None:
            raise RuntimeError(
                f"The validation of suite {self.suite} stopped without a verdict "
                f"(exit code {self.worker.exitcode})"
            )
        return result, page


class _Worker:
    """One child and the pipe to it, with at most one suite in hand."""

    def __init__(self, job: tuple) -> None:
        forked = children()
        self._pipe, theirs = forked.Pipe()
        self._child = forked.Process(target=_serve, args=(theirs, *job), name="validate")
        self._child.start()
        theirs.close()  # the child's end is the child's alone: its exit ends the pipe
        self.current: Validation | None = None

    @property
    def exitcode(self) -> int | None:
        return self._child.exitcode

    def hand(self, frame: pd.DataFrame, suite: Suite, fingerprint: str) -> Validation:
        self.current = Validation(suite.name, self)
        self._pipe.send((frame, suite, fingerprint))
        return self.current

    def receive(self) -> None:
        try:
            self.current.outcome = self._pipe.recv()
        except EOFError:  # the child died (killed, out of memory)
            self._child.join()
            self.current.outcome = NO_VERDICT
        self.current = None

    def close(self, stop: bool) -> None:
        """End the child: at once with ``stop``, else as it waits for its next suite."""
        if stop:
            self._child.kill()
        self._pipe.close()
        self._child.join()
        if self.current is not None:
            self.current.outcome = NO_VERDICT
            self.current = None


class Validations:
    """The suites of one gate, handed to at most ``WORKERS`` children; a gate that stops (a
    failure, a stopped run) stops its children with it."""

    def __init__(self, parameters: dict, docs_dir: Path, run_id: str) -> None:
        self._job = (parameters, docs_dir, run_id)
        self._workers: list[_Worker] = []
        self._handed: list[Validation] = []

    def start(self, frame: pd.DataFrame, suite: Suite, fingerprint: str) -> Validation:
        """Hand the suite to an idle child, to a new one, or to the first to finish."""
        idle = [w for w in self._workers if w.current is None and w.exitcode is None]
        if idle:
            worker = idle[0]
        elif len([w for w in self._workers if w.exitcode is None]) < WORKERS:
            worker = _Worker(self._job)
            self._workers.append(worker)
        else:
            oldest = next(v for v in self._handed if v.outcome is None)
            oldest.wait()
            return self.start(frame, suite, fingerprint)
        self._handed.append(worker.hand(frame, suite, fingerprint))
        return self._handed[-1]

    def __enter__(self) -> Validations:
        return self

    def __exit__(self, error_type, *exc) -> None:
        for worker in self._workers:
            worker.close(stop=error_type is not None)


def _serve(pipe, parameters: dict, docs_dir: Path, run_id: str) -> None:
    """The child: validate each suite the gate hands over until it closes the pipe. Its files
    are private whatever umask the server started with."""
    freeze_imports()
    make_umask_private()
    os.environ.update(TELEMETRY_OFF)
    while True:
        try:
            frame, suite, fingerprint = pipe.recv()
        except EOFError:
            return
        try:
            pipe.send(_validate(frame, suite, parameters, docs_dir, run_id, fingerprint))
        except OSError:
            return  # the gate was stopped: nobody waits for this verdict


def _validate(
    frame: pd.DataFrame,
    suite: Suite,
    parameters: dict,
    docs_dir: Path,
    run_id: str,
    fingerprint: str,
) -> tuple:
    """Validate, write the page; the verdict (without GE's own result object, which only the
    page needed), the page, what GE printed and what was raised."""
    printed = io.StringIO()
    # GE's warnings go to the gate, as they would in the night's own process; not to the
    # console handler the server's import of dbt set up, which would show GE's INFO lines too.
    handler = logging.StreamHandler(printed)
    handler.setLevel(logging.WARNING)
    logging.root.handlers = [handler]
    try:
        with redirect_stdout(printed), redirect_stderr(printed):
            result = validate_frame(frame, suite, parameters)
            page = write_suite_page(docs_dir, result, run_id, fingerprint)
        return replace(result, validation=None), page, printed.getvalue(), None
    except Exception as error:  # sent to the gate, which raises it
        # An OSError keeps its errno (a full disk is named as such); GE's own errors may not
        # survive pickling, their text does.
        sent = error if isinstance(error, OSError) else RuntimeError(traceback.format_exc())
        return None, None, printed.getvalue(), sent
