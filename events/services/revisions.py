"""Moderated edits: a curator's edit to a published event waits, apart, for an editor.

A proposal is plain JSON: {"fields": {name: value}, "platforms": [ids], "tags": [ids],
"rows": {inline: [{"id": id or None, field: value}]}}. Nothing in it is public until
revision_approve applies it through event_save, as an editor's own edit would be.
"""

from typing import Any, TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from ..choices import EventStatus
from ..models import Citation, Event, EventActor, EventCount, EventRelation, EventRevision
from .archiving import cited_sources_archive_later
from .events import (
    PUBLISH_PERMISSION,
    EditConflict,
    event_conflict_message,
    event_publication_problems,
    event_save,
    event_search_refresh,
    events_linked_changed,
    join_problems,
)

# What a curator edits on the event itself: the workflow's fields and the derived ones (date
# bounds, search text, the record of who and when) are not editable on the model.
EVENT_FIELDS = tuple(
    field.name for field in Event._meta.concrete_fields if field.editable and not field.primary_key
)
M2M_FIELDS = ("platforms", "tags")
# Each inline's rows: (model, its link to the event, the fields a curator fills in).
INLINES = {
    "actor_roles": (EventActor, "event", ("actor", "role", "note")),
    "counts": (EventCount, "event", ("qualifier", "quantity", "unit", "note")),
    "citations": (Citation, "event", ("source", "quote", "locator", "note")),
    "relations_out": (EventRelation, "from_event", ("to_event", "relation_type", "note")),
}


class Proposal(TypedDict):
    fields: dict[str, Any]
    platforms: list[int]
    tags: list[int]
    rows: dict[str, list[dict[str, Any]]]


def plain(value):
    """Return a value as JSON keeps it: a row as its id, a country as its code."""
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "code") and not isinstance(value, str):  # django-countries' Country
        return value.code or ""
    return value


def revision_proposal(*, event, platform_ids, tag_ids, rows) -> Proposal:
    """Return the proposal of an edited (unsaved) event, its m2m ids and its inline rows."""
    return {
        "fields": {name: plain(getattr(event, _attname(name))) for name in EVENT_FIELDS},
        "platforms": sorted(int(pk) for pk in platform_ids),
        "tags": sorted(int(pk) for pk in tag_ids),
        "rows": {
            inline: proposal_rows(inline=inline, rows=rows.get(inline, [])) for inline in INLINES
        },
    }


def proposal_rows(*, inline, rows) -> list[dict[str, Any]]:
    """Return an inline's rows (dicts of a form's cleaned data, or of a row) as a proposal's."""
    names = INLINES[inline][2]
    return [{"id": row.get("id"), **{name: plain(row.get(name)) for name in names}} for row in rows]


def revision_proposal_of(event) -> Proposal:
    """Return an event as it is now, as a proposal (what an editor compares a revision with)."""
    rows = {
        inline: [
            {"id": row.pk, **{name: getattr(row, _attname(name, model)) for name in names}}
            for row in model.objects.filter(**{link: event}).order_by("id")
        ]
        for inline, (model, link, names) in INLINES.items()
    }
    return revision_proposal(
        event=event,
        platform_ids=event.platforms.values_list("pk", flat=True),
        tag_ids=event.tags.values_list("pk", flat=True),
        rows=rows,
    )


def _attname(name, model=Event):
    return model._meta.get_field(name).attname


def event_is_moderated(*, event, user) -> bool:
    """Return whether this person's edit to this event must wait for an editor."""
    return event.status == EventStatus.PUBLISHED and not user.has_perm(PUBLISH_PERMISSION)


def revision_pending(*, event) -> EventRevision | None:
    return EventRevision.objects.filter(event=event, status=EventRevision.Status.PENDING).first()


def revision_pending_message(revision, user=None):
    """Say that an edit already waits, with a link to it: a second would be based on a stale
    version, so it is refused and the curator's text stays in the form. Its author may
    withdraw it there and edit again."""
    url = reverse("admin:events_eventrevision_change", args=[revision.pk])
    if user is not None and revision.author_id == user.pk:
        return format_html(
            gettext(
                'Your earlier edit of this event still waits for an editor: <a href="{url}">'
                "see it</a>. Withdraw it there to edit the event again, or wait for an "
                "editor to decide on it."
            ),
            url=url,
        )
    return format_html(
        gettext(
            "An edit of this event by {author} already waits for an editor: "
            '<a href="{url}">see it</a>. Ask an editor to approve or reject it, then edit again.'
        ),
        author=revision.author.get_username() if revision.author else "-",
        url=url,
    )


@transaction.atomic
def revision_propose(*, event, user, proposal: Proposal, base_version: int) -> EventRevision:
    """Keep a curator's edit of a published event for an editor; the event is not touched."""
    Event.objects.select_for_update().filter(pk=event.pk).first()  # one proposer at a time
    pending = revision_pending(event=event)
    if pending is not None:
        raise ValidationError(revision_pending_message(pending, user))
    revision = EventRevision(event=event, author=user, base_version=base_version, proposal=proposal)
    revision._history_user = user
    revision.save()
    return revision


