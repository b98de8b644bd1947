import datetime

import pytest
from django.core.exceptions import ValidationError

from events.choices import DatePrecision, EventStatus
from events.dates import InvalidDate
from events.models import Event
from events.services import event_save
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

D = datetime.date
MARCH_2014 = (D(2014, 3, 1), D(2014, 3, 31))
APRIL_2014 = (D(2014, 4, 1), D(2014, 4, 30))
MID_MARCH_TO_MID_APRIL = (D(2014, 3, 15), D(2014, 4, 15))
YEAR_2014 = (D(2014, 1, 1), D(2014, 12, 31))


def overlapping(start, end):
    return set(Event.objects.overlapping(start, end))


def within(start, end):
    return set(Event.objects.within(start, end))


# Month precision: "2014-03" is every day of March, not a made-up 1 March.


def test_month_precision_event_overlaps_mid_march_to_mid_april_query():
    march = EventFactory(date_text="2014-03")

    assert march in overlapping(*MID_MARCH_TO_MID_APRIL)


def test_month_precision_event_is_not_within_mid_march_to_mid_april_query():
    march = EventFactory(date_text="2014-03")

    assert march not in within(*MID_MARCH_TO_MID_APRIL)


def test_month_precision_event_is_within_its_year():
    march = EventFactory(date_text="2014-03")

    assert march in within(*YEAR_2014)


def test_month_precision_event_is_within_its_own_month():
    march = EventFactory(date_text="2014-03")

    assert march in within(*MARCH_2014)


def test_month_precision_event_does_not_overlap_the_next_month():
    march = EventFactory(date_text="2014-03")

    assert march not in overlapping(*APRIL_2014)


def test_month_precision_event_overlaps_a_query_on_its_last_day():
    march = EventFactory(date_text="2014-03")

    assert march in overlapping(D(2014, 3, 31), D(2014, 3, 31))


# Day and year precision.


def test_day_event_overlaps_and_is_within_a_range_around_it():
    event = EventFactory(date_text="2014-05-27")

    assert event in overlapping(D(2014, 5, 1), D(2014, 5, 31))
    assert event in within(D(2014, 5, 1), D(2014, 5, 31))


def test_day_event_is_within_a_range_of_that_single_day():
    event = EventFactory(date_text="2014-05-27")

    assert event in within(D(2014, 5, 27), D(2014, 5, 27))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(D(2014, 5, 1), D(2014, 5, 26), id="range-ending-the-day-before"),
        pytest.param(D(2014, 5, 28), D(2014, 6, 30), id="range-starting-the-day-after"),
    ],
)
def test_day_event_does_not_overlap_a_range_that_misses_it(start, end):
    event = EventFactory(date_text="2014-05-27")

    assert event not in overlapping(start, end)


def test_year_event_overlaps_a_day_late_in_that_year():
    event = EventFactory(date_text="2014")

    assert event in overlapping(D(2014, 12, 31), D(2015, 1, 10))


def test_year_event_is_within_its_year_but_not_a_day_short_of_it():
    event = EventFactory(date_text="2014")

    assert event in within(*YEAR_2014)
    assert event not in within(D(2014, 1, 1), D(2014, 12, 30))
    assert event not in within(D(2014, 1, 2), D(2014, 12, 31))


def test_year_event_does_not_overlap_the_next_year():
    event = EventFactory(date_text="2014")

    assert event not in overlapping(D(2015, 1, 1), D(2015, 12, 31))


def test_year_event_overlaps_a_month_inside_it_but_is_not_within_it():
    event = EventFactory(date_text="2014")

    assert event in overlapping(*MARCH_2014)
    assert event not in within(*MARCH_2014)


# Approximate: "c. April 2014" may be March to May.


def test_approximate_event_overlaps_a_query_on_the_month_before():
    around_april = EventFactory(date_text="2014-04~")

    assert around_april in overlapping(*MARCH_2014)


def test_approximate_event_is_not_certainly_within_its_stated_month():
    around_april = EventFactory(date_text="2014-04~")

    assert around_april not in within(*APRIL_2014)


def test_approximate_event_is_within_its_widened_months():
    around_april = EventFactory(date_text="2014-04~")

    assert around_april in within(D(2014, 3, 1), D(2014, 5, 31))


def test_approximate_event_does_not_overlap_two_months_before():
    around_april = EventFactory(date_text="2014-04~")

    assert around_april not in overlapping(D(2014, 2, 1), D(2014, 2, 28))


