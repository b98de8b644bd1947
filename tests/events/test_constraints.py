import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.choices import CountUnit, EventStatus, RelationType, Role
from events.models import Actor, Event, EventActor, EventCount, EventRelation, Platform, Source
from events.services import event_save
from tests.factories import (
    ActorFactory,
    EventActorFactory,
    EventFactory,
    PlatformFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

# SQLite names a failed unique index by its columns, PostgreSQL by the constraint's name.
SOURCE_UNIQUE_URL = r"source_unique_url|events_source\.url"
EVENTRELATION_UNIQUE_LINK = r"eventrelation_unique_link|events_eventrelation\.from_event_id"
EVENTACTOR_UNIQUE_ROLE = r"eventactor_unique_role|events_eventactor\.event_id"
BAD_WIKIDATA_IDS = [
    pytest.param("15031", id="no-Q"),
    pytest.param("Q0", id="Q0"),
    pytest.param("q15031", id="lower-case-q"),
    pytest.param("Q12a", id="letter-after-digits"),
    pytest.param("Q015031", id="leading-zero"),
    pytest.param("Q", id="Q-alone"),
]
WIKIDATA_MESSAGE = "A Wikidata id is Q followed by digits, such as Q15031."


def only(queryset_of, obj):
    """Return a queryset holding just this row, to write bad values past model validation."""
    return queryset_of.objects.filter(pk=obj.pk)


def new_event(**fields):
    """Return an unsaved event with its date bounds set, to save without the service."""
    fields = {"title": "Loaded", "summary": "s", "date_text": "2014-05", "country": "CN"} | fields
    event = Event(**fields)
    event.set_date(event.date_text)
    return event


# event_date_latest_not_before_earliest


def test_database_refuses_a_latest_day_before_the_earliest():
    event = EventFactory(date_text="2014-05-27")

    with (
        pytest.raises(IntegrityError, match="event_date_latest_not_before_earliest"),
        transaction.atomic(),
    ):
        only(Event, event).update(date_latest=datetime.date(2014, 5, 26))


def test_database_accepts_a_latest_day_equal_to_the_earliest_or_none():
    event = EventFactory(date_text="2014-05-27")

    only(Event, event).update(date_latest=datetime.date(2014, 5, 27))
    only(Event, event).update(date_latest=None)

    event.refresh_from_db()
    assert event.is_ongoing


def test_model_validation_explains_a_latest_day_before_the_earliest():
    event = EventFactory(date_text="2014-05-27")
    event.date_latest = datetime.date(2014, 5, 1)

    with pytest.raises(ValidationError, match="The date ends before it starts"):
        event.validate_constraints()


# event_date_required


def test_database_refuses_an_event_without_date_text():
    event = EventFactory()

    with pytest.raises(IntegrityError, match="event_date_required"), transaction.atomic():
        only(Event, event).update(date_text="")


# source_unique_url


def test_two_sources_with_the_same_url_fail():
    SourceFactory(url="https://news.example.org/wechat")

    with pytest.raises(IntegrityError, match=SOURCE_UNIQUE_URL), transaction.atomic():
        SourceFactory(url="https://news.example.org/wechat")


def test_two_sources_without_url_are_fine():
    SourceFactory(url="")
    SourceFactory(url="")

    assert Source.objects.filter(url="").count() == 2


def test_model_validation_explains_a_duplicate_source_url():
    SourceFactory(url="https://news.example.org/wechat")
    duplicate = SourceFactory.build(url="https://news.example.org/wechat")

    with pytest.raises(ValidationError, match="Another source already has this URL"):
        duplicate.validate_constraints()


# actor_wikidata_id_format and platform_wikidata_id_format


@pytest.mark.parametrize("wikidata_id", ["Q15031", "Q1", ""])
def test_database_accepts_a_wikidata_id_or_none(wikidata_id):
    actor = ActorFactory(wikidata_id=wikidata_id)
    platform = PlatformFactory(wikidata_id=wikidata_id)

    assert Actor.objects.get(pk=actor.pk).wikidata_id == wikidata_id
    assert Platform.objects.get(pk=platform.pk).wikidata_id == wikidata_id


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_database_refuses_a_bad_actor_wikidata_id_on_update(wikidata_id):
    actor = ActorFactory()

    with pytest.raises(IntegrityError, match="actor_wikidata_id_format"), transaction.atomic():
        only(Actor, actor).update(wikidata_id=wikidata_id)


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_database_refuses_a_bad_actor_wikidata_id_on_create(wikidata_id):
    with pytest.raises(IntegrityError, match="actor_wikidata_id_format"), transaction.atomic():
        ActorFactory(wikidata_id=wikidata_id)


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_database_refuses_a_bad_platform_wikidata_id_on_update(wikidata_id):
    platform = PlatformFactory()

    with pytest.raises(IntegrityError, match="platform_wikidata_id_format"), transaction.atomic():
        only(Platform, platform).update(wikidata_id=wikidata_id)


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_database_refuses_a_bad_platform_wikidata_id_on_create(wikidata_id):
    with pytest.raises(IntegrityError, match="platform_wikidata_id_format"), transaction.atomic():
        PlatformFactory(wikidata_id=wikidata_id)


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_full_clean_refuses_a_bad_actor_wikidata_id_with_an_example(wikidata_id):
    actor = ActorFactory.build(wikidata_id=wikidata_id)

    with pytest.raises(ValidationError) as error:
        actor.full_clean()

    assert error.value.message_dict["wikidata_id"] == [WIKIDATA_MESSAGE]


@pytest.mark.parametrize("wikidata_id", BAD_WIKIDATA_IDS)
def test_full_clean_refuses_a_bad_platform_wikidata_id_with_an_example(wikidata_id):
    platform = PlatformFactory.build(wikidata_id=wikidata_id)

    with pytest.raises(ValidationError) as error:
        platform.full_clean()

    assert error.value.message_dict["wikidata_id"] == [WIKIDATA_MESSAGE]


def test_full_clean_accepts_a_good_wikidata_id():
    ActorFactory.build(wikidata_id="Q15031").full_clean()
    PlatformFactory.build(wikidata_id="Q283233").full_clean()


def test_field_validation_refuses_a_wikidata_id_with_a_trailing_newline():
    with pytest.raises(ValidationError):
        ActorFactory.build(wikidata_id="Q15031\n").clean_fields()


def test_database_refuses_a_wikidata_id_with_a_trailing_newline():
    with pytest.raises(IntegrityError, match="actor_wikidata_id_format"), transaction.atomic():
        ActorFactory(wikidata_id="Q15031\n")


# actor_not_own_parent


def test_database_refuses_an_actor_that_is_its_own_parent():
    actor = ActorFactory()

    with pytest.raises(IntegrityError, match="actor_not_own_parent"), transaction.atomic():
        only(Actor, actor).update(parent=actor)


def test_database_accepts_an_actor_with_another_parent():
    government = ActorFactory()
    ministry = ActorFactory(parent=government)

    assert list(government.children.all()) == [ministry]


def test_model_validation_explains_an_actor_that_is_its_own_parent():
    actor = ActorFactory()
    actor.parent = actor

    with pytest.raises(ValidationError, match="An actor cannot be its own parent"):
        actor.full_clean()


# event_global_has_no_country


def test_database_refuses_a_global_event_with_a_country():
    event = EventFactory(country="CN")

    with pytest.raises(IntegrityError, match="event_global_has_no_country"), transaction.atomic():
        only(Event, event).update(is_global=True)


def test_database_accepts_a_global_event_without_a_country():
    event = EventFactory(country="", is_global=True)

    assert Event.objects.get(pk=event.pk).is_global


def test_model_validation_explains_a_global_event_with_a_country():
    event = EventFactory(country="", is_global=True)
    event.country = "CN"

    with pytest.raises(ValidationError, match="A global event has no country"):
        event.validate_constraints()


# event_coordinates_both_or_neither and event_coordinates_in_range


@pytest.mark.parametrize(
    "coordinates",
    [
        pytest.param({"latitude": 39.9}, id="latitude-only"),
        pytest.param({"longitude": 116.4}, id="longitude-only"),
    ],
)
def test_database_refuses_half_a_pair_of_coordinates(coordinates):
    event = EventFactory()

    with (
        pytest.raises(IntegrityError, match="event_coordinates_both_or_neither"),
        transaction.atomic(),
    ):
        only(Event, event).update(**coordinates)


def test_model_validation_explains_half_a_pair_of_coordinates():
    event = EventFactory()
    event.latitude = 39.9

    with pytest.raises(ValidationError, match="Give both latitude and longitude, or neither"):
        event.validate_constraints()


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        pytest.param(91, 0, id="latitude-above-90"),
        pytest.param(-91, 0, id="latitude-below-minus-90"),
        pytest.param(0, 181, id="longitude-above-180"),
        pytest.param(0, -181, id="longitude-below-minus-180"),
    ],
)
def test_database_refuses_coordinates_off_the_globe(latitude, longitude):
    event = EventFactory()

    with pytest.raises(IntegrityError, match="event_coordinates_in_range"), transaction.atomic():
        only(Event, event).update(latitude=latitude, longitude=longitude)


