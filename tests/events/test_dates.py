# ruff: noqa: RUF001 (the Chinese dates are written with full-width punctuation)
import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation

from events.choices import DatePrecision
from events.dates import InvalidDate, describe, describe_for_storage, parse_date
from events.models import Event
from tests.admin_forms import form_data
from tests.factories import EventFactory

D = datetime.date

# text, earliest day, latest day (None: ongoing)
BOUNDS = [
    pytest.param("2014-05-27", "2014-05-27", "2014-05-27", id="day"),
    pytest.param("2014-03", "2014-03-01", "2014-03-31", id="month-is-all-of-march"),
    pytest.param("2014-04", "2014-04-01", "2014-04-30", id="month-of-30-days"),
    pytest.param("2014", "2014-01-01", "2014-12-31", id="year"),
    pytest.param("2014-04~", "2014-03-01", "2014-05-31", id="approximate-month-a-month-either-way"),
    pytest.param("2014-05?", "2014-04-01", "2014-06-30", id="uncertain-month-a-month-either-way"),
    pytest.param(
        "2014-05%", "2014-03-01", "2014-07-31", id="uncertain-approximate-month-two-months"
    ),
    pytest.param("2014-12~", "2014-11-01", "2015-01-31", id="approximate-december-into-next-year"),
    pytest.param("2014-01?", "2013-12-01", "2014-02-28", id="uncertain-january-into-last-year"),
    pytest.param("2014-05-27~", "2014-05-20", "2014-06-03", id="approximate-day-a-week-either-way"),
    pytest.param("2014-05-27?", "2014-05-20", "2014-06-03", id="uncertain-day-a-week-either-way"),
    pytest.param(
        "2014-05-27%", "2014-05-13", "2014-06-10", id="uncertain-approximate-day-two-weeks"
    ),
    pytest.param("2014~", "2013-01-01", "2015-12-31", id="approximate-year-a-year-either-way"),
    pytest.param("2014-05-27/2014-06-27", "2014-05-27", "2014-06-27", id="span"),
    pytest.param("2014-05-27/2014-05-27", "2014-05-27", "2014-05-27", id="span-of-one-day"),
    pytest.param("2014/2014-05", "2014-01-01", "2014-05-31", id="span-from-a-year-to-a-month"),
    pytest.param("2014-04~/2014-06", "2014-03-01", "2014-06-30", id="span-approximate-start"),
    pytest.param("2014~/2015?", "2013-01-01", "2016-12-31", id="span-both-ends-qualified"),
    pytest.param("2009-07-07/..", "2009-07-07", None, id="ongoing"),
    pytest.param("2014-05/..", "2014-05-01", None, id="ongoing-since-a-month"),
    pytest.param("201X", "2010-01-01", "2019-12-31", id="decade"),
    pytest.param("201X~", "2000-01-01", "2029-12-31", id="approximate-decade"),
    pytest.param("19XX", "1900-01-01", "1999-12-31", id="century"),
    pytest.param("2014-21", "2014-03-01", "2014-05-31", id="spring"),
    pytest.param("2014-22", "2014-06-01", "2014-08-31", id="summer"),
    pytest.param("2014-23", "2014-09-01", "2014-11-30", id="autumn"),
    pytest.param("2014-21/2014-22", "2014-03-01", "2014-08-31", id="span-of-seasons"),
    pytest.param("2014-XX", "2014-01-01", "2014-12-31", id="unknown-month"),
    pytest.param("2014-XX-XX", "2014-01-01", "2014-12-31", id="unknown-month-and-day"),
    pytest.param("2014-05-XX", "2014-05-01", "2014-05-31", id="unknown-day"),
    pytest.param("1000", "1000-01-01", "1000-12-31", id="first-supported-year"),
    pytest.param("9999", "9999-01-01", "9999-12-31", id="last-supported-year"),
]

