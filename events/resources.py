"""Bulk import in the admin (django-import-export): events, actors, platforms and sources.

The event columns are those of the API's CSV export (events.formats reads the cells), so a
CSV exported from one database imports into another and exports again unchanged. A whole
import is one transaction; every bad row is reported with its row number and nothing is
written.
"""

import dataclasses
import datetime
import functools
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

import tablib
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.forms import ConfirmImportForm, ImportForm
from rapidfuzz import fuzz, process

from . import formats, services
from .choices import ActorKind, EventStatus, PlatformKind, SourceKind
from .dates import InvalidDate, parse_date
from .links import normalise_url
from .models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventType,
    Platform,
    PlatformAlias,
    Source,
    Tag,
)
from .public.fields import IMPORTED_FIELDS

IMPORTED_COMMENT = "Imported"
STATUS_CHOICES = [
    (EventStatus.DRAFT, _("Draft (curators finish them)")),
    (EventStatus.IN_REVIEW, _("In review (an editor checks them)")),
    (EventStatus.PUBLISHED, _("Published (each must have what publication needs)")),
]


class EventImportForm(ImportForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=STATUS_CHOICES,
        initial=EventStatus.DRAFT,
        help_text=_("What new events become. Events already in the database keep their status."),
    )


class NewNameChoices(forms.MultipleChoiceField):
    """The preview's checkboxes, one per new actor or platform name: any key comes back."""

    def valid_value(self, value):
        return isinstance(value, str) and len(value) <= NEW_NAME_KEY_LENGTH


class EventConfirmImportForm(ConfirmImportForm):
    status = forms.ChoiceField(choices=STATUS_CHOICES, widget=forms.HiddenInput)
    new_names = NewNameChoices(
        label=_("New names"), required=False, widget=forms.CheckboxSelectMultiple
    )


@dataclass
class ParsedEvent:
    """A CSV row read into what an event holds; compared to the database to spot no-ops.

    scalars are Event attributes, values what the import builds (its type, actor roles,
    platforms, ...), both keyed by what the registry's importers fill, and both holding only
    the columns the file has: a file written before a column existed leaves that part of an
    event alone.
    """

    scalars: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    def value(self, name, default=None):
        return self.values.get(name, default)

    def fingerprint(self, like=None):
        """Return what the row says, limited to what `like` (another ParsedEvent) says too."""
        scalars, values = self.scalars, self.values
        if like is not None:
            scalars = {key: scalars.get(key) for key in like.scalars}
            values = {key: values.get(key) for key in like.values if key in COMPARED}
        values = {k: sorted(v) if k in UNORDERED else v for k, v in values.items() if k in COMPARED}
        return (sorted(scalars.items()), sorted(values.items()))


# What an unchanged row must match; the rest (names of new types, the record of publication)
# only matters when the import creates something.
COMPARED = {"type_slug", "actors", "platforms", "tags", "counts", "sources", "quotes"}
UNORDERED = {"platforms", "tags"}  # shown in the order of their ids, whatever the file's
EVENT_COLUMNS = [public_field.name for public_field in IMPORTED_FIELDS]
# Event fields that set_date fills from the date column, validated with it.
DATE_FIELDS = {
    "date_text",
    "date_earliest",
    "date_latest",
    "date_precision",
    "date_is_approximate",
    "date_is_uncertain",
    "date_display",
}
COLUMN_OF_FIELD = {f.model_field or f.importer.into: f.name for f in IMPORTED_FIELDS} | {
    name: "date" for name in DATE_FIELDS
}
NEW_NAME_KEY_LENGTH = 400
# Similarity of two casefolded strings as rapidfuzz's fuzz.ratio measures it, in percent:
# the share of characters the two have in common, in order (2 x their longest common
# subsequence / both lengths; what difflib's ratio approximates).
CLOSEST_CUTOFF = 75  # for "closest existing" (Gooogle → Google: 92)
TITLE_SIMILARITY = 90  # for a "very similar title"
LISTED_DUPLICATES = 3
LOOKUP_BATCH = 500
IMPORT_BATCH = 1000  # new events written together (one file of a thousand: one batch)


