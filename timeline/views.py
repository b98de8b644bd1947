"""The public, read-only API: published events and what they refer to, nothing else."""

import base64
import binascii
import re

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, Min, OuterRef
from django.http import Http404, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.http import condition
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, renderers, viewsets
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView, exception_handler

from events.choices import EventStatus
from events.models import (
    Actor,
    Event,
    EventType,
    Platform,
    PublicChange,
    Release,
    Source,
    Tag,
)
from events.public.documents import EventDocuments

from . import caching, exports, pagination, stats
from .filters import EventFilterSet, MomentField, StrictFilterBackend
from .pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, KeysetPagination
from .schema import PublicAutoSchema
from .serializers import (
    ActorSerializer,
    ChangePageSerializer,
    EventDocumentSchema,
    EventTypeSerializer,
    PlatformSerializer,
    ReleaseSerializer,
    SourceSerializer,
    StatsSerializer,
    TagSerializer,
    event_bases,
    moment_text,
)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: a page of a hundred events encodes ten times faster.

    The output is the same compact UTF-8; events arrive already written by the database
    (orjson.Fragment), and anything orjson does not know (lazy translations, decimals) goes
    through DRF's own encoder.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=self.encoder_class().default)


class StreamedFormatRenderer(renderers.BaseRenderer):
    """Lets content negotiation pick a streamed format; the view writes the body itself."""

    charset = "utf-8"
    streamed = True
    export_format = None  # the timeline.exports.ExportFormat

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("streamed formats are written by timeline.exports")


def streamed_renderer(export_format):
    """Return the renderer class that lets content negotiation choose an export format."""
    return type(
        f"{export_format.name.title()}Renderer",
        (StreamedFormatRenderer,),
        {
            "media_type": export_format.media_type,
            "format": export_format.name,
            "export_format": export_format,
        },
    )


STREAMED_RENDERERS = [streamed_renderer(fmt) for fmt in exports.FORMATS.values()]


class FormatNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, where a URL's format= always wins over the Accept header.

    A URL is what people paste into tools, and the tools send their own Accept: TimelineJS
    asks for `application/json` whatever the URL says, and DRF would answer format=timelinejs
    with a 406. So format= (or a suffix) picks the format by itself, and Accept chooses only
    when there is none. DRF answers an unknown format= with a bare 404, as if the URL did not
    exist: here it is a 400 naming the formats, and an Accept header no format satisfies is a
    406 listing them.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        formats = [renderer.format for renderer in renderers]
        if wanted:
            for renderer in renderers:
                if renderer.format == wanted:
                    return renderer, renderer.media_type
            raise exceptions.ValidationError(
                {"format": [f"'{wanted[:40]}' is not accepted; use {' or '.join(formats)}."]}
            )
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            types = ", ".join(renderer.media_type for renderer in renderers)
            raise exceptions.NotAcceptable(
                f"No format here matches the Accept header; this endpoint writes {types}."
            ) from None


def api_exception_handler(error, context):
    """Answer every error as JSON with a message a researcher can act on."""
    response = exception_handler(error, context)
    if response is None:
        return None
    if isinstance(error, exceptions.ValidationError) and isinstance(response.data, dict):
        response.data = {
            "detail": "Some query parameters are not accepted; see errors.",
            "errors": response.data,
        }
    elif isinstance(error, exceptions.ValidationError):
        response.data = {"detail": " ".join(map(str, response.data))}
    elif isinstance(error, exceptions.Throttled):
        response.data = {
            "detail": f"Too many requests. Try again in {error.wait or 1:.0f} seconds.",
            "retry_after": int(error.wait or 1),
        }
    return response


# ETag only: Last-Modified has whole seconds, and a change in the same second as the copy a
# client holds would be answered 304 to If-Modified-Since.
conditional = method_decorator(condition(etag_func=caching.response_key))


class PublicReadMixin:
    """What every public endpoint shares: conditional GET, Vary, and JSON errors."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatNegotiation
    filter_backends = [StrictFilterBackend]
    schema = PublicAutoSchema()
    query_parameters = ("format", *KeysetPagination.query_parameters)

    @conditional
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and isinstance(renderer, StreamedFormatRenderer):
            # An error in a streamed format is still answered in JSON.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])
        return response

    def get_ordering(self):
        return "id"


class CachedReadMixin:
    """A read-only viewset's list and detail, from the cache while the data is unchanged."""

    @caching.serve_cached
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @caching.serve_cached
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


