import datetime
from typing import NamedTuple

from django.contrib.postgres.fields import DateRangeField
from django.db import connections, models, router
from django.db.backends.postgresql.psycopg_any import DateRange
from django.db.models import Count, Exists, F, Func, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.expressions import RawSQL

from . import search
from .choices import EventStatus

# Every day an event may have touched, as a PostgreSQL range: an ongoing event's has no end.
SPAN = Func(
    F("date_earliest"),
    F("date_latest"),
    Value("[]"),
    function="daterange",
    output_field=DateRangeField(),
)


# Published events keyed by how wide their span is (migration 0029): class k holds spans of
# fewer than SPAN_WIDTHS[k] days between the earliest and the latest day, the class after
# the last the wider ones, and ongoing events none (NULL).
SPAN_WIDTHS = tuple(2**k for k in range(14))  # 1 day to 22 years
SPAN_WIDTH_CLASS = (
    "width_bucket(date_latest - date_earliest, "
    f"ARRAY[{', '.join(map(str, SPAN_WIDTHS))}]::integer[])"
)


class PublishedSpans(NamedTuple):
    """The published events that may have touched a range of days from start (to end, if
    given), read by the width of their spans (PostgreSQL only).

    The GiST index of the spans answers the same question, but at a million events reads
    16,000 of its pages for the 44,000 events that may have touched a month: the ranges
    it groups on a page are of every width, so a page holds few of them. By width, each
    class is one read of a B-tree from the range's end back to its start less the widest
    span of the class: every event of the class that may reach the range is in it, and at
    most about as many again that stop short. The ongoing events are those begun before
    the end.
    """

    start: datetime.date
    end: datetime.date | None
    events: models.QuerySet  # the events (a model's manager or queryset) to read

    def selected(self, fields, where=None):
        """Return a query of fields (the events' own columns, which the width index
        carries) of these events, once each; of those where the condition (a Q) holds, if
        one is given."""
        published = self.events.filter(status=EventStatus.PUBLISHED).alias(
            width_class=RawSQL(SPAN_WIDTH_CLASS, ())
        )
        if self.end is not None:
            published = published.filter(date_earliest__lte=self.end)
        if where is not None:
            published = published.filter(where)
        reaching = published.filter(date_latest__gte=self.start)
        reads = [
            reaching.filter(
                width_class=width_class,
                date_earliest__gte=self.start - datetime.timedelta(days=width - 1),
            )
            for width_class, width in enumerate(SPAN_WIDTHS)
        ]
        reads.append(reaching.filter(width_class=len(SPAN_WIDTHS)))
        reads.append(published.filter(width_class__isnull=True))
        first, *others = (read.order_by().values(*fields) for read in reads)
        return first.union(*others, all=True)

    def count(self):
        return self.selected(("date_earliest",)).count()

    def first(self, size, sort, backwards=False, beyond=None):
        """Return the ids of the first size of these events in a list's order (a
        pagination.SortKey), of those beyond the cursor's condition if one is given: every
        match read from the width index and the first sorted out, where walking the list's
        index to the range's events may pass most of the table (a year most recently
        updated first, where the later edits were of other years)."""
        matched = self.selected(("id", sort.field), where=beyond)
        return [row["id"] for row in matched.order_by(*sort.order_by(backwards, pk="id"))[:size]]


class DatedQuerySet(models.QuerySet):
    """Rows with an event's date_earliest and date_latest: the events, and the published
    events' words (models.PublishedWord), which the same date filters narrow."""

    def overlapping(self, start=None, end=None):
        """Return events that may have touched any day of [start, end] (either end open).

        "March 2014" (1-31 March) overlaps 15 March to 15 April; an ongoing event overlaps
        every range after its start. A range from a first day, counted or sorted by update
        with no other filter, is read by width instead (PublishedSpans).
        """
        if start is None and end is None:
            return self
        if connections[self.db].vendor == "postgresql":
            # The span as a range, which a GiST index answers (migration 0016): as two
            # comparisons, every event that began before the end was read to test its end.
            wanted = DateRange(start, end, "[]")
            queryset = self.alias(span=SPAN).filter(span__overlap=wanted)
            # Implied by the overlap, and what a B-tree on the earliest day can bound: a list
            # in date order reads that index from the range's end instead of filtering it.
            return queryset.filter(date_earliest__lte=end) if end is not None else queryset
        queryset = self
        if end is not None:
            queryset = queryset.filter(date_earliest__lte=end)
        if start is not None:
            queryset = queryset.filter(Q(date_latest__gte=start) | Q(date_latest__isnull=True))
        return queryset

    def within(self, start=None, end=None):
        """Return events certainly inside [start, end]: every day they may have touched is.

        "March 2014" is within 2014 but not within 15 March to 15 April; an ongoing event is
        within no range that has an end.
        """
        queryset = self
        if start is not None:
            queryset = queryset.filter(date_earliest__gte=start)
        if end is not None:
            queryset = queryset.filter(date_latest__lte=end)
        return queryset


