"""New events written a batch at a time, as an import makes them, each with its history.

One save per event and per link costs a query or two each, and django-simple-history's
record of each one another: about 45 queries for an imported event. Here a batch of events
and their links are inserted with bulk_create, and their history records in bulk beside
them: one "+" record for each event (its platforms and tags as created) and for each actor
role, count and citation, naming the user, as saving them one by one records them.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.utils import bulk_create_with_history

from ..choices import EventStatus
from ..models import Citation, Event, EventActor, EventCount, Source
from .events import events_allocate_public_ids

M2M_FIELDS = ("platforms", "tags")


@dataclass
class NewEvent:
    """An unsaved event and what it links to, for events_create."""

    event: Event
    actor_roles: list[tuple[int, str]] = field(default_factory=list)  # (actor id, role)
    platform_ids: list[int] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    counts: list[EventCount] = field(default_factory=list)  # unsaved, their event unset
    citations: list[Citation] = field(default_factory=list)  # unsaved, their event unset


@transaction.atomic
def events_create(*, new_events: list[NewEvent], user=None) -> list[Event]:
    """Create events and their links in a few queries, with the history saving them writes.

    As event_save does for one event: its date bounds, a public id for one without, who
    created it, and the time of publication of one created as published. Each event's
    history is one "+" record holding its platforms and tags; saving the event and then
    adding its platforms and tags wrote that record before them and one "~" record for
    each add(). Their history names `user` and gives no reason, as the saves one by one do.
    """
    events = [new.event for new in new_events]
    now = timezone.now()
    for event in events:
        event.set_date(event.date_text)
        event.created_by = event.updated_by = user
        if event.status == EventStatus.PUBLISHED and event.first_published_at is None:
            event.first_published_at = now
    events_allocate_public_ids(events=events)
    Event.objects.bulk_create(events)
    records = Event.history.bulk_history_create(
        events, default_user=user, default_change_reason=None
    )
    roles = [
        EventActor(event=new.event, actor_id=actor_id, role=role)
        for new in new_events
        for actor_id, role in new.actor_roles
    ]
    _with_history(EventActor, roles, user)
    _link(new_events, records)
    for model, name in ((EventCount, "counts"), (Citation, "citations")):
        rows = [_of(row, new.event) for new in new_events for row in getattr(new, name)]
        _with_history(model, rows, user)
    return events


def sources_create(*, sources: list[Source], user=None) -> list[Source]:
    """Create sources in one query, each with the "+" history record its save would write."""
    _with_history(Source, sources, user)
    return sources


def _with_history(model, rows, user):
    if rows:
        bulk_create_with_history(rows, model, default_user=user, default_change_reason=None)


def _of(row, event):
    row.event = event
    return row


def _link(new_events, records):
    """Insert the events' platforms and tags, and their rows in each event's "+" record."""
    for name in M2M_FIELDS:
        model_field = Event._meta.get_field(name)
        through = model_field.remote_field.through
        target = model_field.m2m_reverse_field_name()  # "platform", "tag"
        links = [
            through(event=new.event, **{f"{target}_id": target_id})
            for new in new_events
            for target_id in getattr(new, f"{target}_ids")
        ]
        if not links:
            continue
        through.objects.bulk_create(links)
        record_of = {record.id: record for record in records}  # an event's pk: its record
        history_model = HistoricalRecords.m2m_models[model_field]
        columns = [f.attname for f in through._meta.concrete_fields]  # id, event_id, tag_id
        history_model.objects.bulk_create(
            history_model(
                history=record_of[link.event_id], **{name: getattr(link, name) for name in columns}
            )
            for link in links
        )
