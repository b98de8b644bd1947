"""How to cite an event: a formatted reference, BibTeX and CSL-JSON, from SITE_URL.

A citation names the data release that holds the event as it now reads (the newest release
made after its last change), so a reader can fetch exactly what was cited; an event changed
since the last release is cited without one. The access date is the day the page was made.
"""

import json
import re

from django.conf import settings
from django.urls import reverse
from django.utils import dateformat
from django.utils.translation import gettext, pgettext

from events.models import Release

TITLE = "Censorship Timeline"  # in BibTeX and CSL-JSON, for reference managers: in English
BIBTEX_SPECIAL = re.compile(r"([\\{}&%$#_^~])")
BIBTEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def event_url(event):
    return settings.SITE_URL + reverse("timeline:event-page", args=[event.public_id])


def release_holding(event):
    """Return the newest release made since the event last changed, or None."""
    return Release.objects.filter(released_at__gte=event.updated_at).order_by("-number").first()


def event_citation(event, *, accessed, release=None):
    """Return {text, bibtex, csl_json} citing an event; accessed is a date."""
    url = event_url(event)
    published = event.first_published_at
    text = _reference(event, url, accessed, release)
    note = f"Event {event.public_id}" + (f", release {release.number}" if release else "")
    bibtex = "\n".join(
        [
            f"@misc{{censorship-timeline-{event.public_id.lower()},",
            f"  title = {{{_bibtex(event.title)}}},",
            f"  author = {{{{{TITLE}}}}},",
            f"  year = {{{published:%Y}}},",
            f"  howpublished = {{\\url{{{url}}}}},",
            f"  note = {{{_bibtex(note)}. Accessed {accessed.isoformat()}}},",
            "}",
        ]
    )
    csl = {
        "id": event.public_id,
        "type": "dataset",
        "title": event.title,
        "author": [{"literal": TITLE}],
        "publisher": TITLE,
        "container-title": TITLE,
        "number": event.public_id,
        "URL": url,
        "issued": {"date-parts": [[published.year, published.month, published.day]]},
        "accessed": {"date-parts": [[accessed.year, accessed.month, accessed.day]]},
    }
    if release is not None:
        csl["version"] = str(release.number)
    return {
        "text": text,
        "bibtex": bibtex,
        "csl_json": json.dumps([csl], ensure_ascii=False),  # a CSL-JSON file is a list
    }


def _reference(event, url, accessed, release):
    """Return the reference as a reader copies it from the page, in the page's language."""
    day = pgettext("a day in a reference, as a date format", "j F Y")
    values = {
        "site": gettext("Censorship Timeline"),
        "title": event.title,
        "id": event.public_id,
        "published": dateformat.format(event.first_published_at, day),
        "url": url,
        "accessed": dateformat.format(accessed, day),
    }
    if release is None:
        return (
            gettext(
                "%(site)s. “%(title)s.” Event %(id)s, first published %(published)s. "
                "%(url)s. Accessed %(accessed)s."
            )
            % values
        )
    values |= {"release": release.number, "released": dateformat.format(release.released_at, day)}
    return (
        gettext(
            "%(site)s. “%(title)s.” Event %(id)s, first published %(published)s. "
            "Release %(release)s (%(released)s). %(url)s. Accessed %(accessed)s."
        )
        % values
    )


def _bibtex(text):
    return BIBTEX_SPECIAL.sub(
        lambda match: BIBTEX_REPLACEMENTS.get(match[1], "\\" + match[1]), text
    )