@pytest.mark.parametrize(("latitude", "longitude"), [(90, 180), (-90, -180), (39.90420, 116.40740)])
def test_database_accepts_coordinates_up_to_the_poles_and_antimeridian(latitude, longitude):
    event = EventFactory()

    only(Event, event).update(latitude=latitude, longitude=longitude)

    event.refresh_from_db()
    assert (float(event.latitude), float(event.longitude)) == (latitude, longitude)


def test_model_validation_explains_coordinates_off_the_globe():
    event = EventFactory()
    event.latitude, event.longitude = 91, 0

    with pytest.raises(ValidationError, match="Latitude runs from -90 to 90"):
        event.validate_constraints()


# eventrelation_not_to_itself and eventrelation_unique_link


def test_database_refuses_an_event_related_to_itself():
    event = EventFactory()

    with pytest.raises(IntegrityError, match="eventrelation_not_to_itself"), transaction.atomic():
        EventRelation.objects.create(
            from_event=event, to_event=event, relation_type=RelationType.RELATED
        )


def test_model_validation_explains_an_event_related_to_itself():
    event = EventFactory()
    relation = EventRelation(from_event=event, to_event=event, relation_type=RelationType.RELATED)

    with pytest.raises(ValidationError, match="An event cannot be related to itself"):
        relation.full_clean()


