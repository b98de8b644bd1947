"""What the public API shows. Every field is listed: nothing unlisted (notes, drafts) leaks."""

import functools

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django_countries import countries
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.choices import (
    EventStatus,
    RelationType,
    Role,
    Verification,
)
from events.models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventRelation,
    EventType,
    Platform,
    Source,
    Tag,
)


def absolute(context, path):
    """Return an absolute URL from the request, or from base_url outside a request."""
    request = context.get("request")
    if request is not None:
        return request.build_absolute_uri(path)
    return context.get("base_url", "").rstrip("/") + path


def event_page_path(public_id):
    return reverse("timeline:event-page", args=[public_id])


SAMPLE_ID = "XX-0000-0000"  # shaped like a public id: the URLs accept nothing else


def event_page_base(context):
    """Return the absolute URL that an event's public id and a slash complete."""
    return absolute(context, event_page_path(SAMPLE_ID)).removesuffix(f"{SAMPLE_ID}/")


class NamedRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(help_text="Stable short name, used in filters.")
    name = serializers.CharField()


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name as written, such as 微信.")
    kind = serializers.CharField(help_text="name, alias, abbreviation or former.")
    language = serializers.CharField(
        help_text="BCP 47 language tag, such as zh-hans; may be empty."
    )


class EventDateSerializer(serializers.Serializer):
    text = serializers.CharField(source="date_text", help_text="As entered, in EDTF: 2014-03.")
    earliest = serializers.DateField(
        source="date_earliest", help_text="Earliest day the event may have touched."
    )
    latest = serializers.DateField(
        source="date_latest",
        allow_null=True,
        help_text="Latest day it may have touched; null while ongoing.",
    )
    precision = serializers.CharField(
        source="date_precision", help_text="day, month, season, year, decade or century."
    )
    is_approximate = serializers.BooleanField(source="date_is_approximate")
    is_uncertain = serializers.BooleanField(source="date_is_uncertain")
    is_ongoing = serializers.BooleanField(help_text="True when the event has no end yet.")
    display = serializers.CharField(
        source="date_display", help_text="As a reader says it: c. April 2014."
    )


class ActorRoleSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(source="actor.slug")
    name = serializers.CharField(source="actor.name")
    role_label = serializers.CharField(source="get_role_display")

    class Meta:
        model = EventActor
        fields = ("slug", "name", "role", "role_label", "note")


class CitedSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ("key", "title", "publisher", "published_on", "url", "archive_url", "kind")


class CitationSerializer(serializers.ModelSerializer):
    source = CitedSourceSerializer()

    class Meta:
        model = Citation
        fields = ("source", "quote", "locator")


class CountSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="__str__", help_text="Such as 'More than 40 accounts'.")

    class Meta:
        model = EventCount
        fields = ("qualifier", "quantity", "unit", "note", "text")


class RelationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=RelationType.choices)
    label = serializers.CharField(help_text="How to read it: '<this event> is part of <event>'.")
    direction = serializers.ChoiceField(
        choices=["outgoing", "incoming"],
        help_text="outgoing: this event is the first of the pair; incoming: the second.",
    )
    event = serializers.CharField(help_text="Public id of the other event.")
    title = serializers.CharField(help_text="Title of the other event.")
    note = serializers.CharField()


RELATED_ROWS = "related_rows"  # context key: RelatedRows of the events being serialised
ROLE_LABELS = dict(Role.choices)
RELATION_LABELS = dict(RelationType.choices)
VERIFICATION_LABELS = dict(Verification.choices)


