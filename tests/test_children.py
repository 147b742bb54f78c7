"""The server the night forks its children from (orchestration/children.py)."""

import subprocess
import sys

from orchestration.children import PRELOAD


def test_the_server_leaves_at_once_when_the_night_ends():
    # Its last preload makes the interpreter's tear-down (GE's and dbt's modules, most of a
    # second) never run: whoever reads the night's output to its end does not wait for it.
    assert PRELOAD[-1] == "orchestration.children_server"
    code = (
        "import atexit; atexit.register(print, 'torn down'); "
        "import orchestration.children_server; print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["imported"]
