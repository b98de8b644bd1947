"""The review workflow with real Curator and Editor accounts: who may do what, moves between
statuses, history and restore, and two curators editing one event at once."""

import datetime
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from events.choices import EventStatus
from events.models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventTransition,
)
from events.services import (
    CURATOR_GROUP,
    EDITOR_GROUP,
    EditConflict,
    actor_merge,
    event_publish,
    event_retract,
    event_return_to_draft,
    event_save,
    event_submit,
    groups_ensure,
    platform_merge,
)
from events.services.accounts import CURATOR_PERMISSIONS, EDITOR_PERMISSIONS
from tests.admin_forms import add_inline_rows, form_data
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventFactory,
    PlatformFactory,
    SourceFactory,
    UserFactory,
)

DRAFT = EventStatus.DRAFT
IN_REVIEW = EventStatus.IN_REVIEW
PUBLISHED = EventStatus.PUBLISHED
RETRACTED = EventStatus.RETRACTED
ROLES = ("curator", "editor", "superuser")
EVENT_CHANGELIST = reverse("admin:events_event_changelist")
REVIEW_QUEUE = reverse("admin:events_eventinreview_changelist")
LOGIN = reverse("admin:login")
NO_COMMENT = {"comment": ""}  # what a browser posts when the comment box is left empty


# Users in the real groups -----------------------------------------------------------------


@pytest.fixture
def groups(db):
    return groups_ensure()


def account(username, **fields):
    # The clients log in with force_login: skip hashing a password (a quarter second each).
    return UserFactory(username=username, password=None, **fields)


def member_of(group, username):
    user = account(username)
    user.groups.add(group)
    return user


# conftest's personas, with names the conflict messages below quote, and no password to hash.
@pytest.fixture
def curator(groups):
    return member_of(groups[CURATOR_GROUP], "carla")


@pytest.fixture
def second_curator(groups):
    return member_of(groups[CURATOR_GROUP], "colin")


@pytest.fixture
def editor(groups):
    return member_of(groups[EDITOR_GROUP], "edith")


@pytest.fixture
def superuser(db):
    return account("root", is_superuser=True)


@pytest.fixture
def people(curator, editor, superuser):
    return {"anonymous": None, "curator": curator, "editor": editor, "superuser": superuser}


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# Admin forms, read back from a GET as a browser would post them -----------------------------


def admin_url(model, page, obj=None):
    return reverse(f"admin:events_{model}_{page}", args=[obj.pk] if obj else [])


def change_form_data(client, obj, **fields):
    response = client.get(admin_url(obj._meta.model_name, "change", obj))
    assert response.status_code == 200
    return form_data(response) | fields


def form_errors(response):
    return response.context["adminform"].form.errors


def shown_messages(response):
    return [str(message) for message in response.context["messages"]]


def move_url(event, move):
    return reverse("admin:events_event_move", args=[event.pk, move])


def version_url(event, record):
    return reverse("admin:events_event_simple_history", args=[event.pk, record.history_id])


def post_action(client, url, action, *objects, follow=True, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0}
    return client.post(url, data | extra, follow=follow)


def status_of(event):
    return Event.objects.values_list("status", flat=True).get(pk=event.pk)


def assert_sent_to_log_in(response, url):
    assert response.status_code == 302
    redirect = urlsplit(response.url)
    assert redirect.path == LOGIN
    assert parse_qs(redirect.query)["next"] == [url]


# Events in every state --------------------------------------------------------------------


def ready_event(**fields):
    """Return a draft that has everything publication needs."""
    return CitationFactory(event=EventFactory(**({"country": "CN"} | fields))).event


@pytest.fixture
def world(db):
    in_review = event_submit(event=ready_event(title="Waiting for review"))
    published = ready_event(title="Already public", status=PUBLISHED)
    withdrawn = event_return_to_draft(event=ready_event(title="Once public", status=PUBLISHED))
    return SimpleNamespace(
        draft=ready_event(title="Still a draft"),
        in_review=in_review,
        published=published,
        withdrawn=withdrawn,
        retracted=EventFactory(status=RETRACTED),
        actors=[ActorFactory(), ActorFactory()],
        platforms=[PlatformFactory(), PlatformFactory()],
        source=SourceFactory(),
    )


# The permission matrix --------------------------------------------------------------------

EVERYONE = {"curator": 200, "editor": 200, "superuser": 200}
EDITORS = {"curator": 403, "editor": 200, "superuser": 200}
NOBODY = {"curator": 403, "editor": 403, "superuser": 403}

PAGES = {
    "event changelist": (lambda w: EVENT_CHANGELIST, EVERYONE),
    "event add": (lambda w: admin_url("event", "add"), EVERYONE),
    "event change": (lambda w: admin_url("event", "change", w.draft), EVERYONE),
    "event history": (lambda w: admin_url("event", "history", w.draft), EVERYONE),
    "event version": (
        lambda w: version_url(w.draft, Event.history.filter(id=w.draft.pk).earliest()),
        EVERYONE,
    ),
    "draft delete": (lambda w: admin_url("event", "delete", w.draft), EDITORS),
    "in review delete": (lambda w: admin_url("event", "delete", w.in_review), EDITORS),
    "published delete": (lambda w: admin_url("event", "delete", w.published), NOBODY),
    "withdrawn delete": (lambda w: admin_url("event", "delete", w.withdrawn), NOBODY),
    "retracted delete": (lambda w: admin_url("event", "delete", w.retracted), NOBODY),
    "submit page": (lambda w: move_url(w.draft, "submit"), EVERYONE),
    "publish page": (lambda w: move_url(w.in_review, "publish"), EDITORS),
    "return page": (lambda w: move_url(w.in_review, "return"), EDITORS),
    "retract page": (lambda w: move_url(w.published, "retract"), EDITORS),
    "unknown move page": (lambda w: move_url(w.draft, "delete"), NOBODY),
    "review queue": (lambda w: REVIEW_QUEUE, EVERYONE),
    "actor changelist": (lambda w: admin_url("actor", "changelist"), EVERYONE),
    "platform changelist": (lambda w: admin_url("platform", "changelist"), EVERYONE),
    "source changelist": (lambda w: admin_url("source", "changelist"), EVERYONE),
    "event import": (lambda w: "/admin/events/event/import/", EDITORS),
    "actor import": (lambda w: "/admin/events/actor/import/", EDITORS),
    "platform import": (lambda w: "/admin/events/platform/import/", EDITORS),
    "source import": (lambda w: "/admin/events/source/import/", EDITORS),
}
PAGE_CASES = [(page, role) for page in PAGES for role in ROLES]


