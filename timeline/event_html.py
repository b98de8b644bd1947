"""An event written as a few paragraphs of HTML, for clients that show HTML (TimelineJS, Atom).

Its words are in the active language: English in the API's TimelineJS, the feed's language
in a feed.

It starts from the event's public JSON (events.public), so it holds only what the API shows.
Every piece of curated text is escaped: the only markup is ours (paragraphs, and links to
http(s) sources and the event's page). A reader of the HTML sees the text as the curators
wrote it, and nothing in it runs on the site that shows it.
"""

import datetime
from urllib.parse import urlsplit

from django.utils.html import escape, format_html, format_html_join, linebreaks
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from events.formats import source_text

EVENT_LINK_TEXT = _("The event, its quotes and history")


def event_html(event):
    """Return the summary, each cited source once and a link to the event's page."""
    sources = cited_sources(event)
    paragraphs = [linebreaks(event["summary"], autoescape=True)]
    if sources:
        label = ngettext("Source", "Sources", len(sources))
        colon = pgettext("between a label and what follows", ": ")
        between = pgettext("between sources in a list", "; ")
        cited = format_html_join(between, "{}", ((source_html(source),) for source in sources))
        paragraphs.append(format_html("<p>{}{}{}</p>", label, colon, cited))
    if is_web_address(event["url"]):
        paragraphs.append(format_html("<p>{}</p>", link(event["url"], EVENT_LINK_TEXT)))
    return mark_safe("".join(paragraphs))  # each paragraph is escaped or format_html's


def cited_sources(event):
    """Each source the event cites, once, in the order of its first citation."""
    seen = {}
    for citation in event["citations"]:
        seen.setdefault(citation["source"]["key"], citation["source"])
    return list(seen.values())


def source_credit(source):
    """'Title (Publisher, 2014-05-28)': a source as plain text."""
    published_on = source["published_on"]
    day = datetime.date.fromisoformat(published_on) if published_on else None
    return source_text(source["title"], source["publisher"], day, "")


def source_html(source):
    credit = source_credit(source)
    return link(source["url"], credit) if is_web_address(source["url"]) else escape(credit)


def link(url, text):
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)


def is_web_address(url):
    return urlsplit(url or "").scheme in ("http", "https")
