"""Container healthchecks (compose.yaml): ``python -m config.healthcheck web|worker|beat``; exit 0 when healthy.

- web: ``/readyz`` on the local gunicorn answers 200, asked with a Host the platform accepts (the first
  ``ALLOWED_HOSTS`` entry; a probe of ``127.0.0.1`` as Host is refused with 400 when it is not listed);
- worker: the Celery worker of this container answers a ping over the broker;
- beat: the beat scheduler wrote its schedule file within the last ``BEAT_STALE_SECONDS`` (it does on
  every tick that runs a task, and the usage flush is due every minute).
"""

from __future__ import annotations

import glob
import os
import socket
import subprocess
import sys
import time
import urllib.request

BEAT_SCHEDULE = os.environ.get("BEAT_SCHEDULE", "/tmp/celerybeat-schedule")  # noqa: S108  (compose's --schedule)
BEAT_STALE_SECONDS = 600


def probe_host(allowed_hosts: str) -> str:
    """A Host header the platform accepts: the first ALLOWED_HOSTS entry (a ``.domain`` wildcard made concrete)."""
    first = (allowed_hosts.split(",")[0].strip() or "localhost") if allowed_hosts else "localhost"
    if first == "*":
        return "localhost"
    return f"www{first}" if first.startswith(".") else first


def web(port: int = 8000) -> bool:
    host = probe_host(os.environ.get("ALLOWED_HOSTS", "localhost"))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  (our own loopback URL)
            return response.status == 200
    except OSError:
        return False


def worker() -> bool:
    # the worker is named celery@<hostname> (Celery's default); the container's hostname is its id
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "inspect",
        "ping",
        "--timeout",
        "5",
        "-d",
        f"celery@{socket.gethostname()}",
    ]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0  # noqa: S603


def beat(now: float | None = None) -> bool:
    files = glob.glob(f"{BEAT_SCHEDULE}*")
    if not files:
        return False
    newest = max(os.path.getmtime(f) for f in files)
    return (now if now is not None else time.time()) - newest < BEAT_STALE_SECONDS


CHECKS = {"web": web, "worker": worker, "beat": beat}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: python -m config.healthcheck {'|'.join(CHECKS)}")
    sys.exit(0 if CHECKS[sys.argv[1]]() else 1)