PRECISIONS = [
    pytest.param("2014-05-27", DatePrecision.DAY, id="day"),
    pytest.param("2014-03", DatePrecision.MONTH, id="month"),
    pytest.param("2014-21", DatePrecision.SEASON, id="season"),
    pytest.param("2014", DatePrecision.YEAR, id="year"),
    pytest.param("201X", DatePrecision.DECADE, id="decade"),
    pytest.param("19XX", DatePrecision.CENTURY, id="century"),
    pytest.param("2014-XX", DatePrecision.YEAR, id="unknown-month-is-known-to-the-year"),
    pytest.param("2014-XX-XX", DatePrecision.YEAR, id="unknown-month-and-day-is-year"),
    pytest.param("2014-05-XX", DatePrecision.MONTH, id="unknown-day-is-known-to-the-month"),
    pytest.param("2014-04~", DatePrecision.MONTH, id="approximate-month-stays-month"),
    pytest.param("2014-05-27/2014-06-27", DatePrecision.DAY, id="span-of-days"),
    pytest.param("2014/2014-05", DatePrecision.YEAR, id="span-is-as-precise-as-its-coarser-end"),
    pytest.param("2014-05-27/2014", DatePrecision.YEAR, id="span-ending-in-a-year"),
    pytest.param("2014-21/2014-22", DatePrecision.SEASON, id="span-of-seasons"),
    pytest.param("2009-07-07/..", DatePrecision.DAY, id="ongoing-takes-its-starts-precision"),
]

# text, is_approximate, is_uncertain
QUALIFIERS = [
    pytest.param("2014-05", False, False, id="plain"),
    pytest.param("2014-04~", True, False, id="approximate"),
    pytest.param("2014-05?", False, True, id="uncertain"),
    pytest.param("2014-05%", True, True, id="uncertain-and-approximate"),
    pytest.param("201X~", True, False, id="approximate-decade"),
    pytest.param("2014-04~/2014-06", True, False, id="span-with-approximate-start"),
    pytest.param("2014-04/2014-06?", False, True, id="span-with-uncertain-end"),
    pytest.param("2009-07~/..", True, False, id="ongoing-since-an-approximate-month"),
]

# text, earliest day, latest day (None: ongoing)
LEAP_DAYS = [
    pytest.param("2016-02-29", "2016-02-29", "2016-02-29", id="leap-day"),
    pytest.param("2000-02-29", "2000-02-29", "2000-02-29", id="leap-day-in-a-400th-year"),
    pytest.param("2016-02", "2016-02-01", "2016-02-29", id="february-of-a-leap-year"),
    pytest.param("2015-02", "2015-02-01", "2015-02-28", id="february-of-a-common-year"),
    pytest.param("2016-03~", "2016-02-01", "2016-04-30", id="approximate-march-of-leap-year"),
    pytest.param("2016-01?", "2015-12-01", "2016-02-29", id="uncertain-january-of-leap-year"),
    pytest.param("2016-02-29~", "2016-02-22", "2016-03-07", id="approximate-leap-day"),
    pytest.param("2016-02-29/..", "2016-02-29", None, id="ongoing-since-leap-day"),
]

# text, words the message must contain to say what is wrong
INVALID_FORMS = [
    pytest.param("2014-13", "has month 13; months run from 01 to 12", id="month-13"),
    pytest.param("2014-00", "has month 00", id="month-00"),
    pytest.param("2014-20", "has month 20", id="month-between-months-and-seasons"),
    pytest.param("2014-05-32", "has day 32, but May 2014 has 31 days", id="day-32"),
    pytest.param("2014-04-31", "has day 31, but April 2014 has 30 days", id="april-31"),
    pytest.param("2014-05-00", "has day 00", id="day-00"),
    pytest.param(
        "2014-02-29", "has day 29, but February 2014 has 28 days", id="leap-day-of-common-year"
    ),
    pytest.param("1900-02-29", "has day 29, but February 1900 has 28 days", id="leap-day-of-1900"),
    pytest.param("abc", "'abc' is not a date we can read", id="words"),
    pytest.param("May 2014", "is not a date we can read", id="month-name"),
    pytest.param("2014-5", "is not a date we can read", id="one-digit-month"),
    pytest.param("", "A date is required", id="empty"),
    pytest.param("   ", "A date is required", id="blank"),
    pytest.param(None, "A date is required", id="none"),
    pytest.param(
        "2014-06/2014-05", "ends (2014-05) before it starts (2014-06)", id="month-span-backwards"
    ),
    pytest.param(
        "2014-05-27/2014-05-01",
        "ends (2014-05-01) before it starts (2014-05-27)",
        id="day-span-backwards",
    ),
    pytest.param(
        "2014-06/2014-05-31",
        "ends (2014-05-31) before it starts (2014-06)",
        id="span-ending-the-day-before-its-start-month",
    ),
    pytest.param("2014-06~/2014-05~", "before it starts", id="approximate-span-backwards"),
    pytest.param("2014-05/", "has no end. Write '2014-05/..'", id="span-without-end"),
    pytest.param("../2014", "has no start", id="span-without-start"),
    pytest.param("/2014", "has no start", id="span-with-empty-start"),
    pytest.param("../..", "has no start", id="span-open-at-both-ends"),
    pytest.param("1/2/3", "has more than one '/'", id="two-slashes"),
    pytest.param("2014/05/27", "has more than one '/'", id="slashed-date"),
    pytest.param("2014-05-27T10:00:00", "times", id="date-and-time"),
    pytest.param("2014-05-27T10:00:00Z", "times", id="date-and-time-in-utc"),
    pytest.param("2014-05-27/2014-06-27T10:00:00", "times", id="span-ending-at-a-time"),
    pytest.param("[2014,2015]", "sets", id="one-of-set"),
    pytest.param("{2014,2015}", "sets", id="all-of-set"),
    pytest.param("2014?-05", "qualifiers on part of a date", id="uncertain-year-only"),
    pytest.param("2014-?05", "qualifiers on part of a date", id="uncertain-month-only"),
    pytest.param("2004-06-~11", "qualifiers on part of a date", id="approximate-day-only"),
    pytest.param("0999", "outside the years 1000 to 9999", id="year-999"),
    pytest.param("0500-01", "outside the years 1000 to 9999", id="month-in-year-500"),
    pytest.param("0999-12-31/2014", "outside the years 1000 to 9999", id="span-from-year-999"),
    pytest.param("10000", "is not a date we can read", id="five-digit-year"),
    pytest.param("2014-05-27/" + "2014-06-27" * 6, "at most 64 characters", id="very-long-span"),
    pytest.param("x" * 10_000, "at most 64 characters", id="ten-thousand-characters"),
]

