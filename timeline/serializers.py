"""What the public API shows. Every field is listed: nothing unlisted (notes, drafts) leaks."""

import datetime

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.models import Actor, EventCategory, EventType, Platform, Release, Source, Tag
from events.public.documents import Bases


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


def event_bases(context):
    """Return the absolute URLs that an event's public id and a slash complete: its page and
    its place in the API (events.public.documents writes them into every event)."""
    api_path = reverse("api:event-detail", args=[SAMPLE_ID]).removesuffix(f"{SAMPLE_ID}/")
    return Bases(page=event_page_base(context), api=absolute(context, api_path))


def moment_text(value):
    """Write a moment as the API writes every moment: in UTC, 2014-05-28T09:00:00Z."""
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


class EventDocumentSchema(serializers.Serializer):
    """An event in the API: its schema is written from the registry of public fields
    (events.public.openapi, registered by timeline.schema); the database writes its JSON."""


class NamedRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(help_text="Stable short name, used in filters.")
    name = serializers.CharField()


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name as written, such as 微信.")
    kind = serializers.CharField(help_text="name, alias, abbreviation or former.")
    language = serializers.CharField(
        help_text="BCP 47 language tag, such as zh-hans; may be empty."
    )


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


class ReleaseSerializer(serializers.ModelSerializer):
    """A numbered, dated, immutable data release, and where to download it."""

    download_url = serializers.SerializerMethodField(help_text="The zip of every file.")
    datapackage_url = serializers.SerializerMethodField(
        help_text="Its datapackage.json: the tables, their columns, keys and checksums."
    )
    url = serializers.SerializerMethodField(help_text="Its page, which lists its files.")

    class Meta:
        model = Release
        fields = (
            "number",
            "released_at",
            "event_count",
            "retraction_count",
            "size",
            "sha256",
            "download_url",
            "datapackage_url",
            "url",
        )
        extra_kwargs = {
            "released_at": {"help_text": "When the data was read (UTC)."},
            "size": {"help_text": "Of the zip, in bytes."},
            "sha256": {"help_text": "Of the zip."},
        }

    def get_download_url(self, release) -> str:
        return self._file(release, release.archive_name)

    def get_datapackage_url(self, release) -> str:
        return self._file(release, "datapackage.json")

    def get_url(self, release) -> str:
        return absolute(self.context, reverse("timeline:release", args=[release.number]))

    def _file(self, release, name):
        return absolute(self.context, reverse("timeline:release-file", args=[release.number, name]))


class StatsRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="2014-03, CN, wechat, ...; null: none.")
    label = serializers.CharField(help_text="What a chart shows: March 2014, China, WeChat.")
    count = serializers.IntegerField(help_text="Published events in the group.")


class StatsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    total = serializers.IntegerField(help_text="Published events matching the filters.")
    results = StatsRowSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    """One change in the feed, for the schema: the view writes the page itself."""

    event = serializers.CharField(help_text="Public id of the event.")
    change = serializers.ChoiceField(
        choices=["published", "updated", "retracted", "withdrawn"],
        help_text="published: new to the public; updated: changed; retracted: withdrawn as "
        "wrong, drop it; withdrawn: taken back for review, drop it until it returns.",
    )
    at = serializers.DateTimeField(help_text="When it changed (UTC).")
    retraction_reason = serializers.CharField(
        allow_null=True, help_text="Why a retracted event was withdrawn; null for other changes."
    )
    data = EventDocumentSchema(allow_null=True, help_text="The event as now published, or null.")


class ChangePageSerializer(serializers.Serializer):
    """A page of the change feed."""

    next = serializers.URLField(
        allow_null=True, help_text="The next page, while there is more; null: you are up to date."
    )
    after = serializers.CharField(
        help_text="Where this page ends: keep it, and ask again with after= it."
    )
    count = serializers.IntegerField(required=False, help_text="With count=true: the total.")
    results = ChangeSerializer(many=True)


class TimelineJSTextSerializer(serializers.Serializer):
    headline = serializers.CharField()
    text = serializers.CharField()


class TimelineJSDateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField(required=False, help_text="Only when the date has one.")
    day = serializers.IntegerField(required=False, help_text="Only when the date has one.")


class TimelineJSMediaSerializer(serializers.Serializer):
    url = serializers.CharField()
    credit = serializers.CharField(help_text="The source, as escaped HTML.")


class TimelineJSSlideSerializer(serializers.Serializer):
    unique_id = serializers.CharField(help_text="The event's public id.")
    start_date = TimelineJSDateSerializer()
    end_date = TimelineJSDateSerializer(required=False)
    display_date = serializers.CharField()
    text = TimelineJSTextSerializer()
    group = serializers.CharField(help_text="The event's category name.")
    media = TimelineJSMediaSerializer(
        required=False,
        help_text="The first source TimelineJS can show itself: a picture, sound or video file, "
        "or a YouTube or Vimeo page. Other sources are links in the text.",
    )


class TimelineJSTitleSerializer(serializers.Serializer):
    text = TimelineJSTextSerializer()


class TimelineJSSerializer(serializers.Serializer):
    """A TimelineJS3 document: https://timeline.knightlab.com/docs/json-format.html"""

    title = TimelineJSTitleSerializer()
    events = TimelineJSSlideSerializer(many=True)


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
