"""The events changelist at a million rows: counts, pages, sorting and filters that stay fast.

Measured on PostgreSQL with 1,000,000 events, the stock admin spent its time in COUNT(*) on
every page view, SELECT DISTINCT over the whole table for the country filter, OFFSET over
full rows for deep pages and sorts that no index serves. The pieces here replace those.
"""

import math
import re

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.filters import CountryFilter

from .. import search
from .refusal import refusal
from .relations import field_can_hold

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE when statement_timeout stops a statement


class EstimatedCount(int):
    """A number of rows PostgreSQL's planner expects, not counted: it prints "about 1,000,000".

    Rounded to two significant figures, so that it does not look like an exact count.
    """

    def __new__(cls, rows):
        rows = max(int(rows), 0)
        if rows >= 100:
            rows = round(rows, 2 - len(str(rows)))
        return super().__new__(cls, rows)

    def __str__(self):
        return gettext("about %(count)s") % {"count": f"{int(self):,}"}


class LargeTablePaginator(Paginator):
    """Count exactly what is cheap to count; on PostgreSQL, estimate the rest.

    - The whole table (no filter, no search) holding ESTIMATE_ABOVE rows or more: the
      planner's estimate. COUNT(*) reads every row (0.15-0.45 s at a million) for a number
      that is out of date as soon as someone saves.
    - Anything filtered: counted exactly if that finishes within COUNT_BUDGET_MS, else the
      planner's estimate for the filtered rows.
    - SQLite: always counted.

    An estimate prints as "about N" and does not bound the pages, so every page stays
    reachable. Each page is read in two steps (ids first, then those rows): a deep page's
    OFFSET then walks an index rather than whole rows.
    """

    ESTIMATE_ABOVE = 100_000
    COUNT_BUDGET_MS = 300

    @cached_property
    def count(self):
        queryset = self.object_list
        if connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        if not queryset.query.where:
            estimate = planner_rows(queryset)
            if estimate >= self.ESTIMATE_ABOVE:
                return EstimatedCount(estimate)
            return queryset.count()
        counted = count_within(queryset, self.COUNT_BUDGET_MS)
        return counted if counted is not None else EstimatedCount(planner_rows(queryset))

    @property
    def is_estimated(self):
        return isinstance(self.count, EstimatedCount)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past an estimated last page there may still be rows: show what is there.
            if not self.is_estimated or int(number) < 1:
                raise
            return int(number)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.is_estimated and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom, top):
        # OFFSET reads and drops every row before the page: read only ids for that part (an
        # index-only scan for the usual orderings), then fetch the page's rows by id.
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self.object_list.filter(pk__in=ids)


def planner_rows(queryset):
    """Return how many rows PostgreSQL's planner expects the queryset to return."""
    query = queryset.order_by().values("pk").query
    sql, params = query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    return math.ceil(plan[0]["Plan"]["Plan Rows"])


def count_within(queryset, budget_ms):
    """Return queryset.count() on PostgreSQL, or None if counting takes over budget_ms."""
    connection = connections[queryset.db]
    try:
        with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            (previous,) = cursor.fetchone()
            # Local to this transaction or savepoint; set back below for an enclosing one.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{budget_ms}ms"])
            count = queryset.count()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) != QUERY_CANCELED:
            raise
        return None


class IndexedSortChangeList(ChangeList):
    """Sorting by a column breaks ties by date, in the column's direction.

    Django breaks ties by the list's default order (newest first) whatever the column's
    direction, so "country ascending" is ORDER BY country ASC, date_earliest DESC, id DESC:
    no index serves that mix, and PostgreSQL sorts every event of the first country. Ties in
    the column's own direction let one index such as (country, date_earliest) serve both.
    """

    tie_breaker = "date_earliest"

    def get_ordering(self, request, queryset):
        directions = list(self.get_ordering_field_columns().values())
        if ORDER_VAR not in self.params or not directions:
            return super().get_ordering(request, queryset)
        # Without the default order to fall back on, Django ends the ordering with "-pk".
        ordering = super().get_ordering(request, queryset.order_by())
        if ordering[-1:] != ["-pk"]:
            return ordering  # already total, such as by public id
        chosen = ordering[:-1]
        sorted_by = {part.lstrip("-") for part in chosen if isinstance(part, str)}
        sign = "-" if directions[-1] == "desc" else ""
        ties = [name for name in (self.tie_breaker, "pk") if name not in sorted_by]
        return [*chosen, *(sign + name for name in ties)]


class InvalidFilter(Exception):
    """A filter the changelist cannot apply; its message tells the curator why."""


