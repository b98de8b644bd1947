"""Parse the EDTF dates curators enter into honest, queryable bounds.

A curator writes the date as the sources give it, in the Library of Congress Extended
Date/Time Format (EDTF): ``2014-05-27``, ``2014-03``, ``2014``, ``2014-04~`` (approximate),
``2014-05?`` (uncertain), ``2014-05-27/2014-06-27`` (a span) or ``2009-07-07/..`` (ongoing).
We keep that text and derive the earliest and latest day the event can have touched, so that
"March 2014" is stored as 1 to 31 March 2014 rather than a made-up 1 March.

The ``edtf`` package parses each single date. We split intervals ourselves: edtf 5.0 fails on
open ends (``2009-07-07/..``) and invents a ten-year span for an unknown one (``2014-05/``).

describe() says a date in words in the active language ("c. April 2014", 约2014年4月); an
event stores it in English (describe_for_storage), and readers' pages say it in theirs.
"""

import calendar
import datetime
import functools
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from edtf import parse_edtf, struct_time_to_date
from edtf.parser.edtf_exceptions import EDTFParseException
from edtf.parser.parser_classes import Date, Season, UncertainOrApproximate, Unspecified

from .choices import DATA_LANGUAGE, DatePrecision

EXAMPLES = _(
    "2014-05-27 (a day), 2014-03 (a month), 2014 (a year), 2014-04~ (approximate), "
    "2014-05? (uncertain), 2014-05-27/2014-06-27 (a span), 2009-07-07/.. (ongoing)"
)
OPEN_END = ".."
MIN_YEAR, MAX_YEAR = 1000, 9999
FLOOR, CEILING = datetime.date(MIN_YEAR, 1, 1), datetime.date(MAX_YEAR, 12, 31)
WINTER = "-24"
MONTH_NAMES = (
    "",
    pgettext_lazy("month of a date", "January"),
    pgettext_lazy("month of a date", "February"),
    pgettext_lazy("month of a date", "March"),
    pgettext_lazy("month of a date", "April"),
    pgettext_lazy("month of a date", "May"),
    pgettext_lazy("month of a date", "June"),
    pgettext_lazy("month of a date", "July"),
    pgettext_lazy("month of a date", "August"),
    pgettext_lazy("month of a date", "September"),
    pgettext_lazy("month of a date", "October"),
    pgettext_lazy("month of a date", "November"),
    pgettext_lazy("month of a date", "December"),
)
SEASON_NAMES = {  # by first month
    3: pgettext_lazy("season of a date", "Spring"),
    6: pgettext_lazy("season of a date", "Summer"),
    9: pgettext_lazy("season of a date", "Autumn"),
    12: pgettext_lazy("season of a date", "Winter"),
}
MAX_LENGTH = 64

# How far an approximate (~) or uncertain (?) date may stray, by its precision. One unit of
# the date's own precision either way ("c. April 2014" may be March to May); a date that is
# both (%) strays twice as far. edtf's own padding adds a year to every qualified date, which
# would make "c. 27 May 2014" match queries about 2013.
QUALIFIER_PADDING = {
    DatePrecision.DAY: relativedelta(days=7),
    DatePrecision.MONTH: relativedelta(months=1),
    DatePrecision.SEASON: relativedelta(months=3),
    DatePrecision.YEAR: relativedelta(years=1),
    DatePrecision.DECADE: relativedelta(years=10),
    DatePrecision.CENTURY: relativedelta(years=100),
}
# From the finest to the coarsest: a span is as precise as its coarser end.
PRECISION_ORDER = list(QUALIFIER_PADDING)

RECORDED_FORMS = (Date, UncertainOrApproximate, Unspecified, Season)
# ASCII digits only (\d would take any script's) and no trailing newline ($ would).
_NUMERIC_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2}))?(?:-([0-9]{2}))?[~?%]?\Z")


