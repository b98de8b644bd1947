"""A curator's edit of a published event waits for an editor; the public sees it once approved."""

import pytest
from django.test import Client
from django.urls import reverse

from events.models import Event, EventRevision
from events.services import (
    CURATOR_GROUP,
    event_save,
    revision_proposal_of,
    revision_propose,
)
from tests.admin_forms import add_inline_rows, form_data
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventFactory,
    SourceFactory,
    member_of,
)

pytestmark = pytest.mark.django_db
PENDING, APPROVED, REJECTED, WITHDRAWN = EventRevision.Status


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def curator_at(curator):
    return signed_in(curator)


@pytest.fixture
def editor_at(editor):
    return signed_in(editor)


@pytest.fixture
def event():
    return EventFactory(published=True, cited=True, title="Accounts removed")


def change_url(event):
    return reverse("admin:events_event_change", args=[event.pk])


def revision_url(revision):
    return reverse("admin:events_eventrevision_change", args=[revision.pk])


def edit(client, event, extra_rows=(), **fields):
    response = client.get(change_url(event))
    assert response.status_code == 200
    data = form_data(response) | fields
    for prefix, row in extra_rows:
        add_inline_rows(data, prefix, row)
    return client.post(change_url(event), data)


def public_title(event):
    response = Client().get(reverse("api:event-detail", args=[event.public_id]))
    assert response.status_code == 200
    return response.json()["title"]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_a_curators_edit_waits_and_goes_public_once_an_editor_approves(
    curator_at, editor_at, event
):
    response = edit(curator_at, event, title="Over 40 accounts removed")

    assert response.status_code == 302
    shown = curator_at.get(response.url)
    assert any("Your edit waits for an editor" in text for text in messages_of(shown))
    revision = EventRevision.objects.get()
    assert revision.status == PENDING
    assert revision.proposal["fields"]["title"] == "Over 40 accounts removed"
    assert Event.objects.get(pk=event.pk).title == "Accounts removed"
    assert public_title(event) == "Accounts removed"
    page = Client().get(reverse("timeline:event-page", args=[event.public_id]))
    assert b"Over 40" not in page.content

    review = editor_at.get(revision_url(revision))
    assert review.status_code == 200
    assert "Over 40 accounts removed" in review.content.decode()
    response = editor_at.post(revision_url(revision), {"approve": "Approve", "comment": ""})

    assert response.status_code == 302
    assert public_title(event) == "Over 40 accounts removed"
    revision.refresh_from_db()
    assert revision.status == APPROVED
    assert revision.reviewer.username == "editor"
    assert [row.status for row in revision.history.order_by("history_date")] == [
        PENDING,
        APPROVED,
    ]
    latest = Event.history.filter(id=event.pk).order_by("-history_date").first()
    assert latest.title == "Over 40 accounts removed"
    assert "approved" in latest.history_change_reason


def test_an_editor_rejects_an_edit_with_a_comment_and_the_event_stays(curator_at, editor_at, event):
    edit(curator_at, event, title="Wrong")
    revision = EventRevision.objects.get()

    without = editor_at.post(revision_url(revision), {"reject": "Reject", "comment": " "})
    assert without.status_code == 200
    assert any("Say why the edit is rejected" in text for text in messages_of(without))
    response = editor_at.post(revision_url(revision), {"reject": "Reject", "comment": "No source"})

    assert response.status_code == 302
    revision.refresh_from_db()
    assert (revision.status, revision.comment) == (REJECTED, "No source")
    assert public_title(event) == "Accounts removed"
    # Decided: the curator may edit again.
    assert edit(curator_at, event, title="Better").status_code == 302


