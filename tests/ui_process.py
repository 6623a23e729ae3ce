"""Runs `python ui.py` as a child process on a free port for the UI's integration tests and benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 300  # importing gradio + starting the model on 2 busy cores


class AppFailed(RuntimeError):
    """ui.py exited or did not serve in time; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise AppFailed(f"ui.py exited with {child.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AppFailed(f"ui.py did not serve {url} within {STARTUP_TIMEOUT} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID (ui.py turns it into a clean shutdown), SIGKILL if it hangs."""
    if child.poll() is None:
        os.kill(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)


@contextmanager
def running_app(workdir: Path, data_dir: Path, **env: str) -> Iterator[str]:
    """Serve the app with `data_dir` and extra env vars; yields its URL. The working directory is
    `workdir` because gradio writes a .gradio folder there; the log is workdir/ui.log."""
    port = free_port()
    full_env = {**os.environ, "INTERVIEWER_DATA_DIR": str(data_dir), "INTERVIEWER_PORT": str(port),
                "GRADIO_ANALYTICS_ENABLED": "False", **env}
    log = workdir / "ui.log"
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, str(REPO / "ui.py")], cwd=workdir, env=full_env, stdout=out,
                                 stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_serving(url, child, log)
        yield url
    finally:
        stop(child)
