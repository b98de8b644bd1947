"""Browser tests: Debian's Chromium driven by Playwright against a live server.

No browser is ever downloaded. Without /usr/bin/chromium the tests are skipped with the
command that installs it; CI sets BROWSER_TESTS_REQUIRED=1, which turns the skip into a
failure.
"""

import functools
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

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


NODE_PACKAGES = Path(__file__).parent / "node"  # package.json and its lock: outside clients


@pytest.fixture(scope="session")
def node_modules():
    """The npm packages the browser tests run (TimelineJS), installed from the npm registry.

    Installed once from the committed lock file; without npm the tests that need them are
    skipped with the command that installs it (a failure in CI, like a missing Chromium).
    """
    installed = NODE_PACKAGES / "node_modules"
    if not (installed / ".package-lock.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            message = "These browser tests need Node.js's npm: sudo apt-get install npm"
            if os.environ.get("BROWSER_TESTS_REQUIRED"):
                pytest.fail(message)
            pytest.skip(message)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_PACKAGES,
            check=True,
            capture_output=True,
        )
    return installed


@pytest.fixture(scope="session")
def static_site():
    """Serve a directory from another origin than the live server, as a reader's site would."""
    servers = []

    def serve(directory):
        handler = functools.partial(QuietHandler, directory=str(directory))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def local_only(page):
    """Refuse every request that would leave the machine (a CDN, analytics, fonts)."""
    left = []

    def route(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return left


@pytest.fixture(scope="session")
def axe():
    """axe-core, the accessibility checker, from PyPI's axe-playwright-python.

    The package bundles axe-core's script and injects it into the page: nothing is downloaded
    at run time. Without it the tests that need it are skipped with the command that installs
    it (a failure in CI, like a missing Chromium).
    """
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        message = (
            "The accessibility checks need axe-core from PyPI: "
            ".venv/bin/pip install -r requirements-dev.txt (axe-playwright-python)"
        )
        if os.environ.get("BROWSER_TESTS_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return Axe()