@pytest.mark.parametrize(
    ("page", "role"), PAGE_CASES, ids=[f"{role}: {page}" for page, role in PAGE_CASES]
)
def test_admin_page_answers_each_role_as_its_group_allows(world, people, page, role):
    url_for, expected = PAGES[page]

    response = client_for(people[role]).get(url_for(world))

    assert response.status_code == expected[role]


@pytest.mark.parametrize("page", PAGES)
def test_admin_page_sends_an_anonymous_visitor_to_log_in(world, page):
    url = PAGES[page][0](world)

    response = Client().get(url)

    assert_sent_to_log_in(response, url)


def test_import_pages_are_linked_only_for_editors(world, curator, editor):
    for model in ("event", "actor", "platform", "source"):
        url = admin_url(model, "changelist")
        import_link = f"href='/admin/events/{model}/import/'"

        assert import_link not in client_for(curator).get(url).content.decode(), model
        assert import_link in client_for(editor).get(url).content.decode(), model


def test_a_curator_posting_an_import_is_refused_and_nothing_is_created(curator):
    csv = b"name,kind\nCyberspace Administration,government\n"
    upload = SimpleUploadedFile("actors.csv", csv, content_type="text/csv")

    response = client_for(curator).post(
        "/admin/events/actor/import/", {"format": "0", "import_file": upload}
    )

    assert response.status_code == 403
    assert not Actor.objects.filter(name="Cyberspace Administration").exists()


# Workflow moves posted to /admin/events/event/<pk>/workflow/<move>/ ------------------------

MOVES = {
    # move: (starting event in the world, status it ends in, roles allowed)
    "submit": ("draft", IN_REVIEW, EVERYONE),
    "publish": ("in_review", PUBLISHED, EDITORS),
    "return": ("in_review", DRAFT, EDITORS),
    "retract": ("published", RETRACTED, EDITORS),
}
MOVE_CASES = [(move, role) for move in MOVES for role in ROLES]


@pytest.mark.parametrize(
    ("move", "role"), MOVE_CASES, ids=[f"{role}: {move}" for move, role in MOVE_CASES]
)
def test_posting_a_workflow_move_changes_the_status_only_for_those_allowed(
    world, people, move, role
):
    start, to_status, allowed = MOVES[move]
    event = getattr(world, start)
    before = event.status

    response = client_for(people[role]).post(move_url(event, move), {"comment": "Checked."})

    if allowed[role] == 200:
        assert response.status_code == 302
        assert response.url == admin_url("event", "change", event)
        assert status_of(event) == to_status
        transition = event.transitions.get(to_status=to_status)
        assert (transition.from_status, transition.user) == (before, people[role])
    else:
        assert response.status_code == 403
        assert status_of(event) == before
        assert not event.transitions.filter(to_status=to_status).exists()


@pytest.mark.parametrize("move", MOVES)
def test_posting_a_workflow_move_sends_an_anonymous_visitor_to_log_in(world, move):
    event = getattr(world, MOVES[move][0])
    before = event.status

    response = Client().post(move_url(event, move), {"comment": "Checked."})

    assert_sent_to_log_in(response, move_url(event, move))
    assert status_of(event) == before


# Bulk actions on the event changelist -----------------------------------------------------

