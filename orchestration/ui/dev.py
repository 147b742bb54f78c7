"""`barometer dev`: the Dagster UI and the pages server, started together and stopped together.

`dagster dev` runs the webserver, the daemon and a code server as its children; left to itself
it took about 40 s to stop after Ctrl-C or SIGTERM. Here it runs in a process group of its own:
a signal is passed to the whole group, and whatever still runs after a short grace is killed.
The pages server (``pages.py``) is a thread of this process and stops with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.ui.pages import serve_pages

# Long enough for the webserver and the daemon to close their storage cleanly, short enough
# that a person at the terminal is not left waiting.
GRACE_SECONDS = 5.0
STOPPING = (signal.SIGINT, signal.SIGTERM)


def run_dev(settings: Settings, port: int) -> int:
    """Serve until SIGINT or SIGTERM (or until the UI exits); the UI's exit code, 0 on a signal."""
    ui = f"http://127.0.0.1:{port}"
    pages = f"http://127.0.0.1:{settings.pages_port}/"
    try:
        server = serve_pages(settings.warehouse_dir, settings.pages_port)
    except OSError as error:
        say(f"cannot serve the pages on {pages} (BAROMETER_PAGES_PORT): {error.strerror}")
        return 1
    received: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _: received.append(signum)) for s in STOPPING}
    command = [
        str(Path(sys.executable).with_name("dagster")), "dev",
        "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, start_new_session=True)
    say(f"Starting the Dagster UI at {ui} (Ctrl-C stops it) ...")
    try:
        ready = False
        while not received and process.poll() is None:
            if not ready and answers(f"{ui}/server_info"):
                say(f"The Dagster UI is ready at {ui}; the report and the docs at {pages}")
                say("Press Ctrl-C to stop the UI, its daemon and the pages server.")
                ready = True
            time.sleep(0.5)
    finally:
        started = time.monotonic()
        stop(process, received[0] if received else signal.SIGTERM)
        server.shutdown()
        server.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        say(f"Stopped in {time.monotonic() - started:.1f} s.")
        return 0
    return process.returncode


def stop(process: subprocess.Popen, signum: int) -> None:
    """Pass ``signum`` to the process group; after the grace, kill whatever is left of it."""
    group = process.pid  # start_new_session: the group's id is its leader's pid
    send(group, signum)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and send(group, 0):
        process.poll()  # reap the leader, or it stays in the group as a zombie
        time.sleep(0.1)
    send(group, signal.SIGKILL)
    process.wait()


def send(group: int, signum: int) -> bool:
    """Signal the group; False when none of it is left (signal 0 only asks)."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def say(line: str) -> None:
    print(f"barometer dev: {line}", flush=True)
