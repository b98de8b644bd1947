"""generate_events: synthetic events in bulk that pass for curated ones, and go with --delete."""

import datetime
import io
import re
from collections import Counter
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from events import search
from events.choices import DatePrecision, EventStatus
from events.dates import parse_date
from events.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCount,
    EventRelation,
    EventTransition,
    EventType,
    Platform,
    PlatformAlias,
    PublicIdSequence,
    Source,
    Tag,
)
from events.services import event_search_refresh, synthetic
from events.services.synthetic import GENERATED_NOTE, events_generate, generated_delete
from tests.factories import ActorFactory, EventFactory, EventTypeFactory, TagFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/events/"
SMALL = {"actors": 40, "platforms": 10, "sources": 100}
START = datetime.date(2000, 1, 1)
PUBLIC_ID = re.compile(r"^[A-Z]{2}-[0-9]{4}-[0-9]{4,}\Z")
# Every table generate_events writes to, which --delete must leave as it found it.
TABLES = (
    Event,
    EventActor,
    Citation,
    EventCount,
    EventRelation,
    EventTransition,
    Event.platforms.through,
    Event.tags.through,
    Actor,
    ActorAlias,
    Platform,
    PlatformAlias,
    Tag,
    Source,
)


@pytest.fixture(autouse=True)
def empty_throttle_history():
    """Start every test with no recorded requests, so the API never throttles a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded(transactional_db):
    """The taxonomy and the seed timeline, as a new installation has them, committed.

    The command runs as it does from a shell, outside any transaction: it commits batch by
    batch and ends with VACUUM ANALYZE on PostgreSQL, which no transaction may enclose.
    """
    call_command("load_seed", stdout=io.StringIO())


@pytest.fixture(scope="class")
def timeline(django_db_setup, django_db_blocker):
    """The seed timeline and 300 generated events, shared by a class of tests that read them.

    Generating for every test would take most of the time this file may run. The rows are
    committed, as `seeded` explains, and flushed after the class; each test still runs in a
    transaction of its own, rolled back. A million events are written 5,000 at a time:
    batches of 100 make these 300 cross the same seams.
    """
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        try:
            call_command("load_seed", stdout=io.StringIO())
            before = row_counts()
            patch.setattr(synthetic, "BATCH_EVENTS", 100)
            output = generate(count=300)
            added = {table: rows - before[table] for table, rows in row_counts().items()}
            yield SimpleNamespace(output=output, added=added)
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def generated(timeline, db):
    return generated_events()


def generate(count=300, seed=1, **options):
    """Run the command as a benchmark would, small; return what it printed."""
    out = io.StringIO()
    call_command(
        "generate_events",
        count=count,
        seed=seed,
        **(SMALL | options),
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def delete_generated():
    out = io.StringIO()
    call_command("generate_events", "--delete", stdout=out)
    return out.getvalue()


def generated_events():
    return Event.objects.filter(internal_notes__startswith=GENERATED_NOTE)


def row_counts():
    return {model._meta.db_table: model.objects.count() for model in TABLES}


def snapshot():
    """Return what a reader sees of the generated events, in the order they were written."""
    return list(generated_events().order_by("pk").values_list("title", "date_text", "country"))


def today():
    return timezone.now().date()


def listed(client, params):
    """Return the public ids the event list gives for these parameters, all on one page."""
    response = client.get(API, {"page_size": 1000, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    return {row["id"] for row in body["results"]}


# One generated timeline, read by curators and readers -------------------------------------


class TestAGeneratedTimeline:
    """300 generated events on top of the seed timeline, read as a curator or a reader would."""

    def test_the_command_wrote_the_events_actors_platforms_and_sources_asked_for(
        self, timeline, db
    ):
        assert generated_events().count() == timeline.added["events_event"] == 300
        assert timeline.added["events_actor"] == SMALL["actors"]
        assert timeline.added["events_platform"] == SMALL["platforms"]
        assert timeline.added["events_source"] == SMALL["sources"]
        assert timeline.added["events_tag"] > 0
        assert "events: 300 added" in timeline.output
        assert f"actors: {SMALL['actors']} added" in timeline.output

    def test_about_nine_in_ten_are_published_and_every_other_status_occurs(self, generated):
        statuses = Counter(generated.values_list("status", flat=True))

        assert 0.85 <= statuses[EventStatus.PUBLISHED] / 300 <= 0.95
        assert set(statuses) == set(EventStatus.values)

    def test_dates_are_stored_as_a_curators_save_derives_them(self, generated):
        for event in generated:
            bounds = parse_date(event.date_text)
            assert (event.date_earliest, event.date_latest) == (bounds.earliest, bounds.latest)
            assert event.date_precision == bounds.precision
            assert (event.date_is_approximate, event.date_is_uncertain) == (
                bounds.is_approximate,
                bounds.is_uncertain,
            )

    def test_dates_take_every_precision_and_some_are_ongoing_or_approximate(self, generated):
        precisions = set(generated.values_list("date_precision", flat=True))

        # A century (20XX) would run to 2099: the generator writes decades at most.
        assert precisions == set(DatePrecision.values) - {DatePrecision.CENTURY}
        assert generated.filter(date_latest__isnull=True).exists()
        assert generated.filter(date_latest__isnull=False).exists()
        assert generated.filter(date_is_approximate=True).exists()
        assert generated.filter(date_is_uncertain=True).exists()

    def test_dates_lie_between_2000_and_today(self, generated):
        # Seasons are left to test_no_generated_season_starts_after_the_day_it_was_generated.
        for event in generated.exclude(date_precision=DatePrecision.SEASON):
            stated_start = parse_date(event.date_text).stated_start
            assert START <= stated_start <= today(), event.date_text
            assert event.date_earliest <= today(), event.date_text
            # "c. 2000" may have begun in 1999: only a qualified date is widened before 2000.
            widened = event.date_is_approximate or event.date_is_uncertain
            assert event.date_earliest >= START or widened, event.date_text

    def test_every_event_names_one_to_four_actors_and_cites_one_to_three_sources(self, generated):
        events = generated.annotate(
            roles=Count("actor_roles", distinct=True), cited=Count("citations", distinct=True)
        )
        roles = Counter(events.values_list("roles", flat=True))
        cited = Counter(events.values_list("cited", flat=True))

        assert set(roles) <= {1, 2, 3, 4}
        assert len(roles) > 1
        assert set(cited) <= {1, 2, 3}
        assert len(cited) > 1

    def test_a_sample_of_rows_passes_model_validation(self, generated):
        for event in generated.order_by("pk")[::10]:
            event.full_clean()
        for model in (EventActor, Citation, EventCount, EventRelation, ActorAlias, PlatformAlias):
            newest = model.objects.order_by("-pk")[:20]
            assert newest, model
            for row in newest:
                row.full_clean()
        for model in (Actor, Platform, Tag):
            for row in model.objects.filter(slug__startswith="gen-")[:20]:
                row.full_clean()
        for source in Source.objects.filter(key__startswith="gen-")[:20]:
            source.full_clean()

    def test_rows_satisfy_every_database_constraint(self, generated):
        """Foreign keys are checked at commit, after the test; check them now, as loaddata does."""
        connection.check_constraints()

    def test_events_carry_the_moments_their_status_needs(self, generated):
        now = timezone.now()
        for event in generated:
            assert event.created_at <= event.updated_at <= now
            if event.status in (EventStatus.PUBLISHED, EventStatus.RETRACTED):
                assert event.created_at <= event.first_published_at <= now
            else:
                assert event.first_published_at is None
            if event.status == EventStatus.RETRACTED:
                assert event.retracted_at and event.retraction_reason
            if event.status == EventStatus.IN_REVIEW:
                assert event.submitted_at is not None

    def test_public_ids_are_well_formed_unique_and_recorded_in_their_sequences(self, generated):
        public_ids = list(generated.values_list("public_id", flat=True))
        highest = {}
        for public_id in public_ids:
            prefix, _, number = public_id.rpartition("-")
            highest[prefix] = max(highest.get(prefix, 0), int(number))
        sequences = dict(PublicIdSequence.objects.values_list("prefix", "last_number"))

        assert all(PUBLIC_ID.match(public_id) for public_id in public_ids)
        assert len(set(public_ids)) == len(public_ids)
        assert all(sequences[prefix] >= number for prefix, number in highest.items())

    def test_public_ids_name_the_country_and_the_year_written(self, generated):
        for event in generated:
            area = "WW" if event.is_global else event.country.code
            year = parse_date(event.date_text).stated_start.year
            assert event.public_id.startswith(f"{area}-{year}-"), (event.public_id, event.date_text)

    def test_a_curators_next_event_gets_the_next_free_id(self, generated):
        prefix, _ = Counter(
            public_id.rsplit("-", 1)[0]
            for public_id in generated.exclude(is_global=True).values_list("public_id", flat=True)
        ).most_common(1)[0]
        country, year = prefix.split("-")
        taken = set(Event.objects.values_list("public_id", flat=True))
        numbers = [int(id_.rsplit("-", 1)[1]) for id_ in taken if id_.startswith(f"{prefix}-")]

        event = EventFactory(
            country=country, date_text=f"{year}-06-01", event_type=EventType.objects.first()
        )

        assert event.public_id == f"{prefix}-{max(numbers) + 1:04d}"
        assert event.public_id not in taken

    def test_the_api_lists_published_ones_with_the_curated_ones(self, generated, client):
        published = set(Event.objects.published().values_list("public_id", flat=True))

        listed_ids = listed(client, {})

        assert listed_ids == published
        assert generated.published().filter(public_id__in=listed_ids).count() > 250
        assert {"CN-2014-0001", "CN-2014-0004"} <= listed_ids

    def test_the_api_hides_drafts_events_in_review_and_retractions(self, generated, client):
        hidden = generated.exclude(status=EventStatus.PUBLISHED)
        hidden_ids = set(hidden.values_list("public_id", flat=True))

        listed_ids = listed(client, {})

        assert listed_ids.isdisjoint(hidden_ids)
        for status in (EventStatus.DRAFT, EventStatus.IN_REVIEW, EventStatus.RETRACTED):
            public_id = hidden.filter(status=status).values_list("public_id", flat=True)[0]
            assert client.get(f"{API}{public_id}/").status_code == 404

    def test_the_api_shows_a_published_one_in_full(self, generated, client):
        event = generated.published().annotate(roles=Count("actor_roles")).filter(roles__gte=2)[0]

        body = client.get(f"{API}{event.public_id}/").json()

        assert body["title"] == event.title
        assert body["date"]["text"] == event.date_text
        assert len(body["actors"]) == event.actor_roles.count()
        assert len(body["citations"]) == event.citations.count()
        assert "internal_notes" not in body

    def test_the_api_filters_by_a_generated_platform(self, generated, client):
        platform = (
            Platform.objects.filter(slug__startswith="gen-")
            .annotate(published=Count("events", filter=Q(events__status=EventStatus.PUBLISHED)))
            .order_by("-published", "slug")
            .first()
        )
        on_platform = Event.objects.published().filter(platforms=platform)

        listed_ids = listed(client, {"platform": platform.slug})

        assert on_platform.exists()
        assert listed_ids == set(on_platform.values_list("public_id", flat=True))

    def test_the_api_finds_them_by_a_word_of_their_titles(self, generated, client):
        event = generated.published().order_by("pk").first()
        word = max(search.words(event.title), key=len)
        titled = {
            other.public_id
            for other in Event.objects.published()
            if any(title_word.startswith(word) for title_word in search.words(other.title))
        }

        assert event.public_id in titled
        assert titled <= listed(client, {"q": word})
        assert event.public_id in listed(client, {"q": event.title})

    def test_some_events_in_china_have_a_chinese_original_that_q_finds(self, generated, client):
        chinese = generated.exclude(original_language="")
        in_china = generated.filter(country="CN")
        on_wechat = chinese.published().filter(
            Q(title_original__contains="微信") | Q(summary_original__contains="微信")
        )

        assert set(chinese.values_list("country", "original_language")) <= {
            ("CN", "zh-hans"),
            ("HK", "zh-hant"),
            ("TW", "zh-hant"),
        }
        assert 0 < chinese.filter(country="CN").count() < in_china.count() / 3
        assert on_wechat.exists()
        assert set(on_wechat.values_list("public_id", flat=True)) <= listed(client, {"q": "微信"})

    def test_the_api_finds_one_by_an_actor_named_only_in_its_roles(self, generated, client):
        """The search text holds every actor's name, not only the one the title names."""
        for event in generated.published().order_by("pk"):
            text = set(search.words(f"{event.title} {event.summary}"))
            unnamed = [
                role.actor
                for role in event.actor_roles.select_related("actor")
                if not set(search.words(role.actor.name)) <= text
            ]
            if unnamed:
                break
        else:
            pytest.fail("no published generated event has an actor its text leaves unnamed")

        assert event.public_id in listed(client, {"q": unnamed[0].name})

    def test_search_text_is_what_a_curators_save_would_write(self, generated):
        sample = list(generated.order_by("pk").values_list("pk", flat=True)[::15])
        written = dict(Event.objects.filter(pk__in=sample).values_list("pk", "search_text"))

        event_search_refresh(event_ids=sample)

        refreshed = dict(Event.objects.filter(pk__in=sample).values_list("pk", "search_text"))
        assert all(written[pk].strip() for pk in sample)
        # The same words; only their order differs (roles are read back sorted by role).
        assert {pk: sorted(text.split()) for pk, text in written.items()} == {
            pk: sorted(text.split()) for pk, text in refreshed.items()
        }

    def test_curators_can_list_and_open_them_in_the_admin(self, generated, curator_client):
        event = generated.order_by("pk").first()

        changelist = curator_client.get(reverse("admin:events_event_changelist"))
        change = curator_client.get(reverse("admin:events_event_change", args=[event.pk]))

        assert changelist.status_code == 200
        assert change.status_code == 200
        assert event.title in change.content.decode()