class InvalidDate(ValueError):
    """A date a curator typed that we cannot read; the message says why and how to fix it."""


@dataclass(frozen=True)
class DateBounds:
    """What one EDTF string means: its possible first and last days and how precise it is."""

    text: str
    earliest: datetime.date
    latest: datetime.date | None  # None: ongoing, no end yet
    precision: str
    is_approximate: bool
    is_uncertain: bool
    stated_start: datetime.date  # the first day the text names, before any widening
    stated_end: datetime.date | None  # the last day it names; None while ongoing

    @property
    def is_ongoing(self):
        return self.latest is None


@dataclass(frozen=True)
class _Point:
    earliest: datetime.date  # widened by the qualifier's padding
    latest: datetime.date
    stated_first: datetime.date  # the days the text names, before any padding
    stated_last: datetime.date
    precision: str
    is_approximate: bool
    is_uncertain: bool


@functools.lru_cache(maxsize=8192)
def parse_date(text):
    """Return the bounds of an EDTF date or span; raise InvalidDate with a fix otherwise."""
    text = (text or "").strip()
    if not text:
        _fail(gettext("A date is required."))
    if len(text) > MAX_LENGTH:
        _fail(gettext("A date is at most %(length)s characters.") % {"length": MAX_LENGTH})
    if text.count("/") > 1:
        _fail(gettext("'%(text)s' has more than one '/'; a span has exactly one.") % {"text": text})
    if "/" not in text:
        point = _parse_point(text)
        return _bounds(text, point, point)
    start_text, end_text = (part.strip() for part in text.split("/"))
    return _parse_span(f"{start_text}/{end_text}", start_text, end_text)


def _bounds(text, start, end, *, ongoing=False):
    """Combine the two ends of a span; a single date is a span from itself to itself."""
    return DateBounds(
        text=text,
        earliest=start.earliest,
        latest=None if ongoing else end.latest,
        precision=max(start.precision, end.precision, key=PRECISION_ORDER.index),
        is_approximate=start.is_approximate or end.is_approximate,
        is_uncertain=start.is_uncertain or end.is_uncertain,
        stated_start=start.stated_first,
        stated_end=None if ongoing else end.stated_last,
    )


def _parse_span(text, start_text, end_text):
    if start_text in ("", OPEN_END):
        _fail(
            gettext(
                "'%(text)s' has no start. Give the earliest date the sources allow, even if "
                "only a year or an approximate one (2009~/2014-05)."
            )
            % {"text": text}
        )
    if end_text == "":
        _fail(
            gettext(
                "'%(text)s' has no end. Write '%(start)s/..' for an event that is still "
                "ongoing, or give an approximate end (2014-05/2014-07~)."
            )
            % {"text": text, "start": start_text}
        )
    start = _parse_point(start_text)
    if end_text == OPEN_END:
        return _bounds(text, start, start, ongoing=True)
    end = _parse_point(end_text)
    if end.stated_last < start.stated_first:
        _fail(
            gettext("'%(text)s' ends (%(end)s) before it starts (%(start)s).")
            % {"text": text, "end": end_text, "start": start_text}
        )
    return _bounds(text, start, end)


