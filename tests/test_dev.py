"""`barometer dev` (what `make dev` runs) for real: the UI and the pages answer on 127.0.0.1, and
Ctrl-C or SIGTERM stops every process of it (webserver, daemon, code server, pages server)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestration.settings import PROJECT_ROOT

# A generous bound: this guards that it stops on its own (it used to take ~40 s), not its speed.
STOPS_WITHIN_SECONDS = 15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes() -> dict[int, tuple[int, str]]:
    """Every live process: its parent and state, from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        table[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> dict[int, str]:
    """The process tree under ``pid``, each with its command line."""
    table, found, todo = processes(), {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _) in table.items():
            if ppid == parent:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                found[child] = cmdline.decode(errors="replace")
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    return pid in processes() and processes()[pid][1] != "Z"


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_dev_serves_the_ui_and_the_pages_and_stops_on_a_signal(tmp_path, stop_signal):
    ui_port, pages_port = free_port(), free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BAROMETER_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "BAROMETER_PAGES_PORT": str(pages_port),
    }
    output = tmp_path / "dev.log"
    barometer = str(Path(sys.executable).with_name("barometer"))
    with output.open("w") as log:
        dev = subprocess.Popen(
            [barometer, "dev", "--port", str(ui_port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ui, pages = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{pages_port}/"
    tree = {}
    try:
        for _ in range(360):  # the code location loads in seconds; a busy machine takes longer
            if "is ready" in output.read_text():
                break
            assert dev.poll() is None, output.read_text()
            time.sleep(0.5)
        assert answers(f"{ui}/server_info") and answers(pages)
        tree = descendants(dev.pid)
        commands = " ".join(tree.values())
        assert "dagster_webserver" in commands and "dagster._daemon" in commands

        started = time.monotonic()
        dev.send_signal(stop_signal)
        dev.wait(timeout=60)
        seconds = time.monotonic() - started
        print(f"barometer dev stopped {len(tree)} processes in {seconds:.1f} s")
        left = {pid: tree[pid] for pid in tree if alive(pid)}
    finally:
        if dev.poll() is None:
            dev.kill()
        for pid in tree:  # only what this test started, and only if still there
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    said = output.read_text()
    assert f"The Dagster UI is ready at {ui}; the report and the docs at {pages}" in said
    assert "Press Ctrl-C to stop" in said
    assert dev.returncode == 0
    assert seconds < STOPS_WITHIN_SECONDS
    assert left == {}
    assert not answers(f"{ui}/server_info") and not answers(pages)
