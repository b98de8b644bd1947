"""Writes that touch several rows: the admin, the seed command and imports all go through here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from .choices import EventStatus
from .models import Event, PublicIdSequence

GLOBAL_AREA = "WW"  # not an ISO 3166 code; ids of events that span the world
UNKNOWN_AREA = "XX"  # a draft saved before its country is known


def event_public_id_prefix(*, event):
    area = GLOBAL_AREA if event.is_global else (event.country.code or UNKNOWN_AREA)
    return f"{area}-{event.date_earliest.year}"


@transaction.atomic
def event_allocate_public_id(*, prefix):
    """Return the next unused public id for a prefix such as CN-2014; ids are never reused.

    The sequence row remembers numbers handed out to events since deleted; the highest
    existing id covers events that arrived from fixtures or imports with an id of their own.
    """
    sequence, _ = PublicIdSequence.objects.select_for_update().get_or_create(prefix=prefix)
    highest = (
        Event.objects.filter(public_id__startswith=f"{prefix}-")
        .order_by(Length("public_id").desc(), "-public_id")
        .values_list("public_id", flat=True)
        .first()
    )
    highest_number = int(highest.rsplit("-", 1)[1]) if highest else 0
    sequence.last_number = max(sequence.last_number, highest_number) + 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}-{sequence.last_number:04d}"


@transaction.atomic
def event_save(*, event, user=None):
    """Save an event: derive its date bounds, give a new one its id, record who changed it."""
    event.set_date(event.date_text)
    if event._state.adding:
        event.public_id = event_allocate_public_id(prefix=event_public_id_prefix(event=event))
        event.created_by = user
    if event.status == EventStatus.PUBLISHED and event.first_published_at is None:
        event.first_published_at = timezone.now()
    event.updated_by = user
    event.save()
    return event


def event_publication_problems(*, event, citation_count=None):
    """Return what stops an event from being published, in words a curator can act on."""
    if citation_count is None:
        citation_count = event.citations.count()
    problems = []
    if citation_count == 0:
        problems.append("at least one citation")
    if event.event_type_id is None:
        problems.append("an event type")
    if not event.country and not event.is_global:
        problems.append("a country, or 'global'")
    return problems


@transaction.atomic
def event_publish(*, event, user=None):
    """Publish an event that has what publication needs; raise ValidationError otherwise."""
    problems = event_publication_problems(event=event)
    if problems:
        raise ValidationError(f"{event.public_id} cannot be published yet: it needs "
                              f"{', '.join(problems)}.")
    event.status = EventStatus.PUBLISHED
    return event_save(event=event, user=user)
