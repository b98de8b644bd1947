"""Bulk import in the admin (django-import-export): events, actors, platforms and sources.

The event columns are those of the API's CSV export (events.formats reads the cells), so a
CSV exported from one database imports into another and exports again unchanged. A whole
import is one transaction; every bad row is reported with its row number and nothing is
written.
"""

import datetime
import decimal
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from import_export import fields, resources, widgets
from import_export.forms import ConfirmImportForm, ImportForm

from . import formats, services
from .choices import ActorKind, EventStatus, PlatformKind, SourceKind, Verification
from .dates import InvalidDate
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

IMPORT_COMMENT = "Imported"
PUBLIC_ID = re.compile(r"[A-Z]{2}-[0-9]{4}-[0-9]{4,}\Z")  # as Event's event_public_id_format
STATUS_CHOICES = [
    (EventStatus.DRAFT, "Draft (curators finish them)"),
    (EventStatus.IN_REVIEW, "In review (an editor checks them)"),
    (EventStatus.PUBLISHED, "Published (each must have what publication needs)"),
]


class EventImportForm(ImportForm):
    status = forms.ChoiceField(
        choices=STATUS_CHOICES,
        initial=EventStatus.DRAFT,
        help_text="What new events become. Events already in the database keep their status.",
    )


class EventConfirmImportForm(ConfirmImportForm):
    status = forms.ChoiceField(choices=STATUS_CHOICES, widget=forms.HiddenInput)


@dataclass
class ParsedEvent:
    """A CSV row read into what an event holds; compared to the database to spot no-ops."""

    scalars: dict = field(default_factory=dict)
    type_slug: str = ""
    type_name: str = ""
    category_slug: str = ""
    category_name: str = ""
    actors: list = field(default_factory=list)  # (name, role)
    platforms: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    counts: list = field(default_factory=list)  # (qualifier, quantity, unit, note)
    sources: list = field(default_factory=list)  # (title, publisher, published_on, url)
    quotes: list = field(default_factory=list)
    first_published_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None

    def fingerprint(self):
        return (
            sorted(self.scalars.items()),
            self.type_slug,
            self.actors,
            self.platforms,
            self.tags,
            self.counts,
            self.sources,
            self.quotes,
        )


class EventResource(resources.ModelResource):
    id = fields.Field(attribute="public_id", column_name="id")
    title = fields.Field(attribute="title", column_name="title")
    date = fields.Field(attribute="date_text", column_name="date")
    country = fields.Field(attribute="country", column_name="country")
    verification = fields.Field(attribute="verification", column_name="verification")

    class Meta:
        model = Event
        fields = ("id", "title", "date", "country", "verification")
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # Event.clean runs in import_instance, with our messages

    def __init__(self, status_after_import=EventStatus.DRAFT, user=None, **kwargs):
        super().__init__(**kwargs)
        self.status_after_import = status_after_import or EventStatus.DRAFT
        self.user = user

    def get_instance(self, instance_loader, row):
        public_id = _cell(row, "id")
        return Event.objects.filter(public_id=public_id).first() if public_id else None

    def import_instance(self, instance, row, **kwargs):
        parsed, errors = read_event_row(row)
        if errors:
            raise ValidationError(errors)
        for name, value in parsed.scalars.items():
            setattr(instance, name, value)
        try:
            instance.set_date(parsed.scalars["date_text"])
        except InvalidDate as error:
            raise ValidationError({"date": str(error)}) from error
        if instance._state.adding:
            instance.public_id = _cell(row, "id")
        instance.event_type = _event_type(parsed)
        instance._import = parsed

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance._state.adding:
            return False
        return read_event_from_database(instance.pk).fingerprint() == instance._import.fingerprint()

    def save_instance(self, instance, is_create, row, **kwargs):
        parsed = instance._import
        if is_create and parsed.first_published_at is not None:
            instance.first_published_at = parsed.first_published_at
        services.event_save(event=instance, user=self.user)
        _replace_relations(instance, parsed)
        services.event_search_refresh(event_ids=[instance.pk])
        if is_create:
            self._apply_status(instance)
            if parsed.updated_at is not None:
                # A copy of another database keeps its rows' history of change.
                Event.objects.filter(pk=instance.pk).update(updated_at=parsed.updated_at)
        elif instance.status == EventStatus.PUBLISHED:
            problems = services.event_publication_problems(event=instance)
            if problems:
                raise ValidationError(f"A published event needs {', '.join(problems)}.")

    def _apply_status(self, event):
        if self.status_after_import == EventStatus.IN_REVIEW:
            services.event_submit(event=event, user=self.user, comment=IMPORT_COMMENT)
        elif self.status_after_import == EventStatus.PUBLISHED:
            services.event_publish(event=event, user=self.user, comment=IMPORT_COMMENT)