ACTIONS = {
    # action: (starting event, status it ends in, roles allowed, extra POST data)
    "submit_selected": ("draft", IN_REVIEW, EVERYONE, {}),
    "publish_selected": ("in_review", PUBLISHED, EDITORS, {}),
    "return_selected": ("published", DRAFT, EDITORS, {}),
    "retract_selected": ("published", RETRACTED, EDITORS, {"apply": "1", "comment": "Wrong."}),
}
ACTION_CASES = [(action, role) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(
    ("action", "role"), ACTION_CASES, ids=[f"{role}: {action}" for action, role in ACTION_CASES]
)
def test_bulk_action_changes_the_status_only_for_those_allowed(world, people, action, role):
    start, to_status, allowed, extra = ACTIONS[action]
    event = getattr(world, start)
    before = event.status

    response = post_action(client_for(people[role]), EVENT_CHANGELIST, action, event, **extra)

    assert response.status_code == 200
    if allowed[role] == 200:
        assert status_of(event) == to_status
        assert shown_messages(response) == [
            f"{event.public_id} is now {EventStatus(to_status).label.lower()}."
        ]
    else:
        assert status_of(event) == before
        assert shown_messages(response) == ["No action selected."]


@pytest.mark.parametrize("role", ROLES)
def test_event_changelist_offers_each_role_only_its_actions(world, people, role):
    response = client_for(people[role]).get(EVENT_CHANGELIST)

    offered = {name for name, _label in response.context["action_form"].fields["action"].choices}
    moves = {"submit_selected"}
    if role != "curator":
        moves |= {"publish_selected", "return_selected", "retract_selected"}
    assert offered - {""} == moves


@pytest.mark.parametrize("action", ACTIONS)
def test_bulk_action_sends_an_anonymous_visitor_to_log_in(world, action):
    event = getattr(world, ACTIONS[action][0])
    before = event.status

    response = post_action(Client(), EVENT_CHANGELIST, action, event, follow=False)

    assert_sent_to_log_in(response, EVENT_CHANGELIST)
    assert status_of(event) == before


def test_nobody_can_delete_events_through_the_bulk_delete_action(world, editor):
    response = post_action(
        client_for(editor), EVENT_CHANGELIST, "delete_selected", world.draft, post="yes"
    )

    assert shown_messages(response) == ["No action selected."]
    assert Event.objects.filter(pk=world.draft.pk).exists()


def test_retract_action_first_asks_for_a_reason(world, editor):
    event = world.published

    response = post_action(client_for(editor), EVENT_CHANGELIST, "retract_selected", event)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/events/event/retract_selected.html"
    assert list(response.context["events"]) == [event]
    assert status_of(event) == PUBLISHED


def test_retract_action_with_an_empty_reason_is_refused(world, editor):
    event = world.published

    response = post_action(
        client_for(editor), EVENT_CHANGELIST, "retract_selected", event, apply="1", comment=" "
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"comment": ["This field is required."]}
    assert status_of(event) == PUBLISHED


# Deleting events --------------------------------------------------------------------------


def test_an_editor_deletes_a_draft_and_its_history_stays(world, editor):
    draft = world.draft
    url = admin_url("event", "delete", draft)

    response = client_for(editor).post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Event.objects.filter(pk=draft.pk).exists()
    records = Event.history.filter(id=draft.pk)
    assert records.count() >= 2
    deletion = records.latest()
    assert (deletion.history_type, deletion.history_user) == ("-", editor)
    assert deletion.public_id == draft.public_id


def test_a_deleted_draft_keeps_its_workflow_history(world, editor):
    event = world.in_review
    public_id = event.public_id

    client_for(editor).post(admin_url("event", "delete", event), {"post": "yes"})

    transition = EventTransition.objects.get(public_id=public_id)
    assert (transition.event, transition.to_status) == (None, IN_REVIEW)


@pytest.mark.parametrize(
    ("role", "which"),
    [
        ("curator", "draft"),
        ("editor", "published"),
        ("editor", "withdrawn"),
        ("editor", "retracted"),
        ("superuser", "withdrawn"),
    ],
)
def test_posting_a_forbidden_delete_is_refused_and_the_event_stays(world, people, role, which):
    event = getattr(world, which)

    response = client_for(people[role]).post(admin_url("event", "delete", event), {"post": "yes"})

    assert response.status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


def test_the_change_page_offers_delete_only_where_it_is_allowed(world, curator, editor):
    def offers_delete(user, event):
        response = client_for(user).get(admin_url("event", "change", event))
        return admin_url("event", "delete", event) in response.content.decode()

    assert not offers_delete(curator, world.draft)
    assert offers_delete(editor, world.draft)
    assert not offers_delete(editor, world.withdrawn)


# Merging actors and platforms -------------------------------------------------------------


@pytest.mark.parametrize("model", ["actor", "platform"])
def test_a_curator_is_not_offered_merge_and_posting_it_merges_nothing(world, curator, model):
    rows = world.actors if model == "actor" else world.platforms
    client = client_for(curator)
    url = admin_url(model, "changelist")
    listed = client.get(url)

    response = post_action(client, url, "merge_selected", *rows, apply="1", keep=rows[0].pk)

    action_form = listed.context["action_form"]
    offered = dict(action_form.fields["action"].choices) if action_form else {}
    assert "merge_selected" not in offered
    assert response.status_code == 200
    assert type(rows[0]).objects.filter(pk__in=[row.pk for row in rows]).count() == 2


@pytest.mark.parametrize("model", ["actor", "platform"])
@pytest.mark.parametrize("role", ["editor", "superuser"])
def test_an_editor_merges_after_choosing_which_to_keep(world, people, role, model):
    rows = world.actors if model == "actor" else world.platforms
    client = client_for(people[role])
    url = admin_url(model, "changelist")

    asked = post_action(client, url, "merge_selected", *rows)
    response = post_action(client, url, "merge_selected", *rows, apply="1", keep=rows[0].pk)

    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/events/merge.html"
    assert shown_messages(response) == [f"Merged into {rows[0]}."]
    remaining = type(rows[0]).objects.filter(pk__in=[row.pk for row in rows])
    assert list(remaining) == [rows[0]]
    assert rows[1].name in set(rows[0].aliases.values_list("name", flat=True))


@pytest.mark.parametrize("model", ["actor", "platform"])
def test_merge_sends_an_anonymous_visitor_to_log_in(world, model):
    rows = world.actors if model == "actor" else world.platforms
    url = admin_url(model, "changelist")

    response = post_action(Client(), url, "merge_selected", *rows, follow=False, apply="1")

    assert_sent_to_log_in(response, url)
    assert type(rows[0]).objects.filter(pk__in=[row.pk for row in rows]).count() == 2


# A curator cannot publish by the back door ------------------------------------------------


def test_a_curator_records_a_new_event_as_a_draft_in_the_add_form(curator):
    client = client_for(curator)
    page = client.get(admin_url("event", "add"))
    data = form_data(page) | {
        "title": "WeChat public accounts removed",
        "summary": "Tencent removed over 40 public accounts.",
        "date_text": "2014-03",
        "country": "CN",
        "status": PUBLISHED,
    }
    add_inline_rows(data, "citations", {"source": SourceFactory().pk, "quote": "40 accounts"})

    response = client.post(admin_url("event", "add"), data)

    assert response.status_code == 302, form_errors(response)
    event = Event.objects.get()
    assert (event.public_id, event.status, event.created_by) == ("CN-2014-0001", DRAFT, curator)
    assert event.citations.count() == 1


def test_a_curator_posting_published_in_the_change_form_leaves_it_a_draft(world, curator):
    event = world.draft
    client = client_for(curator)
    data = change_form_data(client, event, status=PUBLISHED, title="Renamed")

    response = client.post(admin_url("event", "change", event), data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.status, event.first_published_at) == ("Renamed", DRAFT, None)


def test_an_editor_posting_draft_in_the_change_form_leaves_it_published(world, editor):
    event = world.published
    client = client_for(editor)
    data = change_form_data(client, event, status=DRAFT, title="Renamed")

    response = client.post(admin_url("event", "change", event), data)

    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.status) == ("Renamed", PUBLISHED)


