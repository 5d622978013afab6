"""Throwaway servers for fault tests: web processes (gunicorn) on the test database, a Redis server and a
PostgreSQL cluster of the test's own. Each binds a free loopback port and is stopped by the test that
started it; the machine's shared PostgreSQL and Redis are never stopped or reconfigured."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings

from tests.celery_worker import wait_for
from tests.reliability.loadclient import http

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_of_tests() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WebServer:
    """gunicorn serving the project (sync workers, as in production) on a free port."""

    def __init__(self, *, database_url: str, redis_url: str | None, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="web-", suffix=".log", delete=False)  # noqa: SIM115
        environment = dict(os.environ)
        environment.pop("REDIS_URL", None)
        environment.update(
            DATABASE_URL=database_url,
            REDIS_KEY_PREFIX=settings.REDIS_KEY_PREFIX,
            CELERY_TASK_ALWAYS_EAGER="1",
            LOG_LEVEL="INFO",
        )
        environment.update(env)  # the test's own values win (e.g. CELERY_TASK_ALWAYS_EAGER="0")
        if redis_url:
            environment["REDIS_URL"] = redis_url
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--timeout",
            "60",
        ]
        self.process = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT
        )
        if not wait_for(self._up, timeout=60):
            self.stop()
            raise RuntimeError(f"web server did not start: {self.output()[-2000:]}")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"web server exited: {self.output()[-2000:]}")
        try:
            return http("GET", f"{self.url}/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


class RedisServer:
    """A redis-server of our own (no persistence) that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        cmd = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        if not wait_for(self._up, timeout=20):
            raise RuntimeError("redis-server did not start")

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


class PostgresCluster:
    """A PostgreSQL cluster in a temporary directory on a free port (trust auth, loopback only), run as the
    ``postgres`` system user when the tests run as root (initdb refuses root)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.dir / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "app")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/app"

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self._as_user, *cmd], check=True, capture_output=True, timeout=120)  # noqa: S603

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
