"""The seed timeline: our record of the 2014 report, loaded idempotently, quotes that check out."""

import datetime
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from events.choices import CountQualifier, CountUnit, EventStatus, RelationType, Role
from events.dates import parse_date
from events.models import Actor, Citation, Event, EventRelation, EventType, Source
from tests.admin_forms import sign_in

SEEDS_DIR = settings.BASE_DIR / "seeds"
FIXTURES_DIR = settings.BASE_DIR / "fixtures"
REPORT_KEY = "chinatopix-2014-05-28-instant-messaging"


def load_seed():
    out = io.StringIO()
    call_command("load_seed", stdout=out)
    return out.getvalue()


def seed_record(key):
    return json.loads((SEEDS_DIR / f"{key}.json").read_text())


def report_text():
    """Return the copyrighted report from ../shared/seeds if this machine has it."""
    spec = seed_record(REPORT_KEY)["private_text"]
    path = (SEEDS_DIR / spec["path"]).resolve()
    if not path.is_file():
        pytest.skip(f"the seed report is not at {path}; it lives in ../shared/seeds")
    return path.read_text(encoding="utf-8")


def normalise(text):
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture
def seeded(db):
    load_seed()


def test_load_seed_adds_the_taxonomy_sources_and_timeline(seeded):
    assert EventType.objects.count() >= 19
    assert Source.objects.filter(key=REPORT_KEY).exists()
    assert Event.objects.count() == 7
    assert Event.objects.published().count() == 7


def test_load_seed_a_second_time_adds_nothing(seeded):
    counts = {model: model.objects.count() for model in (Event, Citation, Actor, Source)}

    output = load_seed()

    assert {model: model.objects.count() for model in counts} == counts
    assert re.search(r"[1-9]\d* added", output) is None
    assert "7 already present" in output


def test_load_seed_keeps_a_curators_edit_to_a_seed_event(seeded):
    event = Event.objects.get(public_id="CN-2014-0004")
    event.title = "Edited by a curator"
    event.save()
    event.citations.first().delete()
    citations_left = event.citations.count()

    load_seed()

    event.refresh_from_db()
    assert event.title == "Edited by a curator"
    assert event.citations.count() == citations_left


def test_seed_events_are_publishable_and_their_bounds_match_their_dates(seeded):
    for event in Event.objects.all():
        bounds = parse_date(event.date_text)
        assert event.status == EventStatus.PUBLISHED
        assert event.first_published_at is not None
        assert event.citations.exists(), event.public_id
        assert event.event_type_id is not None
        assert event.country == "CN"
        assert (event.date_earliest, event.date_latest) == (bounds.earliest, bounds.latest)
        assert event.date_precision == bounds.precision


@pytest.mark.parametrize(
    ("public_id", "date_text", "precision", "earliest", "latest"),
    [
        ("CN-2014-0004", "2014-05-27", "day", "2014-05-27", "2014-05-27"),
        ("CN-2014-0001", "2014-03", "month", "2014-03-01", "2014-03-31"),
        ("CN-2014-0002", "2014-04?", "month", "2014-03-01", "2014-05-31"),
        ("CN-2014-0003", "2014-05~", "month", "2014-04-01", "2014-06-30"),
        ("CN-2013-0002", "2013-09/2014-05", "month", "2013-09-01", "2014-05-31"),
        ("CN-2009-0001", "2009-07-05/..", "day", "2009-07-05", None),
    ],
    ids=[
        "ban-tuesday",
        "removals-in-march",
        "group-last-month",
        "urumqi-recent",
        "arrests-between",
        "xinjiang-ongoing",
    ],
)
def test_seed_dates_have_the_precision_the_report_gives(
    seeded, public_id, date_text, precision, earliest, latest
):
    event = Event.objects.get(public_id=public_id)

    assert event.date_text == date_text
    assert event.date_precision == precision
    assert event.date_earliest == datetime.date.fromisoformat(earliest)
    assert event.date_latest == (datetime.date.fromisoformat(latest) if latest else None)


def test_the_march_removal_counts_over_40_wechat_accounts(seeded):
    event = Event.objects.get(public_id="CN-2014-0001")
    count = event.counts.get()

    assert (count.qualifier, count.quantity, count.unit) == (
        CountQualifier.MORE_THAN,
        40,
        CountUnit.ACCOUNTS,
    )
    assert list(event.platforms.values_list("slug", flat=True)) == ["wechat"]
    assert event.event_type.slug == "account-removal"


