"""Save Page Now, asked when an editor publishes or a curator clicks "Archive now", never for
a draft: in-process (a thread, as under `make run`) and on a real Redis queue with a real
worker, both against a fake archive on 127.0.0.1."""

import os

import pytest
import redis
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from events import tasks
from events.choices import EventStatus
from events.models import Event, Source
from events.services import (
    CURATOR_GROUP,
    EDITOR_GROUP,
    event_publish,
    event_submit,
    revision_proposal_of,
    revision_propose,
)
from tests.admin_forms import add_inline_rows, form_data
from tests.events import local_servers
from tests.factories import CitationFactory, EventFactory, SourceFactory, member_of

TASKS_REDIS = "redis://127.0.0.1:6379/14"  # a database no other test uses
COPY_TIME = "2026-12-05 09:30:00+00:00"
CAPTURED = local_servers.CAPTURED
fake_archive, pages = local_servers.fake_archive, local_servers.pages  # the fixtures


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def ready_draft(**source_fields):
    """Return a draft with what publication needs, citing a source of its own."""
    source = SourceFactory(**source_fields)
    return CitationFactory(event=EventFactory(country="CN"), source=source).event, source


def publish_in_admin(editor, event):
    move = reverse("admin:events_event_move", args=[event.pk, "publish"])
    response = client_for(editor).post(move, {"comment": ""})
    assert response.status_code == 302
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


def saved(url):
    return f"/save/{url}"


def copy_of(url):
    """The copy's address as Save Page Now names it, wherever ARCHIVE_ENDPOINT sent the request."""
    return f"https://web.archive.org/web/{CAPTURED}/{url}"


# In-process: a thread, as under `make run` -----------------------------------------------------

in_process = pytest.mark.django_db(transaction=True)  # the task's thread reads committed rows


@pytest.fixture
def people(db):
    return member_of(CURATOR_GROUP, "carla"), member_of(EDITOR_GROUP, "edith")


@in_process
def test_publishing_archives_the_events_sources_in_process(fake_archive, people):
    _curator, editor = people
    event, source = ready_draft()
    publish_in_admin(editor, event)
    tasks.wait_for_threads()

    source.refresh_from_db()
    assert fake_archive.requests == [saved(source.url)]
    assert source.archive_url == copy_of(source.url)
    assert str(source.archived_at) == COPY_TIME
    assert source.archive_error == ""
    assert source.history.latest().history_change_reason == "Saved by Save Page Now"


@in_process
def test_a_draft_or_an_event_in_review_asks_the_archive_nothing(fake_archive, people):
    curator, _editor = people
    draft, _source = ready_draft()
    page = client_for(curator).get(reverse("admin:events_event_change", args=[draft.pk]))
    client_for(curator).post(reverse("admin:events_event_change", args=[draft.pk]), form_data(page))
    event_submit(event=Event.objects.get(pk=draft.pk), user=curator)
    tasks.wait_for_threads()
    assert fake_archive.requests == []
    assert Source.objects.get().archive_url == ""


@in_process
def test_a_source_that_already_has_a_copy_is_not_archived_again_on_publish(fake_archive, people):
    kept = "https://web.archive.org/web/20140101000000/https://news.example.org/a"
    event, source = ready_draft(archive_url=kept)
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    assert fake_archive.requests == []
    source.refresh_from_db()
    assert source.archive_url == kept


@in_process
def test_a_failure_is_retried_then_the_copy_recorded(fake_archive, people):
    fake_archive.answers = [(503, []), (429, [])]
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    assert fake_archive.requests == [saved(source.url)] * 3
    source.refresh_from_db()
    assert source.archive_url == copy_of(source.url)
    assert source.archive_error == ""


@in_process
def test_a_failure_that_lasts_is_shown_on_the_source(fake_archive, people, settings):
    curator, editor = people
    fake_archive.answers = [(503, [])] * 3
    event, source = ready_draft()
    publish_in_admin(editor, event)
    tasks.wait_for_threads()

    assert len(fake_archive.requests) == 3  # the first try and ARCHIVE_RETRY_SECONDS' two
    source.refresh_from_db()
    assert source.archive_url == ""
    assert source.archive_error == "Save Page Now answered 503 Service Unavailable."
    page = client_for(curator).get(reverse("admin:events_source_change", args=[source.pk]))
    assert "Save Page Now answered 503 Service Unavailable." in page.content.decode()
    failed = client_for(curator).get(
        reverse("admin:events_source_changelist"), {"archived": "failed"}
    )
    assert list(failed.context["cl"].result_list) == [source]


@in_process
def test_a_page_blocked_by_robots_is_not_retried(fake_archive, people):
    robots = "RobotAccessControlException: Blocked By Robots"
    fake_archive.answers = [(200, [("X-Archive-Wayback-Runtime-Error", robots)])]
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    assert len(fake_archive.requests) == 1
    source.refresh_from_db()
    assert source.archive_error == (
        "Save Page Now refused: the site's robots.txt does not allow it."
    )