def test_a_curator_posting_to_the_publish_url_leaves_the_event_in_review(world, curator):
    event = world.in_review

    response = client_for(curator).post(move_url(event, "publish"), {"comment": "Go."})

    assert response.status_code == 403
    event.refresh_from_db()
    assert (event.status, event.first_published_at) == (IN_REVIEW, None)


def test_a_curator_posting_the_publish_action_leaves_the_event_in_review(world, curator):
    event = world.in_review

    post_action(client_for(curator), EVENT_CHANGELIST, "publish_selected", event)

    event.refresh_from_db()
    assert (event.status, event.first_published_at) == (IN_REVIEW, None)


def test_a_curator_calling_the_publish_service_is_refused(world, curator):
    with pytest.raises(PermissionDenied, match="that is for editors"):
        event_publish(event=world.in_review, user=curator)

    assert status_of(world.in_review) == IN_REVIEW


@pytest.mark.parametrize(
    ("which", "linked"),
    [
        ("draft", {"submit", "publish"}),
        ("in_review", {"publish", "return"}),
        ("published", {"return", "retract"}),
        ("retracted", set()),
    ],
)
def test_the_change_page_links_the_moves_open_from_the_events_status(world, editor, which, linked):
    event = getattr(world, which)

    page = client_for(editor).get(admin_url("event", "change", event)).content.decode()

    assert {move for move in MOVES if move_url(event, move) in page} == linked


@pytest.mark.parametrize(
    ("merge", "make"), [(actor_merge, ActorFactory), (platform_merge, PlatformFactory)]
)
def test_a_curator_calling_a_merge_service_is_refused(curator, merge, make):
    keep, other = make(), make()

    with pytest.raises(PermissionDenied, match="Merging is for editors"):
        merge(keep=keep, merge=[keep, other], user=curator)

    assert type(other).objects.filter(pk=other.pk).exists()


# Status transitions through the services --------------------------------------------------


def test_submitting_a_draft_puts_it_in_review(curator):
    event = ready_event()

    event_submit(event=event, user=curator, comment="Ready for a look.")

    event.refresh_from_db()
    assert event.status == IN_REVIEW
    assert event.submitted_at is not None
    assert event.updated_by == curator
    transition = EventTransition.objects.get(event=event)
    assert (
        transition.public_id,
        transition.from_status,
        transition.to_status,
        transition.user,
        transition.comment,
    ) == (event.public_id, DRAFT, IN_REVIEW, curator, "Ready for a look.")


def test_publishing_an_event_in_review_records_when_it_was_first_published(curator, editor):
    event = event_submit(event=ready_event(), user=curator)

    event_publish(event=event, user=editor, comment="Sources check out.")

    event.refresh_from_db()
    assert event.status == PUBLISHED
    assert event.first_published_at is not None
    transition = event.transitions.get(to_status=PUBLISHED)
    assert (transition.from_status, transition.user, transition.comment) == (
        IN_REVIEW,
        editor,
        "Sources check out.",
    )


@pytest.fixture
def reader(client):
    """An anonymous reader of the public API, which throttles per address."""
    cache.clear()
    yield client
    cache.clear()


def test_returning_a_published_event_to_draft_withdraws_it_and_keeps_its_first_publication(
    reader, editor
):
    event = event_publish(event=ready_event(), user=editor)
    first_published_at = event.first_published_at

    event_return_to_draft(event=event, user=editor, comment="Needs a second source.")

    event.refresh_from_db()
    assert event.status == DRAFT
    assert event.first_published_at == first_published_at
    transition = event.transitions.get(to_status=DRAFT)
    assert (transition.from_status, transition.user, transition.comment) == (
        PUBLISHED,
        editor,
        "Needs a second source.",
    )
    assert reader.get(f"/api/v1/events/{event.public_id}/").status_code == 404
    assert changes_by_event(reader)[event.public_id]["change"] == "withdrawn"


def test_republishing_keeps_the_first_publication_date(editor):
    event = event_publish(event=ready_event(), user=editor)
    first_published_at = event.first_published_at
    event_return_to_draft(event=event, user=editor)

    event_publish(event=event, user=editor)

    event.refresh_from_db()
    assert (event.status, event.first_published_at) == (PUBLISHED, first_published_at)


def changes_by_event(client):
    response = client.get("/api/v1/changes/")
    assert response.status_code == 200
    return {change["event"]: change for change in response.json()["results"]}


@pytest.fixture
def retracted(editor):
    event = event_publish(event=ready_event(title="Accounts removed"), user=editor)
    return event_retract(event=event, user=editor, reason="The source was a hoax.")