def test_the_ban_names_actors_in_their_roles(seeded):
    roles = set(
        Event.objects.get(public_id="CN-2014-0004").actor_roles.values_list("actor__slug", "role")
    )

    assert ("chinese-authorities", Role.ORDERED) in roles
    assert ("tencent", Role.OPERATED_PLATFORM) in roles
    assert ("xinhua", Role.ANNOUNCED) in roles
    assert ("public-account-operators", Role.TARGETED) in roles


def test_the_security_group_is_led_by_xi_jinping(seeded):
    event = Event.objects.get(public_id="CN-2014-0002")

    assert event.event_type.slug == "new-agency"
    assert event.actor_roles.filter(actor__slug="xi-jinping", role=Role.ORDERED).exists()
    assert Actor.objects.get(slug="xi-jinping").aliases.filter(name="习近平").exists()


def test_the_seed_events_are_linked(seeded):
    links = set(
        EventRelation.objects.values_list(
            "from_event__public_id", "relation_type", "to_event__public_id"
        )
    )

    assert ("CN-2014-0001", RelationType.PRECEDES, "CN-2014-0004") in links
    assert ("CN-2014-0004", RelationType.PART_OF, "CN-2014-0002") in links
    assert ("CN-2013-0001", RelationType.CAUSED, "CN-2013-0002") in links
    assert ("CN-2014-0003", RelationType.PART_OF, "CN-2009-0001") in links


def test_seed_rows_carry_history(seeded):
    record = Event.objects.get(public_id="CN-2014-0004").history.earliest()

    assert record.history_type == "+"
    assert record.history_change_reason == "Loaded from the seed timeline"


def test_every_seed_citation_quotes_a_phrase_from_our_seed_record(seeded):
    for source in Source.objects.all():
        recorded = {(q["locator"], q["text"]) for q in seed_record(source.key)["quotes"]}
        for citation in source.citations.all():
            assert (citation.locator, citation.quote) in recorded, citation.quote


def test_every_recorded_quote_occurs_in_the_report():
    text = normalise(report_text())
    for quote in seed_record(REPORT_KEY)["quotes"]:
        assert normalise(quote["text"]) in text, quote["text"]


def test_load_seed_keeps_the_reports_text_private_and_checked(seeded):
    text = report_text()

    source = Source.objects.get(key=REPORT_KEY)

    assert source.full_text == text
    assert "full_text" not in [field.name for field in Source.history.model._meta.fields]


def test_our_files_quote_the_report_only_in_short_phrases():
    """The report is copyrighted: no committed file may hold a long run of its words."""
    words = normalise(report_text()).split()
    window = 16
    runs = {" ".join(words[i : i + window]) for i in range(len(words) - window)}
    for path in [*SEEDS_DIR.glob("*.json"), *FIXTURES_DIR.glob("*.json")]:
        ours = normalise(path.read_text(encoding="utf-8"))
        assert not [run for run in runs if run in ours], path.name


def test_seed_quotes_are_short():
    for path in SEEDS_DIR.glob("*.json"):
        for quote in json.loads(path.read_text())["quotes"]:
            assert len(quote["text"].split()) <= 15, quote["text"]


def test_fixtures_also_load_with_loaddata(db):
    call_command("loaddata", str(FIXTURES_DIR / "event_types.json"), verbosity=0)
    call_command("loaddata", str(FIXTURES_DIR / "seed_actors.json"), verbosity=0)

    assert EventType.objects.get(slug="account-removal").category.slug == "content-control"
    assert Actor.objects.get(slug="tencent").operated_platforms.get().slug == "wechat"


def demo_passwords():
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    return dict(re.findall(r"User name: (\S+)  Password: (\S+)", out.getvalue()))


def test_demo_users_are_created_once_and_can_log_in(db, client):
    passwords = demo_passwords()
    password = passwords["demo-curator"]

    again = io.StringIO()
    call_command("create_demo_users", stdout=again)

    assert set(passwords) == {"demo-curator", "demo-editor"}
    assert again.getvalue().count("already exists") == 2
    assert sign_in(client, "demo-editor", passwords["demo-editor"])
    assert sign_in(client, "demo-curator", password)
    assert client.get("/admin/events/event/add/").status_code == 200
    assert client.get("/admin/events/event/").status_code == 200


def test_demo_curator_cannot_delete_events(db, client):
    assert sign_in(client, "demo-curator", demo_passwords()["demo-curator"])
    load_seed()
    event = Event.objects.get(public_id="CN-2014-0004")

    response = client.get(f"/admin/events/event/{event.pk}/delete/")

    assert response.status_code == 403


def test_seed_files_sit_where_the_command_looks():
    assert sorted(path.name for path in FIXTURES_DIR.glob("*.json")) == [
        "event_types.json",
        "seed_actors.json",
        "seed_timeline.json",
    ]
    assert Path(SEEDS_DIR / f"{REPORT_KEY}.json").is_file()
