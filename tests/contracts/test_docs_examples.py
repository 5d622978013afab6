"""Every curl example of the user docs runs, as written, against a live demo server.

Each page's shell blocks run in order in one ``bash`` (a block may define what a later one uses:
keys, ``$PID``, ``$KEY_ID``); the calls address ``$BASE``, which each page defaults to ``make run``'s
address and which is set here to the live server's (it runs on a free port, not 8000).
A ``curl`` shell function adds ``-w`` so each call's status is written to stderr. A call must
not answer 5xx and must answer the status its example documents in a ``# <status> ...`` comment
right after it, else a 2xx.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [
    "quickstart.md",
    "merchandising.md",
    "pricing.md",
    "platform.md",
    "catalog.md",
    "platform-sync.md",
    "shopify.md",
    "assistants.md",
]
BASE = "http://127.0.0.1:8000"
SHIM = "curl() { command curl -w '%{stderr}@@status %{http_code} %{method} %{url_effective}\\n' \"$@\"; }\n"


ASSIGNMENT = re.compile(r"^\s*(export\s+)?[A-Z_][A-Z0-9_]*=\S*\s*(#.*)?$")


def fenced_blocks(text: str) -> list[str]:
    """The code blocks fenced as sh/bash/shell or with no language (never json, python, ...)."""
    blocks, current, language = [], None, None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current, language = [], line[3:].strip()
            else:
                if language in ("", "sh", "bash", "shell"):
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def curl_blocks(page: str) -> list[str]:
    """The page's shell blocks with a curl call, and those that only set variables for them (keys)."""
    blocks = []
    for block in fenced_blocks((DOCS / page).read_text()):
        lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        if re.search(r"(^|\$\(|\s)curl\s", block) or (lines and all(ASSIGNMENT.match(x) for x in lines)):
            blocks.append(block)
    return blocks


def curl_commands(script: str) -> list[str]:
    """The text of each curl call, for failure messages (continuation lines joined)."""
    joined = script.replace("\\\n", " ")
    return [m.group(0)[:300] for m in re.finditer(r"curl\s[^\n]*", joined) if not m.group(0).startswith("curl()")]


def expected_statuses(script: str) -> list[int | None]:
    """One entry per curl call in the order they run: the documented status, or None (any 2xx)."""
    expected: list[int | None] = []
    lines = script.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        for _ in re.finditer(r"(^|\$\(|\s)curl\s", line):
            documented = None
            for follow in lines[i + 1 :]:  # the comment after the command's continuation lines
                if follow.lstrip().startswith("#"):
                    match = re.match(r"\s*#\s*(\d{3})\b", follow)
                    documented = int(match.group(1)) if match else None
                    break
                if re.search(r"(^|\$\(|\s)curl\s", follow) or not follow.strip():
                    break
            expected.append(documented)
    return expected


@pytest.mark.parametrize("page", PAGES)
def test_every_curl_example_runs_against_the_demo_server(page, live_demo_server):
    blocks = curl_blocks(page)
    assert blocks, f"no curl example in docs/{page}"
    script = "\n".join(blocks).replace(BASE, live_demo_server.url)
    result = subprocess.run(  # noqa: S603  (the docs' own examples)
        ["bash", "-c", SHIM + script],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=300,
        env={**live_demo_server.env, "BASE": live_demo_server.url},
    )
    calls = re.findall(r"^@@status (\d{3}) (\S+) (\S+)$", result.stderr, re.M)
    expected = expected_statuses(script)
    assert len(calls) == len(expected), (result.stderr[-2000:], expected)
    failures = []
    commands = curl_commands(script)
    for (status, method, url), documented, command in zip(calls, expected, commands, strict=True):
        status = int(status)
        ok = status == documented if documented else 200 <= status < 300
        if status >= 500 or not ok:
            failures.append(f"{method} {url}: {status} (documented {documented or '2xx'}): {command}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("page", PAGES)
def test_curl_examples_address_base_which_the_page_defines_once(page):
    """``make run PORT=8001`` then ``BASE=http://127.0.0.1:8001``: every example follows."""
    script = "\n".join(curl_blocks(page))
    definitions = re.findall(r"^(?:export )?BASE=(\S*)", script, re.M)
    assert definitions == ["${BASE:-" + BASE + "}"]
    assert BASE not in script.replace(definitions[0], ""), "a curl example with a literal address"