class NameIndex:
    """Actors or platforms by casefolded name and alias, read once per import.

    Python's casefold, not the database's: SQLite's LIKE and lower() fold ASCII only, and
    one query per name was most of what a large import cost.
    """

    def __init__(self, model, alias_model, kind):
        self.model, self.kind, self.found, self._closest = model, kind, {}, {}
        for pk, name in model.objects.values_list("pk", "name"):
            self.found.setdefault(name.casefold(), (pk, name))
        parent = alias_model._meta.get_field(kind).attname
        for pk, name, alias in alias_model.objects.values_list(parent, f"{kind}__name", "name"):
            self.found.setdefault(alias.casefold(), (pk, name))

    def get(self, name):
        """Return (pk, name as stored) for a name or alias, in any case, or None."""
        return self.found.get(name.casefold())

    def add(self, row):
        self.found[row.name.casefold()] = (row.pk, row.name)

    def key(self, name):
        return f"{self.kind}:{name.casefold()}"[:NEW_NAME_KEY_LENGTH]

    def describe_new(self, name):
        """Return "new actor 'Gooogle' (closest existing: Google)"."""
        folded = name.casefold()
        if folded not in self._closest:
            match = process.extractOne(
                folded, self.found.keys(), scorer=fuzz.ratio, score_cutoff=CLOSEST_CUTOFF
            )
            self._closest[folded] = self.found[match[0]][1] if match else None
        closest = self._closest[folded]
        if closest is None:
            return gettext("new %(kind)s '%(name)s' (nothing close exists)") % {
                "kind": self.model._meta.verbose_name,  # "actor", in the page's language
                "name": name,
            }
        return gettext("new %(kind)s '%(name)s' (closest existing: %(closest)s)") % {
            "kind": self.model._meta.verbose_name,
            "name": name,
            "closest": closest,
        }


class ImportLookups:
    """What a whole file refers to, read in a few queries before its first row.

    Types, actors, platforms and tags whole (hundreds or thousands of rows); events and
    sources only for the ids and URLs the file has.
    """

    def __init__(self, dataset):
        self.types = {}
        for event_type in EventType.objects.select_related("category"):
            self.add_type(event_type)
        self.actors = NameIndex(Actor, ActorAlias, "actor")
        self.platforms = NameIndex(Platform, PlatformAlias, "platform")
        self.tags = {name.casefold(): pk for pk, name in Tag.objects.values_list("pk", "name")}
        column = dataset.headers or []
        cells = [dict(zip(column, values, strict=False)) for values in dataset]
        ids = {_cell(row, "id") for row in cells} - {""}
        self.events = {
            event.public_id: event for event in _in_batches(Event.objects, "public_id", ids)
        }
        self.sources = {
            source.url: source
            for source in _in_batches(Source.objects, "url", _source_urls(cells) - {""})
        }

    def add_type(self, event_type):
        self.types.setdefault(event_type.name.casefold(), event_type)
        self.types[event_type.slug.casefold()] = event_type

    def event_type(self, cell):
        return self.types.get((cell or "").casefold())


def _in_batches(manager, field_name, values):
    values = sorted(values)
    for start in range(0, len(values), LOOKUP_BATCH):
        yield from manager.filter(**{f"{field_name}__in": values[start : start + LOOKUP_BATCH]})


def _source_urls(rows):
    urls = set()
    for row in rows:
        try:
            sources = formats.read_many(formats.parse_source)(_cell(row, "sources"))
        except (ValueError, TypeError):
            continue
        urls |= {normalise_url(url) for _title, _publisher, _day, url in sources}
    return urls


@dataclass(frozen=True)
class Candidate:
    """An event, stored or in the file, as the duplicate check compares it."""

    label: str  # CN-2014-0003, or "row 7"
    title: str
    type_key: str  # the type's slug, casefolded
    place: str  # the country code, "global", or "" when unknown
    earliest: datetime.date | None
    latest: datetime.date | None  # None: ongoing
    pk: int | None = None
    row: int | None = None

    @functools.cached_property
    def folded(self):
        return self.title.casefold()

    def overlaps(self, other):
        if self.earliest is None or other.earliest is None:
            return False
        return self.earliest <= (other.latest or datetime.date.max) and other.earliest <= (
            self.latest or datetime.date.max
        )


def _words(title):
    return set(re.findall(r"\w+", title.casefold()))