class RelatedRows:
    """What events show of their related rows, as the API writes it, in seven queries."""

    def __init__(self, event_ids):
        self.event_ids = set(event_ids)
        self.rows = {event_id: _empty_related() for event_id in self.event_ids}
        ids = list(self.event_ids)
        self._roles(ids)
        self._named("platforms", Event.platforms.through, "platform", ids)
        self._named("tags", Event.tags.through, "tag", ids)
        self._citations(ids)
        self._counts(ids)
        self._relations(ids)

    def of(self, event_id):
        return self.rows[event_id]

    def _add(self, event_id, name, item):
        self.rows[event_id][name].append(item)

    def _roles(self, ids):
        roles = EventActor.objects.filter(event_id__in=ids).order_by("id")
        for event_id, slug, name, role, note in roles.values_list(
            "event_id", "actor__slug", "actor__name", "role", "note"
        ):
            item = {"slug": slug, "name": name, "role": role}
            item |= {"role_label": ROLE_LABELS.get(role, role), "note": note}
            self._add(event_id, "actors", item)

    def _named(self, name, through, target, ids):
        links = through.objects.filter(event_id__in=ids).order_by(f"{target}_id")
        for event_id, slug, label in links.values_list(
            "event_id", f"{target}__slug", f"{target}__name"
        ):
            self._add(event_id, name, {"slug": slug, "name": label})

    def _citations(self, ids):
        citations = Citation.objects.filter(event_id__in=ids).order_by("id")
        fields = ("key", "title", "publisher", "published_on", "url", "archive_url", "kind")
        for event_id, quote, locator, *source in citations.values_list(
            "event_id", "quote", "locator", *(f"source__{field}" for field in fields)
        ):
            cited = dict(zip(fields, source, strict=True))
            if cited["published_on"] is not None:
                cited["published_on"] = cited["published_on"].isoformat()
            self._add(event_id, "citations", {"source": cited, "quote": quote, "locator": locator})

    def _counts(self, ids):
        counts = EventCount.objects.filter(event_id__in=ids).order_by("id")
        for event_id, qualifier, quantity, unit, note in counts.values_list(
            "event_id", "qualifier", "quantity", "unit", "note"
        ):
            text = EventCount.describe(qualifier, quantity, unit)
            item = {"qualifier": qualifier, "quantity": quantity, "unit": unit, "note": note}
            self._add(event_id, "counts", item | {"text": text})

    def _relations(self, ids):
        # Links to published events only, outgoing then incoming, each in the order made. The
        # other event's status is read and checked here rather than filtered in SQL: a filter
        # on it lets SQLite's planner start from every published event instead of the links.
        links = EventRelation.objects.order_by("id")
        for direction, this, other in (("outgoing", "from", "to"), ("incoming", "to", "from")):
            linked = links.filter(**{f"{this}_event_id__in": ids})
            for event_id, kind, note, public_id, title, status in linked.values_list(
                f"{this}_event_id",
                "relation_type",
                "note",
                f"{other}_event__public_id",
                f"{other}_event__title",
                f"{other}_event__status",
            ):
                if status != EventStatus.PUBLISHED:
                    continue
                self._add(
                    event_id,
                    "relations",
                    {
                        "type": kind,
                        "label": RELATION_LABELS[kind],
                        "direction": direction,
                        "event": public_id,
                        "title": title,
                        "note": note,
                    },
                )


def _empty_related():
    return {name: [] for name in ("actors", "platforms", "tags", "citations", "counts")} | {
        "relations": []
    }


class EventListSerializer(serializers.ListSerializer):
    """Serialises a page of events with their related rows loaded once for the page."""

    def to_representation(self, data):
        events = list(data.all() if hasattr(data, "all") else data)
        self.context[RELATED_ROWS] = RelatedRows([event.pk for event in events])
        return [self.child.to_representation(event) for event in events]


class EventSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="Stable public id: CN-2014-0003.")
    type = NamedRefSerializer(source="event_type", allow_null=True)
    category = NamedRefSerializer(source="event_type.category", allow_null=True, default=None)
    date = EventDateSerializer(source="*")
    country = serializers.CharField(help_text="ISO 3166 code; empty for global events.")
    country_name = serializers.CharField(source="country.name")
    actors = ActorRoleSerializer(source="actor_roles", many=True)
    platforms = NamedRefSerializer(many=True)
    tags = NamedRefSerializer(many=True)
    citations = CitationSerializer(many=True)
    counts = CountSerializer(many=True)
    relations = serializers.SerializerMethodField()
    verification_label = serializers.CharField(source="get_verification_display")
    url = serializers.SerializerMethodField(help_text="The event's public page.")
    api_url = serializers.SerializerMethodField()

    class Meta:
        model = Event
        list_serializer_class = EventListSerializer
        fields = (
            "id",
            "title",
            "summary",
            "type",
            "category",
            "date",
            "country",
            "country_name",
            "is_global",
            "locality",
            "latitude",
            "longitude",
            "actors",
            "platforms",
            "tags",
            "citations",
            "counts",
            "relations",
            "verification",
            "verification_label",
            "first_published_at",
            "updated_at",
            "url",
            "api_url",
        )

    def to_representation(self, event):
        """Return the same dict DRF's declared fields would, several times faster.

        Walking nested serializers over prefetched model instances cost more than everything
        else on a page, so related rows come as plain values, loaded in bulk for a whole page
        (EventListSerializer) or for this one event. Tests compare the result with DRF's own
        output (generic_representation), so the two cannot drift apart.
        """
        related = self.context.get(RELATED_ROWS)
        if related is None or event.pk not in related.event_ids:
            related = RelatedRows([event.pk])
        decimal = self.fields["latitude"].to_representation
        event_type = event.event_type
        category = event_type.category if event_type is not None else None
        return {
            "id": event.public_id,
            "title": event.title,
            "summary": event.summary,
            "type": _named(event_type),
            "category": _named(category),
            "date": {
                "text": event.date_text,
                "earliest": event.date_earliest.isoformat(),
                "latest": event.date_latest.isoformat() if event.date_latest else None,
                "precision": event.date_precision,
                "is_approximate": event.date_is_approximate,
                "is_uncertain": event.date_is_uncertain,
                "is_ongoing": event.date_latest is None,
                "display": event.date_display,
            },
            "country": str(event.country),
            "country_name": _country_name(event.country.code, get_language()),
            "is_global": event.is_global,
            "locality": event.locality,
            "latitude": None if event.latitude is None else decimal(event.latitude),
            "longitude": None if event.longitude is None else decimal(event.longitude),
            **related.of(event.pk),
            "verification": event.verification,
            "verification_label": VERIFICATION_LABELS.get(event.verification, event.verification),
            "first_published_at": _moment(event.first_published_at),
            "updated_at": _moment(event.updated_at),
            "url": self.get_url(event),
            "api_url": self.get_api_url(event),
        }

    def generic_representation(self, event):
        """Return what DRF's declared fields give, field by field (the reference for tests)."""
        return super().to_representation(event)

    @extend_schema_field(RelationSerializer(many=True))
    def get_relations(self, event):
        """Links to other published events, both ways (prefetched: no query per event)."""
        relations = [
            _relation(link, "outgoing", link.to_event) for link in event.relations_out.all()
        ]
        relations += [
            _relation(link, "incoming", link.from_event) for link in event.relations_in.all()
        ]
        return relations

    def get_url(self, event) -> str:
        return f"{self._bases()[0]}{event.public_id}/"

    def get_api_url(self, event) -> str:
        return f"{self._bases()[1]}{event.public_id}/"

    def _bases(self):
        """Return the absolute URLs that a public id and a slash complete, found once."""
        root = self.parent if self.parent is not None else self
        if not hasattr(root, "_url_bases"):
            api_path = reverse("api:event-detail", args=[SAMPLE_ID]).removesuffix(f"{SAMPLE_ID}/")
            root._url_bases = (event_page_base(self.context), absolute(self.context, api_path))
        return root._url_bases


@functools.lru_cache(maxsize=1024)
def _country_name(code, language):
    """Return a country's name in a language: django-countries looks it up slowly each time."""
    return countries.name(code) if code else ""


def _moment(value):
    """Write a moment as DRF's DateTimeField does: in the current time zone, UTC as Z."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _named(row):
    return None if row is None else {"slug": row.slug, "name": row.name}


def _relation(link, direction, other):
    return {
        "type": link.relation_type,
        "label": link.get_relation_type_display(),
        "direction": direction,
        "event": other.public_id,
        "title": other.title,
        "note": link.note,
    }


EVENT_COUNTS = "event_counts"  # context key, with the model: {row id: published events}


class CountedListSerializer(serializers.ListSerializer):
    """Serialises a page of actors, tags, ... with their event counts loaded once for the page."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        model = self.child.Meta.model
        self.context[EVENT_COUNTS, model] = model.objects.get_queryset().event_counts(
            [row.pk for row in rows]
        )
        return [self.child.to_representation(row) for row in rows]


