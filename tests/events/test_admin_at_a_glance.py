"""The events admin at a glance (issue 15): "View on site" for published events only, the
date read back as the curator types it, the country list that narrows as one types, and the
list and citations fitted to a 1280 px screen (tests/browser/test_admin_at_a_glance.py
measures those in Chromium)."""

import pytest
from django.urls import reverse
from django.utils import translation

from events.choices import EventStatus
from events.dates import MAX_LENGTH
from tests.factories import EventFactory, UserFactory

READ_DATE = reverse("admin:events_event_read_date")


def change_url(event):
    return reverse("admin:events_event_change", args=[event.pk])


def read_date(client, text):
    return client.get(READ_DATE, {"text": text})


def test_a_published_event_has_django_s_view_on_site_button_to_its_public_page(curator_client, db):
    event = EventFactory(published=True, cited=True)

    response = curator_client.get(change_url(event))

    public_page = reverse("timeline:event-page", args=[event.public_id])
    assert response.context["has_absolute_url"]
    assert response.context["absolute_url"] == public_page
    assert f'href="{public_page}" class="viewsitelink"' in response.text


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.IN_REVIEW])
def test_an_unpublished_event_has_no_view_on_site_button(curator_client, db, status):
    event = EventFactory(status=status)

    response = curator_client.get(change_url(event))

    assert not response.context["has_absolute_url"]
    assert "viewsitelink" not in response.text


def test_the_add_form_has_no_view_on_site_button(curator_client):
    response = curator_client.get(reverse("admin:events_event_add"))

    assert "viewsitelink" not in response.text


def test_the_date_endpoint_answers_the_server_s_own_reading(curator_client):
    response = read_date(curator_client, "2014-03")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "read_as": "March 2014: 2014-03-01 to 2014-03-31 (month precision)",
        "words": "March 2014",
        "earliest": "2014-03-01",
        "latest": "2014-03-31",
    }


def test_the_date_endpoint_reads_like_the_change_form_s_read_as_field(curator_client, db):
    event = EventFactory(date_text="2014-04~")

    form = curator_client.get(change_url(event)).text
    answer = read_date(curator_client, "2014-04~").json()

    assert answer["read_as"] in form.replace("&nbsp;", " ")
    assert answer["latest"] == "2014-05-31"


def test_the_date_endpoint_reads_an_ongoing_span(curator_client):
    answer = read_date(curator_client, "2009-07-07/..").json()

    assert answer["words"] == "since 7 July 2009"
    assert answer["latest"] is None


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "A date is required."),
        ("   ", "A date is required."),
        ("2014-13", "month 13"),
        ("garbage", "is not a date we can read"),
        ("\x00", "is not a date we can read"),
        ("2014-03\x00", "is not a date we can read"),
        ("x" * 100_000, f"at most {MAX_LENGTH} characters"),
        ("2014/2015/2016", "more than one '/'"),
        ("0000", "outside the years"),
        ("%%%/..", "not a date we can read"),
    ],
)
def test_the_date_endpoint_answers_bad_input_with_a_message_never_a_500(curator_client, text, says):
    response = read_date(curator_client, text)

    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"] is False
    assert says in answer["error"]


def test_the_date_endpoint_answers_without_a_text_parameter(curator_client):
    response = curator_client.get(READ_DATE)

    assert response.status_code == 200
    assert response.json()["error"].startswith("A date is required.")


def test_the_date_endpoint_reads_in_the_curator_s_language(curator_client):
    with translation.override("zh-hans"):
        url = reverse("admin:events_event_read_date")  # under /zh-hans/admin/

    answer = curator_client.get(url, {"text": "2014-03"}).json()

    assert answer["words"] == "2014年3月"
    assert answer["read_as"].startswith("2014年3月")


def test_the_date_endpoint_takes_only_get(curator_client):
    response = curator_client.post(READ_DATE, {"text": "2014-03"})

    assert response.status_code == 405


def test_the_date_endpoint_is_for_staff_only(client, db):
    anonymous = read_date(client, "2014-03")
    client.force_login(UserFactory(username="reader", is_staff=False))
    not_staff = read_date(client, "2014-03")

    assert anonymous.status_code == 302  # to the admin's sign-in
    assert not_staff.status_code == 302
    assert "ok" not in anonymous.text


def test_the_date_endpoint_refuses_staff_who_may_not_record_events(client, db):
    client.force_login(UserFactory(username="staff-without-a-group"))

    assert read_date(client, "2014-03").status_code == 403


def test_the_date_field_and_the_country_field_carry_what_the_script_needs(curator_client):
    page = curator_client.get(reverse("admin:events_event_add")).text

    assert f'data-read-date-url="{READ_DATE}"' in page
    assert 'data-search-label="Type to find a country"' in page
    assert '<option value="CN">China</option>' in page  # the stored value stays the code
    assert "events/event_form.js" in page
    assert "events/event_admin.css" in page


def test_the_page_still_validates_the_date_on_save(curator_client, db):
    event = EventFactory(date_text="2014-03")
    form = curator_client.get(change_url(event)).context["adminform"].form
    data = {name: form[name].value() for name in ("title", "summary", "date_text")}

    response = curator_client.post(change_url(event), {**data, "date_text": "2014-13"})

    assert response.status_code == 200
    assert "month 13" in response.text
    event.refresh_from_db()
    assert event.date_text == "2014-03"


def test_the_citations_inline_is_narrow_enough_to_fit(curator_client, db):
    event = EventFactory(published=True, cited=True)

    page = curator_client.get(change_url(event)).text

    assert 'name="citations-0-quote" cols="34" rows="3"' in page


def test_the_events_list_leaves_out_the_side_menu(curator_client, db):
    EventFactory()

    response = curator_client.get(reverse("admin:events_event_changelist"))

    assert response.context["is_nav_sidebar_enabled"] is False
    assert 'id="nav-sidebar"' not in response.text