class DuplicateFinder:
    """Likely duplicates of each row, in the database and in the rest of the file.

    Likely: the same type, overlapping dates and the same country; or a very similar title
    (a ratio of at least TITLE_SIMILARITY), whatever the type. Every stored event that
    is not retracted is read once, a few columns each (100,000 events: well under a second),
    and compared in memory: a query per row was most of a large import's time.
    """

    def __init__(self, file_candidates):
        self.file = file_candidates
        self.by_place = defaultdict(list)
        self.by_word = defaultdict(list)
        words = set().union(*(_words(c.title) for c in file_candidates))
        for candidate in itertools.chain(self._stored(), file_candidates):
            if candidate.place:
                self.by_place[(candidate.type_key, candidate.place)].append(candidate)
            for word in _words(candidate.title) & words:
                self.by_word[word].append(candidate)

    def _stored(self):
        slugs = dict(EventType.objects.values_list("pk", "slug"))
        columns = ("pk", "public_id", "title", "event_type_id", "country", "is_global")
        rows = (
            Event.objects.exclude(status=EventStatus.RETRACTED)
            .order_by()
            .values_list(*columns, "date_earliest", "date_latest")
            .iterator(chunk_size=5000)
        )
        for pk, public_id, title, type_id, country, is_global, earliest, latest in rows:
            place = "global" if is_global else (country or "")
            type_key = slugs.get(type_id, "").casefold()
            yield Candidate(public_id, title, type_key, place, earliest, latest, pk=pk)

    def check(self, me):
        """Return messages naming the likely duplicates of `me` (a file candidate)."""
        found = {}
        for other in self.by_place.get((me.type_key, me.place), ()):
            if self._other(me, other) and me.overlaps(other):
                found[other.label] = (other, gettext("same type, country and overlapping dates"))
        for other, ratio in self._similar_titles(me):
            found.setdefault(
                other.label,
                (
                    other,
                    gettext("very similar title (%(ratio)s)") % {"ratio": f"{ratio / 100:.0%}"},
                ),
            )
        messages = [
            gettext("likely duplicate of %(label)s '%(title)s': %(reason)s")
            % {"label": other.label, "title": Truncator(other.title).chars(80), "reason": why}
            for other, why in list(found.values())[:LISTED_DUPLICATES]
        ]
        if len(found) > LISTED_DUPLICATES:
            messages.append(
                gettext("and %(count)s more likely duplicates")
                % {"count": len(found) - LISTED_DUPLICATES}
            )
        return messages

    def _other(self, me, other):
        return other is not me and (me.pk is None or other.pk != me.pk)

    def _similar_titles(self, me):
        words = sorted(_words(me.title), key=lambda word: len(self.by_word.get(word, ())))
        seen = set()
        # A very similar title shares its rarest words: look only where they are.
        for word in words[:2]:
            for other in self.by_word.get(word, ()):
                if id(other) in seen or not self._other(me, other):
                    continue
                seen.add(id(other))
                # 0 below the cutoff, found without working the ratio out.
                ratio = fuzz.ratio(me.folded, other.folded, score_cutoff=TITLE_SIMILARITY)
                if ratio:
                    yield other, ratio