def test_retracting_records_when_and_why_and_keeps_the_event(retracted, editor):
    event = Event.objects.get(pk=retracted.pk)

    assert event.status == RETRACTED
    assert event.retracted_at is not None
    assert event.retraction_reason == "The source was a hoax."
    transition = event.transitions.get(to_status=RETRACTED)
    assert (transition.from_status, transition.user, transition.comment) == (
        PUBLISHED,
        editor,
        "The source was a hoax.",
    )


def test_a_retracted_event_leaves_the_api(reader, retracted):
    response = reader.get(f"/api/v1/events/{retracted.public_id}/")

    assert response.status_code == 404
    listed = reader.get("/api/v1/events/").json()["results"]
    assert retracted.public_id not in {event["id"] for event in listed}


def test_a_retracted_events_page_answers_gone_with_the_reason(reader, retracted):
    response = reader.get(f"/events/{retracted.public_id}/")

    assert response.status_code == 410
    page = response.content.decode()
    assert "The source was a hoax." in page
    assert "Accounts removed" not in page


def test_the_change_feed_shows_a_retracted_event_with_its_reason(reader, retracted):
    change = changes_by_event(reader)[retracted.public_id]

    assert change["change"] == "retracted"
    assert change["retraction_reason"] == "The source was a hoax."
    assert change["data"] is None


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_retracting_without_a_reason_is_refused(editor, reason):
    event = event_publish(event=ready_event(), user=editor)

    with pytest.raises(ValidationError, match=f"Say why {event.public_id} is retracted"):
        event_retract(event=event, user=editor, reason=reason)

    assert status_of(event) == PUBLISHED
    assert not event.transitions.filter(to_status=RETRACTED).exists()


def test_publishing_lists_everything_the_event_lacks(editor):
    event = EventFactory(event_type=None, country="")

    with pytest.raises(ValidationError) as refused:
        event_publish(event=event, user=editor)

    assert refused.value.messages == [
        f"{event.public_id} cannot be published yet: it needs at least one citation, "
        "an event type, a country, or 'global'."
    ]
    assert status_of(event) == DRAFT
    assert not EventTransition.objects.exists()


def test_publishing_a_global_event_needs_no_country(editor):
    event = ready_event(country="", is_global=True)

    event_publish(event=event, user=editor)

    assert status_of(event) == PUBLISHED


@pytest.mark.parametrize(
    ("start", "move", "words"),
    [
        (DRAFT, event_retract, "is draft; it cannot become retracted"),
        (PUBLISHED, event_submit, "is published; it cannot become in review"),
        (DRAFT, event_return_to_draft, "is draft; it cannot become draft"),
        (RETRACTED, event_publish, "is retracted; it cannot become published"),
    ],
    ids=["retract a draft", "submit a published event", "return a draft", "publish a retraction"],
)
def test_a_move_from_the_wrong_status_is_refused(editor, start, move, words):
    event = ready_event(status=start)
    kwargs = {"reason": "Wrong."} if move is event_retract else {}

    with pytest.raises(ValidationError, match=words):
        move(event=event, user=editor, **kwargs)

    assert status_of(event) == start
    assert not EventTransition.objects.exists()


# Status transitions through the admin -----------------------------------------------------


def test_submit_publish_return_and_retract_through_the_admin(curator, editor):
    event = ready_event()
    as_curator, as_editor = client_for(curator), client_for(editor)

    as_curator.post(move_url(event, "submit"), {"comment": "Please check."})
    event.refresh_from_db()
    assert (event.status, event.submitted_at is not None) == (IN_REVIEW, True)

    as_editor.post(move_url(event, "publish"), {"comment": "Good."})
    event.refresh_from_db()
    assert (event.status, event.first_published_at is not None) == (PUBLISHED, True)

    as_editor.post(move_url(event, "return"), {"comment": "One more source."})
    as_curator.post(move_url(event, "submit"), NO_COMMENT)
    as_editor.post(move_url(event, "publish"), NO_COMMENT)
    as_editor.post(move_url(event, "retract"), {"comment": "A hoax."})
    event.refresh_from_db()
    assert (event.status, event.retraction_reason) == (RETRACTED, "A hoax.")
    assert event.retracted_at is not None

    recorded = event.transitions.order_by("at", "id")
    assert [(t.from_status, t.to_status, t.user, t.comment) for t in recorded] == [
        (DRAFT, IN_REVIEW, curator, "Please check."),
        (IN_REVIEW, PUBLISHED, editor, "Good."),
        (PUBLISHED, DRAFT, editor, "One more source."),
        (DRAFT, IN_REVIEW, curator, ""),
        (IN_REVIEW, PUBLISHED, editor, ""),
        (PUBLISHED, RETRACTED, editor, "A hoax."),
    ]


