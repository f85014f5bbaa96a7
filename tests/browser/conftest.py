"""A real browser for the report and app tests: Debian's Chromium driven by Playwright.

Skipped, with the reason shown, when /usr/bin/chromium (or Playwright) is missing, except under
CI (`CI=true`), where a missing browser fails the run instead. Never `playwright install`.
Screenshots go to test-artifacts/browser/ at the repository's root (ignored by git).
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module.

    Not per session: Playwright's sync API leaves its event loop marked as running in the main
    thread while it is open, so an async test (anyio, the app's API tests) that a worker runs
    after a browser test, in the same process, fails with "Cannot run the event loop while
    another loop is running". A module's teardown runs before the next module's first test.
    """
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _missing("playwright (python) is not installed: pip install 'smartbms[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