def test_approving_an_edit_of_an_event_saved_since_is_refused_with_the_conflict(
    curator_at, editor_at, editor, event
):
    edit(curator_at, event, title="The curator's title")
    revision = EventRevision.objects.get()
    current = Event.objects.get(pk=event.pk)
    current.summary = "Changed by the editor meanwhile."
    event_save(event=current, user=editor)

    response = editor_at.post(revision_url(revision), {"approve": "Approve"})

    assert response.status_code == 200
    assert any("after you opened it" in text for text in messages_of(response))
    revision.refresh_from_db()
    assert revision.status == PENDING
    assert public_title(event) == "Accounts removed"


def test_an_edit_that_would_take_away_the_type_is_refused(curator, editor_at, event):
    proposal = revision_proposal_of(event)
    proposal["fields"]["event_type"] = None
    revision = revision_propose(
        event=event, user=curator, proposal=proposal, base_version=event.version
    )

    response = editor_at.post(revision_url(revision), {"approve": "Approve"})

    assert response.status_code == 200
    assert any("without an event type" in text for text in messages_of(response))
    assert Event.objects.get(pk=event.pk).event_type_id == event.event_type_id
    assert EventRevision.objects.get().status == PENDING


def test_an_added_actor_and_a_removed_citation_wait_then_apply_on_approval(
    curator_at, editor_at, event
):
    kept = event.citations.get()
    removed = CitationFactory(event=event, source=SourceFactory(title="Gone report"))
    actor = ActorFactory(name="Cyberspace Administration")
    response = curator_at.get(change_url(event))
    data = form_data(response)
    index = [form.instance.pk for form in _citation_forms(response)].index(removed.pk)
    data[f"citations-{index}-DELETE"] = "on"
    add_inline_rows(data, "actor_roles", {"actor": str(actor.pk), "role": "ordered"})

    assert curator_at.post(change_url(event), data).status_code == 302
    assert list(event.citations.order_by("id")) == [kept, removed]
    assert not event.actor_roles.exists()
    revision = EventRevision.objects.get()
    review = editor_at.get(revision_url(revision)).content.decode()
    assert "Cyberspace Administration" in review
    assert "Gone report" in review

    editor_at.post(revision_url(revision), {"approve": "Approve"})

    assert list(event.citations.all()) == [kept]
    assert [role.actor for role in event.actor_roles.all()] == [actor]
    assert "cyberspace" in Event.objects.get(pk=event.pk).search_text


def _citation_forms(response):
    (citations,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == "citations"
    ]
    return citations.initial_forms


def test_an_editors_own_edit_goes_public_at_once(editor_at, event):
    response = edit(editor_at, event, title="Edited by an editor")

    assert response.status_code == 302
    assert public_title(event) == "Edited by an editor"
    assert not EventRevision.objects.exists()


def test_a_curator_may_read_their_edit_but_not_approve_it(curator_at, event):
    edit(curator_at, event, title="Mine")
    revision = EventRevision.objects.get()

    page = curator_at.get(revision_url(revision))
    assert page.status_code == 200
    assert b'name="approve"' not in page.content
    assert curator_at.post(revision_url(revision), {"approve": "Approve"}).status_code == 403
    assert EventRevision.objects.get().status == PENDING
    assert public_title(event) == "Accounts removed"


def test_another_curators_edit_is_neither_listed_nor_shown_to_a_curator(curator_at, event):
    other = signed_in(member_of(CURATOR_GROUP, "other"))
    edit(other, event, title="Theirs")
    revision = EventRevision.objects.get()

    assert curator_at.get(revision_url(revision)).status_code == 404
    listing = curator_at.get(reverse("admin:events_eventrevision_changelist"))
    assert listing.status_code == 200
    assert event.public_id not in listing.content.decode()


def test_a_second_edit_while_one_waits_is_refused_with_a_link_and_loses_nothing(curator_at, event):
    other = signed_in(member_of(CURATOR_GROUP, "other"))
    edit(other, event, title="First")
    revision = EventRevision.objects.get()

    notice = curator_at.get(change_url(event))
    assert any("waits for an editor" in text for text in messages_of(notice))
    assert revision_url(revision) in notice.content.decode()
    response = edit(curator_at, event, title="Second")

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert "already waits for an editor" in errors
    assert revision_url(revision) in errors
    assert 'value="Second"' in response.content.decode()  # the curator's text is still there
    assert EventRevision.objects.count() == 1