@functools.lru_cache(maxsize=8192)  # pyparsing takes milliseconds; a timeline repeats dates
def _parse_point(text):
    _check_numeric_parts(text)
    plain = _plain_point(text)
    if plain is not None:
        return plain
    try:
        parsed = parse_edtf(text)
    except EDTFParseException:
        _fail(gettext("'%(text)s' is not a date we can read.") % {"text": text})
    except Exception:  # edtf 5.0 crashes on some odd input (AttributeError, TypeError)
        _fail(gettext("'%(text)s' is not a date we can read.") % {"text": text})
    # Exact types: level 2 forms such as "2014?-05" subclass these.
    if type(parsed) not in RECORDED_FORMS or (
        type(parsed) is UncertainOrApproximate and type(parsed.date) is not Date
    ):
        _fail(
            gettext(
                "'%(text)s' is a form of EDTF we do not record (times, sets and qualifiers on "
                "part of a date are not supported)."
            )
            % {"text": text}
        )
    try:
        first = struct_time_to_date(parsed.lower_strict())
        last = struct_time_to_date(parsed.upper_strict())
    except (ValueError, OverflowError):  # negative or five-digit years
        _fail_outside_years(text)
    if not (first.year >= MIN_YEAR and last.year <= MAX_YEAR):
        _fail_outside_years(text)
    if isinstance(parsed, Season) and text.endswith(WINTER):
        last = _winter_end(last)
    precision = _precision_of(parsed, first, last)
    approximate = bool(getattr(parsed, "is_approximate", False))
    uncertain = bool(getattr(parsed, "is_uncertain", False))
    if getattr(parsed, "is_uncertain_and_approximate", False):
        approximate = uncertain = True
    return _point(first, last, precision, approximate, uncertain)


QUALIFIERS = {"": (False, False), "~": (True, False), "?": (False, True), "%": (True, True)}


def _plain_point(text):
    """Read a plain year, month or day (2014, 2014-03~, 2014-05-27?) without pyparsing.

    Most dates are of these forms, and pyparsing takes milliseconds over each one: a bulk
    import or generate_events would spend most of its time there. Seasons, unspecified
    digits and anything else go through edtf; tests check that both paths agree.
    """
    match = _NUMERIC_DATE.match(text)
    if not match:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR or (month is not None and month > 12):
        return None
    approximate, uncertain = QUALIFIERS[text[-1] if text[-1] in "~?%" else ""]
    if day is not None:
        first = last = datetime.date(year, month, day)
        precision = DatePrecision.DAY
    elif month is not None:
        first = datetime.date(year, month, 1)
        last = _unit_end(first, DatePrecision.MONTH)
        precision = DatePrecision.MONTH
    else:
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        precision = DatePrecision.YEAR
    return _point(first, last, precision, approximate, uncertain)


def _point(first, last, precision, approximate, uncertain):
    padding = QUALIFIER_PADDING[precision] * (approximate + uncertain)
    return _Point(
        earliest=_unit_start(_shift(first, -padding), precision),
        latest=_unit_end(_shift(last, padding), precision),
        stated_first=first,
        stated_last=last,
        precision=precision,
        is_approximate=approximate,
        is_uncertain=uncertain,
    )


def _winter_end(december_last):
    """Winter runs into the next year's February; edtf stops it at 31 December."""
    if december_last.year == MAX_YEAR:
        return december_last
    year = december_last.year + 1
    return datetime.date(year, 2, calendar.monthrange(year, 2)[1])


def _shift(day, delta):
    """Move a day by a padding, staying inside the years we record."""
    try:
        shifted = day + delta
    except (ValueError, OverflowError):
        return FLOOR if delta.years < 0 or delta.months < 0 or delta.days < 0 else CEILING
    return min(max(shifted, FLOOR), CEILING)


def _unit_start(day, precision):
    """Snap a padded bound to the first day of its unit, so "c. April" starts on 1 March."""
    if precision == DatePrecision.DAY:
        return day
    if precision in (DatePrecision.MONTH, DatePrecision.SEASON):
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _unit_end(day, precision):
    if precision == DatePrecision.DAY:
        return day
    if precision in (DatePrecision.MONTH, DatePrecision.SEASON):
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day.replace(month=12, day=31)


def _precision_of(parsed, first, last):
    if isinstance(parsed, Season):
        return DatePrecision.SEASON
    if isinstance(parsed, Unspecified):
        # edtf names the precision of the digits written ("2014-XX" is "month"); we
        # want what is known, which is the year.
        return _precision_of_range(first, last)
    if isinstance(parsed, UncertainOrApproximate):
        parsed = parsed.date
    return DatePrecision(parsed.precision)