NOT_FOUND = "No Event matches the given query."  # what DRF's get_object says


@extend_schema_view(
    list=extend_schema(
        summary="Published events, filtered",
        description=(
            "Published events matching the filters, a page at a time (keyset pagination: "
            "follow next and previous). With format="
            + ", ".join(exports.FORMATS)
            + " (or an Accept header naming its media type) the whole filtered set is "
            "streamed instead."
        ),
        responses=EventDocumentSchema(many=True),
    ),
    retrieve=extend_schema(
        summary="One published event, by its public id", responses=EventDocumentSchema
    ),
)
class EventViewSet(PublicReadMixin, viewsets.GenericViewSet):
    """Events as the registry of public fields writes them (events.public), by the database.

    No serializer or model instance on the way: a page is one query that returns each
    event's JSON text, and the response joins them.
    """

    filterset_class = EventFilterSet
    pagination_class = KeysetPagination
    lookup_field = "public_id"
    lookup_value_regex = r"[A-Z]{2}-[0-9]{4}-[0-9]{4,}"
    lookup_example = "CN-2014-0001"  # in the seed timeline (schema examples, bin/fuzz)
    renderer_classes = [JSONRenderer, *STREAMED_RENDERERS]

    def get_queryset(self):
        return Event.objects.published()

    filterset = None  # set by StrictFilterBackend

    def get_ordering(self):
        return self.filterset.sort_order if self.filterset is not None else "date"

    def counted(self, queryset):
        """How many filtered events there are, counted as the timeline's chart counts them
        (stats.count)."""
        return stats.count(self.filterset) if self.filterset is not None else queryset.count()

    def paged(self, queryset, cursor, size, count):
        """The filtered events to page through from the cursor, knowing how many there are
        or not (EventFilterSet.paged)."""
        if self.filterset is None:
            return queryset
        return self.filterset.paged(cursor, size, count)

    @caching.serve_cached
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if getattr(request.accepted_renderer, "streamed", False):
            return self.export(queryset)
        documents = EventDocuments(queryset.db, event_bases({"request": request}))

        def fetch(page, sort_field):
            return documents.page(list(page.values_list("pk", sort_field)))

        page = self.paginator.paginate_queryset(queryset, request, self, fetch=fetch)
        return self.paginator.get_paginated_response(
            [orjson.Fragment(document.text) for document in page]
        )

    @caching.serve_cached
    def retrieve(self, request, public_id=None):
        queryset = self.filter_queryset(self.get_queryset()).filter(public_id=public_id)
        if getattr(request.accepted_renderer, "streamed", False):
            if not queryset.exists():
                raise Http404(NOT_FOUND)
            return self.export(queryset, name=public_id)
        documents = EventDocuments(queryset.db, event_bases({"request": request}))
        found = documents.page(list(queryset.values_list("pk", "pk")[:1]))
        if not found:
            raise Http404(NOT_FOUND)
        return Response(orjson.Fragment(found[0].text))

    def export(self, queryset, name=None):
        export_format = self.request.accepted_renderer.export_format
        export = exports.Export(
            queryset, self.get_ordering(), event_bases({"request": self.request})
        )
        body = export_format.stream(export)
        content_type = export_format.sent_as
        if export_format.media_type in self.request.headers.get("Accept", ""):
            content_type = f"{export_format.media_type}; charset=utf-8"
        # The client's check that the file arrived whole: a stream cut off mid-way is still
        # an HTTP 200, but it holds fewer rows than this.
        rows = exports.export_row_count(queryset, body)
        response = StreamingHttpResponse(body, content_type=content_type)
        response[exports.ROW_COUNT_HEADER] = str(rows)
        extension = export_format.extension
        filename = (
            f"censorship-timeline_{name}.{extension}"
            if name
            else exports.export_filename(self.request.query_params, extension)
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ReferenceViewSet(CachedReadMixin, PublicReadMixin, viewsets.ReadOnlyModelViewSet):
    """Actors, platforms, sources, types and tags that published events refer to."""

    model = None
    lookup_field = "slug"
    sort_field = "slug"

    def get_queryset(self):
        # Event counts are loaded for a whole page by the serializer (CountedListSerializer).
        return self.model.objects.public()

    def get_ordering(self):
        return self.sort_field


class ActorViewSet(ReferenceViewSet):
    model = Actor
    serializer_class = ActorSerializer
    lookup_example = "tencent"

    def get_queryset(self):
        public_actors = Actor.objects.public()
        return (
            super()
            .get_queryset()
            .select_related("parent")
            .prefetch_related("aliases")
            .annotate(parent_is_public=Exists(public_actors.filter(pk=OuterRef("parent"))))
        )


class PlatformViewSet(ReferenceViewSet):
    model = Platform
    serializer_class = PlatformSerializer
    lookup_example = "wechat"

    def get_queryset(self):
        public_actors = Actor.objects.public()
        return (
            super()
            .get_queryset()
            .select_related("operator")
            .prefetch_related("aliases")
            .annotate(operator_is_public=Exists(public_actors.filter(pk=OuterRef("operator"))))
        )


class SourceViewSet(ReferenceViewSet):
    model = Source
    serializer_class = SourceSerializer
    lookup_field = "key"
    sort_field = "key"
    lookup_example = "chinatopix-2014-05-28-instant-messaging"

    def get_queryset(self):
        return super().get_queryset().defer("full_text")


class EventTypeViewSet(ReferenceViewSet):
    model = EventType
    serializer_class = EventTypeSerializer
    lookup_example = "account-removal"

    def get_queryset(self):
        return super().get_queryset().select_related("category")


class TagViewSet(ReferenceViewSet):
    model = Tag
    serializer_class = TagSerializer
    lookup_example = "instant-messaging"


@extend_schema_view(
    list=extend_schema(summary="Data releases, newest first"),
    retrieve=extend_schema(summary="One data release, by its number"),
)
class ReleaseViewSet(CachedReadMixin, PublicReadMixin, viewsets.ReadOnlyModelViewSet):
    """Numbered, dated, immutable releases of the whole published timeline (the files are
    served at /data/<number>/)."""

    serializer_class = ReleaseSerializer
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{1,9}"
    lookup_example = "1"  # bin/fuzz makes one release
    pagination_class = None  # a release a month is a dozen a year
    query_parameters = ("format",)

    def get_queryset(self):
        return Release.objects.order_by("-number")


@extend_schema(
    summary="Counts of published events by one dimension",
    parameters=[
        OpenApiParameter(
            "group_by",
            OpenApiTypes.STR,
            enum=stats.GROUPS,
            required=True,
            description="month or year (of the earliest possible day), type, category, country, "
            "platform, actor, role or verification. Every filter of events/ applies.",
        )
    ],
    responses=StatsSerializer,
)
class StatsView(PublicReadMixin, APIView):
    filterset_class = EventFilterSet
    query_parameters = ("format", "group_by")

    def get_queryset(self):
        return Event.objects.published()

    @caching.serve_cached
    def get(self, request):
        group_by = request.query_params.get("group_by")
        if group_by not in stats.GROUPS:
            raise exceptions.ValidationError(
                {"group_by": [f"Required; one of {', '.join(stats.GROUPS)}."]}
            )
        # Refuses unknown parameters and bad values, and sets self.filterset.
        StrictFilterBackend().filter_queryset(request, self.get_queryset(), self)
        rows = stats.grouped(self.filterset, group_by)
        total = stats.total(self.filterset, group_by, rows)
        return Response({"group_by": group_by, "total": total, "results": rows})


@extend_schema(
    summary="What changed, in the order it committed, for keeping a copy in sync",
    parameters=[
        OpenApiParameter(
            "after",
            {"type": "string", "maxLength": 40, "pattern": "^[A-Za-z0-9_-]+$"},
            description="Where you stopped: the 'after' of the last page you read. Omit it to "
            "start from the beginning. Changes are listed in the order they committed, so a "
            "copy that applies each page and asks again from its 'after' misses nothing, "
            "however late a change commits.",
        ),
        OpenApiParameter(
            "since",
            OpenApiTypes.DATETIME,
            description="Changes that committed at or after this moment (ISO 8601 with a time "
            "zone), instead of after=. Moments are only as exact as clocks: keep after= to "
            "stay in sync.",
        ),
        OpenApiParameter(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            description=f"Changes a page, 1 to {MAX_PAGE_SIZE} ({DEFAULT_PAGE_SIZE}).",
        ),
        OpenApiParameter(
            "count",
            {"type": "string", "enum": ["true", "false"]},
            description="true adds the total.",
        ),
    ],
    responses=ChangePageSerializer,
)
class ChangeView(PublicReadMixin, APIView):
    """The public change log (events.models.PublicChange), newest state of each event.

    An event changed several times since after= is listed once, at its latest change, with
    the event as now published: a copy that applies the changes in order ends up equal to
    the published timeline.
    """

    query_parameters = ("format", "after", "since", "page_size", "count")

    def get_queryset(self):
        latest = ~Exists(
            PublicChange.objects.filter(public_id=OuterRef("public_id"), seq__gt=OuterRef("seq"))
        )
        return PublicChange.objects.filter(latest)

    @caching.serve_cached
    def get(self, request):
        StrictFilterBackend().filter_queryset(request, Event.objects.none(), self)
        after, since = _change_position(request.query_params.get("after")), self._since(request)
        if after is not None and since is not None:
            raise exceptions.ValidationError({"after": ["Give after= or since=, not both."]})
        size = pagination.page_size(request.query_params)
        changes = self.get_queryset()
        if after is not None:
            changes = changes.filter(seq__gt=after)
        if since is not None:
            changes = changes.filter(at__gte=since)
        total = pagination.asked_count(changes.count, request.query_params)
        rows = list(
            changes.order_by("seq").values_list("seq", "event_id", "public_id", "at")[: size + 1]
        )
        more, rows = len(rows) > size, rows[:size]
        results = self._results(request, rows, after, since)
        position = _change_token(rows[-1][0] if rows else (after or 0))
        body = {"next": None, "after": position}
        if more:
            body["next"] = replace_query_param(
                remove_query_param(request.build_absolute_uri(), "since"), "after", position
            )
        if total is not None:
            body["count"] = total
        body["results"] = results
        headers = {"Link": f'<{body["next"]}>; rel="next"'} if body["next"] else None
        return Response(body, headers=headers)

    def _results(self, request, rows, after, since):
        ids = [event_id for _seq, event_id, _public_id, _at in rows if event_id is not None]
        current = Event.objects.filter(pk__in=ids)
        events = {
            pk: rest
            for pk, *rest in current.values_list(
                "pk", "status", "first_published_at", "retraction_reason"
            )
        }
        published = [pk for pk in ids if events.get(pk, [None])[0] == EventStatus.PUBLISHED]
        documents = EventDocuments(current.db, event_bases({"request": request}))
        # The event as now published, for published events only: a retracted or withdrawn
        # event is listed with its id, never with its old text.
        texts = {
            document.pk: document.text
            for document in documents.page([(pk, pk) for pk in published], when=PUBLISHED_NOW)
        }
        first_seen = {}
        if after is not None:
            public_ids = [public_id for _seq, _pk, public_id, _at in rows]
            first_seen = dict(
                PublicChange.objects.filter(public_id__in=public_ids)
                .values("public_id")
                .annotate(first=Min("seq"))
                .values_list("public_id", "first")
            )
        results = []
        for _seq, event_id, public_id, at in rows:
            status, first_published_at, reason = events.get(event_id, (None, None, ""))
            if status == EventStatus.RETRACTED:
                kind = "retracted"
            elif status != EventStatus.PUBLISHED:
                kind = "withdrawn"  # taken back to draft, or deleted
            elif after is not None:
                kind = "published" if first_seen[public_id] > after else "updated"
            elif since is not None and first_published_at < since:
                kind = "updated"
            else:
                kind = "published"
            text = texts.get(event_id)
            results.append(
                {
                    "event": public_id,
                    "change": kind,
                    "at": moment_text(at),
                    "retraction_reason": reason if kind == "retracted" else None,
                    "data": None if text is None else orjson.Fragment(text),
                }
            )
        return results

    def _since(self, request):
        raw = request.query_params.get("since")
        try:
            return MomentField(required=False).clean(raw)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"since": list(error.messages)}) from None


PUBLISHED_NOW = f"e.status = '{EventStatus.PUBLISHED}'"
CHANGE_TOKEN = re.compile(r"c([0-9]{1,18})")


def _change_token(seq):
    """Write a position in the change log as an opaque token."""
    return base64.urlsafe_b64encode(f"c{seq}".encode()).decode().rstrip("=")


def _change_position(token):
    """Read a token _change_token wrote; None for none; a 400 for anything else."""
    if not token:
        return None
    refused = exceptions.ValidationError(
        {"after": ["Not a position this feed gave out: use the 'after' of a page you read."]}
    )
    if len(token) > 40 or not re.fullmatch(r"[A-Za-z0-9_-]+", token):
        raise refused
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise refused from None
    match = CHANGE_TOKEN.fullmatch(text)
    if match is None:
        raise refused
    return int(match[1])
