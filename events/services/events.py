"""Writes to events: ids, saves that refuse stale edits, search text, the publication workflow."""

import difflib
import functools
import operator
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.db.models.functions import Left, Length
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext

from .. import search
from ..choices import EventStatus
from ..dates import parse_date
from ..models import Event, EventRelation, EventTransition, PublicIdSequence
from ..public.fields import SEARCHABLE_FIELDS
from .archiving import event_sources_archive_later

GLOBAL_AREA = "WW"  # not an ISO 3166 code; ids of events that span the world
UNKNOWN_AREA = "XX"  # a draft saved before its country is known


def event_public_id_prefix(*, event, bounds):
    """Return CN-2014 for an event in China whose date, as written, starts in 2014."""
    area = GLOBAL_AREA if event.is_global else (event.country.code or UNKNOWN_AREA)
    # The year written, not the widened bound: "c. 3 January 2014" belongs to 2014.
    return f"{area}-{bounds.stated_start.year}"


@transaction.atomic
def event_allocate_public_id(*, prefix):
    """Return the next unused public id for a prefix such as CN-2014; ids are never reused.

    The sequence row remembers numbers handed out to events since deleted; the highest
    existing id covers events that arrived from fixtures or imports with an id of their own.
    """
    sequence, _ = PublicIdSequence.objects.select_for_update().get_or_create(prefix=prefix)
    # History remembers events that arrived with an id of their own and were since deleted.
    highest_number = max(
        _highest_public_number(Event.objects, prefix),
        _highest_public_number(Event.history, prefix),
    )
    sequence.last_number = max(sequence.last_number, highest_number) + 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}-{sequence.last_number:04d}"


@transaction.atomic
def events_allocate_public_ids(*, events: list[Event]) -> None:
    """Give each event without a public id the next unused one of its prefix, in list order.

    A batch's ids in five queries, where event_allocate_public_id takes four an event: the
    prefixes' sequence rows are made if need be, locked and moved on once, and the highest
    ids in use are read once from the events and once from their history. Ids the list
    brings (an import's own) are in use too, so no event of the list is given one of them.
    """
    wanting = [
        (event, event_public_id_prefix(event=event, bounds=parse_date(event.date_text)))
        for event in events
        if not event.public_id
    ]
    if not wanting:
        return
    prefixes = sorted({prefix for _event, prefix in wanting})
    PublicIdSequence.objects.bulk_create(
        [PublicIdSequence(prefix=prefix) for prefix in prefixes], ignore_conflicts=True
    )
    # Locked in the order of their prefixes: two batches that want the same prefixes queue
    # for them instead of each holding one the other waits for.
    locked = PublicIdSequence.objects.select_for_update().filter(prefix__in=prefixes)
    sequences = {sequence.prefix: sequence for sequence in locked.order_by("prefix")}
    brought = [event.public_id for event in events if event.public_id]
    highest = defaultdict(int)
    for numbers in (
        _highest_public_numbers(Event.objects, prefixes),
        _highest_public_numbers(Event.history, prefixes),
        _highest_brought_numbers(brought, prefixes),
    ):
        for prefix, number in numbers.items():
            highest[prefix] = max(highest[prefix], number)
    for sequence in sequences.values():
        sequence.last_number = max(sequence.last_number, highest[sequence.prefix])
    for event, prefix in wanting:
        sequence = sequences[prefix]
        sequence.last_number += 1
        event.public_id = f"{prefix}-{sequence.last_number:04d}"
    PublicIdSequence.objects.bulk_update(sequences.values(), ["last_number"])


def _highest_public_numbers(manager, prefixes):
    """Return {prefix: the highest number of its ids in use}, in one query a prefix length.

    The highest id is the longest, then the last in order (CN-2014-10000 after CN-2014-9999),
    as _highest_public_number reads it for one prefix.
    """
    highest = {}
    by_length = defaultdict(list)
    for prefix in prefixes:
        by_length[len(prefix)].append(prefix)
    for length, group in by_length.items():
        rows = (
            manager.filter(functools.reduce(operator.or_, _id_starts(group)))
            .annotate(prefix=Left("public_id", length), length=Length("public_id"))
            .order_by()
            .values_list("prefix", "length")
            .annotate(highest=Max("public_id"))
        )
        for prefix, _length, public_id in sorted(rows, key=operator.itemgetter(1)):
            highest[prefix] = public_id  # the longest ids come last
    return {prefix: int(public_id.rsplit("-", 1)[1]) for prefix, public_id in highest.items()}