class DeclaredFiltersChangeList(ChangeList):
    """Filtered only as the list filters offer, with values a query can carry.

    Django applies any lookup on the model's own columns that a query string names
    (title__regex=(, date_earliest__year=0, id__in=<twenty digits>): no link offers them,
    and a bad value crashes the query as it runs, past the checks Django makes first. So
    does a NUL character in a text filter's value on PostgreSQL (status__exact=%00), which
    Django's search form refuses but its list filters pass on. Equality on a filtered field,
    the sidebar's choice written by hand (status=draft), stays.
    """

    def get_filters(self, request):
        for name, values in self.get_filters_params().items():
            if any("\x00" in value for value in values):
                raise InvalidFilter(
                    gettext("The value of the filter “%(name)s” holds a NUL character.")
                    % {"name": _shown(name)}
                )
        filters = super().get_filters(request)
        # The filters have taken their parameters out: what is left must be equality on a
        # filtered field, with values its column can hold (event_type=<twenty digits> would
        # crash SQLite, as Django checks the range of event_type__id__exact only).
        filtered = self._filtered_fields()
        for name, values in filters[2].items():
            field = filtered.get(name.removesuffix("__exact"))
            if field is None:
                raise InvalidFilter(
                    gettext("The list has no filter named “%(name)s”.") % {"name": _shown(name)}
                )
            for value in values:
                if not field_can_hold(field, value):
                    raise InvalidFilter(
                        gettext("The filter “%(name)s” has no value “%(value)s”.")
                        % {"name": _shown(name), "value": _shown(value)}
                    )
        return filters

    def _filtered_fields(self):
        """Return {field path: the field its values are compared with} of the list filters."""
        paths = [
            item[0] if isinstance(item, list | tuple) else item
            for item in self.list_filter
            if not isinstance(item, type)  # a SimpleListFilter: a parameter, not a field
        ]
        fields = {path: get_fields_from_path(self.model, path)[-1] for path in paths}
        return {
            path: field.target_field if field.is_relation else field
            for path, field in fields.items()
        }


class EventChangeList(DeclaredFiltersChangeList, IndexedSortChangeList):
    """The events list: declared filters, ties sorted by date in the column's direction."""


class DeclaredFiltersAdmin:
    """For every admin list: the declared filters alone, and a bad filter refused with a
    page that says why (400), never a crash or Django's "?e=1"."""

    whole_list = _("Show the whole list")

    def get_changelist(self, request, **kwargs):
        return DeclaredFiltersChangeList

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            # Django would redirect to "?e=1" and a page blaming the database installation.
            raise InvalidFilter(filter_problem(error)) from error

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except InvalidFilter as error:
            return refusal(
                self,
                request,
                title=gettext("Filters not applied"),
                message=str(error),
                back=(request.path, self.whole_list),
                status=400,
            )


def _shown(text):
    """Return a name or value from a query string, short enough to show back."""
    return Truncator(text.replace("\x00", "\\x00")).chars(40)


class PresentCountryFilter(CountryFilter):
    """The countries that have events, found by skipping through the country index.

    django-countries asks for SELECT DISTINCT country over every row (0.3-0.7 s at a
    million); this asks the (country, ...) index for the next country sixty-odd times.
    """

    def lookup_choices(self, changelist):
        column = changelist.model._meta.get_field(self.field_path).column
        present = set(present_values(changelist.root_queryset, column))
        for code, name in self.field.get_choices(include_blank=False):
            if code in present:
                yield code, name


def present_values(queryset, column):
    """Return the distinct values of an indexed column of the queryset's table, all rows.

    One index probe per value rather than a read of every row.
    """
    connection = connections[queryset.db]
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    column = connection.ops.quote_name(column)
    # A loose index scan, written as a recursive query: both PostgreSQL and SQLite run it.
    sql = f"""
        WITH RECURSIVE present(value) AS (
            SELECT MIN({column}) FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > present.value)
            FROM present WHERE present.value IS NOT NULL
        )
        SELECT value FROM present WHERE value IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for (value,) in cursor.fetchall()]


PUBLIC_ID_START = re.compile(r"[A-Z]{2}(-[0-9]{0,4}(-[0-9]*)?)?")


def public_id_start(search_term):
    """Return the search term as the start of a public id (CN, CN-2014, CN-2014-0003), or None."""
    term = search_term.strip().upper()
    return term if PUBLIC_ID_START.fullmatch(term) else None


class EventListAdmin(DeclaredFiltersAdmin):
    """For EventAdmin: the changelist's count, pages, sorting and search at a million events."""

    paginator = LargeTablePaginator
    # Facet counts aggregate every filter choice over every event: minutes at a million rows,
    # and the query runs on after the curator gives up. The filters work without them.
    show_facets = admin.ShowFacets.NEVER
    whole_list = _("Show every event")

    def get_changelist(self, request, **kwargs):
        return EventChangeList

    def get_search_results(self, request, queryset, search_term):
        """Return the events that match every word of the term, or whose public id starts so.

        A word of the term matches the start of a word of the title, summary, place, actor and
        platform names and aliases, or quotes (events.search): the full-text index answers on
        PostgreSQL. Django's own search, a substring of each column across joins, read every
        row: over 30 s at a million events.
        """
        if not search_term.strip():
            return queryset, False
        words, id_start = search.query_words(search_term), public_id_start(search_term)
        if not (words or id_start):
            return queryset.none(), False
        matches = Q(pk__in=self._unindexed_matches(request, queryset, search_term))
        if words:
            matches |= Q(search.matching_condition(words, queryset.db))
        if id_start:
            matches |= Q(public_id__startswith=id_start)
        return queryset.filter(matches), False

    def _unindexed_matches(self, request, queryset, search_term):
        # An event saved without going through the admin may have no search text yet: find
        # those by their own columns, as Django would (a partial index keeps them at hand).
        unindexed = queryset.filter(search_text="").order_by()
        found, _duplicates = super().get_search_results(request, unindexed, search_term)
        return list(found.values_list("pk", flat=True).distinct())


def filter_problem(error):
    """Return what Django found wrong with a filter's value, in words."""
    cause = error.args[0] if error.args else error
    detail = " ".join(cause.messages) if isinstance(cause, ValidationError) else str(cause)
    return gettext("A filter's value cannot be read: %(detail)s") % {
        "detail": Truncator(detail).chars(200)
    }
