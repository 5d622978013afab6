"""Schema fuzzing: schemathesis against each served OpenAPI document on a live demo server.

Bounded for the suite (a few examples per operation, fixed seed); ``make fuzz`` runs the same with
more examples (FUZZ_MAX_EXAMPLES). Checked: no 5xx, every status code, content type, header and body
as documented. The data-acceptance checks (positive_data_acceptance, negative_data_rejection) flag
schema precision (limits the schema does not state) rather than broken answers; run them with
``make fuzz FUZZ_CHECKS=all``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contracts.live import DEMO_KEYS, start_demo_server

pytest.importorskip("schemathesis")

CHECKS = os.environ.get("FUZZ_CHECKS") or ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
# the platform surface last: it may rotate or revoke the demo keys the others use
SURFACES = [("merchandising", "connector"), ("catalog", "admin"), ("pricing", "admin"), ("platform", "admin")]
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "5")


@pytest.fixture(scope="module")
def fuzz_server():
    """A server of its own: fuzzing rotates and revokes keys and writes data other live tests rely on."""
    yield from start_demo_server()


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    return [found] if found else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.parametrize(("surface", "key"), SURFACES, ids=[s for s, _ in SURFACES])
def test_fuzzing_finds_no_server_error_and_no_undocumented_answer(fuzz_server, surface, key, tmp_path):
    command = [
        *schemathesis_command(),
        "run",
        f"{fuzz_server.url}/api/schema/{surface}/?format=json",
        "--header",
        f"Authorization: Bearer {DEMO_KEYS[key]}",
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "1",
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # noqa: S603
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