def _id_starts(prefixes):
    return [Q(public_id__startswith=f"{prefix}-") for prefix in prefixes]


def _highest_brought_numbers(public_ids, prefixes):
    highest = defaultdict(int)
    wanted = set(prefixes)
    for public_id in public_ids:
        prefix, _dash, number = public_id.rpartition("-")
        if prefix in wanted and number.isdigit():
            highest[prefix] = max(highest[prefix], int(number))
    return highest


def _highest_public_number(manager, prefix):
    highest = (
        manager.filter(public_id__startswith=f"{prefix}-")
        .order_by(Length("public_id").desc(), "-public_id")
        .values_list("public_id", flat=True)
        .first()
    )
    return int(highest.rsplit("-", 1)[1]) if highest else 0


SEARCH_BATCH = 2000


def event_search_refresh(*, event_ids: Iterable[int], events: QuerySet | None = None) -> int:
    """Rewrite the search text of the events whose words changed; return how many changed.

    `events` is what to read and write through (a migration passes its historical model's).
    Only the words count, not their order: an event whose words are the same is not written.
    """
    events = Event.objects.all() if events is None else events
    fields = [name for name in SEARCHABLE_FIELDS if _has_field(events.model, name)]
    event_ids, changed = list(event_ids), 0
    for start in range(0, len(event_ids), SEARCH_BATCH):
        batch = events.filter(pk__in=event_ids[start : start + SEARCH_BATCH])
        read = batch.only(*fields, "search_text").prefetch_related(
            "actor_roles__actor__aliases", "platforms__aliases", "citations"
        )
        stale = [event for event in read if _search_text_refreshed(event, fields)]
        # bulk_update leaves updated_at alone: the words indexed are not a public change.
        events.bulk_update(stale, ["search_text"])
        changed += len(stale)
    return changed


def events_search_rebuild(*, events: QuerySet | None = None) -> int:
    """Rewrite the search text of every event whose words changed; return how many changed.

    For a change to what a word is (events.search). Ids are read a batch at a time, so a
    million events are never held in memory at once.
    """
    events = (Event.objects.all() if events is None else events).order_by("pk")
    changed, last = 0, None
    while True:
        page = events if last is None else events.filter(pk__gt=last)
        event_ids = list(page.values_list("pk", flat=True)[:SEARCH_BATCH])
        if not event_ids:
            return changed
        changed += event_search_refresh(event_ids=event_ids, events=events)
        last = event_ids[-1]


def _has_field(model, name):
    return any(field.name == name for field in model._meta.concrete_fields)


def _search_text_refreshed(event, fields):
    """Set the event's search text from its words; return whether the words changed."""
    text = search.search_document(*_searchable_words(event, fields))
    if sorted(text.split()) == sorted(event.search_text.split()):
        return False
    event.search_text = text
    return True


def _searchable_words(event, fields=SEARCHABLE_FIELDS):
    yield from (getattr(event, name) for name in fields)
    for named in [role.actor for role in event.actor_roles.all()] + list(event.platforms.all()):
        yield named.name
        yield from (alias.name for alias in named.aliases.all())
    yield from (citation.quote for citation in event.citations.all())


@transaction.atomic
def events_referencing_changed(*, events):
    """Carry a change to an actor, platform, source, type or tag into the events showing it.

    Their search text is rewritten and their updated_at moves on, so researchers' mirrors
    and cached responses learn that what these events show has changed.
    """
    event_ids = list(events.values_list("pk", flat=True).distinct())
    Event.objects.filter(pk__in=event_ids).update(updated_at=timezone.now())
    event_search_refresh(event_ids=event_ids)


def events_linked_changed(*, event_ids):
    """Carry a change to an event's public links into the published events at their other end.

    A relation shows on both events (relations_out on one, relations_in on the other), and
    only while its event is published: adding, changing or removing one, or publishing or
    retracting its event, changes what the other end shows. Its updated_at moves on, so the
    change feed lists it and mirrors fetch it again.
    """
    events_referencing_changed(
        events=Event.objects.filter(pk__in=event_ids, status=EventStatus.PUBLISHED)
    )


def event_linked_ids(*, event):
    """Return the ids of the events at the other end of this event's relations."""
    outgoing = EventRelation.objects.filter(from_event=event).values_list("to_event", flat=True)
    incoming = EventRelation.objects.filter(to_event=event).values_list("from_event", flat=True)
    return set(outgoing) | set(incoming)