def _cell(row, name):
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return formats.unneutralise(str(value)).strip()


def read_event_row(row):
    """Return (ParsedEvent, errors by column) for one CSV or XLSX row."""
    parsed, errors = ParsedEvent(), {}

    def attempt(column, read):
        try:
            return read(_cell(row, column))
        except (ValueError, TypeError, decimal.InvalidOperation) as error:
            errors[column] = str(error)
            return None

    public_id = _cell(row, "id")
    too_long = len(public_id) > Event._meta.get_field("public_id").max_length
    if public_id and (too_long or not PUBLIC_ID.match(public_id)):
        errors["id"] = f"'{public_id[:40]}' is not a public id such as CN-2014-0003."
    for column in ("title", "summary", "date"):
        if not _cell(row, column):
            errors[column] = "Required."
    parsed.scalars = {
        "title": _cell(row, "title"),
        "summary": _cell(row, "summary"),
        "date_text": _cell(row, "date"),
        "country": _cell(row, "country").upper(),
        "is_global": attempt("is_global", _boolean) or False,
        "locality": _cell(row, "locality"),
        "latitude": attempt("latitude", _decimal),
        "longitude": attempt("longitude", _decimal),
        "verification": attempt("verification", _verification),
    }
    parsed.type_slug, parsed.type_name = _cell(row, "type"), _cell(row, "type_name")
    parsed.category_slug = _cell(row, "category")
    parsed.category_name = _cell(row, "category_name")
    if not parsed.type_slug:
        errors["type"] = "Required: an event type slug such as account-removal."
    elif not parsed.category_slug and not EventType.objects.filter(slug=parsed.type_slug).exists():
        errors["category"] = "Required for a new event type."
    parsed.actors = attempt("actors", _many(formats.parse_actor)) or []
    parsed.counts = attempt("counts", _many(formats.parse_count)) or []
    parsed.sources = attempt("sources", _many(formats.parse_source)) or []
    parsed.platforms = formats.split_list(_cell(row, "platforms"))
    parsed.tags = formats.split_list(_cell(row, "tags"))
    parsed.quotes = formats.split_list(_cell(row, "quotes"))
    parsed.first_published_at = attempt("first_published_at", _moment)
    parsed.updated_at = attempt("updated_at", _moment)
    return parsed, errors


def _many(parse):
    return lambda cell: [parse(item) for item in formats.split_list(cell)]


def _boolean(cell):
    if cell.lower() in ("", "false", "0", "no"):
        return False
    if cell.lower() in ("true", "1", "yes"):
        return True
    raise ValueError(f"'{cell}' is not true or false.")


def _decimal(cell):
    return decimal.Decimal(cell) if cell else None


def _verification(cell):
    if cell not in Verification.values:
        raise ValueError(f"'{cell}' is not one of {', '.join(Verification.values)}.")
    return cell


def _moment(cell):
    if not cell:
        return None
    moment = parse_datetime(cell)
    if moment is None:
        raise ValueError(f"'{cell}' is not an ISO 8601 moment such as 2014-05-28T09:00:00Z.")
    return moment