@in_process
def test_another_error_save_page_now_names_is_shown_and_retried(fake_archive, people):
    problem = "LiveDocumentNotAvailableException: Could not connect to the page"
    fake_archive.answers = [(200, [("X-Archive-Wayback-Runtime-Error", problem)])]
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    assert len(fake_archive.requests) == 2
    source.refresh_from_db()
    assert (source.archive_url, source.archive_error) == (copy_of(source.url), "")


@in_process
@pytest.mark.parametrize(
    "status, error, tries",
    [
        (403, "Save Page Now answered 403 Forbidden.", 1),
        (404, "Save Page Now answered 404 Not Found.", 1),
        (520, "Save Page Now answered 520.", 3),
        (200, "Save Page Now answered 200 but named no copy.", 3),
    ],
)
def test_an_answer_without_a_copy_says_what_came_back_and_retries_only_what_may_pass(
    fake_archive, people, status, error, tries
):
    fake_archive.answers = [(status, [])] * 3
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    assert len(fake_archive.requests) == tries
    source.refresh_from_db()
    assert (source.archive_url, source.archive_error) == ("", error)


@in_process
def test_an_archive_that_hangs_is_a_recorded_failure(fake_archive, people, settings):
    settings.ARCHIVE_TIMEOUT = 1
    settings.ARCHIVE_RETRY_SECONDS = []
    fake_archive.answers = [("hang", [])]
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    source.refresh_from_db()
    assert source.archive_error == "Save Page Now did not answer (ReadTimeout)."


@in_process
def test_a_memento_link_names_the_copy(fake_archive, people):
    copy = "https://web.archive.org/web/20261205093000/https://news.example.org/x"
    link = f'<https://news.example.org/x>; rel="original", <{copy}>; rel="memento"; datetime="x"'
    fake_archive.answers = [(200, [("Link", link)])]
    event, source = ready_draft()
    publish_in_admin(people[1], event)
    tasks.wait_for_threads()
    source.refresh_from_db()
    assert source.archive_url == copy


@in_process
def test_a_curator_archives_a_source_now_from_its_page(fake_archive, people):
    curator, _editor = people
    draft, source = ready_draft()
    archive_page = reverse("admin:events_source_archive", args=[source.pk])
    client = client_for(curator)

    change_page = client.get(reverse("admin:events_source_change", args=[source.pk]))
    assert archive_page in change_page.content.decode()
    confirm = client.get(archive_page)
    assert draft.public_id in confirm.content.decode()  # it names who would be given away
    assert fake_archive.requests == []

    response = client.post(archive_page, follow=True)
    tasks.wait_for_threads()
    assert "Asked the Internet Archive to save 1 source(s)." in response.content.decode()
    assert fake_archive.requests == [saved(source.url)]
    assert Source.objects.get(pk=source.pk).archive_url == copy_of(source.url)


@in_process
def test_an_editor_archives_selected_sources_with_the_action(fake_archive, people):
    _curator, editor = people
    first, second, no_url = SourceFactory(), SourceFactory(), SourceFactory(url="")
    data = {"action": "archive_selected", "_selected_action": [first.pk, second.pk, no_url.pk]}
    client_for(editor).post(reverse("admin:events_source_changelist"), data)
    tasks.wait_for_threads()
    assert sorted(fake_archive.requests) == sorted([saved(first.url), saved(second.url)])


@in_process
def test_with_archiving_off_nothing_is_sent_and_the_admin_says_so(people, settings):
    settings.ARCHIVE_ENDPOINT = ""
    curator, editor = people
    event, source = ready_draft()
    publish_in_admin(editor, event)
    response = client_for(curator).post(
        reverse("admin:events_source_archive", args=[source.pk]), follow=True
    )
    assert "Archiving is off: set ARCHIVE_ENDPOINT." in response.content.decode()
    assert tasks._threads == set()


# A real Redis queue and a real worker ----------------------------------------------------------


@pytest.fixture
def redis_queue(settings):
    connection = redis.Redis.from_url(TASKS_REDIS)
    try:
        connection.ping()
    except redis.ConnectionError:
        if os.environ.get("REDIS_TESTS_REQUIRED"):
            raise
        pytest.skip("needs Redis on 127.0.0.1:6379")
    connection.flushdb()
    settings.TASKS_REDIS_URL = TASKS_REDIS
    settings.RQ_QUEUES = {settings.TASKS_QUEUE: {"URL": TASKS_REDIS}}
    yield Queue(settings.TASKS_QUEUE, connection=connection)
    connection.flushdb()


def work(queue):
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_publishing_queues_archiving_that_a_worker_does(
    fake_archive, redis_queue, db, django_capture_on_commit_callbacks
):
    editor = member_of(EDITOR_GROUP, "edith")
    event, source = ready_draft()
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event=event, user=editor)

    assert redis_queue.count == 1 and fake_archive.requests == []
    work(redis_queue)
    source.refresh_from_db()
    assert fake_archive.requests == [saved(source.url)]
    assert source.archive_url == copy_of(source.url)


