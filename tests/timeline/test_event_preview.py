"""A draft's page as it will read once published: for signed-in staff only, never cached or
indexed, and never a way for anyone else to read a draft."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from events.choices import EventStatus
from events.services import CURATOR_GROUP, EDITOR_GROUP
from tests.factories import CitationFactory, EventFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


def preview_url(event, language=""):
    return f"{language}/events/{event.public_id}/preview/"


@pytest.fixture
def draft():
    event = EventFactory(title="Accounts removed from WeChat", status=EventStatus.DRAFT)
    CitationFactory(event=event, quote="over 40 accounts being removed")
    return event


@pytest.fixture
def curator_client():
    client = Client()
    client.force_login(member_of(CURATOR_GROUP, "cora"))
    return client


def test_a_curator_sees_the_draft_as_the_public_page_will_show_it(curator_client, draft):
    response = curator_client.get(preview_url(draft))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Accounts removed from WeChat" in page
    assert "over 40 accounts being removed" in page
    assert "the public cannot see it" in page
    assert "“Draft”" in page


def test_the_preview_is_never_cached_nor_indexed(curator_client, draft):
    response = curator_client.get(preview_url(draft))

    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_an_editor_previews_an_event_in_review(draft):
    draft.status = EventStatus.IN_REVIEW
    draft.save(update_fields=["status"])
    client = Client()
    client.force_login(member_of(EDITOR_GROUP, "eda"))

    response = client.get(preview_url(draft))

    assert response.status_code == 200
    assert "“In review”" in response.content.decode()


def test_an_anonymous_reader_is_sent_to_sign_in_and_sees_nothing_of_the_draft(
    client, curator_client, draft
):
    curator_client.get(preview_url(draft))  # a staff view first: nothing of it may be kept

    response = client.get(preview_url(draft))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    assert "Accounts removed" not in response.content.decode()
    assert client.get(f"/events/{draft.public_id}/").status_code == 404


def test_a_signed_in_reader_who_is_not_staff_is_sent_to_sign_in(draft):
    client = Client()
    client.force_login(UserFactory(username="reader", is_staff=False))

    response = client.get(preview_url(draft))

    assert response.status_code == 302
    assert "Accounts removed" not in response.content.decode()


def test_staff_who_may_not_see_events_are_refused(draft):
    user = UserFactory(username="archivist", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_source"))
    client = Client()
    client.force_login(user)

    response = client.get(preview_url(draft))

    assert response.status_code == 403
    assert "Accounts removed" not in response.content.decode()


def test_a_published_event_s_preview_is_its_page(curator_client):
    event = EventFactory(status=EventStatus.PUBLISHED)

    response = curator_client.get(preview_url(event))

    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.public_id}/"


@pytest.mark.parametrize("public_id", ["CN-2014-9999", "not-an-id", "x" * 300])
def test_an_unknown_or_malformed_id_is_not_found(curator_client, public_id):
    assert curator_client.get(f"/events/{public_id}/preview/").status_code == 404


def test_the_preview_in_chinese(curator_client, draft):
    response = curator_client.get(preview_url(draft, "/zh-hans"))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page or '<html lang="zh-Hans">' in page
    assert "公众无法看到" in page


def test_the_admin_links_a_draft_to_its_preview_and_a_published_event_to_its_page(
    curator_client, draft
):
    change = curator_client.get(f"/admin/events/event/{draft.pk}/change/").content.decode()
    assert f'href="/events/{draft.public_id}/preview/"' in change

    event = EventFactory(status=EventStatus.PUBLISHED)
    change = curator_client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    assert f'href="/events/{event.public_id}/"' in change
    assert "View on site" in change
