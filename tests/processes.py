"""Real processes for the integration tests and the bench: a Celery worker, an SMTP sink.

Each keeps its output (drained by a thread, so that it never blocks on a full pipe) and can
be stopped politely or killed with SIGKILL, as a crash would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    """Poll for an effect of another process (not a deadline: the tests never sleep for time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class Process:
    def __init__(self, args: list[str], env: Mapping[str, str], ready: str, timeout: float = 60):
        self.process = subprocess.Popen(
            args,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(self.process.stdout), daemon=True
        )
        self.reader.start()
        if not wait_for(lambda: any(ready in line for line in self.lines), timeout):
            self.kill()
            raise RuntimeError(f"{args[:4]} not ready:\n{self.log()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return "".join(self.lines[-80:])

    def kill(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement, as a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait(timeout=30)
        self.reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def start_worker(env: Mapping[str, str], *, pool: str = "solo", concurrency: int = 1) -> Process:
    """``celery -A workers worker`` with ``env`` (DATABASE_URL, MAIL_PORT …)."""
    return Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        ready=" ready.",
    )


class Sink(Process):
    """``tests/smtp_sink.py`` on ``port``: what it accepted, one JSON line per message."""

    def __init__(self, port: int, directory: Path, script: dict | None = None) -> None:
        self.port = port
        self.log_path = directory / f"sink-{port}.jsonl"
        args = [
            sys.executable,
            str(ROOT / "tests" / "smtp_sink.py"),
            "--port",
            str(port),
            "--log",
            str(self.log_path),
        ]
        if script:
            script_path = directory / f"sink-{port}.json"
            script_path.write_text(json.dumps(script))
            args += ["--script", str(script_path)]
        super().__init__(args, {}, ready="listening")

    def records(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]
