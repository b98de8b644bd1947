"""Curators' writes through events.services, in a process of its own, while the readers read.

Run by bench.soak as `python -m bench.soak.service_writer SPEC.json`, with the server's
environment (DATABASE_URL of the private cluster). Two modes:

- setup: the soak's editor account (a superuser the admin writer signs in as), the event type
  and sources the writers cite, and the removal of an earlier run's soak events;
- write: event after event, create (with a citation), edit, publish, each the way the admin
  calls the services, each with a marker of its own, until the stop file appears.

Every attempt is one JSON line in the spec's output file, written as soon as it ends:
acknowledged is true only once the transaction committed without an exception. A failure is
recorded by exception class and the writer goes on; after a database error it closes its
connection, so the next write reconnects (as close_old_connections does between requests).
"""

import contextlib
import json
import sys
import time
from pathlib import Path

import django

SOAK_NOTE = "[soak]"  # internal notes of every soak event: what setup removes


def main():
    spec = json.loads(Path(sys.argv[1]).read_text())
    django.setup()
    if spec["mode"] == "setup":
        Path(spec["output"]).write_text(json.dumps(setup(spec)))
    else:
        write(spec)


def setup(spec):
    """Create the editor account, pick what events cite, remove earlier soak events."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from events.models import Event, EventType, Source

    user = get_user_model().objects.filter(username=spec["username"]).first()
    if user is None:
        user = get_user_model().objects.create_superuser(spec["username"], "soak@example.invalid")
    user.set_password(spec["password"])
    user.save()
    with transaction.atomic():
        removed, _by_model = Event.objects.filter(internal_notes__startswith=SOAK_NOTE).delete()
    event_type = EventType.objects.order_by("id").first()
    sources = list(Source.objects.order_by("id").values_list("id", flat=True)[:20])
    return {
        "user_id": user.pk,
        "event_type_id": event_type.pk,
        "source_ids": sources,
        "removed_rows": removed,
    }


class Stop:
    def __init__(self, path):
        self.path = Path(path)

    def __bool__(self):
        return self.path.exists()


def write(spec):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=spec["user_id"])
    Path(spec["ready_file"]).touch()  # the soak starts its clock once the writer is ready
    stop = Stop(spec["stop_file"])
    number = 0
    with open(spec["output"], "a", buffering=1) as out:
        while not stop:
            number += 1
            event_id = None
            for op in ("create", "edit", "publish"):
                if stop:
                    break
                started = time.monotonic()
                marker = f"soak-{spec['run']}-s{number}-{op}"
                record, event_id = attempt(op, marker, event_id, user, spec)
                out.write(json.dumps(record) + "\n")
                time.sleep(max(0.0, spec["interval"] - (time.monotonic() - started)))
                if event_id is None:
                    break  # its creation was not acknowledged: start the next event


def attempt(op, marker, event_id, user, spec):
    """Run one write; return its record and the event it wrote (None if not acknowledged)."""
    from django.db import DatabaseError, close_old_connections, connection

    record = {"writer": "services", "op": op, "marker": marker, "started": time.time()}
    close_old_connections()  # what Django does between requests: drop a broken connection
    try:
        event = OPS[op](marker=marker, event_id=event_id, user=user, spec=spec)
    except Exception as error:  # every failure is a figure of the report
        record.update(acknowledged=False, error=type(error).__name__, detail=str(error)[:300])
        if isinstance(error, DatabaseError):
            with contextlib.suppress(Exception):
                connection.close()
        return record | {"ended": time.time(), "event_id": event_id}, (
            None if op == "create" else event_id
        )
    record.update(acknowledged=True, event_id=event.pk, ended=time.time())
    return record, event.pk


def create(*, marker, event_id, user, spec):
    """Record a new draft with one citation, as the admin's add form does, in one transaction."""
    from django.db import transaction

    from events import services
    from events.models import Citation, Event

    source_ids = spec["source_ids"]
    with transaction.atomic():
        event = Event(
            title=f"[{marker}] Soak test: a curator records an event",
            summary=f"Written by bench.soak's service writer, run {spec['run']}.",
            date_text="2024-03",
            event_type_id=spec["event_type_id"],
            country="CN",
            internal_notes=f"{SOAK_NOTE} run {spec['run']}",
        )
        services.event_save(event=event, user=user)
        Citation.objects.create(
            event=event, source_id=source_ids[len(marker) % len(source_ids)], locator=marker
        )
        services.event_search_refresh(event_ids=[event.pk])
    return event


def edit(*, marker, event_id, user, spec):
    """Open the event as it is now, add the marker to its summary, save it."""
    from django.db import transaction

    from events import services
    from events.models import Event

    with transaction.atomic():
        event = Event.objects.get(pk=event_id)
        event.summary = f"{event.summary} [{marker}]"
        services.event_save(event=event, user=user)
    return event


def publish(*, marker, event_id, user, spec):
    """Publish the event with the marker as the editor's comment (its EventTransition)."""
    from events import services
    from events.models import Event

    event = Event.objects.get(pk=event_id)
    return services.event_publish(event=event, user=user, comment=f"[{marker}]")


OPS = {"create": create, "edit": edit, "publish": publish}


if __name__ == "__main__":
    main()