class EventResource(resources.ModelResource):
    """Events by the registry's columns (events.public.fields.IMPORTED_FIELDS), keyed by id.

    The preview (a dry run) reads and checks every row but writes no event: what it shows
    comes from the file and from what the database already holds, looked up once per file.
    Names of actors and platforms the database does not know are listed for the editor to
    tick; a row naming one the editor did not tick is refused on confirm.

    Confirming checks every row as the preview does, then writes new events a batch at a
    time (django-import-export's use_bulk: bulk_create below, through events_create), with
    their links and history; a row that changes a stored event is written when it is read.
    """

    id = fields.Field(attribute="public_id", column_name="id")

    class Meta:
        model = Event
        fields = ("id",)
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # Event.clean runs in import_instance, with our messages
        use_bulk = True
        batch_size = IMPORT_BATCH

    def __init__(self, status_after_import=EventStatus.DRAFT, user=None, new_names=(), **kwargs):
        super().__init__(**kwargs)
        self.status_after_import = status_after_import or EventStatus.DRAFT
        self.user = user
        self.ticked_names = set(new_names or ())
        self.lookups = self.duplicates = None
        self.previewing = False
        self.new_names = {}  # key -> (description, [row numbers]), for the preview
        self.notes = defaultdict(list)  # row number -> warnings
        self.row_ids = {}  # public id -> the first row number bringing it
        self.saved = []  # pks of the events written, their search text refreshed at the end
        self.batch_rows = []  # the row numbers of self.create_instances, the batch to write

    @classmethod
    def import_columns(cls):
        """Return the registry's fields the import reads, for the import page's table."""
        return IMPORTED_FIELDS

    @classmethod
    def template_dataset(cls):
        """Return the import template: every column the import reads, and one example row."""
        dataset = tablib.Dataset(headers=EVENT_COLUMNS)
        dataset.append([f.importer.example for f in IMPORTED_FIELDS])
        return dataset

    def get_import_fields(self):
        # What the import page lists as the columns it reads: every importable column.
        return [fields.Field(attribute=name, column_name=name) for name in EVENT_COLUMNS]

    def import_data(self, dataset, dry_run=False, **kwargs):
        self.previewing = dry_run  # before_import is not told
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.lookups = ImportLookups(dataset)
        if self.previewing:  # likely duplicates are warnings on the preview; confirm shows none
            self.duplicates = DuplicateFinder(self._file_candidates(dataset))

    def _file_candidates(self, dataset):
        self.candidates = {}
        for number, values in enumerate(dataset, 1):
            row = dict(zip(dataset.headers, values, strict=False))
            candidate = _candidate(row, number, self.lookups)
            if candidate is not None:  # a row whose date cannot be read is refused anyway
                self.candidates[number] = candidate
        return list(self.candidates.values())

    def get_instance(self, instance_loader, row):
        public_id = _cell(row, "id")
        return self.lookups.events.get(public_id) if public_id else None

    def import_instance(self, instance, row, **kwargs):
        number, dry_run = kwargs.get("row_number"), self._is_dry_run(kwargs)
        creating = instance._state.adding
        publishing = self.status_after_import == EventStatus.PUBLISHED
        parsed, errors = read_event_row(row, creating, publishing, self.lookups)
        errors |= self._check_id(row, number, creating)
        errors |= self._check_names(parsed, number, dry_run)
        if errors:
            raise ValidationError(errors)
        for name, value in parsed.scalars.items():
            setattr(instance, name, value)
        try:
            instance.set_date(instance.date_text)
        except InvalidDate as error:
            raise ValidationError({"date": str(error)}) from error
        if creating:
            instance.public_id = _cell(row, "id")
        _validate(instance, parsed)
        instance.event_type = _event_type(parsed, self.lookups)
        parsed.values["type_slug"] = instance.event_type.slug  # a name in the file, or any case
        instance._import = parsed
        self._note_duplicates(number, instance)

    def _check_id(self, row, number, creating):
        public_id = _cell(row, "id")
        if not public_id:
            return {}
        first = self.row_ids.setdefault(public_id, number)
        if first != number:
            return {"id": gettext("Row %(row)s has the same id.") % {"row": first}}
        return {}

    def _check_names(self, parsed, number, dry_run):
        """Note new actor and platform names; on confirm, refuse those not ticked."""
        errors = {}
        if "actors" in parsed.values:
            actors = parsed.values["actors"]
            names = [name for name, _role in actors]
            names = self._known(self.lookups.actors, names, number, dry_run, errors, "actors")
            parsed.values["actors"] = [
                (name, role) for name, (_cell, role) in zip(names, actors, strict=True)
            ]
        if "platforms" in parsed.values:
            names = parsed.values["platforms"]
            names = self._known(self.lookups.platforms, names, number, dry_run, errors, "platforms")
            parsed.values["platforms"] = names
        return errors

    def _known(self, index, names, number, dry_run, errors, column):
        """Return the names as stored (an unchanged row is then skipped); note the new ones,
        or on confirm refuse those the editor did not tick."""
        known = []
        for name in names:
            found = index.get(name)
            known.append(found[1] if found else name)
            if found is not None:
                continue
            described = index.describe_new(name)
            if dry_run:
                self.new_names.setdefault(index.key(name), (described, []))[1].append(number)
                self.notes[number].append(described)
            elif index.key(name) not in self.ticked_names:
                message = gettext(
                    "%(new)s was not ticked as new on the preview, so it is not created: "
                    "correct the name, or tick it on the preview."
                )
                errors.setdefault(column, []).append(message % {"new": described})
        return known

    def _note_duplicates(self, number, instance):
        me = self.candidates.get(number) if self.duplicates is not None else None
        if me is None:
            return
        if instance.pk is not None and me.pk != instance.pk:
            me = dataclasses.replace(me, pk=instance.pk)
        self.notes[number].extend(self.duplicates.check(me))

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance._state.adding:
            return False
        parsed = instance._import
        stored = read_event_from_database(instance.pk)
        return stored.fingerprint(like=parsed) == parsed.fingerprint(like=parsed)

    def save_instance(self, instance, is_create, row, **kwargs):
        if self._is_dry_run(kwargs):
            self._check_publication(instance, is_create)
            return  # the preview writes no event: confirm does
        # The record of publication is in parsed only for an event created as published
        # (read_event_row): a copy of another database keeps its rows' history of change.
        parsed = instance._import
        if is_create:
            # Refused here, with its row, what publishing the batch would refuse.
            self._check_publication(instance, is_create)
            if parsed.value("first_published_at") is not None:
                instance.first_published_at = parsed.value("first_published_at")
            self.create_instances.append(instance)  # written by bulk_create, with its batch
            self.batch_rows.append(kwargs.get("row_number"))
            return
        # Undone alone if it fails, as each row's savepoint did before use_bulk.
        with transaction.atomic():
            services.event_save(event=instance, user=self.user)
            _replace_relations(instance, parsed, self.lookups)
            if instance.status == EventStatus.PUBLISHED:
                self._check_publication(instance, is_create)
        self.saved.append(instance.pk)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        """Write the batch of new events with their links and history (use_bulk calls it)."""
        instances, rows = list(self.create_instances), list(self.batch_rows)
        self.create_instances.clear()
        self.batch_rows.clear()
        if not instances or dry_run:
            return
        try:
            with transaction.atomic():
                self._create(instances)
        except Exception as error:  # a row's errors were found when it was read: not one row's
            message = gettext("rows %(first)s to %(last)s could not be written: %(error)s")
            failed = BatchError(message % {"first": rows[0], "last": rows[-1], "error": error})
            self.handle_import_error(result, failed, raise_errors)

    def _create(self, instances):
        _create_sources(instances, self.lookups, self.user)
        new_events = [_new_event(instance, self.lookups) for instance in instances]
        services.events_create(new_events=new_events, user=self.user)
        for instance in instances:
            self.saved.append(instance.pk)
            self._apply_status(instance)
            updated_at = instance._import.value("updated_at")
            if updated_at is not None:
                Event.objects.filter(pk=instance.pk).update(updated_at=updated_at)

    def _check_publication(self, instance, is_create):
        """Refuse a row whose event would be published without what publication needs."""
        parsed = instance._import
        if is_create and self.status_after_import != EventStatus.PUBLISHED:
            return
        if not is_create and instance.status != EventStatus.PUBLISHED:
            return
        if "sources" in parsed.values:
            citations = len(parsed.values["sources"])
        else:
            citations = instance.citations.count() if instance.pk else 0
        problems = services.event_publication_problems(event=instance, citation_count=citations)
        if not problems:
            return
        if is_create:
            message = gettext("%(event)s cannot be published yet: it needs %(problems)s.")
        else:
            message = gettext("A published event needs %(problems)s.")
        raise ValidationError(
            message
            % {
                "event": instance.public_id or gettext("This event"),
                "problems": services.events.join_problems(problems),
            }
        )

    def _apply_status(self, event):
        if self.status_after_import == EventStatus.IN_REVIEW:
            services.event_submit(event=event, user=self.user, comment=IMPORTED_COMMENT)
        elif self.status_after_import == EventStatus.PUBLISHED:
            services.event_publish(event=event, user=self.user, comment=IMPORTED_COMMENT)

    def after_import_row(self, row, row_result, **kwargs):
        super().after_import_row(row, row_result, **kwargs)
        row_result.row_number = kwargs.get("row_number")
        row_result.title = _cell(row, "title")
        row_result.notes = self.notes.pop(row_result.row_number, [])

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        result.new_names = [
            (key, described, rows) for key, (described, rows) in self.new_names.items()
        ]
        if not self._is_dry_run(kwargs) and self.saved:
            # Once for the file, not once a row: the words of a thousand events in a few queries.
            services.event_search_refresh(event_ids=self.saved)


