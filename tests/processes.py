"""Real processes for the integration tests and the bench: a Celery worker and beat, an SMTP
sink, and private PostgreSQL and Redis servers that the fault tests stop and restart.

Each keeps its output (drained by a thread, so that it never blocks on a full pipe) and can
be stopped politely or killed with SIGKILL, as a crash would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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


def start_worker(
    env: Mapping[str, str], *, pool: str = "solo", concurrency: int = 1, queues: str = ""
) -> Process:
    """``celery -A workers worker`` with ``env`` (DATABASE_URL, MAIL_PORT …); ``queues``:
    its ``-Q`` (default: every queue)."""
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
            *(["-Q", queues] if queues else []),
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


def start_beat(env: Mapping[str, str], directory: Path) -> Process:
    """``celery -A workers beat`` with ``env``, its schedule file in ``directory``."""
    return Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "beat",
            "--loglevel=INFO",
            f"--schedule={directory / 'beat-schedule'}",
        ],
        env,
        ready="beat: Starting",
    )


def _as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: as root, they run as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl are (``PG_BINDIR``, else Debian's newest, else the PATH)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own — initdb in a temporary directory, its own port
    on 127.0.0.1 — which a test may stop, start and restart without touching the machine's."""

    def __init__(self, port: int) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL's initdb is missing (apt-get install postgresql)")
        self.port = port
        self.pg_ctl = str(bindir / "pg_ctl")
        self.root = Path(tempfile.mkdtemp(prefix="dialogue-pg-"))
        self.data = self.root / "data"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*_as_postgres(), *args], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[:3]} failed:\n{done.stdout}\n{done.stderr}")

    def _ctl(self, *args: str) -> None:
        log = str(self.root / "postgres.log")
        self._run(self.pg_ctl, "-D", str(self.data), "-l", log, "-w", "-t", "30", *args)

    def start(self) -> None:
        self._ctl("-o", self.options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-o", self.options, "restart")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A ``redis-server`` of the test's own on ``port``, without persistence (what it held is
    lost when it stops, as a broker's queue on a Redis restarted without its disk)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="dialogue-redis-"))
        self.process: Process | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = Process(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            {},
            ready="Ready to accept connections",
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