def _precision_of_range(first, last):
    if (first.year, first.month) == (last.year, last.month):
        return DatePrecision.MONTH
    if first.year == last.year:
        return DatePrecision.YEAR
    if last.year - first.year < 10:
        return DatePrecision.DECADE
    return DatePrecision.CENTURY


def _check_numeric_parts(text):
    """Name the bad part of a plain numeric date, which edtf only reports by position."""
    match = _NUMERIC_DATE.match(text)
    if not match:
        return
    year, month, day = (int(part) if part else None for part in match.groups())
    if month is not None and not 1 <= month <= 12 and not 21 <= month <= 24:
        _fail(
            gettext(
                "'%(text)s' has month %(month)s; months run from 01 to 12 (21 to 24 are the "
                "seasons)."
            )
            % {"text": text, "month": f"{month:02d}"}
        )
    if day is not None and month is not None and month <= 12:
        last_day = calendar.monthrange(year, month)[1] if year else 31
        if not 1 <= day <= last_day:
            month_of_year = pgettext("a date", "%(month)s %(year)s") % {
                "month": MONTH_NAMES[month],
                "year": year,
            }
            _fail(
                gettext("'%(text)s' has day %(day)s, but %(month_of_year)s has %(days)s days.")
                % {
                    "text": text,
                    "day": f"{day:02d}",
                    "month_of_year": month_of_year,
                    "days": last_day,
                }
            )


def _fail_outside_years(text):
    _fail(
        gettext("'%(text)s' is outside the years %(first)s to %(last)s.")
        % {"text": text, "first": MIN_YEAR, "last": MAX_YEAR}
    )


def _fail(problem):
    raise InvalidDate(
        gettext("%(problem)s Valid dates look like: %(examples)s.")
        % {"problem": problem, "examples": EXAMPLES}
    )


def describe(text):
    """Return a date as a reader says it, in the active language.

    "March 2014", "c. April 2014", "since 7 July 2009" in English; 2014年3月, 约2014年4月,
    2009年7月7日至今 in Chinese. Raise InvalidDate if the text is not a date we record.
    """
    if "/" not in text:
        return _describe_point(_parse_point(text))
    start_text, end_text = (part.strip() for part in text.split("/"))
    start = _describe_point(_parse_point(start_text))
    if end_text == OPEN_END:
        return pgettext("a date", "since %(start)s") % {"start": start}
    end = _describe_point(_parse_point(end_text))
    return pgettext("a date", "%(start)s – %(end)s") % {"start": start, "end": end}


def describe_for_storage(text):
    """Return a date as Event.date_display stores it: in English, whatever the active language."""
    with translation.override(DATA_LANGUAGE):
        return describe(text)


def _describe_point(point):
    words = _point_words(point.precision, point.stated_first)
    if point.is_approximate:
        words = pgettext("a date", "c. %(date)s") % {"date": words}
    if point.is_uncertain:
        words = pgettext("a date", "%(date)s (uncertain)") % {"date": words}
    return words


def _point_words(precision, day):
    values = {"day": day.day, "month": MONTH_NAMES[day.month], "year": day.year}
    if precision == DatePrecision.DAY:
        return pgettext("a date", "%(day)s %(month)s %(year)s") % values
    if precision == DatePrecision.MONTH:
        return pgettext("a date", "%(month)s %(year)s") % values
    if precision == DatePrecision.SEASON:
        if day.month not in SEASON_NAMES:
            return pgettext("a date", "season of %(year)s") % values
        season = SEASON_NAMES[day.month]
        return pgettext("a date", "%(season)s %(year)s") % {**values, "season": season}
    if precision == DatePrecision.YEAR:
        return pgettext("a year as a date", "%(year)s") % values
    if precision == DatePrecision.DECADE:
        return pgettext("a decade as a date", "the %(year)ss") % values
    # Translators: the hundred years from 1900 (19XX), not the decade.
    return pgettext("a century as a date", "the %(year)ss") % values