def test_no_generated_season_starts_after_the_day_it_was_generated(db):
    EventTypeFactory()
    until = datetime.date(2000, 11, 30)  # a short span makes days near `until` common

    events_generate(count=300, seed=1, until=until, **SMALL)

    seasons = generated_events().filter(date_precision=DatePrecision.SEASON)
    assert seasons.exists()
    assert [event.date_text for event in seasons if event.date_earliest > until] == []


def test_generated_events_never_reuse_the_id_of_a_deleted_imported_event(db):
    event_type = EventTypeFactory()
    deleted = set()
    for year in range(2000, today().year + 1):
        imported = EventFactory(
            public_id=f"RU-{year}-0001", date_text=str(year), event_type=event_type
        )
        deleted.add(imported.public_id)
        imported.delete()

    events_generate(count=300, seed=1, **SMALL)

    assert generated_events().filter(country="RU").exists()
    reused = set(generated_events().values_list("public_id", flat=True)) & deleted
    assert reused == set()


def test_events_in_hong_kong_and_taiwan_have_originals_in_traditional_characters(db, monkeypatch):
    EventTypeFactory()
    monkeypatch.setattr(synthetic, "COUNTRIES", ["HK", "TW"])

    events_generate(count=60, seed=1, **SMALL)

    originals = generated_events().exclude(original_language="")
    assert originals.count() > 20  # about six in ten
    assert set(originals.values_list("original_language", flat=True)) == {"zh-hant"}
    assert all(
        text.startswith("據報道") for text in originals.values_list("summary_original", flat=True)
    )


