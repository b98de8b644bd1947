"""One FilterSet for events: it drives the JSON list, every export format, stats and pages."""

import calendar
import contextlib
import datetime
import re
from dataclasses import dataclass

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries import countries
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.drainage import set_override
from rest_framework import exceptions

from events.choices import Role, Verification, english_labels
from events.dates import InvalidDate, parse_date
from events.models import (
    Actor,
    Event,
    EventCategory,
    EventType,
    Platform,
    PublishedTally,
    PublishedWord,
    Tag,
)
from events.querysets import PublishedSpans
from events.search import MAX_QUERY_WORDS, query_words

from .pagination import SORT_KEYS

# Every pattern is matched whole (fullmatch) and written so that it means the same to Python
# and to the ECMA regular expressions of OpenAPI: [0-9], not \d (which takes any script's
# digits in Python), and no $ (which lets a final line feed through in Python).
PARTIAL_DATE = re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?")
MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,120}")
COUNTRY = re.compile(r"[A-Za-z]{2}|global")
SPACES = " \t"  # around comma-separated values: platform=wechat, weibo
MAX_VALUES = 50
MAX_QUERY_LENGTH = 200
GLOBAL = "global"
WALKED_FROM = 5_000  # matches from which a search alone is walked to (EventFilterSet.paged)

DATE_MATCH_CHOICES = [
    ("overlaps", "the event may have touched the range (default)"),
    ("within", "every day the event may have touched is inside the range"),
    ("begins", "the earliest day the event may have touched is inside the range"),
]
ORDERING_CHOICES = [
    ("date", "earliest possible day, oldest first (default)"),
    ("-date", "earliest possible day, newest first"),
    ("updated", "last change, oldest first (for syncing a copy)"),
    ("-updated", "last change, newest first"),
]


class PartialDateField(forms.CharField):
    """A year, a month or a day (2014, 2014-05, 2014-05-27), read as the days it covers."""

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)  # "2014\n" is not a date, as the schema says

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        if not PARTIAL_DATE.fullmatch(value):
            raise ValidationError(f"'{value[:40]}' is not a date. Use 2014, 2014-05 or 2014-05-27.")
        try:
            return parse_date(value)
        except InvalidDate as error:
            raise ValidationError(str(error)) from error