@transaction.atomic
def references_delete(*, rows):
    """Delete actors, platforms, sources, types or tags, and carry it into the events showing them.

    Deleting a tag takes its links to events with it but moves no updated_at, so without this
    the events' cached output, ETags and the change feed would go on showing it.
    """
    event_ids = list(rows.referencing_events().values_list("pk", flat=True).distinct())
    rows.delete()
    events_referencing_changed(events=Event.objects.filter(pk__in=event_ids))


def event_publication_problems(*, event, citation_count=None):
    """Return what stops an event from being published, in words a curator can act on."""
    if citation_count is None:
        citation_count = event.citations.count()
    problems = []
    if citation_count == 0:
        problems.append(gettext("at least one citation"))
    if event.event_type_id is None:
        problems.append(gettext("an event type"))
    if not event.country and not event.is_global:
        problems.append(gettext("a country, or 'global'"))
    return problems


def join_problems(problems):
    """Return what an event lacks as one phrase: "at least one citation, an event type"."""
    return pgettext("between the items of a list", ", ").join(problems)


class EditConflict(ValidationError):
    """Someone else saved the event after this edit began; the message says what they changed."""


@transaction.atomic
def event_save(*, event, user=None):
    """Save an event: derive its date bounds, give a new one its id, record who changed it.

    An existing event is saved only if nobody saved it since event.version was read: the
    version is checked and raised in one UPDATE, so of two concurrent edits one wins and the
    other gets EditConflict, never a silent overwrite.
    """
    bounds = event.set_date(event.date_text)
    if event._state.adding:
        if not event.public_id:  # an import may bring the id the event already has elsewhere
            prefix = event_public_id_prefix(event=event, bounds=bounds)
            event.public_id = event_allocate_public_id(prefix=prefix)
        event.created_by = user
    else:
        _claim_version(event)
    if event.status == EventStatus.PUBLISHED and event.first_published_at is None:
        event.first_published_at = timezone.now()
    event.updated_by = user
    if user is not None:
        event._history_user = user  # history names the user outside a request, too
    if event._state.adding:
        event.save()
    else:
        # The search text is event_search_refresh's: an instance read before a name it shows
        # was changed would otherwise write the old words back over the new.
        event.save(update_fields=_edited_fields(event))
    return event


def _edited_fields(event):
    deferred = event.get_deferred_fields()
    return [
        field.attname
        for field in event._meta.concrete_fields
        if not field.primary_key and field.name != "search_text" and field.attname not in deferred
    ]


def _claim_version(event):
    claimed = Event.objects.filter(pk=event.pk, version=event.version).update(
        version=F("version") + 1
    )
    if not claimed:
        raise EditConflict(event_conflict_message(event=event, read_version=event.version))
    event.version += 1


def event_conflict_message(*, event, read_version):
    """Describe what others saved since read_version, field by field, with who and when."""
    history = Event.history.filter(id=event.pk)
    read = history.filter(version=read_version).order_by("-history_date").first()
    latest = history.order_by("-history_date").first()
    if latest is None:
        return gettext("Someone else saved this event while you were editing it. Reload it.")
    who = latest.history_user.get_username() if latest.history_user else gettext("someone")
    # Translators: a date and time in Django's date format: 5 May 2014 09:30.
    when = formats.date_format(timezone.localtime(latest.history_date), gettext("j F Y H:i"))
    changes = []
    if read is not None:
        delta = latest.diff_against(
            read, excluded_fields=["version", "updated_at", "updated_by", "search_text"]
        )
        changes = [
            gettext("%(field)s: '%(old)s' → '%(new)s'")
            % {
                "field": Event._meta.get_field(change.field).verbose_name,
                "old": _short(change.old),
                "new": _short(change.new),
            }
            for change in delta.changes
        ]
    separator = pgettext("between the changes of a field list", "; ")
    detail = (
        separator.join(changes)
        if changes
        else gettext("its actors, citations or other linked rows")
    )
    return gettext(
        "%(who)s saved this event at %(when)s, after you opened it, and changed %(detail)s. "
        "Your changes were not saved: reload the event, then make them again."
    ) % {"who": who, "when": when, "detail": detail}


def _short(value, length=60):
    text = "" if value is None else str(value)
    return text if len(text) <= length else text[: length - 1] + "…"


# The workflow ---------------------------------------------------------------------------

