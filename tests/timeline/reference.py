"""The API's event object as DRF's declared fields wrote it before the field registry.

A frozen oracle for tests, never used by the site: it reads model instances through the ORM
(EventQuerySet.for_api) and nested serializers, so it shares nothing with the SQL that
events.public writes. Tests compare the two for every kind of event, on both databases.
The only changes since then are the three fields the registry added (title_original,
summary_original, original_language) and moments written in UTC whatever TIME_ZONE says.
"""

import datetime

from django.urls import reverse
from rest_framework import serializers

from events.choices import RelationType
from events.models import Citation, Event, EventActor, EventCount, Source

UTC = datetime.UTC


class NamedRef(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class EventDate(serializers.Serializer):
    text = serializers.CharField(source="date_text")
    display = serializers.CharField(source="date_display")
    earliest = serializers.DateField(source="date_earliest")
    latest = serializers.DateField(source="date_latest", allow_null=True)
    precision = serializers.CharField(source="date_precision")
    is_approximate = serializers.BooleanField(source="date_is_approximate")
    is_uncertain = serializers.BooleanField(source="date_is_uncertain")
    is_ongoing = serializers.BooleanField()


class ActorRole(serializers.ModelSerializer):
    slug = serializers.SlugField(source="actor.slug")
    name = serializers.CharField(source="actor.name")
    role_label = serializers.CharField(source="get_role_display")

    class Meta:
        model = EventActor
        fields = ("slug", "name", "role", "role_label", "note")


class CitedSource(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ("key", "title", "publisher", "published_on", "url", "archive_url", "kind")


class CitationRef(serializers.ModelSerializer):
    source = CitedSource()

    class Meta:
        model = Citation
        fields = ("source", "quote", "locator")


class CountRef(serializers.ModelSerializer):
    text = serializers.CharField(source="__str__")

    class Meta:
        model = EventCount
        fields = ("qualifier", "quantity", "unit", "note", "text")


class ReferenceEvent(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    type = NamedRef(source="event_type", allow_null=True)
    category = NamedRef(source="event_type.category", allow_null=True, default=None)
    date = EventDate(source="*")
    country = serializers.CharField()
    country_name = serializers.CharField(source="country.name")
    actors = ActorRole(source="actor_roles", many=True)
    platforms = NamedRef(many=True)
    tags = NamedRef(many=True)
    citations = CitationRef(many=True)
    counts = CountRef(many=True)
    relations = serializers.SerializerMethodField()
    verification_label = serializers.CharField(source="get_verification_display")
    first_published_at = serializers.DateTimeField(default_timezone=UTC)
    updated_at = serializers.DateTimeField(default_timezone=UTC)
    url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = (
            "id",
            "title",
            "summary",
            "title_original",
            "summary_original",
            "original_language",
            "date",
            "type",
            "category",
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

    def get_relations(self, event):
        out = [_relation(link, "outgoing", link.to_event) for link in event.relations_out.all()]
        return out + [
            _relation(link, "incoming", link.from_event) for link in event.relations_in.all()
        ]

    def get_url(self, event):
        page = reverse("timeline:event-page", args=[event.public_id])
        return self.context["request"].build_absolute_uri(page)

    def get_api_url(self, event):
        path = reverse("api:event-detail", args=[event.public_id])
        return self.context["request"].build_absolute_uri(path)


def _relation(link, direction, other):
    return {
        "type": link.relation_type,
        "label": RelationType(link.relation_type).label,
        "direction": direction,
        "event": other.public_id,
        "title": other.title,
        "note": link.note,
    }


def reference_events(request, queryset=None):
    """Return {public id: the reference object} for published events (or a queryset's)."""
    queryset = queryset if queryset is not None else Event.objects.published()
    return {
        event.public_id: ReferenceEvent(event, context={"request": request}).data
        for event in queryset.for_api()
    }