class MomentField(forms.CharField):
    """An RFC 3339 date and time with its time zone (ISO 8601's usual form), as the schema says."""

    def __init__(self, **kwargs):
        super().__init__(strip=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        moment = None
        # An unescaped '+' in a query string arrives as a space: 09:00:00+08:00. RFC 3339
        # allows a lower-case t and z. Python reads more forms than that (20140527T09, no
        # seconds, ...): refused, so that what is accepted is what the schema documents.
        text = value.replace(" ", "+").upper()
        with contextlib.suppress(ValueError):
            moment = parse_datetime(text) if MOMENT.fullmatch(text) else None
        if moment is not None and timezone.is_aware(moment):
            # 0001-01-01T00:00+08:00 has no UTC equivalent: refused below.
            with contextlib.suppress(OverflowError):
                return moment.astimezone(datetime.UTC)
        raise ValidationError(
            f"'{value[:40]}' is not a moment. Use ISO 8601 with seconds and a time zone, such "
            "as 2026-11-28T09:00:00Z or 2026-11-28T17:00:00+08:00."
        )


class StrictBooleanField(forms.Field):
    """true or false (also 1/0, yes/no, in any letter case); anything else is refused."""

    VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def clean(self, value):
        if value in (None, ""):
            return None
        if value.lower() not in self.VALUES:
            raise ValidationError(f"'{value[:40]}' is not accepted; use true or false.")
        return self.VALUES[value.lower()]


class MultipleValueField(forms.Field):
    """Repeated (platform=wechat&platform=weibo) or comma-separated values, meaning OR."""

    widget = QueryArrayWidget
    value_pattern = SLUG
    accepted = "slugs such as wechat"

    def clean(self, value):
        pieces = (piece.strip(SPACES) for item in (value or []) for piece in item.split(","))
        values = [piece for piece in pieces if piece]
        if len(values) > MAX_VALUES:
            raise ValidationError(f"At most {MAX_VALUES} values are accepted.")
        bad = [item[:40] for item in values if not self.value_pattern.fullmatch(item)]
        if bad:
            raise ValidationError(f"{', '.join(map(repr, bad[:5]))}: expected {self.accepted}.")
        return list(dict.fromkeys(values))


class CountryField(MultipleValueField):
    value_pattern = COUNTRY
    accepted = "ISO 3166 codes such as CN, or 'global'"

    def clean(self, value):
        codes = [code if code == GLOBAL else code.upper() for code in super().clean(value)]
        unknown = [code for code in codes if code != GLOBAL and code not in countries]
        if unknown:
            raise ValidationError(f"{', '.join(unknown)}: not ISO 3166 country codes.")
        return codes


def choices_field(choices):
    valid = [code for code, _label in choices]

    class ChoicesField(MultipleValueField):
        value_pattern = re.compile("|".join(map(re.escape, valid)))
        accepted = " or ".join(valid)

    return ChoicesField


@dataclass(frozen=True)
class Place:
    """Where a filter sits on the reader's filter form (timeline.pages): label and widget.

    A text input by default; choices: a list of what published events refer to, filled by
    the page; named: a text input where a reader types a name or an alias, which the page
    reads back as the slug, offering the most used names as suggestions; options: a list of
    fixed (value, label) choices, in the reader's words.
    """

    label: str
    position: int
    placeholder: str = ""
    choices: bool = False
    named: bool = False
    options: tuple = ()


class DeclaredFilter:
    """A filter declared once: its parameter, its effect on events, its example, its place.

    effect(queryset, value, data) narrows the events for the filter's cleaned value; data holds
    every cleaned parameter, for filters read together (date_match shapes date_from and
    date_to; role and actor are matched on the same row). A filter with no effect only shapes
    others. references names the model an unknown slug is looked up in, and the list to see.
    tally(rows, value, data) narrows the published events' tally (models.PublishedTally) the
    same way, or returns None where the tally cannot say (its keys are too coarse); True
    means the effect itself does, for a filter of a column the tally keeps. types(types,
    value) narrows event types the same way, for a filter of types alone, which the tallies
    by type answer (models.PublishedTypeMonth, PublishedTypePlace). words(rows, value, data)
    narrows the published events' words (models.PublishedWord) the same way; True means the
    effect itself does, for a filter of columns they keep. A filter with an effect and none
    of these is counted from the events.
    """

    def __init__(
        self,
        *args,
        effect=None,
        example=None,
        place=None,
        references=None,
        tally=None,
        types=None,
        words=None,
        **kwargs,
    ):
        self.effect = effect
        self.tally = effect if tally is True else tally
        self.types = types
        self.words = effect if words is True else words
        self.example = example
        self.place = place
        self.references = references
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        return queryset  # applied by EventFilterSet.filter_queryset, with the other values


class ValuesFilter(DeclaredFilter, django_filters.Filter):
    """Repeated or comma-separated values, meaning OR (slugs unless field_class says)."""

    field_class = MultipleValueField

    def __init__(self, *args, field_class=None, **kwargs):
        if field_class is not None:
            self.field_class = field_class
        super().__init__(*args, **kwargs)


class FieldFilter(ValuesFilter):
    """A single value in a field of our own (a date, a moment, true or false)."""


class ChoiceFilter(DeclaredFilter, django_filters.ChoiceFilter):
    pass


class TextFilter(DeclaredFilter, django_filters.CharFilter):
    pass


class EventFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end.latest < start.earliest:
            self.add_error("date_to", f"date_to ({end.text}) is before date_from ({start.text}).")
        query = data.get("q")
        if query and (len(query) > MAX_QUERY_LENGTH or not query_words(query)):
            self.add_error(
                "q",
                f"Give 1 to {MAX_QUERY_WORDS} words of letters or digits, at most "
                f"{MAX_QUERY_LENGTH} characters.",
            )
        for name, filter_ in EventFilterSet.base_filters.items():
            if filter_.references is not None:
                self._check_public(name, *filter_.references, data.get(name))
        return data

    def _check_public(self, name, model, listing, slugs):
        """Refuse slugs no published event refers to: a typo should not look like no events."""
        if not slugs:
            return
        known = set(model.objects.public().filter(slug__in=slugs).values_list("slug", flat=True))
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            self.add_error(
                name, f"{', '.join(unknown)}: no published event has this {name}; see {listing}."
            )


# Effects ---------------------------------------------------------------------------------


def _range(queryset, data):
    """The range of date_from and date_to, applied once by the first of them present (one
    overlap of two ranges, which the span index answers in one pass, not two)."""
    start, end = data.get("date_from"), data.get("date_to")
    return _dates(
        queryset,
        data,
        start=start.earliest if start else None,
        end=end.latest if end else None,
    )


def _dates(queryset, data, **bounds):
    """Overlapping (default), within or beginning in the range, as date_match asks; either
    bound may be open."""
    if data.get("date_match") == "within":
        return queryset.within(**bounds)
    if data.get("date_match") == "begins":
        if bounds.get("start") is not None:
            queryset = queryset.filter(date_earliest__gte=bounds["start"])
        if bounds.get("end") is not None:
            queryset = queryset.filter(date_earliest__lte=bounds["end"])
        return queryset
    return queryset.overlapping(**bounds)


def _tallied_range(rows, data):
    """The months of a range of whole months that events begin in, as the chart's bars ask;
    None for a range that may overlap or must contain (the tally keeps no last days) or that
    cuts a month."""
    start, end = data.get("date_from"), data.get("date_to")
    start, end = start.earliest if start else None, end.latest if end else None
    if data.get("date_match") != "begins":
        return None
    if start is not None:
        if start.day != 1:
            return None
        rows = rows.filter(month__gte=start)
    if end is not None:
        if end.day != calendar.monthrange(end.year, end.month)[1]:
            return None
        rows = rows.filter(month__lte=end)
    return rows


def _linked(through, target):
    """Events linked to one of the slugs, through a subquery on the link table alone.

    An event on two matching platforms is listed once; the link table's (target, event)
    index answers it without reading events.
    """

    def effect(queryset, slugs, data):
        links = through.objects.filter(**{f"{target}__slug__in": slugs})
        return queryset.filter(pk__in=links.values("event_id"))

    return effect


def _roles_alone(queryset, roles, data):
    # With actor given, the actor's filter reads the roles (the same row); without, any actor.
    return queryset if data.get("actor") else queryset.with_actor_role(None, roles)


class EventFilterSet(django_filters.FilterSet):
    date_from = FieldFilter(
        field_class=PartialDateField,
        effect=lambda queryset, value, data: _range(queryset, data),
        tally=lambda rows, value, data: _tallied_range(rows, data),
        words=True,
        example="2014",
        place=Place(_("From"), 2, placeholder="2014"),
        help_text="Start of the date range: a year, month or day, such as 2014, 2014-05 or "
        "2014-05-27. A month or a year starts on its first day.",
    )
    date_to = FieldFilter(
        field_class=PartialDateField,
        effect=lambda queryset, value, data: (
            queryset if data.get("date_from") else _range(queryset, data)
        ),
        tally=lambda rows, value, data: (
            rows if data.get("date_from") else _tallied_range(rows, data)
        ),
        words=True,
        example="2014-05",
        place=Place(_("To"), 3, placeholder="2014-12"),
        help_text="End of the date range, such as 2014 or 2014-05. A month or a year ends on its "
        "last day: date_from=2014-03&date_to=2014-03 is the whole of March 2014.",
    )
    date_match = ChoiceFilter(
        choices=DATE_MATCH_CHOICES,
        place=Place(
            _("Dates"),
            4,
            options=(
                ("overlaps", _("may overlap the range")),
                ("within", _("certainly within the range")),
                ("begins", _("begin in the range")),
            ),
        ),
        error_messages={
            "invalid_choice": "'%(value)s' is not accepted; use overlaps, within or begins."
        },
        help_text="overlaps (default): events that may have touched the range; an event dated "
        "'March 2014' overlaps 2014-03-15 to 2014-04-15. within: events certainly inside it; "
        "'March 2014' is within 2014 but not within 2014-03-15 to 2014-04-15. An ongoing event "
        "is within no range that has an end. begins: events whose earliest possible day is in "
        "the range, as the timeline's chart counts them ('c. April 2014' begins in March).",
    )  # read by date_from and date_to
    type = ValuesFilter(
        effect=lambda queryset, slugs, data: queryset.filter(event_type__slug__in=slugs),
        types=lambda types, slugs: types.filter(slug__in=slugs),
        example=["account-removal"],
        place=Place(_("Type"), 6, choices=True),
        references=(EventType, "/api/v1/event-types/"),
        help_text="Event type slug, repeatable (OR): type=account-removal.",
    )
    category = ValuesFilter(
        effect=lambda queryset, slugs, data: queryset.in_categories(slugs),
        types=lambda types, slugs: types.filter(category__slug__in=slugs),
        example=["content-control"],
        place=Place(_("Category"), 5, choices=True),
        references=(EventCategory, "/api/v1/event-types/"),
        help_text="Category slug, repeatable (OR); includes its types: category=content-control.",
    )
    country = ValuesFilter(
        field_class=CountryField,
        effect=lambda queryset, codes, data: _filter_countries(queryset, codes),
        tally=True,
        words=True,
        example=["CN"],
        # A context of its own: django-countries' catalogue, read first, says "Country" (国家).
        place=Place(pgettext_lazy("a filter", "Country"), 7, choices=True),
        help_text="ISO 3166 code, or 'global' for events that span the world; repeatable (OR): "
        "country=CN&country=IR.",
    )
    actor = ValuesFilter(
        effect=lambda queryset, slugs, data: queryset.with_actor_role(slugs, data.get("role")),
        example=["tencent"],
        place=Place(_("Actor"), 9, placeholder=_("name or alias"), named=True),
        references=(Actor, "/api/v1/actors/"),
        help_text="Actor slug, repeatable (OR): actor=tencent.",
    )
    role = ValuesFilter(
        field_class=choices_field(Role.choices),
        effect=_roles_alone,
        example=["operated_platform"],
        help_text="Role an actor played, repeatable (OR): role=targeted. Together with actor, "
        "that actor in that role: actor=tencent&role=operated_platform. Roles: "
        + ", ".join(f"{code} ({label})" for code, label in english_labels(Role))
        + ".",
    )
    platform = ValuesFilter(
        effect=_linked(Event.platforms.through, "platform"),
        example=["wechat"],
        place=Place(_("Platform"), 8, placeholder=_("WeChat"), named=True),
        references=(Platform, "/api/v1/platforms/"),
        help_text="Platform slug, repeatable (OR): platform=wechat.",
    )
    tag = ValuesFilter(
        effect=_linked(Event.tags.through, "tag"),
        example=["instant-messaging"],
        place=Place(_("Tag"), 10, placeholder=_("instant messaging"), named=True),
        references=(Tag, "/api/v1/tags/"),
        help_text="Tag slug, repeatable (OR): tag=instant-messaging.",
    )
    verification = ValuesFilter(
        field_class=choices_field(Verification.choices),
        effect=lambda queryset, values, data: queryset.filter(verification__in=values),
        tally=True,
        example=["corroborated"],
        place=Place(_("Verification"), 11, options=tuple(Verification.choices)),
        help_text="Verification, repeatable (OR): verification=corroborated. Values: "
        + ", ".join(f"{code} ({label})" for code, label in english_labels(Verification))
        + ".",
    )
    ongoing = FieldFilter(
        field_class=StrictBooleanField,
        effect=lambda queryset, value, data: queryset.filter(date_latest__isnull=value),
        words=True,
        example="true",
        help_text="true: only events that have not ended; false: only events with an end.",
    )
    updated_since = FieldFilter(
        field_class=MomentField,
        effect=lambda queryset, value, data: queryset.filter(updated_at__gte=value),
        example="2026-11-28T09:00:00Z",
        help_text="Events changed at or after this moment, ISO 8601 with a time zone: "
        "2026-11-28T09:00:00Z.",
    )
    q = TextFilter(
        effect=lambda queryset, value, data: queryset.matching(value),
        words=lambda rows, value, data: rows,  # each word's rows: EventFilterSet.published_words
        example="wechat accounts",
        place=Place(_("Words"), 1),
        help_text="Words searched in titles, summaries (in English and in the original "
        "language), places, actor and platform names and aliases, and quoted passages. Every "
        "word must begin a word of the event, in any letter case: q=arrest wechat finds "
        "'arrested ... WeChat'.",
    )
    ordering = ChoiceFilter(
        choices=ORDERING_CHOICES,
        error_messages={
            "invalid_choice": "'%(value)s' is not accepted; use date, -date, updated or -updated."
        },
        help_text="date (default), -date, updated (for syncing a copy) or -updated.",
    )  # read by the views: the order of pages and exports

    class Meta:
        model = Event
        fields = []
        form = EventFilterForm

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        for filter_, value in self.applied().values():
            queryset = filter_.effect(queryset, value, data)
        return queryset

    def applied(self):
        """Return {name: (filter, value)} for the filters given a value that have an effect."""
        data = self.form.cleaned_data
        return {
            name: (filter_, data.get(name))
            for name, filter_ in self.filters.items()
            if filter_.effect is not None and data.get(name) not in (None, "", [])
        }

    def tally(self):
        """Return the rows of the published events' tally that count these events by month
        and country, or None where a filter needs the events themselves."""
        rows = PublishedTally.objects.all()
        for filter_, value in self.applied().values():
            rows = filter_.tally(rows, value, self.form.cleaned_data) if filter_.tally else None
            if rows is None:
                return None
        return rows

    def tallied_types(self):
        """Return the event types these events are all and only the published events of, for
        the tallies by type; None where no filter is of types, or one is of something else."""
        types = None
        for filter_, value in self.applied().values():
            if filter_.types is None:
                return None
            types = filter_.types(EventType.objects.all() if types is None else types, value)
        return types

    def spans(self):
        """Return the published events that may have touched the date range, read by the
        width of their spans (PublishedSpans), where the filters are such a range from a
        first day and nothing else (a year's or a month's timeline); None otherwise.
        PostgreSQL only."""
        data = self.form.cleaned_data
        if (
            connections[self.queryset.db].vendor != "postgresql"
            or not data.get("date_from")
            or data.get("date_match") in ("within", "begins")
            or set(self.applied()) - {"date_from", "date_to"}
        ):
            return None
        end = data.get("date_to")
        events = self.queryset.model.objects.using(self.queryset.db)
        return PublishedSpans(data["date_from"].earliest, end and end.latest, events)

    def published_words(self):
        """Return the published words' rows each word searched begins, narrowed by the other
        filters (PublishedWords), where every filter is one those rows keep (a search with or
        without days or countries); None otherwise. PostgreSQL only: SQLite has no such
        table."""
        if not hasattr(self, "_published_words"):  # read once for the counts and the list
            self._published_words = self._read_published_words()
        return self._published_words

    def _read_published_words(self):
        terms = query_words(self.form.cleaned_data.get("q") or "")
        if not terms or connections[self.queryset.db].vendor != "postgresql":
            return None
        rows = PublishedWord.objects.using(self.queryset.db)
        for filter_, value in self.applied().values():
            if filter_.words is None:
                return None
            rows = filter_.words(rows, value, self.form.cleaned_data)
        begun = _begun(terms, self.queryset.db)
        if begun is None:
            return None
        return PublishedWords.searched(rows, terms, begun)

    def paged(self, cursor, size, count=None):
        """Return these events to page through in their order from the cursor, size at a
        time (pagination.keyset_page), knowing there are count of them or not: none where
        there are none, and the page's own found in the published events' words for a
        search in date order that is narrowed by days or countries, is of several words, or
        has fewer than WALKED_FROM matches where the count is known (the timeline's, from
        its chart). Many matches of several words that each begin others are walked to.

        The list is otherwise read along its index until a page of matches is found, or its
        matches are all found and sorted, as the planner chooses from its guess of how many
        match. It guesses a search of several words from each word alone and a range of
        days from the spans' index, and either guess can send it the long way: q=blocks
        accounts, no match, walked the whole index (3.2 s at a million events); q=blocks from
        2010, 73,039 matches guessed as 964, were all read from the table and sorted (1.5 s).
        Each word's rows are in the list's order (migration 0028), so the page of words that
        each begin only themselves is a merge of their rows from the cursor, which stops at
        the page's end (q=prosecutor blocks, 8,601 matches: under a millisecond; no match:
        the words' rows once, 40 ms). Words that begin others (blog: blogger, blogging) are
        matched whole and sorted (PublishedWords.first), which a search of one word alone
        does not need: the planner guesses it well.

        A range of days alone in order of update is read by the width of the events' spans
        and sorted (PublishedSpans.first): walking the update index to the range's events
        passed 600,000 entries for 2012, where the later edits were of other years (63 ms
        of SQL; 15 ms sorted from the range's 61,000 events).
        """
        events = self.qs
        if count == 0:
            return events.none()
        sort = SORT_KEYS[self.sort_order]
        backwards = cursor is not None and cursor.backwards
        spans = self.spans() if self.sort_order in BY_UPDATE else None
        if spans is not None:
            beyond = cursor and sort.after(cursor.value, cursor.pk, backwards)
            return events.filter(pk__in=spans.first(size + 1, sort, backwards, beyond))
        terms = query_words(self.form.cleaned_data.get("q") or "")
        narrowed = len(self.applied()) > 1  # q and days or countries
        several = len(terms) > 1
        few = count is not None and count < WALKED_FROM
        if not terms or not (narrowed or several or few) or self.sort_order not in SORTED:
            return events
        words = self.published_words()
        if words is None or (count is not None and not (narrowed or few or words.in_order)):
            return events
        beyond = cursor and sort.after(cursor.value, cursor.pk, backwards, pk="event_id")
        return events.filter(pk__in=words.first(size + 1, sort, backwards, beyond))

    @property
    def sort_order(self):
        """Return the ordering asked for: date, -date, updated or -updated."""
        return (self.form.cleaned_data.get("ordering") if self.is_bound else None) or "date"


SORTED = ("date", "-date")  # the orders the published words keep (EventFilterSet.paged)
BY_UPDATE = ("updated", "-updated")  # read by width in a date range (EventFilterSet.paged)


def _begun(terms, using):
    """Return, for each word searched, the first and last words of the published words'
    index it begins (None, None where it begins none); or None where PostgreSQL's parser
    reads a word otherwise than events.search does: "x²" is one word to events.search and
    the word "x" to the parser, so its search matches rows no word of the table begins
    with, and is counted and listed from the events. One query: two probes of the index
    per word."""
    wanted = " & ".join(f"'{term}':*" for term in terms)
    ends = ", ".join(
        f"(SELECT {end}(word) FROM {PublishedWord._meta.db_table} WHERE word LIKE %s)"
        for _term in terms
        for end in ("MIN", "MAX")
    )
    begins = [_like_prefix(term) for term in terms for _end in ("MIN", "MAX")]
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT to_tsquery('simple', %s)::text, {ends}", [wanted, *begins])
        parsed, *found = cursor.fetchone()
    if parsed != wanted:
        return None
    return list(zip(found[::2], found[1::2], strict=True))


def _like_prefix(term):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


@dataclass(frozen=True)
class PublishedWords:
    """The published words' rows of each word of a search (one QuerySet of
    models.PublishedWord per word), of which the events all hold are the matches: what
    stats.word_days_and_places counts and EventFilterSet.paged lists.

    A word that begins one word of the index only ("blocks", or "wech": "wechat") reads that
    word's rows: one per event, in the list's order (migration 0028). One that begins
    several ("blog": "blogger", "blogging") reads them all, in which an event may appear
    once per word and the order is the words'."""

    rows: tuple
    in_order: bool  # every word begins one word only: the rows of each are in the list's order
    db: str

    @classmethod
    def searched(cls, rows, terms, begun):
        read = []
        for term, (first, last) in zip(terms, begun, strict=True):
            alone = first == last  # or both None: the word begins none, and matches nothing
            read.append(
                rows.filter(word=first or term) if alone else rows.filter(word__startswith=term)
            )
        in_order = all(first == last for first, last in begun)
        return cls(tuple(read), in_order, rows.db)

    def matched(self, fields, where=None):
        """Return (sql, params) that select the values (fields, of the event's own columns) of
        the events all the words' rows hold (those where the condition holds, if one is
        given), once each. Words in order are joined on the event's day and id, which the
        database merges along their rows as the list is ordered; others are intersected,
        which reads and hashes every row."""
        kept = [rows.filter(where or Q()).order_by() for rows in self.rows]
        if len(kept) == 1:
            matched = kept[0].values(*fields)
            return (matched if self.in_order else matched.distinct()).query.sql_with_params()
        if not self.in_order:
            matched = (
                kept[0].values(*fields).intersection(*(rows.values(*fields) for rows in kept[1:]))
            )
            return matched.query.sql_with_params()
        first, *others = (
            rows.values(
                *dict.fromkeys((*JOINED, *fields) if index == 0 else JOINED)
            ).query.sql_with_params()
            for index, rows in enumerate(kept)
        )
        sql = f"SELECT {', '.join(f'w0.{field}' for field in fields)} FROM ({first[0]}) AS w0"
        params = list(first[1])
        for index, (other, other_params) in enumerate(others, start=1):
            sql += f" JOIN ({other}) AS w{index} USING ({', '.join(JOINED)})"
            params.extend(other_params)
        return sql, params

    def count(self):
        """Return how many events the words' rows all hold."""
        sql, params = self.matched(("event_id",))
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS matched", params)
            return cursor.fetchone()[0]

    def first(self, size, sort, backwards=False, beyond=None):
        """Return the ids of the first size matches in the list's order (a SortKey of the
        earliest day, reversed or not), those beyond the cursor's condition if one is given."""
        ordered = ", ".join(
            f"{field[1:]} DESC" if field.startswith("-") else field
            for field in sort.order_by(backwards, pk="event_id")
        )
        sql, params = self.matched(("date_earliest", "event_id"), beyond)
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT event_id FROM ({sql}) AS matched ORDER BY {ordered} LIMIT %s",
                [*params, size],
            )
            return [event_id for (event_id,) in cursor.fetchall()]


