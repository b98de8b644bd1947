"""Writes that touch several rows: the admin, the seed command and imports all go through here."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from . import search
from .choices import EventStatus
from .models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCount,
    EventRelation,
    PlatformAlias,
    PublicIdSequence,
    Source,
)

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


def _highest_public_number(manager, prefix):
    highest = (
        manager.filter(public_id__startswith=f"{prefix}-")
        .order_by(Length("public_id").desc(), "-public_id")
        .values_list("public_id", flat=True)
        .first()
    )
    return int(highest.rsplit("-", 1)[1]) if highest else 0


@transaction.atomic
def event_save(*, event, user=None):
    """Save an event: derive its date bounds, give a new one its id, record who changed it."""
    bounds = event.set_date(event.date_text)
    if event._state.adding:
        prefix = event_public_id_prefix(event=event, bounds=bounds)
        event.public_id = event_allocate_public_id(prefix=prefix)
        event.created_by = user
    if event.status == EventStatus.PUBLISHED and event.first_published_at is None:
        event.first_published_at = timezone.now()
    event.updated_by = user
    event.save()
    return event


SEARCH_BATCH = 2000


def event_search_refresh(*, event_ids):
    """Rewrite the search text of some events from their words, names, aliases and quotes."""
    event_ids = list(event_ids)
    for start in range(0, len(event_ids), SEARCH_BATCH):
        batch = Event.objects.filter(pk__in=event_ids[start : start + SEARCH_BATCH])
        events = batch.only("title", "summary", "locality").prefetch_related(
            "actor_roles__actor__aliases", "platforms__aliases", "citations"
        )
        for event in events:
            event.search_text = search.search_document(*_searchable_words(event))
        # bulk_update leaves updated_at alone: the words indexed are not a public change.
        Event.objects.bulk_update(events, ["search_text"])


def _searchable_words(event):
    yield from (event.title, event.summary, event.locality)
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
        raise ValidationError(
            f"{event.public_id} cannot be published yet: it needs {', '.join(problems)}."
        )
    event.status = EventStatus.PUBLISHED
    return event_save(event=event, user=user)


SEED_CHANGE_REASON = "Loaded from the seed timeline"
# Rows that belong to another row in a fixture: loaded only with a parent that is new, so a
# second run adds nothing and never overwrites what curators did with the seed.
FIXTURE_PARENT_FIELDS = {
    ActorAlias: "actor",
    PlatformAlias: "platform",
    EventActor: "event",
    Citation: "event",
    EventCount: "event",
    EventRelation: "from_event",
}


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    new_event_ids: list = field(default_factory=list)

    def lines(self):
        for label in sorted(set(self.created) | set(self.kept)):
            yield f"{label}: {self.created[label]} added, {self.kept[label]} already present"


@transaction.atomic
def seed_load(*, seeds_dir, fixture_paths):
    """Load the seed fixtures and source records, adding only what is missing.

    Rows are matched by their natural keys (slugs, source keys, public ids). A row already
    in the database is left as curators left it; history records each row added.
    """
    fixture_paths = list(fixture_paths)
    report = SeedReport()
    # Sources name their publisher as an actor, and events cite sources: actors first.
    _fixture_load_new(path=fixture_paths[0], report=report)
    _fixture_load_new(path=fixture_paths[1], report=report)
    for path in sorted(Path(seeds_dir).glob("*.json")):
        source_seed(record=json.loads(path.read_text()), base_dir=path.parent, report=report)
    for path in fixture_paths[2:]:
        _fixture_load_new(path=path, report=report)
    event_search_refresh(event_ids=report.new_event_ids)
    return report


def source_seed(*, record, base_dir, report):
    """Add the source a seed record describes, unless a source with its key exists."""
    source = Source.objects.filter(key=record["key"]).first()
    if source is not None:
        report.kept[_label(Source)] += 1
    else:
        source = Source(
            key=record["key"],
            title=record["title"],
            summary=record["summary"],
            kind=record["kind"],
            url=record["url"],
            archive_url=record["archive_url"],
            publisher=record["publisher"],
            authors="; ".join(record["authors"]),
            published_on=record["published_on"],
            language=record["language"],
            reliability=record["reliability"],
            publisher_actor=Actor.objects.filter(slug=record.get("publisher_actor", "")).first(),
        )
        source._change_reason = SEED_CHANGE_REASON
        source.full_clean()
        source.save()
        report.created[_label(Source)] += 1
    _source_attach_private_text(source=source, spec=record.get("private_text"), base_dir=base_dir)
    return source


def _source_attach_private_text(*, source, spec, base_dir):
    """Keep a private copy of a copyrighted text we may not commit, when it is at hand."""
    if not spec or source.full_text:
        return
    path = (Path(base_dir) / spec["path"]).resolve()
    if not path.is_file():
        return
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise ValidationError(f"{path} is not the text the seed {source.key} describes.")
    # Not a history-tracked field: the private text never enters history or public output.
    Source.objects.filter(pk=source.pk).update(full_text=data.decode("utf-8"))


def _fixture_load_new(*, path, report):
    new_parents = set()
    with open(path, encoding="utf-8") as stream:
        for deserialized in serializers.deserialize("json", stream):
            row = deserialized.object
            model = type(row)
            label = _label(model)
            if row.pk is not None or not _parent_is_new(row, new_parents):
                report.kept[label] += 1
                continue
            row._change_reason = SEED_CHANGE_REASON
            row.full_clean()
            row.save()
            for name, values in deserialized.m2m_data.items():
                getattr(row, name).set(values)
            new_parents.add((model, row.pk))
            report.created[label] += 1
            if model is Event:
                report.new_event_ids.append(row.pk)


def _parent_is_new(row, new_parents):
    parent_field = FIXTURE_PARENT_FIELDS.get(type(row))
    if parent_field is None:
        return True
    parent = getattr(row, parent_field)
    return (type(parent), parent.pk) in new_parents


def _label(model):
    return str(model._meta.verbose_name_plural)


CURATOR_GROUP = "Curator"
# Curators record events and everything they refer to; they delete only the rows that hang
# off an event (roles, citations, counts, links, aliases), never an event, actor or source.
CURATOR_PERMISSIONS = {
    "add": (
        "event",
        "actor",
        "actoralias",
        "platform",
        "platformalias",
        "source",
        "tag",
        "eventactor",
        "citation",
        "eventcount",
        "eventrelation",
    ),
    "change": (
        "event",
        "actor",
        "actoralias",
        "platform",
        "platformalias",
        "source",
        "tag",
        "eventactor",
        "citation",
        "eventcount",
        "eventrelation",
    ),
    "delete": (
        "actoralias",
        "platformalias",
        "eventactor",
        "citation",
        "eventcount",
        "eventrelation",
    ),
    "view": (
        "event",
        "actor",
        "actoralias",
        "platform",
        "platformalias",
        "source",
        "tag",
        "eventactor",
        "citation",
        "eventcount",
        "eventrelation",
        "eventtype",
        "eventcategory",
    ),
}


@transaction.atomic
def curator_group_ensure():
    """Create or refresh the Curator group with exactly the curators' permissions."""
    group, _ = Group.objects.get_or_create(name=CURATOR_GROUP)
    codenames = [
        f"{action}_{model}" for action, models in CURATOR_PERMISSIONS.items() for model in models
    ]
    permissions = Permission.objects.filter(
        content_type__app_label="events", codename__in=codenames
    )
    group.permissions.set(permissions)
    return group


@transaction.atomic
def curator_create(*, username, password):
    """Create a staff account in the Curator group; return False if the name is taken."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return False
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(curator_group_ensure())
    return True