# Ongoing: "since 7 July 2009" has no end.


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(D(2009, 7, 7), D(2009, 7, 7), id="its-first-day"),
        pytest.param(D(2010, 1, 1), D(2010, 12, 31), id="the-next-year"),
        pytest.param(D(2024, 3, 1), D(2024, 3, 31), id="years-later"),
        pytest.param(D(2000, 1, 1), D(2009, 7, 7), id="range-ending-on-its-start"),
    ],
)
def test_ongoing_event_overlaps_any_range_after_its_start(start, end):
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing in overlapping(start, end)


def test_ongoing_event_does_not_overlap_a_range_ending_before_its_start():
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing not in overlapping(D(2009, 1, 1), D(2009, 7, 6))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(D(2020, 1, 1), None, id="start-only"),
        pytest.param(None, D(2010, 1, 1), id="end-only"),
        pytest.param(None, None, id="unbounded"),
    ],
)
def test_ongoing_event_overlaps_an_open_ended_range(start, end):
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing in overlapping(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(D(2009, 7, 7), D(2030, 12, 31), id="from-its-start"),
        pytest.param(D(1000, 1, 1), D(9999, 12, 31), id="all-supported-years"),
        pytest.param(None, D(9999, 12, 31), id="end-only"),
    ],
)
def test_ongoing_event_is_within_no_range_that_has_an_end(start, end):
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing not in within(start, end)


def test_ongoing_event_is_within_a_range_with_a_start_only():
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing in within(D(2009, 1, 1), None)
    assert ongoing in within(D(2009, 7, 7), None)


def test_ongoing_event_is_not_within_a_start_only_range_beginning_after_it():
    ongoing = EventFactory(date_text="2009-07-07/..")

    assert ongoing not in within(D(2009, 7, 8), None)


# Open-ended queries.


@pytest.fixture
def may_june_july():
    return (
        EventFactory(date_text="2014-05"),
        EventFactory(date_text="2014-06"),
        EventFactory(date_text="2014-07"),
    )


def test_overlapping_with_end_only_returns_events_that_started_by_then(may_june_july):
    may, june, _ = may_june_july

    assert overlapping(None, D(2014, 6, 1)) == {may, june}


def test_overlapping_with_start_only_returns_events_still_running_by_then(may_june_july):
    _, june, july = may_june_july

    assert overlapping(D(2014, 6, 30), None) == {june, july}


def test_overlapping_with_no_bounds_returns_every_event(may_june_july):
    assert overlapping(None, None) == set(may_june_july)


def test_overlapping_can_be_called_without_arguments(may_june_july):
    assert set(Event.objects.overlapping()) == set(may_june_july)


def test_within_with_end_only_returns_events_over_by_then(may_june_july):
    may, june, _ = may_june_july

    assert within(None, D(2014, 6, 30)) == {may, june}


def test_within_with_start_only_returns_events_begun_since_then(may_june_july):
    _, june, july = may_june_july

    assert within(D(2014, 6, 1), None) == {june, july}


def test_within_with_no_bounds_returns_every_event(may_june_july):
    assert within(None, None) == set(may_june_july)


# Boundaries are inclusive.


def test_event_on_last_day_of_march_overlaps_a_range_starting_that_day():
    event = EventFactory(date_text="2014-03-31")

    assert event in overlapping(D(2014, 3, 31), D(2014, 4, 30))


def test_event_on_last_day_of_march_overlaps_a_range_ending_that_day():
    event = EventFactory(date_text="2014-03-31")

    assert event in overlapping(D(2014, 3, 1), D(2014, 3, 31))


def test_event_on_last_day_of_march_is_within_a_range_bounded_by_that_day():
    event = EventFactory(date_text="2014-03-31")

    assert event in within(D(2014, 3, 31), D(2014, 4, 30))
    assert event in within(D(2014, 3, 1), D(2014, 3, 31))


def test_event_on_last_day_of_march_does_not_overlap_a_range_starting_in_april():
    event = EventFactory(date_text="2014-03-31")

    assert event not in overlapping(D(2014, 4, 1), D(2014, 4, 30))


def test_span_overlaps_a_range_touching_only_its_last_day():
    span = EventFactory(date_text="2014-05-27/2014-06-27")

    assert span in overlapping(D(2014, 6, 27), D(2014, 7, 31))
    assert span not in overlapping(D(2014, 6, 28), D(2014, 7, 31))


# Published.


def test_published_returns_only_published_events():
    published = EventFactory(status=EventStatus.PUBLISHED)
    EventFactory(status=EventStatus.DRAFT)
    EventFactory(status=EventStatus.IN_REVIEW)
    EventFactory(status=EventStatus.RETRACTED)

    assert list(Event.objects.published()) == [published]