class EventCountField(serializers.IntegerField):
    """How many published events refer to the row: from the page's counts, or counted alone."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, row):
        counts = self.context.get((EVENT_COUNTS, type(row)), {})
        if row.pk not in counts:
            counts = type(row).objects.get_queryset().event_counts([row.pk])
        return counts[row.pk]


class ReferenceSerializer(serializers.ModelSerializer):
    event_count = EventCountField(help_text="Published events that refer to it.")
    events_url = serializers.SerializerMethodField(help_text="Its events, through the filter.")

    filter_name = None  # the events filter that selects this row's events

    @extend_schema_field(OpenApiTypes.URI)
    def get_events_url(self, row):
        path = f"{reverse('api:event-list')}?{self.filter_name}={row.slug}"
        return absolute(self.context, path)


@extend_schema_field(NamedRefSerializer(allow_null=True))
class PublicRefField(serializers.Field):
    """A related actor shown only when it is public itself (annotated by the view)."""

    def __init__(self, *, flag, **kwargs):
        self.flag = flag
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def get_attribute(self, instance):
        related = super().get_attribute(instance)
        return related if related is not None and getattr(instance, self.flag) else None

    def to_representation(self, actor):
        return {"slug": actor.slug, "name": actor.name}


class ActorSerializer(ReferenceSerializer):
    country = serializers.CharField(help_text="ISO 3166 code, or empty.")
    kind_label = serializers.CharField(source="get_kind_display")
    country_name = serializers.CharField(source="country.name")
    parent = PublicRefField(flag="parent_is_public")
    aliases = AliasSerializer(many=True)
    filter_name = "actor"

    class Meta:
        model = Actor
        list_serializer_class = CountedListSerializer
        fields = (
            "slug",
            "name",
            "kind",
            "kind_label",
            "country",
            "country_name",
            "parent",
            "aliases",
            "description",
            "wikidata_id",
            "url",
            "event_count",
            "events_url",
        )


class PlatformSerializer(ReferenceSerializer):
    country = serializers.CharField(help_text="ISO 3166 code, or empty.")
    operator = PublicRefField(flag="operator_is_public")
    aliases = AliasSerializer(many=True)
    filter_name = "platform"

    class Meta:
        model = Platform
        list_serializer_class = CountedListSerializer
        fields = (
            "slug",
            "name",
            "kind",
            "operator",
            "country",
            "description",
            "wikidata_id",
            "url",
            "aliases",
            "event_count",
            "events_url",
        )


class SourceSerializer(serializers.ModelSerializer):
    event_count = EventCountField(help_text="Published events that cite it.")
    authors = serializers.SerializerMethodField()

    class Meta:
        model = Source
        list_serializer_class = CountedListSerializer
        fields = (
            "key",
            "title",
            "summary",
            "kind",
            "url",
            "archive_url",
            "publisher",
            "authors",
            "published_on",
            "language",
            "accessed_on",
            "reliability",
            "event_count",
        )

    def get_authors(self, source) -> list[str]:
        return [name for name in source.authors.split("; ") if name]


class EventTypeSerializer(ReferenceSerializer):
    category = NamedRefSerializer()
    filter_name = "type"

    class Meta:
        model = EventType
        list_serializer_class = CountedListSerializer
        fields = ("slug", "name", "description", "category", "event_count", "events_url")


class EventCategorySerializer(ReferenceSerializer):
    filter_name = "category"

    class Meta:
        model = EventCategory
        list_serializer_class = CountedListSerializer
        fields = ("slug", "name", "description", "event_count", "events_url")


class TagSerializer(ReferenceSerializer):
    filter_name = "tag"

    class Meta:
        model = Tag
        list_serializer_class = CountedListSerializer
        fields = ("slug", "name", "event_count", "events_url")


class StatsRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="2014-03, CN, wechat, ...; null: none.")
    label = serializers.CharField(help_text="What a chart shows: March 2014, China, WeChat.")
    count = serializers.IntegerField(help_text="Published events in the group.")


class StatsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    total = serializers.IntegerField(help_text="Published events matching the filters.")
    results = StatsRowSerializer(many=True)


CURRENT = ("published", "updated")  # the changes that carry the event as now published


class ChangeListSerializer(serializers.ListSerializer):
    """Serialises a page of changes with their events' related rows loaded once for the page.

    Without it each change's event loaded its own related rows (seven queries per change) in
    a serializer of its own (DRF builds its fields again each time): 7 s for 1,000 changes.
    """

    def to_representation(self, data):
        changes = list(data.all() if hasattr(data, "all") else data)
        current = [change.pk for change in changes if change.change in CURRENT]
        self.context[RELATED_ROWS] = RelatedRows(current)
        self.event_serializer = EventSerializer(context=self.context)
        return [self.child.to_representation(change) for change in changes]


class ChangeSerializer(serializers.Serializer):
    event = serializers.CharField(source="public_id", help_text="Public id of the event.")
    change = serializers.ChoiceField(
        choices=["published", "updated", "retracted", "withdrawn"],
        help_text="published: new to the public; updated: changed; retracted: withdrawn as "
        "wrong, drop it; withdrawn: taken back for review, drop it until it returns.",
    )
    at = serializers.DateTimeField(source="updated_at", help_text="When it changed.")
    retraction_reason = serializers.SerializerMethodField(
        help_text="Why a retracted event was withdrawn; null for other changes."
    )
    data = serializers.SerializerMethodField(help_text="The event as now published, or null.")

    class Meta:
        list_serializer_class = ChangeListSerializer

    def get_retraction_reason(self, event) -> str | None:
        return event.retraction_reason if event.change == "retracted" else None

    @extend_schema_field(EventSerializer(allow_null=True))
    def get_data(self, event):
        if event.change not in CURRENT:
            return None
        shared = getattr(self.parent, "event_serializer", None)
        return (shared or EventSerializer(context=self.context)).to_representation(event)


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers, whatever the format asked for: JSON with a message."""

    detail = serializers.CharField(help_text="What went wrong and what to do instead.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: for each query parameter not accepted, why, and what it accepts.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="429 only: seconds to wait, as in the Retry-After header."
    )