def test_the_chinese_phrases_cover_every_type_the_english_ones_do():
    assert synthetic.ZH_WORDS.keys() == synthetic.WORDS.keys()
    assert {len(words) for words in synthetic.ZH_WORDS.values()} == {4}


# Reproducible ----------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_events_again_and_another_seed_other_ones(seeded):
    generate(seed=7)
    first = snapshot()
    first_ids = set(generated_events().values_list("public_id", flat=True))
    delete_generated()

    generate(seed=7)
    again = snapshot()
    again_ids = set(generated_events().values_list("public_id", flat=True))
    delete_generated()
    generate(seed=8)
    other = snapshot()

    assert again == first
    # The same events under new public ids: an id once handed out is never handed out again.
    assert again_ids.isdisjoint(first_ids)
    assert len(other) == len(first)
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 10


# --delete ---------------------------------------------------------------------------------


def test_delete_removes_every_generated_row_and_keeps_the_curated_ones(seeded):
    curated = EventFactory(title="A curated draft", event_type=EventType.objects.first())
    before = row_counts()
    kept = {model: set(model.objects.values_list("pk", flat=True)) for model in TABLES}
    generate()
    during = row_counts()
    later = EventFactory(title="Written after the benchmark", event_type=curated.event_type)

    output = delete_generated()

    grew = {table for table in before if during[table] > before[table]}
    assert grew >= {"events_event", "events_eventactor", "events_citation", "events_source"}
    assert grew >= {"events_actor", "events_platform", "events_tag", "events_event_tags"}
    assert Event.objects.filter(pk__in=[curated.pk, later.pk]).count() == 2
    later.delete()  # the one row this test added between the two runs
    assert row_counts() == before
    assert {model: set(model.objects.values_list("pk", flat=True)) for model in TABLES} == kept
    ban = Event.objects.get(public_id="CN-2014-0004")  # the seed timeline, as load_seed wrote it
    assert ban.actor_roles.filter(actor__slug="tencent").exists()
    assert "events_event: 300 removed" in output
    connection.check_constraints()