def test_the_queue_retries_a_failure_then_records_the_copy(
    fake_archive, redis_queue, db, django_capture_on_commit_callbacks
):
    fake_archive.answers = [(502, [])]
    event, source = ready_draft()
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event=event, user=member_of(EDITOR_GROUP, "edith"))
    work(redis_queue)
    source.refresh_from_db()
    assert len(fake_archive.requests) == 2
    assert (source.archive_url, source.archive_error) == (
        copy_of(source.url),
        "",
    )


def test_the_queue_waits_before_a_retry(
    fake_archive, redis_queue, db, settings, django_capture_on_commit_callbacks
):
    settings.ARCHIVE_RETRY_SECONDS = [60, 600]
    fake_archive.answers = [(503, [])]
    event, source = ready_draft()
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event=event, user=member_of(EDITOR_GROUP, "edith"))
    work(redis_queue)
    source.refresh_from_db()
    assert source.archive_error == "Save Page Now answered 503 Service Unavailable."
    assert len(ScheduledJobRegistry(queue=redis_queue)) == 1  # back in a minute
    assert redis_queue.count == 0


def test_a_worker_checks_links_from_the_queue(pages, redis_queue, db, monkeypatch):
    from events.services import link_checks

    monkeypatch.setattr(link_checks, "address_allowed", lambda address: address.is_loopback)
    live = SourceFactory(url=f"{pages.base}/live")
    dead = SourceFactory(url=f"{pages.base}/gone")
    tasks.enqueue(tasks.check_links)
    work(redis_queue)
    assert Source.objects.get(pk=live.pk).is_link_dead is False
    assert Source.objects.get(pk=dead.pk).link_status == "404 Not Found"


def test_a_queue_that_does_not_answer_is_shown_on_the_source(
    fake_archive, db, settings, django_capture_on_commit_callbacks
):
    settings.TASKS_REDIS_URL = "redis://127.0.0.1:1/14"  # nothing listens there
    settings.RQ_QUEUES = {settings.TASKS_QUEUE: {"URL": settings.TASKS_REDIS_URL}}
    event, source = ready_draft()
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event=event, user=member_of(EDITOR_GROUP, "edith"))
    source.refresh_from_db()
    assert source.archive_error.startswith("Not queued: the task queue did not answer")
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


def test_the_link_schedule_loads_in_rqs_cron(redis_queue):
    from django_rq.cron import DjangoCronScheduler

    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("events.cron")
    [job] = scheduler.get_jobs()
    assert (job.func_name, job.cron) == ("events.tasks.check_links", "30 3 * * *")


def test_check_links_command_names_what_it_found(db, capsys):
    SourceFactory(url="ftp://example.org/a")
    call_command("check_links")
    assert "Checked 1 links: 0 alive, 1 dead." in capsys.readouterr().out


@in_process
def test_a_source_newly_cited_by_a_published_event_is_archived(fake_archive, people):
    _curator, editor = people
    event, _first = ready_draft()
    publish_in_admin(editor, event)
    tasks.wait_for_threads()
    fake_archive.requests.clear()
    added = SourceFactory(title="A later report", url="https://news.example.org/later")
    change = reverse("admin:events_event_change", args=[event.pk])
    client = client_for(editor)
    page = client.get(change)
    data = form_data(page)
    (citations,) = [
        inline.formset
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.prefix == "citations"
    ]
    add_inline_rows(data, citations.prefix, {"source": str(added.pk), "quote": "more removed"})

    assert client.post(change, data).status_code == 302
    tasks.wait_for_threads()

    assert fake_archive.requests == [saved(added.url)]
    added.refresh_from_db()
    assert added.archive_url == copy_of(added.url)


@in_process
def test_a_source_cited_by_an_approved_edit_is_archived_and_a_pending_one_is_not(
    fake_archive, people
):
    curator, editor = people
    event, _first = ready_draft()
    publish_in_admin(editor, event)
    tasks.wait_for_threads()
    fake_archive.requests.clear()
    added = SourceFactory(title="Proposed report", url="https://news.example.org/proposed")
    event = Event.objects.get(pk=event.pk)
    proposal = revision_proposal_of(event)
    proposal["rows"]["citations"].append(
        {"id": None, "source": added.pk, "quote": "accounts", "locator": "", "note": ""}
    )
    revision = revision_propose(
        event=event, user=curator, proposal=proposal, base_version=event.version
    )
    tasks.wait_for_threads()
    assert fake_archive.requests == []  # waiting for an editor: nothing asked yet

    url = reverse("admin:events_eventrevision_change", args=[revision.pk])
    assert client_for(editor).post(url, {"approve": "Approve"}).status_code == 302
    tasks.wait_for_threads()

    assert fake_archive.requests == [saved(added.url)]
