"""Browser tests: Debian's Chromium driven by Playwright against a live server.

No browser is ever downloaded. Without /usr/bin/chromium the tests are skipped with the
command that installs it; CI sets BROWSER_TESTS_REQUIRED=1, which turns the skip into a
failure.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")  # torn down after the browser tests, not at the very end
def browser():
    if not os.path.exists(CHROMIUM):
        message = (
            "Browser tests need Debian's Chromium at /usr/bin/chromium: "
            "sudo apt-get install chromium"
        )
        if os.environ.get("BROWSER_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the tests still use the ORM
    # between browser steps, which Django would otherwise refuse.
    # Only while the browser runs: left set, it would leak into later tests (and the
    # subprocesses they start, where `check --deploy` rightly calls it an error).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (separate cookies, like separate people).

    Every page runs under the site's Content-Security-Policy: anything the browser refused
    to load or run because of it fails the test that opened the page.
    """
    contexts = []
    refused = []

    def note_refusal(message):
        if "Content Security Policy" in message.text:
            refused.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def open_page(width=1280, height=900):
        context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        context.on("console", note_refusal)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert not refused, "The Content-Security-Policy blocked:\n" + "\n".join(refused)


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