class BatchError(Exception):
    """A batch of new events the database refused, with the rows it held."""


def _candidate(row, number, lookups):
    """Return the row as a duplicate Candidate, or None if it cannot be read that far."""
    title = _cell(row, "title")
    try:
        bounds = parse_date(_cell(row, "date"))
        is_global = formats.read_boolean(_cell(row, "is_global"))
    except (InvalidDate, ValueError):
        return None
    type_cell = _cell(row, "type")
    event_type = lookups.event_type(type_cell)
    type_key = (event_type.slug if event_type else slugify(type_cell)).casefold()
    place = "global" if is_global else formats.read_country(_cell(row, "country"))
    label = gettext("row %(number)s") % {"number": number}
    pk = getattr(lookups.events.get(_cell(row, "id")), "pk", None)
    return Candidate(label, title, type_key, place, bounds.earliest, bounds.latest, pk, number)


# The constraints a cell can break, checked in Python: validate_constraints() asks the
# database once per constraint and row (nine queries a row). The messages are the
# constraints' own; the workflow's constraints (status, publication) are the services'.
CELL_CONSTRAINTS = {
    "event_global_has_no_country": lambda e: not (e.is_global and e.country),
    "event_coordinates_both_or_neither": lambda e: (e.latitude is None) == (e.longitude is None),
    "event_coordinates_in_range": lambda e: (
        e.latitude is None
        or e.longitude is None
        or (-90 <= e.latitude <= 90 and -180 <= e.longitude <= 180)
    ),
    "event_original_has_language": lambda e: (
        not (e.title_original or e.summary_original) or bool(e.original_language)
    ),
}