def test_database_refuses_the_same_link_twice():
    first, second = EventFactory(), EventFactory()
    EventRelation.objects.create(from_event=first, to_event=second, relation_type="precedes")

    with pytest.raises(IntegrityError, match=EVENTRELATION_UNIQUE_LINK), transaction.atomic():
        EventRelation.objects.create(
            from_event=first, to_event=second, relation_type=RelationType.PRECEDES
        )


def test_database_accepts_two_events_linked_in_different_ways_or_directions():
    first, second = EventFactory(), EventFactory()

    EventRelation.objects.create(from_event=first, to_event=second, relation_type="precedes")
    EventRelation.objects.create(from_event=first, to_event=second, relation_type="caused")
    EventRelation.objects.create(from_event=second, to_event=first, relation_type="precedes")

    assert EventRelation.objects.count() == 3


def test_model_validation_explains_the_same_link_twice():
    first, second = EventFactory(), EventFactory()
    EventRelation.objects.create(from_event=first, to_event=second, relation_type="precedes")
    again = EventRelation(from_event=first, to_event=second, relation_type="precedes")

    with pytest.raises(ValidationError, match="These events are already linked this way"):
        again.full_clean()


# eventactor_unique_role


def test_database_refuses_the_same_actor_in_the_same_role_twice():
    role = EventActorFactory(role=Role.ORDERED)

    with pytest.raises(IntegrityError, match=EVENTACTOR_UNIQUE_ROLE), transaction.atomic():
        EventActor.objects.create(event=role.event, actor=role.actor, role=Role.ORDERED)


def test_database_accepts_the_same_actor_in_two_roles():
    role = EventActorFactory(role=Role.ORDERED)

    EventActor.objects.create(event=role.event, actor=role.actor, role=Role.ENFORCED)

    assert role.event.actor_roles.count() == 2