def test_retracting_in_the_admin_without_a_reason_is_refused(world, editor):
    event = world.published

    response = client_for(editor).post(move_url(event, "retract"), {"comment": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"comment": ["This field is required."]}
    assert status_of(event) == PUBLISHED


def test_publishing_in_the_admin_names_what_is_missing(editor):
    event = event_submit(event=EventFactory(event_type=None, country=""))

    response = client_for(editor).post(move_url(event, "publish"), NO_COMMENT, follow=True)

    assert shown_messages(response) == [
        f"{event.public_id} cannot be published yet: it needs at least one citation, "
        "an event type, a country, or 'global'."
    ]
    assert status_of(event) == IN_REVIEW


def test_the_publish_page_says_what_the_event_still_needs(editor):
    event = EventFactory(country="")

    response = client_for(editor).get(move_url(event, "publish"))

    assert "still needs at least one citation, a country, or &#x27;global&#x27;." in (
        response.content.decode()
    )


def test_retracting_a_draft_in_the_admin_is_refused_with_a_message(world, editor):
    event = world.draft

    response = client_for(editor).post(move_url(event, "retract"), {"comment": "No."}, follow=True)

    assert shown_messages(response) == [
        f"{event.public_id} is draft; it cannot become retracted from there."
    ]
    assert status_of(event) == DRAFT


def test_submitting_a_published_event_in_the_admin_is_refused_with_a_message(world, curator):
    event = world.published

    response = client_for(curator).post(move_url(event, "submit"), NO_COMMENT, follow=True)

    assert shown_messages(response) == [
        f"{event.public_id} is published; it cannot become in review from there."
    ]
    assert status_of(event) == PUBLISHED


# History and restore ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "make", "field", "value"),
    [
        ("event", lambda: EventFactory(), "title", "Renamed"),
        ("actor", lambda: ActorFactory(), "name", "Cyberspace Administration"),
        ("platform", lambda: PlatformFactory(), "name", "WeChat"),
        ("source", lambda: SourceFactory(), "title", "Accounts closed"),
    ],
)
def test_saving_in_the_admin_records_history_with_the_user(curator, model, make, field, value):
    obj = make()
    client = client_for(curator)
    data = change_form_data(client, obj, **{field: value})
    records_before = type(obj).history.filter(id=obj.pk).count()

    response = client.post(admin_url(model, "change", obj), data)

    assert response.status_code == 302, form_errors(response)
    records = type(obj).history.filter(id=obj.pk)
    assert records.count() == records_before + 1
    latest = records.latest()
    assert (latest.history_type, latest.history_user, getattr(latest, field)) == (
        "~",
        curator,
        value,
    )


def test_adding_a_citation_and_an_actor_role_records_their_history_with_the_user(curator):
    event = EventFactory()
    source, actor = SourceFactory(), ActorFactory()
    client = client_for(curator)
    data = change_form_data(client, event)
    add_inline_rows(data, "citations", {"source": source.pk, "quote": "40 accounts"})
    add_inline_rows(data, "actor_roles", {"actor": actor.pk, "role": "ordered"})

    response = client.post(admin_url("event", "change", event), data)

    assert response.status_code == 302, form_errors(response)
    citation, role = Citation.objects.get(event=event), EventActor.objects.get(event=event)
    assert [(r.history_type, r.history_user) for r in citation.history.all()] == [("+", curator)]
    assert [(r.history_type, r.history_user) for r in role.history.all()] == [("+", curator)]


def test_changing_and_removing_a_citation_records_its_history_with_the_user(curator, editor):
    citation = CitationFactory(quote="40 accounts")
    event = citation.event
    data = change_form_data(client_for(curator), event, **{"citations-0-quote": "41 accounts"})
    client_for(curator).post(admin_url("event", "change", event), data)
    data = change_form_data(client_for(editor), event, **{"citations-0-DELETE": "on"})

    response = client_for(editor).post(admin_url("event", "change", event), data)

    assert response.status_code == 302, form_errors(response)
    records = Citation.history.filter(id=citation.pk).order_by("history_date")
    assert [(r.history_type, r.history_user, r.quote) for r in records] == [
        ("+", None, "40 accounts"),
        ("~", curator, "41 accounts"),
        ("-", editor, "41 accounts"),
    ]


def test_saving_through_the_service_records_the_user_in_history(curator):
    event = EventFactory()
    event.title = "Renamed"

    event_save(event=event, user=curator)

    assert Event.history.filter(id=event.pk).latest().history_user == curator


def test_event_history_page_lists_each_change_with_its_user(curator, editor):
    event = EventFactory(title="Accounts removed")
    for user, title in ((curator, "WeChat accounts removed"), (editor, "40 accounts removed")):
        data = change_form_data(client_for(user), event, title=title)
        client_for(user).post(admin_url("event", "change", event), data)

    response = client_for(curator).get(admin_url("event", "history", event))

    assert response.status_code == 200
    records = list(response.context["page_obj"])
    assert [(r.history_type, r.history_user, r.title) for r in records] == [
        ("~", editor, "40 accounts removed"),
        ("~", curator, "WeChat accounts removed"),
        ("+", None, "Accounts removed"),
    ]
    page = response.content.decode()
    for user in (curator, editor):
        user_link = reverse("admin:auth_user_change", args=[user.pk])
        assert f'<a href="{user_link}">{user.username}</a>' in page


@pytest.fixture
def renamed(curator):
    """An event first titled 'Accounts removed', renamed by a curator in the admin."""
    event = ready_event(title="Accounts removed")
    client = client_for(curator)
    data = change_form_data(client, event, title="WeChat accounts removed")
    assert client.post(admin_url("event", "change", event), data).status_code == 302
    event.refresh_from_db()
    return event


def first_version(event):
    return Event.history.filter(id=event.pk).earliest()


def revert(user, event, record):
    client = client_for(user)
    page = client.get(version_url(event, record))
    assert page.status_code == 200
    return client.post(version_url(event, record), form_data(page))


@pytest.mark.parametrize("role", ["curator", "editor"])
def test_history_version_page_shows_the_old_title(renamed, people, role):
    response = client_for(people[role]).get(version_url(renamed, first_version(renamed)))

    assert response.status_code == 200
    assert response.context["adminform"].form["title"].value() == "Accounts removed"


