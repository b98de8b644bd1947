"""Curators' writes through the admin over HTTP, as a browser makes them, signed in.

Each event is added (with a citation, "Save and continue editing"), edited (its summary
gains a marker) and published (the workflow's Publish page, the marker as the comment). The
form is read back from the page each time and posted as a browser would post it, so these
writes go through everything a curator's do: sessions, CSRF, the admin's transaction, the
services, and, while the database is down, whatever the app answers then.

Acknowledged means what the curator would see: an add or an edit is acknowledged by the
admin's redirect to the change page (the admin sends it only after its transaction
committed); a publication by the change page it redirects to saying "... is now published".
"""

import re
import threading
import time
import urllib.parse
from html.parser import HTMLParser

from bench.client import Client

ADD_PATH = "/admin/events/event/add/"
CHANGE_PATH = re.compile(r"/admin/events/event/(\d+)/change/")
PUBLISHED_MESSAGE = "is now published"


class FormReader(HTMLParser):
    """Collect the fields of one form as a browser would post them, in document order."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields = []  # (name, value) pairs
        self._textarea = None
        self._select = None  # [name, multiple, chosen values, first value]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            form_id = attrs.get("id")
            self.inside = (self.form_id is not None and form_id == self.form_id) or (
                # The main form: a POST form other than the header's sign-out button.
                self.form_id is None
                and attrs.get("method", "").lower() == "post"
                and form_id != "logout-form"
            )
        if not self.inside or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            self._input(attrs)
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
        elif tag == "select":
            self._select = [attrs["name"], "multiple" in attrs, [], None]
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select[3] is None:
                self._select[3] = value
            if "selected" in attrs:
                self._select[2].append(value)

    def _input(self, attrs):
        kind = attrs.get("type", "text").lower()
        if kind in ("submit", "button", "image", "reset", "file"):
            return
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        self.fields.append((attrs["name"], attrs.get("value", "on" if kind == "checkbox" else "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops the one newline that may follow <textarea>.
            name, text = self._textarea
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple, chosen, first = self._select
            if not chosen and not multiple and first is not None:
                chosen = [first]
            self.fields.extend((name, value) for value in chosen)
            self._select = None


def read_form(html, form_id=None):
    reader = FormReader(form_id)
    reader.feed(html)
    return reader.fields


def replace(fields, **values):
    """Return the fields with some values set (each name once), the others as they were."""
    kept = [(name, value) for name, value in fields if name not in values]
    return kept + list(values.items())


class Rejected(Exception):
    """The app answered, but not with what a successful write answers."""


class AdminWriter(threading.Thread):
    """One curator (an editor, who may publish) adding, editing and publishing events."""

    def __init__(self, *, port, username, password, run, setup, interval):
        super().__init__(daemon=True)
        self.port, self.username, self.password = port, username, password
        self.run_name, self.setup, self.interval = run, setup, interval
        self.records = []
        self._stop_event = threading.Event()
        self.client = Client(port, timeout=30)

    def login(self):
        if not self.client.login(self.username, self.password):
            raise SystemExit(f"the admin writer could not sign in as {self.username}")

    def stop(self):
        self._stop_event.set()
        self.join()

    def run(self):
        number = 0
        while not self._stop_event.is_set():
            number += 1
            event_id = None
            for op in ("create", "edit", "publish"):
                if self._stop_event.is_set():
                    break
                started = time.monotonic()
                marker = f"soak-{self.run_name}-a{number}-{op}"
                record = self.attempt(op, marker, event_id)
                self.records.append(record)
                event_id = record.get("event_id")
                self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))
                if event_id is None:
                    break

    def attempt(self, op, marker, event_id):
        record = {"writer": "admin", "op": op, "marker": marker, "started": time.time()}
        try:
            event_id = getattr(self, op)(marker, event_id)
        except Exception as error:  # every failure is a figure of the report; the writer goes on
            self.client.close()
            kind = str(error).split(":")[0] if isinstance(error, Rejected) else type(error).__name__
            record.update(acknowledged=False, error=kind, detail=str(error)[:300])
            return record | {"ended": time.time(), "event_id": None if op == "create" else event_id}
        return record | {"acknowledged": True, "event_id": event_id, "ended": time.time()}

    def create(self, marker, _event_id):
        fields = self._form(ADD_PATH, "event_form")
        citation = self.setup["source_ids"][len(marker) % len(self.setup["source_ids"])]
        fields = replace(
            fields,
            title=f"[{marker}] Soak test: a curator adds an event in the admin",
            summary=f"Written by bench.soak's admin writer, run {self.run_name}.",
            date_text="2024-04",
            event_type=str(self.setup["event_type_id"]),
            country="IR",
            internal_notes=f"[soak] run {self.run_name}",
            **{"citations-0-source": str(citation), "citations-0-locator": marker},
            _continue="Save and continue editing",
        )
        location = self._post(ADD_PATH, fields)
        match = CHANGE_PATH.search(location)
        if match is None:
            raise Rejected(f"HTTP 302 elsewhere: after adding, to {location}")
        return int(match.group(1))

    def edit(self, marker, event_id):
        path = f"/admin/events/event/{event_id}/change/"
        fields = self._form(path, "event_form")
        summary = dict(fields).get("summary", "")
        fields = replace(fields, summary=f"{summary} [{marker}]", _continue="Save")
        self._post(path, fields)
        return event_id

    def publish(self, marker, event_id):
        path = f"/admin/events/event/{event_id}/workflow/publish/"
        fields = replace(self._form(path), comment=f"[{marker}]")
        location = self._post(path, fields)
        status, _headers, body = self.client.get(location)
        if status != 200:
            raise Rejected(f"HTTP {status}: the page after publishing: {body[:200]!r}")
        if PUBLISHED_MESSAGE not in body.decode("utf-8", "replace"):
            raise Rejected("not published: the page after publishing does not say so")
        return event_id

    def _form(self, path, form_id=None):
        status, _headers, body = self.client.get(path)
        if status != 200:
            raise Rejected(f"HTTP {status}: GET {path}: {body[:200]!r}")
        return read_form(body.decode("utf-8", "replace"), form_id)

    def _post(self, path, fields):
        """POST a form; return where the admin redirects after a successful save."""
        status, headers, body = self.client.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302:
            errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', body.decode(), re.S)
            detail = " ".join(errors)[:300] if errors else repr(body[:200])
            raise Rejected(f"HTTP {status}: POST {path}: {detail}")
        return urllib.parse.urlsplit(headers["Location"]).path