def _validate(instance, parsed):
    """Check the row's values as the database will (lengths, choices, country codes,
    constraints), so that a bad cell is a message on its row, never an error on save."""
    checked = set(parsed.scalars) | DATE_FIELDS
    # The country is checked against the code list alone: Django checks a choice by going
    # through every choice, which for countries translates 250 names a row (a second a
    # thousand rows).
    exclude = {f.name for f in Event._meta.concrete_fields} - (checked - {"country"})
    errors = {}
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as error:
        for name, messages in error.update_error_dict({}).items():
            errors.setdefault(COLUMN_OF_FIELD.get(name, name), []).extend(_texts(messages))
    country = Event._meta.get_field("country")
    if "country" in checked and instance.country and instance.country not in country.countries:
        message = country.error_messages["invalid_choice"] % {"value": str(instance.country)}
        errors.setdefault(COLUMN_OF_FIELD.get("country", "country"), []).append(message)
    if errors:
        raise ValidationError(errors)
    broken = [
        constraint.get_violation_error_message()
        for constraint in Event._meta.constraints
        if constraint.name in CELL_CONSTRAINTS and not CELL_CONSTRAINTS[constraint.name](instance)
    ]
    if broken:
        raise ValidationError(broken)


def _texts(messages):
    return [text for message in messages for text in ValidationError(message).messages]


def _cell(row, name):
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return formats.unneutralise(str(value)).strip()


def read_event_row(row, creating=True, publishing=False, lookups=None):
    """Return (ParsedEvent, errors by column) for one CSV or XLSX row, by the registry.

    A column the file does not have is left out: an event the import creates takes the
    model's default for it; an event it updates keeps what it has. The record of
    publication (first_published_at, updated_at) is read only for an event the import
    creates as published: a draft imported is a draft, published nowhere as far as this
    database knows, and deletable. The type is found by its slug or its name, in any case.
    """
    parsed, errors = ParsedEvent(), {}
    for public_field in IMPORTED_FIELDS:
        importer = public_field.importer
        name = public_field.name
        if importer.on_publish and not (creating and publishing):
            continue
        if name not in row and not importer.required:
            if creating and importer.scalar and importer.into != "public_id":
                parsed.scalars[importer.into] = _default(importer.into)
            continue
        cell = _cell(row, name)
        if importer.required and not cell:
            errors[name] = importer.required
            continue
        try:
            value = importer.parse(cell)
        except (ValueError, TypeError) as error:
            errors[name] = str(error)
            continue
        if importer.into == "public_id":
            continue  # the key: get_instance reads it
        target = parsed.scalars if importer.scalar else parsed.values
        target[importer.into] = value
    type_cell = parsed.value("type_slug")
    if type_cell and _find_type(type_cell, lookups) is None and not parsed.value("category_slug"):
        errors["category"] = "Required for a new event type."
    return parsed, errors


def _find_type(cell, lookups):
    if lookups is not None:
        return lookups.event_type(cell)
    return EventType.objects.filter(Q(slug__iexact=cell) | Q(name__iexact=cell)).first()


def _default(attribute):
    return Event._meta.get_field(attribute).get_default()


def read_event_from_database(pk):
    """Return a stored event as a ParsedEvent, to compare with an imported row."""
    event = Event.objects.select_related("event_type").get(pk=pk)
    parsed = ParsedEvent()
    parsed.scalars = {
        f.importer.into: getattr(event, f.importer.into)
        for f in IMPORTED_FIELDS
        if f.importer.scalar and f.importer.into != "public_id"
    }
    parsed.scalars["country"] = str(event.country or "")
    values = parsed.values
    values["type_slug"] = event.event_type.slug if event.event_type else ""
    values["actors"] = list(event.actor_roles.order_by("id").values_list("actor__name", "role"))
    values["platforms"] = list(
        Event.platforms.through.objects.filter(event=event)
        .order_by("id")
        .values_list("platform__name", flat=True)
    )
    values["tags"] = list(
        Event.tags.through.objects.filter(event=event)
        .order_by("id")
        .values_list("tag__name", flat=True)
    )
    values["counts"] = list(
        event.counts.order_by("id").values_list("qualifier", "quantity", "unit", "note")
    )
    seen, sources, citations = set(), [], event.citations.order_by("id").select_related("source")
    for citation in citations:
        source = citation.source
        if source.pk not in seen:
            seen.add(source.pk)
            sources.append((source.title, source.publisher, source.published_on, source.url))
    values["sources"] = sources
    values["quotes"] = [citation.quote for citation in citations if citation.quote]
    return parsed