@pytest.mark.parametrize("role", ["curator", "editor"])
def test_reverting_restores_the_old_title_as_a_new_history_record(renamed, people, role):
    user = people[role]
    records_before = Event.history.filter(id=renamed.pk).count()

    response = revert(user, renamed, first_version(renamed))

    assert response.status_code == 302
    event = Event.objects.get(pk=renamed.pk)
    assert event.title == "Accounts removed"
    assert event.public_id == renamed.public_id
    assert event.version == renamed.version + 1
    records = Event.history.filter(id=renamed.pk)
    assert records.count() == records_before + 1
    latest = records.latest()
    assert (latest.history_type, latest.history_user, latest.title) == ("~", user, event.title)


def test_a_reverted_event_is_no_longer_found_by_the_replaced_title(renamed, curator):
    assert list(Event.objects.matching("wechat")) == [renamed]

    revert(curator, renamed, first_version(renamed))

    assert list(Event.objects.matching("wechat")) == []


def test_reverting_to_a_draft_version_leaves_a_published_event_published(renamed, editor):
    published = event_publish(event=renamed, user=editor)

    revert(editor, renamed, first_version(renamed))

    event = Event.objects.get(pk=renamed.pk)
    assert (event.title, event.status) == ("Accounts removed", PUBLISHED)
    assert event.first_published_at == published.first_published_at
    assert event.public_id == renamed.public_id


def test_reverting_to_a_published_version_leaves_a_draft_a_draft(renamed, curator, editor):
    event_publish(event=renamed, user=editor)
    published_version = Event.history.filter(id=renamed.pk, status=PUBLISHED).latest()
    event_return_to_draft(event=renamed, user=editor)

    response = revert(curator, renamed, published_version)

    assert response.status_code == 302
    event = Event.objects.get(pk=renamed.pk)
    assert (event.title, event.status) == ("WeChat accounts removed", DRAFT)


def test_reverting_to_a_retracted_events_old_version_keeps_it_retracted(renamed, editor):
    event_publish(event=renamed, user=editor)
    event_retract(event=renamed, user=editor, reason="A hoax.")

    revert(editor, renamed, first_version(renamed))

    event = Event.objects.get(pk=renamed.pk)
    assert (event.status, event.retraction_reason) == (RETRACTED, "A hoax.")
    assert event.retracted_at is not None


def test_reverting_from_a_stale_version_page_is_refused(renamed, curator, second_curator):
    stale = client_for(curator)
    page = stale.get(version_url(renamed, first_version(renamed)))
    data = change_form_data(client_for(second_curator), renamed, title="Third title")
    client_for(second_curator).post(admin_url("event", "change", renamed), data)

    response = stale.post(version_url(renamed, first_version(renamed)), form_data(page))

    assert response.status_code == 200
    assert conflict_message(response).startswith("colin saved this event at ")
    assert status_of(renamed) == DRAFT
    assert Event.objects.get(pk=renamed.pk).title == "Third title"


# Two curators editing one event -----------------------------------------------------------


def conflict_message(response):
    (message,) = response.context["adminform"].form.non_field_errors()
    return message


def test_the_second_of_two_concurrent_admin_edits_is_refused_naming_who_changed_what(
    curator, second_curator
):
    event = EventFactory(title="Accounts removed", summary="Tencent closed them.")
    first, second = client_for(curator), client_for(second_curator)
    url = admin_url("event", "change", event)
    first_data = change_form_data(first, event, title="WeChat accounts removed")
    second_data = change_form_data(second, event, summary="Tencent closed 40 of them.")

    first_response = first.post(url, first_data)
    second_response = second.post(url, second_data)

    assert first_response.status_code == 302
    assert second_response.status_code == 200
    message = conflict_message(second_response)
    assert message.startswith("carla saved this event at ")
    assert (
        "and changed title: 'Accounts removed' → 'WeChat accounts removed'. "
        "Your changes were not saved" in message
    )
    assert escape(message) in second_response.content.decode()
    saved = Event.objects.get(pk=event.pk)
    assert (saved.title, saved.summary) == ("WeChat accounts removed", "Tencent closed them.")
    assert saved.version == event.version + 1


def test_a_stale_page_is_refused_after_someone_only_added_a_citation(curator, second_curator):
    event = EventFactory(title="Accounts removed")
    first, second = client_for(curator), client_for(second_curator)
    url = admin_url("event", "change", event)
    first_data = add_inline_rows(
        change_form_data(first, event), "citations", {"source": SourceFactory().pk}
    )
    second_data = change_form_data(second, event, title="Renamed")

    first_response = first.post(url, first_data)
    second_response = second.post(url, second_data)

    assert first_response.status_code == 302, form_errors(first_response)
    assert Event.objects.get(pk=event.pk).version == event.version + 1
    assert second_response.status_code == 200
    message = conflict_message(second_response)
    assert message.startswith("carla saved this event at ")
    assert "changed its actors, citations or other linked rows" in message
    assert Event.objects.get(pk=event.pk).title == "Accounts removed"
    assert Citation.objects.filter(event=event).count() == 1


def test_reopening_after_a_refused_edit_lets_it_through(curator, second_curator):
    event = EventFactory(title="Accounts removed")
    url = admin_url("event", "change", event)
    stale = change_form_data(client_for(second_curator), event, summary="Second summary.")
    first = change_form_data(client_for(curator), event, title="WeChat accounts removed")
    client_for(curator).post(url, first)
    assert client_for(second_curator).post(url, stale).status_code == 200

    fresh = change_form_data(client_for(second_curator), event, summary="Second summary.")
    response = client_for(second_curator).post(url, fresh)

    assert response.status_code == 302
    saved = Event.objects.get(pk=event.pk)
    assert (saved.title, saved.summary) == ("WeChat accounts removed", "Second summary.")
    assert saved.version == event.version + 2