def test_the_editors_list_shows_pending_edits_oldest_first(curator, editor_at):
    first, second = (
        EventFactory(published=True, cited=True, title=title) for title in ("One", "Two")
    )
    for event in (second, first):
        revision_propose(
            event=event,
            user=curator,
            proposal=revision_proposal_of(event),
            base_version=event.version,
        )

    listing = editor_at.get(reverse("admin:events_eventrevision_changelist")).content.decode()

    assert listing.index(second.public_id) < listing.index(first.public_id)


def test_a_curator_restoring_an_old_version_of_a_published_event_proposes_it(
    curator_at, editor, event
):
    old = event.history.order_by("history_date").last()
    current = Event.objects.get(pk=event.pk)
    current.title = "Renamed by the editor"
    event_save(event=current, user=editor)
    url = reverse("admin:events_event_simple_history", args=[event.pk, old.history_id])

    response = curator_at.post(url, form_data(curator_at.get(url)))

    assert response.status_code == 302
    assert public_title(event) == "Renamed by the editor"
    revision = EventRevision.objects.get()
    assert revision.proposal["fields"]["title"] == "Accounts removed"
    assert revision.proposal["rows"]["citations"]  # the rows it has, kept in the proposal


def test_a_curator_withdraws_their_waiting_edit_and_edits_again(curator_at, event):
    edit(curator_at, event, title="First try")
    first = EventRevision.objects.get()

    refused = edit(curator_at, event, title="Second try")
    errors = " ".join(refused.context["adminform"].form.non_field_errors())
    assert "Your earlier edit of this event still waits" in errors
    assert revision_url(first) in errors
    review = curator_at.get(revision_url(first)).content.decode()
    assert 'name="withdraw"' in review
    assert 'name="approve"' not in review

    response = curator_at.post(revision_url(first), {"withdraw": "Withdraw my edit"})

    assert response.status_code == 302
    assert response.url == change_url(event)
    first.refresh_from_db()
    assert first.status == WITHDRAWN
    assert first.history.latest().history_user.username == "curator"
    assert public_title(event) == "Accounts removed"
    assert edit(curator_at, event, title="Second try").status_code == 302
    second = EventRevision.objects.get(status=PENDING)
    assert second.proposal["fields"]["title"] == "Second try"
    assert public_title(event) == "Accounts removed"


def test_only_its_author_may_withdraw_an_edit(curator, editor_at, event):
    revision = revision_propose(
        event=event, user=curator, proposal=revision_proposal_of(event), base_version=event.version
    )
    other = signed_in(member_of(CURATOR_GROUP, "other"))

    assert other.post(revision_url(revision), {"withdraw": "Withdraw"}).status_code == 404
    assert 'name="withdraw"' not in editor_at.get(revision_url(revision)).content.decode()
    assert editor_at.post(revision_url(revision), {"withdraw": "Withdraw"}).status_code == 403
    revision.refresh_from_db()
    assert revision.status == PENDING


def test_a_withdrawn_edit_cannot_be_approved(curator_at, editor_at, event):
    edit(curator_at, event, title="Taken back")
    revision = EventRevision.objects.get()
    curator_at.post(revision_url(revision), {"withdraw": "Withdraw my edit"})

    response = editor_at.post(revision_url(revision), {"approve": "Approve"})

    assert response.status_code == 200
    assert any("already withdrawn by its author" in text for text in messages_of(response))
    assert public_title(event) == "Accounts removed"
    assert "already" in " ".join(
        messages_of(curator_at.post(revision_url(revision), {"withdraw": "x"}))
    )