def _check_reviewer(user):
    if user is not None and not user.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied(gettext("Only an editor may approve or reject an edit."))


def _locked_pending(revision):
    revision = EventRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status != EventRevision.Status.PENDING:
        raise ValidationError(
            gettext("This edit was already %(status)s.")
            % {"status": revision.get_status_display().lower()}
        )
    return revision


@transaction.atomic
def revision_approve(*, revision, user, comment="") -> EventRevision:
    """Apply a pending edit to its event, as an editor's save would, and record who approved it.

    Refused if the event was saved since the edit began (the conflict message says what
    changed), or if the edit would leave a published event unpublishable.
    """
    _check_reviewer(user)
    revision = _locked_pending(revision)
    event = Event.objects.select_for_update().get(pk=revision.event_id)
    if event.version != revision.base_version:
        raise EditConflict(event_conflict_message(event=event, read_version=revision.base_version))
    proposal = revision.proposal
    for name, value in proposal["fields"].items():
        field = Event._meta.get_field(name)
        setattr(event, field.attname, field.to_python(value))
    _check_still_publishable(event, len(proposal["rows"]["citations"]))
    author = revision.author.get_username() if revision.author else "-"
    event._change_reason = f"Edit {revision.pk} by {author}, approved"
    event_save(event=event, user=user)
    event.platforms.set(proposal["platforms"])
    event.tags.set(proposal["tags"])
    referenced = {
        inline: _replace_rows(event, inline, rows) for inline, rows in proposal["rows"].items()
    }
    # Names, aliases and quotes arrive with the rows: index them once all are saved.
    event_search_refresh(event_ids=[event.pk])
    events_linked_changed(event_ids=referenced["relations_out"])
    cited_sources_archive_later(event=event, source_ids=referenced["citations"])
    return _decide(revision, user, EventRevision.Status.APPROVED, comment)


def _check_still_publishable(event, citation_count):
    if event.status != EventStatus.PUBLISHED:
        return
    problems = event_publication_problems(event=event, citation_count=citation_count)
    if problems:
        raise ValidationError(
            gettext(
                "This edit would leave %(event)s without %(problems)s, which a published "
                "event needs: it cannot be approved."
            )
            % {"event": event.public_id, "problems": join_problems(problems)}
        )


def _replace_rows(event, inline, rows):
    """Make the event's rows of one inline the proposed ones: kept rows are updated in place
    (their history goes on), the rest deleted, new ones created. Return what the rows this
    added, changed or removed refer to: the events at the other end of relations, the
    sources of citations."""
    model, link, names = INLINES[inline]
    existing = {row.pk: row for row in model.objects.filter(**{link: event})}
    kept = {row["id"] for row in rows if row.get("id") in existing}
    linked = set()
    for pk, row in existing.items():
        if pk not in kept:
            linked |= _other_end(row)
            row.delete()
    for values in rows:
        row = existing.get(values.get("id")) or model(**{link: event})
        before = (_other_end(row), _values(row, names)) if row.pk else (set(), None)
        for name in names:
            field = model._meta.get_field(name)
            setattr(row, field.attname, field.to_python(values.get(name)))
        row.full_clean()
        if _values(row, names) != before[1]:
            linked |= before[0] | _other_end(row)
        row.save()
    return linked


def _values(row, names):
    return [getattr(row, row._meta.get_field(name).attname) for name in names]


def _other_end(row):
    if isinstance(row, EventRelation):
        return {row.to_event_id}
    if isinstance(row, Citation):
        return {row.source_id}
    return set()


@transaction.atomic
def revision_reject(*, revision, user, comment) -> EventRevision:
    """Turn a pending edit down, saying why; the event stays as the public sees it."""
    _check_reviewer(user)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(gettext("Say why the edit is rejected: its author will read it."))
    revision = _locked_pending(revision)
    return _decide(revision, user, EventRevision.Status.REJECTED, comment)


@transaction.atomic
def revision_withdraw(*, revision, user) -> EventRevision:
    """Take back one's own pending edit, to edit the event again; it stays on record."""
    if user is None or revision.author_id != user.pk:
        raise PermissionDenied(gettext("Only its author may withdraw an edit."))
    revision = _locked_pending(revision)
    revision.status = EventRevision.Status.WITHDRAWN
    revision.reviewed_at = timezone.now()
    revision._history_user = user
    revision.save()
    return revision


def _decide(revision, user, status, comment):
    revision.status = status
    revision.reviewer = user
    revision.reviewed_at = timezone.now()
    revision.comment = comment
    if user is not None:
        revision._history_user = user
    revision.save()
    return revision