def test_a_workflow_move_makes_an_open_edit_page_stale(world, curator, editor):
    event = world.in_review
    url = admin_url("event", "change", event)
    stale = change_form_data(client_for(curator), event, title="Renamed")
    client_for(editor).post(move_url(event, "publish"), NO_COMMENT)

    response = client_for(curator).post(url, stale)

    assert response.status_code == 200
    assert "edith saved this event" in conflict_message(response)
    assert Event.objects.get(pk=event.pk).title == "Waiting for review"


def test_of_two_in_memory_copies_the_second_save_raises_edit_conflict(curator, second_curator):
    event = EventFactory(title="Accounts removed")
    first, second = Event.objects.get(pk=event.pk), Event.objects.get(pk=event.pk)
    first.title = "WeChat accounts removed"
    second.summary = "Another summary."

    event_save(event=first, user=curator)
    with pytest.raises(EditConflict) as conflict:
        event_save(event=second, user=second_curator)

    assert "title: 'Accounts removed' → 'WeChat accounts removed'" in conflict.value.messages[0]
    saved = Event.objects.get(pk=event.pk)
    assert (saved.title, saved.summary, saved.version) == (
        "WeChat accounts removed",
        "Something happened.",
        event.version + 1,
    )


# The review queue -------------------------------------------------------------------------

QUEUE_ROW = re.compile(
    r'<td class="field-open_link"><a href="[^"]*">([^<]+)</a></td>.*?'
    r'<td class="field-missing">([^<]*)</td>',
    re.DOTALL,
)


def queue_rows(response):
    return QUEUE_ROW.findall(response.content.decode())


def submitted(event, days_ago):
    event = event_submit(event=event)
    moment = timezone.now() - datetime.timedelta(days=days_ago)
    Event.objects.filter(pk=event.pk).update(submitted_at=moment)
    return event


def test_review_queue_lists_events_in_review_oldest_first_with_what_they_need(curator, editor):
    newest = submitted(ready_event(), days_ago=1)
    oldest = submitted(EventFactory(country=""), days_ago=5)
    middle = submitted(EventFactory(event_type=None), days_ago=3)
    ready_event()  # a draft
    ready_event(status=PUBLISHED)

    response = client_for(editor).get(REVIEW_QUEUE)

    assert response.status_code == 200
    assert queue_rows(response) == [
        (oldest.public_id, "at least one citation, a country, or &#x27;global&#x27;"),
        (middle.public_id, "at least one citation, an event type"),
        (newest.public_id, "nothing: ready to publish"),
    ]


def test_review_queue_drops_an_event_once_it_is_published(curator, editor):
    event = submitted(ready_event(), days_ago=1)
    event_publish(event=event, user=editor)

    response = client_for(curator).get(REVIEW_QUEUE)

    assert queue_rows(response) == []


def test_review_queue_offers_no_adding_or_deleting(editor):
    submitted(ready_event(), days_ago=1)

    response = client_for(editor).get(REVIEW_QUEUE)

    assert response.context["has_add_permission"] is False
    assert response.context["action_form"] is None


# The Curator and Editor groups ------------------------------------------------------------

CURATOR_LACKS = (
    "publish_event",
    "delete_event",
    "merge_actor",
    "merge_platform",
    "import_event",
    "import_actor",
    "import_platform",
    "import_source",
    "delete_actor",
    "delete_platform",
    "delete_source",
)
CURATOR_HAS = (
    "add_event",
    "change_event",
    "view_event",
    "add_citation",
    "change_citation",
    "delete_citation",
    "delete_eventactor",
    "add_actor",
    "change_actor",
    "add_source",
    "view_eventtransition",
    "view_eventtype",
)


def codenames(group):
    return set(group.permissions.values_list("codename", flat=True))


def test_groups_ensure_is_idempotent(db):
    first = groups_ensure()
    first_permissions = {name: codenames(group) for name, group in first.items()}

    second = groups_ensure()

    assert Group.objects.filter(name__in=[CURATOR_GROUP, EDITOR_GROUP]).count() == 2
    assert {name: group.pk for name, group in second.items()} == {
        name: group.pk for name, group in first.items()
    }
    assert {name: codenames(group) for name, group in second.items()} == first_permissions


def test_groups_ensure_removes_a_permission_added_by_hand(groups):
    curators = groups[CURATOR_GROUP]
    curators.permissions.add(Permission.objects.get(codename="publish_event"))

    groups_ensure()

    assert "publish_event" not in codenames(curators)


def test_every_documented_permission_exists(groups):
    assert codenames(groups[CURATOR_GROUP]) == set(CURATOR_PERMISSIONS)
    assert codenames(groups[EDITOR_GROUP]) == set(EDITOR_PERMISSIONS)


def test_curators_record_events_but_do_not_publish_delete_merge_or_import(curator):
    assert all(curator.has_perm(f"events.{name}") for name in CURATOR_HAS)
    assert not any(curator.has_perm(f"events.{name}") for name in CURATOR_LACKS)


def test_editors_can_do_what_curators_do_and_publish_delete_merge_and_import(editor):
    assert all(editor.has_perm(f"events.{name}") for name in CURATOR_HAS + CURATOR_LACKS)


def test_editors_keep_the_taxonomy_and_curators_do_not(curator, editor):
    taxonomy = ("events.add_eventtype", "events.change_eventtype", "events.change_eventcategory")

    assert not any(curator.has_perm(name) for name in taxonomy)
    assert all(editor.has_perm(name) for name in taxonomy)


def test_neither_group_may_delete_the_taxonomy_or_touch_accounts(editor):
    for name in ("events.delete_eventtype", "auth.add_user", "auth.change_group"):
        assert not editor.has_perm(name), name