PUBLISH_PERMISSION = "events.publish_event"
MOVES = {
    # to status: (allowed from, permission needed)
    EventStatus.IN_REVIEW: ({EventStatus.DRAFT}, "events.change_event"),
    EventStatus.PUBLISHED: ({EventStatus.DRAFT, EventStatus.IN_REVIEW}, PUBLISH_PERMISSION),
    EventStatus.DRAFT: ({EventStatus.IN_REVIEW, EventStatus.PUBLISHED}, PUBLISH_PERMISSION),
    EventStatus.RETRACTED: ({EventStatus.PUBLISHED}, PUBLISH_PERMISSION),
}


@transaction.atomic
def _move(*, event, user, to_status, comment="", **changes):
    allowed_from, permission = MOVES[to_status]
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(
            gettext("You may not make %(event)s %(status)s: that is for editors.")
            % {"event": event.public_id, "status": to_status.label.lower()}
        )
    if event.status not in allowed_from:
        raise ValidationError(
            gettext("%(event)s is %(status)s; it cannot become %(new_status)s from there.")
            % {
                "event": event.public_id,
                "status": event.get_status_display().lower(),
                "new_status": to_status.label.lower(),
            }
        )
    from_status = event.status
    event.status = to_status
    for name, value in changes.items():
        setattr(event, name, value)
    event_save(event=event, user=user)
    if EventStatus.PUBLISHED in (from_status, to_status):  # its links appear or go
        events_linked_changed(event_ids=event_linked_ids(event=event))
    EventTransition.objects.create(
        event=event,
        public_id=event.public_id,
        from_status=from_status,
        to_status=to_status,
        user=user,
        comment=comment,
    )
    return event


def event_submit(*, event, user=None, comment=""):
    """Send a draft to an editor for review."""
    return _move(
        event=event,
        user=user,
        to_status=EventStatus.IN_REVIEW,
        comment=comment,
        submitted_at=timezone.now(),
    )


def event_publish(*, event, user=None, comment=""):
    """Publish an event that has what publication needs; raise ValidationError otherwise."""
    problems = event_publication_problems(event=event)
    if problems:
        raise ValidationError(
            gettext("%(event)s cannot be published yet: it needs %(problems)s.")
            % {"event": event.public_id, "problems": join_problems(problems)}
        )
    event = _move(event=event, user=user, to_status=EventStatus.PUBLISHED, comment=comment)
    # Not before: asking the Internet Archive for a page tells it what curators look into.
    event_sources_archive_later(event=event)
    return event


def event_return_to_draft(*, event, user=None, comment=""):
    """Send an event in review, or a published one, back to its curators."""
    return _move(event=event, user=user, to_status=EventStatus.DRAFT, comment=comment)


def event_retract(*, event, user=None, reason):
    """Withdraw a published event as wrong. It stays in the database and in the change feed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            gettext("Say why %(event)s is retracted: readers will see it.")
            % {"event": event.public_id}
        )
    return _move(
        event=event,
        user=user,
        to_status=EventStatus.RETRACTED,
        comment=reason,
        retracted_at=timezone.now(),
        retraction_reason=reason,
    )


# Likely duplicates -------------------------------------------------------------------------

TITLE_SIMILARITY = 0.6


def event_likely_duplicates(*, event, limit=10):
    """Return (other event, reason) pairs that may record the same happening.

    A candidate overlaps the event's dates and has the same type; it is likely the same when
    it also cites a source with the same URL, or is in the same country under a similar
    title. Events sharing only a source are not flagged: one report often describes several.
    """
    if event.event_type_id is None:
        return []
    candidates = (
        Event.objects.exclude(pk=event.pk)
        .exclude(status=EventStatus.RETRACTED)
        .filter(event_type_id=event.event_type_id)
        .overlapping(event.date_earliest, event.date_latest)
        .order_by("date_earliest", "id")
    )
    urls = set(event.citations.exclude(source__url="").values_list("source__url", flat=True))
    shared = (
        set(candidates.filter(citations__source__url__in=urls).values_list("pk", flat=True))
        if urls
        else set()
    )
    found = []
    for other in candidates[:200]:
        if other.pk in shared:
            reason = gettext("same type, overlapping dates, cites a source with the same URL")
            found.append((other, reason))
            continue
        if (other.country, other.is_global) != (event.country, event.is_global):
            continue
        ratio = difflib.SequenceMatcher(
            None, event.title.casefold(), other.title.casefold()
        ).ratio()
        if ratio >= TITLE_SIMILARITY:
            reason = gettext("same type, country and dates, similar title (%(similarity)s)")
            found.append((other, reason % {"similarity": f"{ratio:.0%}"}))
    return found[:limit]
