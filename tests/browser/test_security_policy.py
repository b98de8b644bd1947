"""The pages people use still work under the Content-Security-Policy, and it is enforced.

new_page (tests/browser/conftest.py) fails any test whose pages the policy blocked.
"""

import pytest

from events.choices import EventStatus
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_researcher_tries_the_events_endpoint_in_swagger_ui(new_page, live_server):
    EventFactory(title="Accounts removed", status=EventStatus.PUBLISHED)
    page = new_page()

    page.goto(f"{live_server.url}/api/docs/")
    listing = page.locator(".opblock-summary-path[data-path='/api/v1/events/']").first
    listing.click()
    page.click(".opblock.is-open button.try-out__btn")
    # Swagger UI fills every filter with its documented example; a researcher clears them.
    for field in page.locator(".opblock.is-open .parameters input[type=text]").all():
        field.fill("")
    for choice in page.locator(".opblock.is-open .parameters select").all():
        choice.select_option(index=0)
    page.click(".opblock.is-open button.execute")

    status = page.locator(".opblock.is-open .live-responses-table tbody .response-col_status")
    status.wait_for()
    sent = page.locator(".opblock.is-open .request-url").inner_text()
    answer = page.locator(".opblock.is-open .live-responses-table").inner_text()
    assert status.inner_text().strip() == "200", (sent, answer)
    assert "Accounts removed" in page.locator(".opblock.is-open .live-responses-table").inner_text()


def test_the_policy_refuses_a_script_injected_into_a_page(browser, live_server):
    context = browser.new_context()
    refused = []
    context.on("console", lambda message: refused.append(message.text))
    page = context.new_page()
    page.goto(f"{live_server.url}/about/")

    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")

    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in text for text in refused)
    context.close()