JOINED = ("date_earliest", "event_id")  # the published words' order, the list's (PublishedWords)


def _filter_countries(queryset, codes):
    condition = Q(country__in=[code for code in codes if code != GLOBAL])
    if GLOBAL in codes:
        condition |= Q(is_global=True)
    return queryset.filter(condition)


class StrictFilterBackend(DjangoFilterBackend):
    """Refuse query parameters no filter reads: a misspelt filter must not return everything."""

    def filter_queryset(self, request, queryset, view):
        allowed = set(getattr(view, "query_parameters", ()))
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise exceptions.ValidationError(
                {
                    name[:60]: [f"Unknown parameter. Accepted: {', '.join(sorted(allowed))}."]
                    for name in unknown[:10]
                }
            )
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise filter_errors(filterset)
        view.filterset = filterset  # the view reads the ordering it asked for
        return filterset.qs


def filter_errors(filterset):
    """Return the filters' errors as DRF's ValidationError, each message as the form wrote it.

    django-filter's translate_validation applies `message % params` even when a message has no
    params, so a message quoting a value such as 'x%s' failed with a TypeError: a 500.
    """
    errors = filterset.errors.items()
    return exceptions.ValidationError(
        {name: [str(message) for message in messages] for name, messages in errors}
    )


def _parameter_schema(name, filter_):
    """Describe one filter for OpenAPI: type, accepted values, help text and an example."""
    field_class = filter_.field_class
    if issubclass(field_class, MultipleValueField):
        items = {"type": "string", "pattern": _values_pattern(field_class.value_pattern)}
        schema = {"type": "array", "items": items, "maxItems": MAX_VALUES}
    elif field_class is PartialDateField:
        schema = {"type": "string", "pattern": f"^(?:{PARTIAL_DATE.pattern})$"}
    elif field_class is MomentField:
        schema = {"type": "string", "format": "date-time"}
    elif field_class is StrictBooleanField:
        words = "|".join(map(_in_any_case, StrictBooleanField.VALUES))
        schema = {"type": "string", "pattern": f"^(?:{words})$"}
    elif name == "q":
        schema = {"type": "string", "maxLength": MAX_QUERY_LENGTH}
    else:
        return None  # choice filters: drf-spectacular lists their values itself
    return {**schema, "description": filter_.extra.get("help_text", ""), "example": filter_.example}


def _values_pattern(value):
    """Return the pattern of one occurrence of a multi-valued filter: values, comma-separated."""
    one = f"(?:{value.pattern})[ \\t]*"
    return f"^[ \\t]*(?:{one})?(?:,[ \\t]*(?:{one})?)*$"


def _in_any_case(word):
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


for _name, _filter in EventFilterSet.base_filters.items():
    _schema = _parameter_schema(_name, _filter)
    if _schema is not None:
        set_override(_filter, "field", _schema)