def test_model_validation_explains_the_same_actor_in_the_same_role_twice():
    role = EventActorFactory(role=Role.ORDERED)
    again = EventActor(event=role.event, actor=role.actor, role=Role.ORDERED)

    with pytest.raises(ValidationError, match="This actor already has this role in this event"):
        again.full_clean()


# eventcount_other_unit_explained


def test_database_refuses_a_count_of_other_things_without_a_note():
    event = EventFactory()

    with (
        pytest.raises(IntegrityError, match="eventcount_other_unit_explained"),
        transaction.atomic(),
    ):
        EventCount.objects.create(event=event, quantity=40, unit=CountUnit.OTHER, note="")


def test_database_accepts_a_count_of_other_things_with_a_note_or_of_accounts_without():
    event = EventFactory()

    EventCount.objects.create(event=event, quantity=40, unit=CountUnit.OTHER, note="stickers")
    EventCount.objects.create(event=event, quantity=40, unit=CountUnit.ACCOUNTS, note="")

    assert event.counts.count() == 2


def test_model_validation_explains_a_count_of_other_things_without_a_note():
    count = EventCount(event=EventFactory(), quantity=40, unit=CountUnit.OTHER)

    with pytest.raises(ValidationError, match="Say in the note what is counted"):
        count.full_clean()


# event_public_id_format


@pytest.mark.parametrize(
    "public_id",
    [
        pytest.param("", id="empty"),
        pytest.param("cn-2014-0001", id="lower-case-area"),
        pytest.param("CHN-2014-0001", id="three-letter-area"),
        pytest.param("CN-14-0001", id="two-digit-year"),
        pytest.param("CN-2014-001", id="three-digit-number"),
        pytest.param("CN-2014", id="no-number"),
        pytest.param("CN-2014-0001x", id="trailing-letter"),
    ],
)
def test_database_refuses_a_malformed_public_id(public_id):
    event = EventFactory()

    with pytest.raises(IntegrityError, match="event_public_id_format"), transaction.atomic():
        only(Event, event).update(public_id=public_id)


def test_database_accepts_a_public_id_with_more_than_four_digits():
    event = EventFactory()

    only(Event, event).update(public_id="CN-2014-10000")

    assert Event.objects.get(pk=event.pk).public_id == "CN-2014-10000"


def test_database_refuses_an_event_saved_without_the_service_and_without_an_id():
    with pytest.raises(IntegrityError, match="event_public_id_format"), transaction.atomic():
        new_event().save()


# event_published_has_first_published_at


def test_database_refuses_a_published_event_without_first_published_at():
    event = EventFactory(status=EventStatus.DRAFT)

    with (
        pytest.raises(IntegrityError, match="event_published_has_first_published_at"),
        transaction.atomic(),
    ):
        only(Event, event).update(status=EventStatus.PUBLISHED)


def test_database_refuses_clearing_first_published_at_of_a_published_event():
    event = EventFactory(status=EventStatus.PUBLISHED)

    with (
        pytest.raises(IntegrityError, match="event_published_has_first_published_at"),
        transaction.atomic(),
    ):
        only(Event, event).update(first_published_at=None)


def test_database_refuses_a_retracted_event_without_a_reason():
    event = EventFactory(status=EventStatus.PUBLISHED)

    with pytest.raises(IntegrityError, match="event_retracted_has_reason"), transaction.atomic():
        only(Event, event).update(status=EventStatus.RETRACTED, retracted_at=timezone.now())


def test_database_accepts_a_retracted_event_with_when_and_why():
    event = EventFactory(status=EventStatus.PUBLISHED)

    only(Event, event).update(
        status=EventStatus.RETRACTED, retracted_at=timezone.now(), retraction_reason="Wrong."
    )

    assert Event.objects.get(pk=event.pk).status == EventStatus.RETRACTED


def test_event_save_stamps_first_published_at_when_publishing():
    event = EventFactory(status=EventStatus.DRAFT)

    event.status = EventStatus.PUBLISHED
    event_save(event=event)

    assert Event.objects.get(pk=event.pk).first_published_at is not None