VALID_EXAMPLE = "2014-05-27 (a day)"


def bounds(text):
    result = parse_date(text)
    return result.earliest, result.latest


def iso_or_none(text):
    return D.fromisoformat(text) if text else None


@pytest.mark.parametrize(("text", "earliest", "latest"), BOUNDS + LEAP_DAYS)
def test_parse_date_reads_the_earliest_and_latest_day_of_each_form(text, earliest, latest):
    assert bounds(text) == (iso_or_none(earliest), iso_or_none(latest))


@pytest.mark.parametrize(("text", "precision"), PRECISIONS)
def test_parse_date_reads_the_precision_of_each_form(text, precision):
    assert parse_date(text).precision == precision


@pytest.mark.parametrize(("text", "approximate", "uncertain"), QUALIFIERS)
def test_parse_date_reads_whether_a_date_is_approximate_or_uncertain(text, approximate, uncertain):
    result = parse_date(text)

    assert (result.is_approximate, result.is_uncertain) == (approximate, uncertain)


@pytest.mark.parametrize("text", [param.values[0] for param in BOUNDS + QUALIFIERS])
def test_parse_date_keeps_the_text_it_read(text):
    assert parse_date(text).text == text


def test_month_is_stored_as_its_whole_month_rather_than_its_first_day():
    assert bounds("2014-03") == (D(2014, 3, 1), D(2014, 3, 31))


def test_approximate_month_is_snapped_to_month_edges():
    result = parse_date("2014-04~")

    assert result.earliest.day == 1
    assert result.latest == D(2014, 5, 31)


def test_approximate_day_does_not_reach_into_the_previous_year():
    assert parse_date("2014-05-27~").earliest.year == 2014


def test_ongoing_date_has_no_latest_day():
    result = parse_date("2009-07-07/..")

    assert result.latest is None
    assert result.is_ongoing


def test_closed_date_is_not_ongoing():
    assert not parse_date("2014-05-27/2014-06-27").is_ongoing


def test_parse_date_strips_surrounding_spaces_from_the_text():
    result = parse_date("  2014-03 \n")

    assert result.text == "2014-03"
    assert (result.earliest, result.latest) == (D(2014, 3, 1), D(2014, 3, 31))


@pytest.mark.parametrize(("text", "problem"), INVALID_FORMS)
def test_parse_date_refuses_bad_form_saying_what_is_wrong(text, problem):
    with pytest.raises(InvalidDate) as error:
        parse_date(text)

    assert problem in str(error.value)


@pytest.mark.parametrize(("text", "problem"), INVALID_FORMS)
def test_refusal_offers_a_valid_example(text, problem):
    with pytest.raises(InvalidDate) as error:
        parse_date(text)

    assert VALID_EXAMPLE in str(error.value)


