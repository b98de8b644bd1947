"""Seed loading: our records of source documents and the curated seed timeline."""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCount,
    EventRelation,
    PlatformAlias,
    Source,
)
from .events import event_search_refresh

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