def test_event_save_keeps_the_first_publication_time_on_later_saves():
    event = EventFactory(status=EventStatus.PUBLISHED)
    first = Event.objects.get(pk=event.pk).first_published_at

    event.title = "Edited"
    event_save(event=event)

    assert Event.objects.get(pk=event.pk).first_published_at == first


# Public ids


def test_event_save_numbers_events_in_order_within_country_and_year():
    first = EventFactory(country="CN", date_text="2014-05-27")
    second = EventFactory(country="CN", date_text="2014-11")

    assert (first.public_id, second.public_id) == ("CN-2014-0001", "CN-2014-0002")


def test_each_country_and_year_has_its_own_numbers():
    EventFactory(country="CN", date_text="2014")

    assert EventFactory(country="CN", date_text="2015").public_id == "CN-2015-0001"
    assert EventFactory(country="RU", date_text="2014").public_id == "RU-2014-0001"


def test_global_event_gets_a_ww_public_id():
    event = EventFactory(country="", is_global=True, date_text="2014-05")

    assert event.public_id == "WW-2014-0001"


def test_event_without_a_country_gets_an_xx_public_id():
    event = EventFactory(country="", date_text="2014-05")

    assert event.public_id == "XX-2014-0001"


def test_ongoing_event_takes_the_year_it_started():
    assert EventFactory(date_text="2009-07-07/..").public_id == "CN-2009-0001"


@pytest.mark.parametrize("date_text", ["2014-01-03~", "2014-01?", "2014~"])
def test_approximate_event_takes_the_year_its_date_states(date_text):
    assert EventFactory(date_text=date_text).public_id == "CN-2014-0001"


def test_deleted_events_id_is_never_reused():
    EventFactory()
    EventFactory().delete()  # CN-2014-0002

    assert EventFactory().public_id == "CN-2014-0003"


def test_deleting_the_only_event_does_not_restart_the_numbers():
    EventFactory().delete()

    assert EventFactory().public_id == "CN-2014-0002"


def test_event_loaded_with_its_own_id_moves_the_numbers_past_it():
    EventFactory()  # CN-2014-0001
    new_event(public_id="CN-2014-0007").save()

    assert EventFactory().public_id == "CN-2014-0008"


def test_loaded_id_is_compared_by_number_not_by_text():
    new_event(public_id="CN-2014-9999").save()
    new_event(public_id="CN-2014-10000").save()

    assert EventFactory().public_id == "CN-2014-10001"


def test_loaded_id_under_another_prefix_does_not_move_the_numbers():
    new_event(public_id="CN-2015-0007").save()
    new_event(public_id="RU-2014-0007", country="RU").save()

    assert EventFactory(country="CN", date_text="2014").public_id == "CN-2014-0001"


def test_public_id_is_kept_when_the_country_is_edited():
    event = EventFactory(country="CN", date_text="2014-05")

    event.country = "RU"
    event_save(event=event)

    assert Event.objects.get(pk=event.pk).public_id == "CN-2014-0001"


def test_public_id_is_kept_when_the_date_is_edited():
    event = EventFactory(country="CN", date_text="2014-05")

    event.date_text = "2016-02-29"
    event_save(event=event)

    assert Event.objects.get(pk=event.pk).public_id == "CN-2014-0001"


def test_public_id_is_kept_when_the_event_becomes_global():
    event = EventFactory(country="CN", date_text="2014-05")

    event.country, event.is_global = "", True
    event_save(event=event)

    assert Event.objects.get(pk=event.pk).public_id == "CN-2014-0001"


def test_editing_an_event_does_not_use_up_a_number():
    event = EventFactory(country="CN", date_text="2014-05")
    event.title = "Edited"
    event_save(event=event)

    assert EventFactory(country="CN", date_text="2014-05").public_id == "CN-2014-0002"


def test_two_events_cannot_share_a_public_id():
    EventFactory()  # CN-2014-0001

    with pytest.raises(IntegrityError, match="public_id"), transaction.atomic():
        new_event(public_id="CN-2014-0001").save()


@pytest.mark.django_db
def test_id_of_an_event_loaded_with_its_own_id_and_deleted_is_not_reused():
    loaded = new_event(public_id="CN-2014-0007")
    loaded.save()
    loaded.delete()

    assert EventFactory().public_id == "CN-2014-0008"