def test_every_example_a_refusal_offers_is_itself_a_valid_date():
    with pytest.raises(InvalidDate) as error:
        parse_date("abc")
    examples = re.findall(r"(\S+) \(", str(error.value).split("Valid dates look like:")[1])

    assert len(examples) == 7
    for example in examples:
        assert parse_date(example).text == example


def test_invalid_date_is_a_value_error():
    with pytest.raises(ValueError):
        parse_date("2014-13")


@pytest.mark.parametrize("text", ["-2014", "-0001-05"])
def test_negative_years_are_refused_as_outside_the_supported_years(text):
    with pytest.raises(InvalidDate, match="outside the years 1000 to 9999"):
        parse_date(text)


@pytest.mark.parametrize("text", ["9999~", "9998%", "9999-12~", "9999-12-31?", "2014/9999~"])
def test_qualified_dates_near_the_last_supported_year_are_refused_or_read(text):
    try:
        result = parse_date(text)
    except InvalidDate:
        return
    assert result.earliest <= result.latest


def _generated_valid_forms():
    """Yield a sweep of valid texts: months, month edges, years, decades, seasons, spans."""
    qualifiers = ("", "~", "?", "%")
    for year in (1000, 1900, 2000, 2015, 2016, 9997):
        yield from (f"{year}{q}" for q in qualifiers)
    for year in (2015, 2016):
        for month in range(1, 13):
            yield from (f"{year}-{month:02d}{q}" for q in qualifiers)
    for month in range(1, 13):
        for day in (1, 28, 29, 30, 31):
            text = f"2016-{month:02d}-{day:02d}"
            if _exists(text):
                yield from (f"{text}{q}" for q in qualifiers)
    yield from ("199X", "201X", "201X~", "201X?", "19XX", "2014-XX", "2016-02-XX")
    yield from (f"2014-{season}" for season in (21, 22, 23, 24))
    yield from ("2014-05-27/2014-05-27", "2014-05/2014-05-02", "2014-05-31/2014-05")
    yield from ("2013-12~/2014-01?", "201X/2014-05-27", "2014-21/2014-23", "1000/9997")


def _exists(text):
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", [param.values[0] for param in BOUNDS + LEAP_DAYS])
def test_earliest_is_never_after_latest_for_listed_forms(text):
    result = parse_date(text)

    assert result.latest is None or result.earliest <= result.latest


def test_earliest_is_never_after_latest_across_a_sweep_of_valid_forms():
    for text in _generated_valid_forms():
        result = parse_date(text)
        assert result.earliest <= result.latest, text


def test_bounds_always_contain_the_day_the_text_names():
    for month in range(1, 13):
        for day in (1, 15, 28):
            named = D(2016, month, day)
            for qualifier in ("", "~", "?", "%"):
                result = parse_date(f"{named.isoformat()}{qualifier}")
                assert result.earliest <= named <= result.latest


def test_qualifiers_only_ever_widen_the_bounds():
    plain = parse_date("2014-05")
    for qualifier in ("~", "?", "%"):
        widened = parse_date(f"2014-05{qualifier}")
        assert widened.earliest < plain.earliest
        assert widened.latest > plain.latest


def test_winter_runs_into_february_of_the_next_year():
    bounds = parse_date("2014-24")

    assert (bounds.earliest, bounds.latest) == (D(2014, 12, 1), D(2015, 2, 28))
    assert bounds.precision == DatePrecision.SEASON


def test_spaces_around_the_slash_of_a_span_are_dropped():
    bounds = parse_date(" 2014-05-27 / 2014-06-01 ")

    assert bounds.text == "2014-05-27/2014-06-01"
    assert (bounds.earliest, bounds.latest) == (D(2014, 5, 27), D(2014, 6, 1))


def test_widening_never_leaves_the_years_we_record():
    assert parse_date("1000~").earliest == D(1000, 1, 1)
    assert parse_date("9999~").latest == D(9999, 12, 31)


@pytest.mark.parametrize(
    ("text", "year"),
    [("2014-01-03~", 2014), ("2014-01?", 2014), ("2014~", 2014), ("2013-12/2014-02", 2013)],
)
def test_stated_start_is_the_first_day_the_text_names_before_widening(text, year):
    assert parse_date(text).stated_start.year == year


