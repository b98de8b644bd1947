"""HTTP servers on this machine for the archiving and link-check tests: nothing leaves it.

`pages` serves live, dead, redirecting, hanging and endless pages; `fake_archive` answers as
Save Page Now does. Each records the paths it was asked for.
"""

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

CAPTURED = "20261205093000"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not hold up the test's end

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.requests = []
        self.answers = []  # Save Page Now's answers to give, in order, before the default

    @property
    def base(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.answer()  # a client may stop reading, as the link checker does

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PageHandler(Handler):
    def answer(self):
        path = self.path
        if path == "/live":
            self.reply(200, body=b"<p>still here</p>")
        elif path == "/gone":
            self.reply(404)
        elif path == "/forbidden":
            self.reply(403)
        elif path == "/moved":
            self.reply(301, [("Location", "/live")])
        elif path == "/loop":
            self.reply(302, [("Location", "/loop")])
        elif path.startswith("/chain/"):
            self.reply(302, [("Location", f"/chain/{int(path.rsplit('/', 1)[1]) + 1}")])
        elif path.startswith("/to?"):
            self.reply(302, [("Location", unquote(path.split("?", 1)[1]))])
        elif path == "/hang":
            time.sleep(5)
            self.reply(200)
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            while True:
                self.wfile.write(b"x" * 65536)
        else:
            self.reply(404)


class ArchiveHandler(Handler):
    def answer(self):
        if not self.path.startswith("/save/"):
            return self.reply(404)
        if self.server.answers:
            status, headers = self.server.answers.pop(0)
            if status == "hang":
                time.sleep(5)
                status = 200
            return self.reply(status, headers)
        url = self.path.removeprefix("/save/")
        self.reply(200, [("Content-Location", f"/web/{CAPTURED}/{url}")])


def serve(handler, host="127.0.0.1"):
    server = Server((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def pages():
    server = serve(PageHandler)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_archive(settings):
    server = serve(ArchiveHandler)
    settings.ARCHIVE_ENDPOINT = server.base
    settings.ARCHIVE_RETRY_SECONDS = [0, 0]
    yield server
    server.shutdown()
    server.server_close()
