"""What an editor sees before publishing an event again: each field that differs from the
version the public last saw, and the rows (actors, counts, citations, relations) added or
taken away since, from the history every save keeps."""

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from ..choices import EventStatus
from ..models import Citation, Event, EventActor, EventCount, EventRelation
from ..services.revisions import EVENT_FIELDS, INLINES, revision_proposal_of


def _actor(row):
    return f"{row.get_role_display()}: {row.actor.name}" + (f" ({row.note})" if row.note else "")


def _citation(row):
    quoted = f" “{row.quote}”" if row.quote else ""
    located = f", {row.locator}" if row.locator else ""
    return f"{row.source.title}{located}{quoted}"


def _relation(row):
    return f"{row.get_relation_type_display()}: {row.to_event.public_id}"


RELATED = (  # (label, model, its link to the event, a row as a curator reads it)
    (_("actors"), EventActor, "event_id", _actor),
    (_("counts"), EventCount, "event_id", str),
    (_("citations"), Citation, "event_id", _citation),
    (_("related events"), EventRelation, "from_event_id", _relation),
)


def changes_since_published(event):
    """Return [(what, before, after)] since the event's last published version, or None if it
    was never published. Texts are as a curator reads them; a row set lists what went and
    what came, one per line."""
    published = (
        event.history.filter(status=EventStatus.PUBLISHED)
        .order_by("-history_date", "-history_id")
        .first()
    )
    if published is None:
        return None
    latest = event.history.order_by("-history_date", "-history_id").first()
    changes = []
    if latest.history_id != published.history_id:
        delta = latest.diff_against(
            published, included_fields=EVENT_FIELDS, foreign_keys_are_objs=True
        )
        for change in delta.changes:
            field = Event._meta.get_field(change.field)
            changes.append((field.verbose_name, _shown(change.old), _shown(change.new)))
    at = published.history_date
    for label, model, link, described in RELATED:
        before = {described(row) for row in model.history.as_of(at).filter(**{link: event.pk})}
        after = {described(row) for row in model.objects.filter(**{link: event.pk})}
        if before != after:
            changes.append(
                (label, "\n".join(sorted(before - after)), "\n".join(sorted(after - before)))
            )
    return changes


def _shown(value):
    if value is None or value == "":
        return "—"
    if isinstance(value, list):  # a many-to-many field: the linked rows' ids
        return ", ".join(sorted(str(item) for item in value)) or "—"
    return str(value)


def revision_changes(revision):
    """Return [(what, published, proposed)] between the event as the public sees it and a
    pending edit of it: each field, the platforms and tags, and each inline's rows."""
    published, proposed = revision_proposal_of(revision.event), revision.proposal
    changes = []
    for name, before in published["fields"].items():
        after = proposed["fields"].get(name)
        if _comparable(before) != _comparable(after):
            field = Event._meta.get_field(name)
            changes.append(
                (field.verbose_name, _field_shown(field, before), _field_shown(field, after))
            )
    for name in ("platforms", "tags"):
        if sorted(published[name]) != sorted(proposed[name]):
            field = Event._meta.get_field(name)
            model = field.related_model
            names = dict(
                model.objects.filter(pk__in=published[name] + proposed[name]).values_list(
                    "pk", "name"
                )
            )
            before = {names.get(pk, str(pk)) for pk in published[name]}
            after = {names.get(pk, str(pk)) for pk in proposed[name]}
            changes.append(
                (
                    field.verbose_name,
                    "\n".join(sorted(before - after)),
                    "\n".join(sorted(after - before)),
                )
            )
    described = {model: (label, describe) for label, model, _link, describe in RELATED}
    for inline, (model, _link, names) in INLINES.items():
        label, describe = described[model]
        before = {_described(describe, model, names, row) for row in published["rows"][inline]}
        after = {_described(describe, model, names, row) for row in proposed["rows"][inline]}
        if before != after:
            changes.append(
                (label, "\n".join(sorted(before - after)), "\n".join(sorted(after - before)))
            )
    return changes


def _comparable(value):
    return "" if value is None else str(value)


def _field_shown(field, value):
    if value is not None and field.is_relation:
        found = field.related_model.objects.filter(pk=value).first()
        return str(found) if found is not None else str(value)
    if field.choices and value:
        return str(dict(field.flatchoices).get(value, value))
    if field.name == "country" and value:
        return countries.name(value) or value
    return _shown(value)


def _described(describe, model, names, row):
    try:
        return describe(_unsaved(model, names, row))
    except ObjectDoesNotExist:  # an actor, source or event deleted since the edit was made
        return str(row)


def _unsaved(model, names, row):
    """Return a proposed row as an unsaved model instance, for reading it as a curator does."""
    instance = model()
    for name in names:
        field = model._meta.get_field(name)
        value = row.get(name)
        setattr(instance, field.attname, field.to_python(value) if value is not None else None)
    return instance