@pytest.mark.parametrize(
    "text",
    [
        f"{year}{rest}{qualifier}"
        for year in ("1000", "1999", "2014", "2016", "9999")
        for rest in ("", "-01", "-02", "-12", "-02-29", "-12-31", "-06-15")
        for qualifier in ("", "~", "?", "%")
        if not (rest == "-02-29" and year not in ("2016", "2000"))
    ],
)
def test_plain_dates_read_without_pyparsing_match_what_edtf_reads(text, monkeypatch):
    from events import dates

    fast = dates._plain_point(text)
    monkeypatch.setattr(dates, "_plain_point", lambda _text: None)
    dates._parse_point.cache_clear()
    slow = dates._parse_point(text)
    dates._parse_point.cache_clear()
    assert fast is not None and fast == slow


# Dates in words, in each language -----------------------------------------------------------

# text, in English, in Simplified Chinese
DESCRIBED = [
    pytest.param("2014-05-27", "27 May 2014", "2014年5月27日", id="day"),
    pytest.param("2014-03", "March 2014", "2014年3月", id="month"),
    pytest.param("2014", "2014", "2014年", id="year"),
    pytest.param("2014-04~", "c. April 2014", "约2014年4月", id="approximate"),
    pytest.param("2014-05-27?", "27 May 2014 (uncertain)", "2014年5月27日（存疑）", id="uncertain"),
    pytest.param("2014-05%", "c. May 2014 (uncertain)", "约2014年5月（存疑）", id="both"),
    pytest.param("2014-21", "Spring 2014", "2014年春季", id="season"),
    pytest.param("201X", "the 2010s", "2010年代", id="decade"),
    pytest.param("19XX", "the 1900s", "1900年起的百年间", id="century"),
    pytest.param("2009-07/..", "since July 2009", "2009年7月至今", id="ongoing"),
    pytest.param("2009-07-07/..", "since 7 July 2009", "2009年7月7日至今", id="ongoing-day"),
    pytest.param(
        "2014-05-27/2014-06-27",
        "27 May 2014 – 27 June 2014",
        "2014年5月27日至2014年6月27日",
        id="span",
    ),
    pytest.param(
        "2014~/2015?",
        "c. 2014 – 2015 (uncertain)",
        "约2014年至2015年（存疑）",
        id="span-qualified",
    ),
]


@pytest.fixture(autouse=True)
def language_of_the_thread_restored():
    """Leave no Chinese behind: a response leaves its language active in the thread."""
    yield
    translation.deactivate()


@pytest.mark.parametrize(("text", "english", "chinese"), DESCRIBED)
def test_describe_says_a_date_in_english(text, english, chinese):
    with translation.override("en-gb"):
        assert describe(text) == english


@pytest.mark.parametrize(("text", "english", "chinese"), DESCRIBED)
def test_describe_says_a_date_in_simplified_chinese(text, english, chinese):
    with translation.override("zh-hans"):
        assert describe(text) == chinese


@pytest.mark.parametrize(("text", "english", "chinese"), DESCRIBED)
def test_a_date_is_stored_in_english_whatever_language_is_active(text, english, chinese):
    with translation.override("zh-hans"):
        assert describe_for_storage(text) == english
        assert describe(text) == chinese  # and the language is left as it was


def test_a_refusal_says_what_is_wrong_in_the_curators_language():
    with translation.override("zh-hans"), pytest.raises(InvalidDate) as error:
        parse_date("2014-02-30")

    assert str(error.value).startswith("“2014-02-30”中的日是 30，但2014年2月只有 28 天。")


def test_an_event_saved_in_chinese_stores_its_date_in_english(db):
    with translation.override("zh-hans"):
        event = EventFactory(date_text="2014-04~")

    assert event.date_display == "c. April 2014"


def zh_admin(name, *args):
    with translation.override("zh-hans"):
        return reverse(f"admin:{name}", args=args)


def test_a_curator_in_the_chinese_admin_stores_the_date_in_english(editor_client):
    add = zh_admin("events_event_add")
    data = form_data(editor_client.get(add)) | {
        "title": "微信公众号被关闭",
        "summary": "据报道，四十余个公众号被关闭。",
        "date_text": "2014-04~",
        "country": "CN",
    }

    response = editor_client.post(add, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Event.objects.get().date_display == "c. April 2014"


def test_a_date_changed_in_the_chinese_admin_is_stored_in_english(editor_client):
    event = EventFactory(date_text="2014-03")
    change = zh_admin("events_event_change", event.pk)
    data = form_data(editor_client.get(change)) | {"date_text": "2009-07-07/.."}

    response = editor_client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert (event.date_text, event.date_display) == ("2009-07-07/..", "since 7 July 2009")