def read_event_from_database(pk):
    """Return a stored event as a ParsedEvent, to compare with an imported row."""
    event = Event.objects.select_related("event_type").get(pk=pk)
    parsed = ParsedEvent()
    parsed.scalars = {
        "title": event.title,
        "summary": event.summary,
        "date_text": event.date_text,
        "country": str(event.country or ""),
        "is_global": event.is_global,
        "locality": event.locality,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "verification": event.verification,
    }
    parsed.type_slug = event.event_type.slug if event.event_type else ""
    parsed.actors = list(event.actor_roles.order_by("id").values_list("actor__name", "role"))
    parsed.platforms = list(
        Event.platforms.through.objects.filter(event=event)
        .order_by("id")
        .values_list("platform__name", flat=True)
    )
    parsed.tags = list(
        Event.tags.through.objects.filter(event=event)
        .order_by("id")
        .values_list("tag__name", flat=True)
    )
    parsed.counts = list(
        event.counts.order_by("id").values_list("qualifier", "quantity", "unit", "note")
    )
    seen, citations = set(), event.citations.order_by("id").select_related("source")
    for citation in citations:
        source = citation.source
        if source.pk not in seen:
            seen.add(source.pk)
            parsed.sources.append((source.title, source.publisher, source.published_on, source.url))
    parsed.quotes = [citation.quote for citation in citations if citation.quote]
    return parsed


def _event_type(parsed):
    event_type = EventType.objects.filter(slug=parsed.type_slug).first()
    if event_type is not None:
        return event_type
    category, _ = EventCategory.objects.get_or_create(
        slug=parsed.category_slug,
        defaults={"name": parsed.category_name or parsed.category_slug},
    )
    return EventType.objects.create(
        slug=parsed.type_slug, category=category, name=parsed.type_name or parsed.type_slug
    )


def _replace_relations(event, parsed):
    event.actor_roles.all().delete()
    for name, role in parsed.actors:
        EventActor.objects.get_or_create(event=event, actor=_named(Actor, name), role=role)
    # One by one: the export lists them in the order their links were made.
    event.platforms.clear()
    for name in parsed.platforms:
        event.platforms.add(_named(Platform, name))
    event.tags.clear()
    for name in parsed.tags:
        event.tags.add(_tag(name))
    event.counts.all().delete()
    for qualifier, quantity, unit, note in parsed.counts:
        EventCount.objects.create(
            event=event, qualifier=qualifier, quantity=quantity, unit=unit, note=note
        )
    event.citations.all().delete()
    sources = [_source(*source) for source in parsed.sources]
    # The CSV does not say which source each quote came from: quotes go to the first source.
    for quote in parsed.quotes:
        Citation.objects.create(event=event, source=sources[0], quote=quote)
    for source in sources[1:] if parsed.quotes else sources:
        Citation.objects.create(event=event, source=source)


def _named(model, name):
    """Find an actor or platform by name or alias, or record a new one."""
    found = model.objects.filter(Q(name__iexact=name) | Q(aliases__name__iexact=name)).first()
    if found is not None:
        return found
    kind = ActorKind.OTHER if model is Actor else PlatformKind.OTHER
    return model.objects.create(name=name, slug=_free_slug(model, "slug", name), kind=kind)


def _tag(name):
    return Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(
        name=name, slug=_free_slug(Tag, "slug", name)
    )


def _source(title, publisher, published_on, url):
    url = normalise_url(url)
    if url:
        found = Source.objects.filter(url=url).first()
    else:
        found = Source.objects.filter(
            url="", title=title, publisher=publisher, published_on=published_on
        ).first()
    if found is not None:
        return found
    key = _free_slug(Source, "key", f"{title} {published_on or ''}")
    return Source.objects.create(
        key=key,
        title=title,
        publisher=publisher,
        published_on=published_on,
        url=url,
        kind=SourceKind.OTHER,
    )


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