class EventQuerySet(DatedQuerySet):
    def published(self):
        """Return the events the public may see."""
        return self.filter(status=EventStatus.PUBLISHED)

    def matching(self, query):
        """Return events in whose text every word of the query begins a word (events.search)."""
        terms = search.query_words(query)
        if not terms:
            return self
        return self.filter(search.matching_condition(terms, self.db))

    def in_categories(self, slugs):
        """Return events whose type belongs to one of the categories (by slug)."""
        return self.filter(event_type__category__slug__in=slugs)

    def with_actor_role(self, actors=(), roles=()):
        """Return events where one of the actors (by slug) played one of the roles.

        Actor and role are matched on the same row: "Tencent as target", not "Tencent in
        some role and someone as target".
        """
        from .models import EventActor

        roles_played = EventActor.objects.filter(event=OuterRef("pk"))
        if actors:
            roles_played = roles_played.filter(actor__slug__in=actors)
        if roles:
            roles_played = roles_played.filter(role__in=roles)
        return self.filter(Exists(roles_played))

    def for_admin_list(self):
        """Return events with what the curators' changelist shows, in a fixed number of queries."""
        return self.select_related("event_type__category")

    def for_api(self):
        """Return events with everything the public pages show, in a fixed number of queries."""
        from .models import Citation, EventActor, EventRelation

        public_links = EventRelation.objects.select_related("from_event", "to_event")
        return self.select_related("event_type__category").prefetch_related(
            Prefetch(
                "actor_roles",
                queryset=EventActor.objects.select_related("actor").order_by("id"),
            ),
            Prefetch("platforms", queryset=_by_id("platforms")),
            Prefetch("tags", queryset=_by_id("tags")),
            Prefetch(
                "citations", queryset=Citation.objects.select_related("source").order_by("id")
            ),
            Prefetch("counts", queryset=_by_id("counts")),
            Prefetch(
                "relations_out",
                queryset=public_links.filter(to_event__status=EventStatus.PUBLISHED).order_by("id"),
            ),
            Prefetch(
                "relations_in",
                queryset=public_links.filter(from_event__status=EventStatus.PUBLISHED).order_by(
                    "id"
                ),
            ),
        )


def _by_id(relation):
    from .models import Event

    return Event._meta.get_field(relation).related_model.objects.order_by("id")


# Lookups from an event that reach a row at most once per event (a foreign key, a plain
# many-to-many).
ONCE_PER_EVENT = {"event_type", "event_type__category", "platforms", "tags"}


class PublicReferenceQuerySet(models.QuerySet):
    """Actors, platforms, sources, types and tags: public only through published events.

    Subclasses name the lookup from their row to the events that reference it.
    """

    events_reverse_lookup = None  # from an event to the row, such as "actor_roles__actor"

    def public(self):
        """Return the rows that at least one published event references.

        Written as "the first such event is not null" rather than EXISTS: PostgreSQL turns
        EXISTS into a join over every published event's rows (3 s for 2,000 actors over a
        million events), where this scalar subquery stops at the first one (40 ms).
        """
        first = self._published_events_of(OuterRef("pk")).order_by().values("pk")[:1]
        return self.alias(first_published_event=Subquery(first)).filter(
            first_published_event__isnull=False
        )

    def event_counts(self, ids):
        """Return {id: published events that refer to it} for some rows, in one grouped query.

        Grouped over all the rows at once: a count per row in a correlated subquery made
        PostgreSQL read every published event once per row (/tags/ took 2.7 s at 300,000
        events where this takes 0.2 s). A lookup that reaches a row at most once per event is
        counted without DISTINCT, which sorts; an actor may play two roles in an event and a
        source be cited twice, so those are counted DISTINCT.
        """
        from .models import Event

        lookup = self.events_reverse_lookup
        counted = (
            Event.objects.published()
            .filter(**{f"{lookup}__in": ids})
            .order_by()
            .values_list(lookup)
            .annotate(count=Count("pk", distinct=lookup not in ONCE_PER_EVENT))
        )
        return dict.fromkeys(ids, 0) | dict(counted)

    def referencing_events(self):
        """Return every event, published or not, that refers to one of these rows."""
        from .models import Event

        return Event.objects.filter(**{f"{self.events_reverse_lookup}__in": self})

    def _published_events_of(self, row):
        from .models import Event

        reverse = self.events_reverse_lookup
        return (
            Event.objects.published()
            .filter(**{reverse: row})
            .annotate(referenced=models.F(reverse))
        )


class ActorQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "actor_roles__actor"


class PlatformQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "platforms"


class SourceQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "citations__source"


class EventTypeQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "event_type"


class EventCategoryQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "event_type__category"


class TagQuerySet(PublicReferenceQuerySet):
    events_reverse_lookup = "tags"


def public_version(using=None):
    """Return how many public changes have committed: the ETag and cache version.

    The database's own triggers count every change to an event that is or was public, and
    every data release (models.PublicChange), in commit order: a change that commits late
    still moves the version, and a draft's edit, or an edit to an actor only drafts show,
    does not. Edits to actors, platforms, sources, the taxonomy and tags reach it through the
    events that show them (services.events_referencing_changed). One query of one row. It
    reads where the request's other reads go (a replica, for anonymous readers), so a
    lagging replica's answers are named by the replica's own version.
    """
    from .models import Event

    connection = connections[using or router.db_for_read(Event)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM events_publicversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0