def _event_type(parsed, lookups):
    cell = parsed.value("type_slug")
    event_type = _find_type(cell, lookups)
    if event_type is not None:
        return event_type
    category_slug = parsed.value("category_slug")
    with transaction.atomic():  # a refused slug is this row's error; the next rows go on
        return _new_type(parsed, lookups, cell, category_slug)


def _new_type(parsed, lookups, cell, category_slug):
    category, _created = EventCategory.objects.get_or_create(
        slug=category_slug,
        defaults={"name": parsed.value("category_name") or category_slug},
    )
    event_type = EventType.objects.create(
        slug=slugify(cell) or cell, category=category, name=parsed.value("type_name") or cell
    )
    lookups.add_type(event_type)
    return event_type


def _replace_relations(event, parsed, lookups):
    """Rebuild what the row lists of a stored event's related rows; columns it lacks are kept."""
    values = parsed.values
    if "actors" in values:
        event.actor_roles.all().delete()
        for actor_id, role in _actor_roles(values, lookups):
            EventActor.objects.create(event=event, actor_id=actor_id, role=role)
    # One add() each: every add() writes the event's history again (m2m_fields).
    if "platforms" in values:
        event.platforms.clear()
        event.platforms.add(*_platform_ids(values, lookups))
    if "tags" in values:
        event.tags.clear()
        event.tags.add(*_tag_ids(values, lookups))
    if "counts" in values:
        event.counts.all().delete()
        for count in _counts(values):
            count.event = event
            count.save()
    if "sources" in values or "quotes" in values:
        stored = read_event_from_database(event.pk).values
        event.citations.all().delete()
        for citation in _citations(parsed, lookups, stored):
            citation.event = event
            citation.save()


def _new_event(instance, lookups):
    """Return a new event and the links its row lists, for events_create to write."""
    parsed = instance._import
    values = parsed.values
    # In the order rows were written one by one: new actors, platforms, tags, then sources.
    return services.NewEvent(
        event=instance,
        actor_roles=_actor_roles(values, lookups),
        platform_ids=_platform_ids(values, lookups),
        tag_ids=_tag_ids(values, lookups),
        counts=_counts(values),
        citations=_citations(parsed, lookups, stored={}),
    )


def _actor_roles(values, lookups):
    names = values.get("actors", ())
    return list(dict.fromkeys((_named(lookups.actors, name), role) for name, role in names))


# Their order is their ids' (the export's), whatever the cell's; a name twice is one link.
def _platform_ids(values, lookups):
    names = values.get("platforms", ())
    return list(dict.fromkeys(_named(lookups.platforms, name) for name in names))


def _tag_ids(values, lookups):
    return list(dict.fromkeys(_tag(lookups, name) for name in values.get("tags", ())))


def _counts(values):
    return [
        EventCount(qualifier=qualifier, quantity=quantity, unit=unit, note=note)
        for qualifier, quantity, unit, note in values.get("counts", ())
    ]


def _citations(parsed, lookups, stored):
    """Return the event's unsaved citations: the row's sources and quotes, or those stored."""
    sources = parsed.value("sources", stored.get("sources", []))
    quotes = parsed.value("quotes", stored.get("quotes", []))
    sources = [_source(lookups, *source) for source in sources]
    # The CSV does not say which source each quote came from: quotes go to the first source.
    citations = [Citation(source=sources[0], quote=quote) for quote in quotes if sources]
    citations += [Citation(source=source) for source in (sources[1:] if quotes else sources)]
    return citations


def _named(index, name):
    """Return the pk of an actor or platform by name or alias, creating one the editor ticked
    as new (import_instance refused the row otherwise)."""
    found = index.get(name)
    if found is not None:
        return found[0]
    model = index.model
    kind = ActorKind.OTHER if model is Actor else PlatformKind.OTHER
    created = model.objects.create(name=name, slug=_free_slug(model, "slug", name), kind=kind)
    index.add(created)
    return created.pk


def _tag(lookups, name):
    pk = lookups.tags.get(name.casefold())
    if pk is None:
        pk = Tag.objects.create(name=name, slug=_free_slug(Tag, "slug", name)).pk
        lookups.tags[name.casefold()] = pk
    return pk


