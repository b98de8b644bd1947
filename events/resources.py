"""Bulk import in the admin (django-import-export): events, actors, platforms and sources.

The event columns are those of the API's CSV export (events.formats reads the cells), so a
CSV exported from one database imports into another and exports again unchanged. A whole
import is one transaction; every bad row is reported with its row number and nothing is
written.
"""

from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.forms import ConfirmImportForm, ImportForm

from . import formats, services
from .choices import ActorKind, EventStatus, PlatformKind, SourceKind
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


class EventConfirmImportForm(ConfirmImportForm):
    status = forms.ChoiceField(choices=STATUS_CHOICES, widget=forms.HiddenInput)


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
        return (sorted(scalars.items()), sorted((k, v) for k, v in values.items() if k in COMPARED))


# What an unchanged row must match; the rest (names of new types, the record of publication)
# only matters when the import creates something.
COMPARED = {"type_slug", "actors", "platforms", "tags", "counts", "sources", "quotes"}
EVENT_COLUMNS = [public_field.name for public_field in IMPORTED_FIELDS]


class EventResource(resources.ModelResource):
    """Events by the registry's columns (events.public.fields.IMPORTED_FIELDS), keyed by id."""

    id = fields.Field(attribute="public_id", column_name="id")

    class Meta:
        model = Event
        fields = ("id",)
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # Event.clean runs in import_instance, with our messages

    def __init__(self, status_after_import=EventStatus.DRAFT, user=None, **kwargs):
        super().__init__(**kwargs)
        self.status_after_import = status_after_import or EventStatus.DRAFT
        self.user = user

    def get_import_fields(self):
        # What the import page lists as the columns it reads: every importable column.
        return [fields.Field(attribute=name, column_name=name) for name in EVENT_COLUMNS]

    def get_instance(self, instance_loader, row):
        public_id = _cell(row, "id")
        return Event.objects.filter(public_id=public_id).first() if public_id else None

    def import_instance(self, instance, row, **kwargs):
        parsed, errors = read_event_row(
            row,
            creating=instance._state.adding,
            publishing=self.status_after_import == EventStatus.PUBLISHED,
        )
        if errors:
            raise ValidationError(errors)
        for name, value in parsed.scalars.items():
            setattr(instance, name, value)
        try:
            instance.set_date(instance.date_text)
        except InvalidDate as error:
            raise ValidationError({"date": str(error)}) from error
        if instance._state.adding:
            instance.public_id = _cell(row, "id")
        instance.event_type = _event_type(parsed)
        instance._import = parsed

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or instance._state.adding:
            return False
        parsed = instance._import
        stored = read_event_from_database(instance.pk)
        return stored.fingerprint(like=parsed) == parsed.fingerprint(like=parsed)

    def save_instance(self, instance, is_create, row, **kwargs):
        # The record of publication is in parsed only for an event created as published
        # (read_event_row): a copy of another database keeps its rows' history of change.
        parsed = instance._import
        if parsed.value("first_published_at") is not None:
            instance.first_published_at = parsed.value("first_published_at")
        services.event_save(event=instance, user=self.user)
        _replace_relations(instance, parsed)
        services.event_search_refresh(event_ids=[instance.pk])
        if is_create:
            self._apply_status(instance)
            if parsed.value("updated_at") is not None:
                Event.objects.filter(pk=instance.pk).update(updated_at=parsed.value("updated_at"))
        elif instance.status == EventStatus.PUBLISHED:
            problems = services.event_publication_problems(event=instance)
            if problems:
                raise ValidationError(
                    gettext("A published event needs %(problems)s.")
                    % {"problems": services.events.join_problems(problems)}
                )

    def _apply_status(self, event):
        if self.status_after_import == EventStatus.IN_REVIEW:
            services.event_submit(event=event, user=self.user, comment=IMPORTED_COMMENT)
        elif self.status_after_import == EventStatus.PUBLISHED:
            services.event_publish(event=event, user=self.user, comment=IMPORTED_COMMENT)


def _cell(row, name):
    value = row.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return formats.unneutralise(str(value)).strip()


def read_event_row(row, creating=True, publishing=False):
    """Return (ParsedEvent, errors by column) for one CSV or XLSX row, by the registry.

    A column the file does not have is left out: an event the import creates takes the
    model's default for it; an event it updates keeps what it has. The record of
    publication (first_published_at, updated_at) is read only for an event the import
    creates as published: a draft imported is a draft, published nowhere as far as this
    database knows, and deletable.
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
    type_slug = parsed.value("type_slug")
    new_type = type_slug and not EventType.objects.filter(slug=type_slug).exists()
    if new_type and not parsed.value("category_slug"):
        errors["category"] = "Required for a new event type."
    return parsed, errors


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


def _event_type(parsed):
    type_slug = parsed.value("type_slug")
    event_type = EventType.objects.filter(slug=type_slug).first()
    if event_type is not None:
        return event_type
    category_slug = parsed.value("category_slug")
    category, _created = EventCategory.objects.get_or_create(
        slug=category_slug,
        defaults={"name": parsed.value("category_name") or category_slug},
    )
    return EventType.objects.create(
        slug=type_slug, category=category, name=parsed.value("type_name") or type_slug
    )


def _replace_relations(event, parsed):
    """Rebuild what the row lists of the event's related rows; columns it lacks are kept."""
    values = parsed.values
    if "actors" in values:
        event.actor_roles.all().delete()
        for name, role in values["actors"]:
            EventActor.objects.get_or_create(event=event, actor=_named(Actor, name), role=role)
    # One by one: the export lists them in the order their links were made.
    if "platforms" in values:
        event.platforms.clear()
        for name in values["platforms"]:
            event.platforms.add(_named(Platform, name))
    if "tags" in values:
        event.tags.clear()
        for name in values["tags"]:
            event.tags.add(_tag(name))
    if "counts" in values:
        event.counts.all().delete()
        for qualifier, quantity, unit, note in values["counts"]:
            EventCount.objects.create(
                event=event, qualifier=qualifier, quantity=quantity, unit=unit, note=note
            )
    if "sources" in values or "quotes" in values:
        _replace_citations(event, parsed)


def _replace_citations(event, parsed):
    stored = read_event_from_database(event.pk).values if event.pk else {}
    sources = parsed.value("sources", stored.get("sources", []))
    quotes = parsed.value("quotes", stored.get("quotes", []))
    event.citations.all().delete()
    sources = [_source(*source) for source in sources]
    # The CSV does not say which source each quote came from: quotes go to the first source.
    for quote in quotes if sources else ():
        Citation.objects.create(event=event, source=sources[0], quote=quote)
    for source in sources[1:] if quotes else sources:
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