def test_generating_twice_adds_a_second_set_and_delete_removes_both(seeded):
    before = row_counts()
    generate(count=150, seed=3)
    tags = Tag.objects.count()

    generate(count=150, seed=3)  # the same seed: the same names, so slugs must step aside

    public_ids = list(generated_events().values_list("public_id", flat=True))
    assert len(public_ids) == len(set(public_ids)) == 300
    assert Actor.objects.filter(slug__startswith="gen-").count() == 80
    assert Platform.objects.filter(slug__startswith="gen-").count() == 20
    assert Source.objects.filter(key__startswith="gen-").count() == 200
    assert Tag.objects.count() == tags  # the second run tags with the first run's tags
    connection.check_constraints()

    delete_generated()

    assert row_counts() == before


def test_delete_keeps_a_curators_actor_and_tag_whose_slugs_start_with_gen(db):
    EventTypeFactory()
    ActorFactory(name="Gen Z protesters", slug="gen-z-protesters", country="KE")
    TagFactory(name="Gen Z", slug="gen-z")
    events_generate(count=300, seed=1, **SMALL)

    generated_delete()

    assert Actor.objects.filter(slug="gen-z-protesters").exists()
    assert Tag.objects.filter(slug="gen-z").exists()


def test_generate_and_delete_also_run_inside_a_transaction(db):
    """As in a test or a script that wraps its setup in transaction.atomic."""
    EventTypeFactory()

    with transaction.atomic():
        generate(count=20)
        assert generated_events().count() == 20
        delete_generated()

    assert not generated_events().exists()


# Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "Give --count"),
        (["--count", "0"], "Give --count"),
        (["--count", "-5"], "Give --count"),
        (["--count", "10", "--actors", "-1"], "--actors must be at least 1"),
        (["--count", "10", "--platforms", "0"], "--platforms must be at least 1"),
        (["--count", "10", "--sources", "0"], "--sources must be at least 1"),
    ],
    ids=[
        "no-count",
        "zero-count",
        "negative-count",
        "negative-actors",
        "no-platforms",
        "no-sources",
    ],
)
def test_bad_arguments_are_refused_with_a_message_and_write_nothing(db, arguments, message):
    EventTypeFactory()  # a taxonomy, so only the arguments are wrong
    before = row_counts()

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("generate_events", *arguments, stdout=io.StringIO())

    assert row_counts() == before


def test_generate_before_the_taxonomy_is_loaded_says_to_load_it(db):
    with pytest.raises(CommandError, match="load_seed"):
        call_command("generate_events", "--count", "10", stdout=io.StringIO(), stderr=io.StringIO())

    assert row_counts() == dict.fromkeys(row_counts(), 0)


@pytest.mark.django_db
def test_rows_saved_after_generating_get_ids_of_their_own():
    """The generator writes references with their ids; a curator's next actor, platform,
    source or tag must not be handed one of them (PostgreSQL's sequences follow)."""
    EventTypeFactory()
    events_generate(count=5, seed=1, actors=6, platforms=3, sources=7)

    actor = ActorFactory(name="Added in the admin")
    tag = TagFactory(name="added")

    assert actor.pk > max(Actor.objects.exclude(pk=actor.pk).values_list("pk", flat=True))
    assert tag.pk not in set(Tag.objects.exclude(pk=tag.pk).values_list("pk", flat=True))
    source = Source.objects.create(key="added-in-the-admin", title="Added")
    assert source.pk > max(Source.objects.exclude(pk=source.pk).values_list("pk", flat=True))


# Fields added after the generator ---------------------------------------------------------


@pytest.mark.parametrize("column", ["verification", "created_by_id"], ids=["default", "nullable"])
def test_a_column_the_generator_does_not_set_takes_the_models_default(db, monkeypatch, column):
    """As a field added to Event that the generator's rows do not know yet: the writer fills
    the field's default (or NULL), so that generate_events keeps working."""
    EventTypeFactory()
    insert = synthetic._BulkWriter.insert

    def insert_without_the_column(writer, model, rows):
        if model is Event:
            assert all(column in row for row in rows)  # written by the generator: dropped here
            rows = [{key: value for key, value in row.items() if key != column} for row in rows]
        insert(writer, model, rows)

    monkeypatch.setattr(synthetic._BulkWriter, "insert", insert_without_the_column)

    generate(count=20)

    field = Event._meta.get_field(column)
    assert generated_events().count() == 20
    assert set(generated_events().values_list(field.attname, flat=True)) == {field.get_default()}