def _source(lookups, title, publisher, published_on, url):
    url = normalise_url(url)
    key = url or ("", title, publisher, published_on)
    found = lookups.sources.get(key)
    if found is None and not url:
        found = Source.objects.filter(
            url="", title=title, publisher=publisher, published_on=published_on
        ).first()
    if found is None:
        found = Source.objects.create(
            key=_free_slug(Source, "key", f"{title} {published_on or ''}"),
            title=title,
            publisher=publisher,
            published_on=published_on,
            url=url,
            kind=SourceKind.OTHER,
        )
    lookups.sources[key] = found
    return found


def _create_sources(instances, lookups, user):
    """Create the new sources with a URL that a batch's rows cite, in bulk with their history.

    One by one (_source) each took three queries. A source without a URL still goes that
    way: it is looked up by its title, publisher and date first.
    """
    new = {}
    for instance in instances:
        for title, publisher, published_on, url in instance._import.value("sources", ()):
            url = normalise_url(url)
            if url and url not in lookups.sources:
                new.setdefault(url, (title, publisher, published_on))
    if not new:
        return
    texts = [f"{title} {published_on or ''}" for title, _publisher, published_on in new.values()]
    keys = _free_slugs(Source, "key", texts)
    sources = [
        Source(
            key=key,
            title=title,
            publisher=publisher,
            published_on=day,
            url=url,
            kind=SourceKind.OTHER,
        )
        for key, (url, (title, publisher, day)) in zip(keys, new.items(), strict=True)
    ]
    services.sources_create(sources=sources, user=user)
    lookups.sources.update((source.url, source) for source in sources)


def _free_slugs(model, field_name, texts, max_length=100):
    """Return a free slug for each text, as _free_slug gives them saving one after another."""
    bases = [slugify(text)[:max_length] or "imported" for text in texts]
    stored = model.objects.filter(**{f"{field_name}__in": set(bases)})
    taken = set(stored.values_list(field_name, flat=True))
    slugs = []
    for base in bases:
        slug, number = base, 1
        while slug in taken or (number > 1 and model.objects.filter(**{field_name: slug}).exists()):
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        slugs.append(slug)
    return slugs


def _free_slug(model, field_name, text, max_length=100):
    base = slugify(text)[:max_length] or "imported"
    slug, number = base, 1
    while model.objects.filter(**{field_name: slug}).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


class NamedResource(resources.ModelResource):
    """Actors and platforms: keyed by slug; aliases listed in one cell are added."""

    alias_model = None
    alias_parent = None

    def after_save_instance(self, instance, row, **kwargs):
        for name in self._new_aliases(instance, row):
            self.alias_model.objects.create(**{self.alias_parent: instance}, name=name)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # Unchanged fields but new aliases is a change.
        if instance.pk and self._new_aliases(instance, row):
            return False
        return super().skip_row(instance, original, row, import_validation_errors)

    def _new_aliases(self, instance, row):
        known = {instance.name}
        if instance.pk:
            known |= set(instance.aliases.values_list("name", flat=True))
        return [name for name in formats.split_list(_cell(row, "aliases")) if name not in known]

    def before_import_row(self, row, **kwargs):
        for column in ("name", "description"):
            if column in row and row[column] is not None:
                row[column] = formats.unneutralise(str(row[column]))


class ActorResource(NamedResource):
    parent = fields.Field(
        attribute="parent", column_name="parent", widget=widgets.ForeignKeyWidget(Actor, "slug")
    )
    alias_model, alias_parent = ActorAlias, "actor"

    class Meta:
        model = Actor
        fields = ("slug", "name", "kind", "country", "parent", "description", "wikidata_id", "url")
        import_id_fields = ("slug",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


class PlatformResource(NamedResource):
    operator = fields.Field(
        attribute="operator", column_name="operator", widget=widgets.ForeignKeyWidget(Actor, "slug")
    )
    alias_model, alias_parent = PlatformAlias, "platform"

    class Meta:
        model = Platform
        fields = (
            "slug",
            "name",
            "kind",
            "operator",
            "country",
            "description",
            "wikidata_id",
            "url",
        )
        import_id_fields = ("slug",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


class SourceResource(resources.ModelResource):
    publisher_actor = fields.Field(
        attribute="publisher_actor",
        column_name="publisher_actor",
        widget=widgets.ForeignKeyWidget(Actor, "slug"),
    )

    class Meta:
        model = Source
        fields = (
            "key",
            "title",
            "summary",
            "kind",
            "url",
            "archive_url",
            "publisher",
            "publisher_actor",
            "authors",
            "published_on",
            "language",
            "accessed_on",
            "reliability",
        )
        import_id_fields = ("key",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        if row.get("url"):
            row["url"] = normalise_url(str(row["url"]))