def test_published_chains_with_date_filters():
    published_in_march = EventFactory(status=EventStatus.PUBLISHED, date_text="2014-03")
    EventFactory(status=EventStatus.PUBLISHED, date_text="2015-03")
    EventFactory(status=EventStatus.DRAFT, date_text="2014-03")

    assert list(Event.objects.published().overlapping(*MARCH_2014)) == [published_in_march]


def test_date_filters_come_back_in_date_order():
    late = EventFactory(date_text="2014-06")
    early = EventFactory(date_text="2014-04~")
    middle = EventFactory(date_text="2014-05-27")

    assert list(Event.objects.overlapping(*YEAR_2014)) == [early, middle, late]


# Deriving the stored bounds.


def test_clean_stores_the_bounds_of_the_date_text():
    event = Event(title="t", summary="s", date_text="2014-04~")

    event.clean()

    assert (event.date_earliest, event.date_latest) == (D(2014, 3, 1), D(2014, 5, 31))
    assert event.date_precision == DatePrecision.MONTH
    assert event.date_is_approximate
    assert not event.date_is_uncertain


def test_clean_stores_an_ongoing_date_with_no_latest_day():
    event = Event(title="t", summary="s", date_text="2009-07-07/..")

    event.clean()

    assert event.date_earliest == D(2009, 7, 7)
    assert event.date_latest is None
    assert event.is_ongoing


def test_clean_reports_an_unreadable_date_on_the_date_field_with_an_example():
    event = Event(title="t", summary="s", date_text="2014-13")

    with pytest.raises(ValidationError) as error:
        event.clean()

    (message,) = error.value.message_dict["date_text"]
    assert "month 13" in message
    assert "2014-05-27 (a day)" in message


def test_clean_refuses_a_global_event_with_a_country():
    event = Event(title="t", summary="s", date_text="2014", is_global=True, country="CN")

    with pytest.raises(ValidationError) as error:
        event.clean()

    assert error.value.message_dict["is_global"] == ["A global event has no country; clear one."]


def test_clean_keeps_a_qualified_date_at_the_end_of_the_calendar_inside_it():
    event = Event(title="t", summary="s", date_text="9999-12-31?")

    event.clean()

    assert (event.date_earliest, event.date_latest) == (D(9999, 12, 24), D(9999, 12, 31))


def test_clean_reports_a_negative_year_as_a_validation_error():
    event = Event(title="t", summary="s", date_text="-2014")

    with pytest.raises(ValidationError) as error:
        event.clean()

    assert "outside the years 1000 to 9999" in error.value.message_dict["date_text"][0]


def test_set_date_stores_every_derived_field():
    event = Event()

    event.set_date(" 2014-05? ")

    assert event.date_text == "2014-05?"
    assert (event.date_earliest, event.date_latest) == (D(2014, 4, 1), D(2014, 6, 30))
    assert event.date_precision == DatePrecision.MONTH
    assert not event.date_is_approximate
    assert event.date_is_uncertain


def test_set_date_with_an_unreadable_date_leaves_the_old_bounds_alone():
    event = Event()
    event.set_date("2014-03")

    with pytest.raises(InvalidDate):
        event.set_date("2014-13")

    assert event.date_text == "2014-03"
    assert (event.date_earliest, event.date_latest) == MARCH_2014


def test_event_save_derives_the_bounds_of_a_new_event():
    event = event_save(event=Event(title="t", summary="s", date_text="2014-03", country="CN"))
    event.refresh_from_db()

    assert (event.date_earliest, event.date_latest) == MARCH_2014
    assert event.date_precision == DatePrecision.MONTH


def test_event_save_derives_the_bounds_again_when_the_date_is_edited():
    event = EventFactory(date_text="2014-03")

    event.date_text = "2009-07-07/.."
    event_save(event=event)
    event.refresh_from_db()

    assert event.date_earliest == D(2009, 7, 7)
    assert event.date_latest is None
    assert event.date_precision == DatePrecision.DAY


def test_event_save_overwrites_bounds_set_by_hand():
    event = Event(title="t", summary="s", date_text="2014-03", country="CN")
    event.date_earliest = event.date_latest = D(1999, 1, 1)

    event_save(event=event)
    event.refresh_from_db()

    assert (event.date_earliest, event.date_latest) == MARCH_2014


def test_edited_date_moves_the_event_between_query_results():
    event = EventFactory(date_text="2014-03")

    event.date_text = "2014-04-02"
    event_save(event=event)

    assert event not in overlapping(*MARCH_2014)
    assert event in overlapping(*APRIL_2014)
