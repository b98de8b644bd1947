"""The data releases, for download: /data/ lists them, /data/<number>/<file> serves their files.

A release's files are immutable, so they are sent with a year's cache and read from the
releases storage (a local folder, or shared storage) as they are.
"""

import re

from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_safe

from events.models import Release
from events.releases import PACKAGE_NAME, TABLES

from .caching import cache_public_page

FILE_NAME = re.compile(
    r"[a-z_]+\.csv|datapackage\.json|CITATION\.cff|README\.md|[a-z-]+-[0-9]+\.zip"
)
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".cff": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".zip": "application/zip",
}
IMMUTABLE = "public, max-age=31536000, immutable"
# What each table holds, as events.releases.TABLES writes it into every release (in English),
# repeated here for makemessages to find: the page says it in the reader's language. A table
# described differently there is shown untranslated, which tests/timeline/test_pages_in_chinese
# reports.
TABLE_DESCRIPTIONS = (
    gettext_noop("The broad categories of event types."),
    gettext_noop("What kind of event: an account removal, an arrest, a block, a new law."),
    gettext_noop("Published events, one row each."),
    gettext_noop("Governments, agencies, companies, people and groups that events name."),
    gettext_noop("Other names of actors: 习近平 for Xi Jinping."),
    gettext_noop(
        "Who did what in each event: ordered, enforced, was targeted, operated the platform."
    ),
    gettext_noop("Services and networks that events hit: WeChat, Weibo."),
    gettext_noop("Other names of platforms: 微信 for WeChat."),
    gettext_noop("The platforms each event hit."),
    gettext_noop("Free tags curators give events."),
    gettext_noop("The tags of each event."),
    gettext_noop("The reports, documents and posts that published events cite."),
    gettext_noop("The passages that document each event, each tied to its own source."),
    gettext_noop("How many accounts, posts or people an event touched."),
    gettext_noop("Links between published events: one is part of, or a response to, another."),
)


@cache_public_page
def releases_page(request):
    releases = Release.objects.order_by("-number")
    return render(
        request,
        "timeline/data.html",
        {"releases": releases, "tables": described_tables(), "package_name": PACKAGE_NAME},
    )


@cache_public_page
def release_page(request, number):
    release = get_object_or_404(Release, number=number)
    return render(
        request,
        "timeline/data.html",
        {
            "releases": [release],
            "tables": described_tables(),
            "one": release,
            "package_name": PACKAGE_NAME,
        },
    )


def described_tables():
    """Return each table of a release as its file and what it holds, in the page's language."""
    return [
        {"path": table.path, "description": gettext(str(table.description))} for table in TABLES
    ]


@require_safe
def release_file(request, number, name):
    if not FILE_NAME.fullmatch(name):
        raise Http404("No release has a file of this name.")
    release = get_object_or_404(Release, number=number)
    storage = storages["releases"]
    path = f"release-{release.number}/{name}"
    if not storage.exists(path):
        raise Http404("This release has no such file.")
    extension = name[name.rindex(".") :]
    response = FileResponse(
        storage.open(path, "rb"),
        content_type=CONTENT_TYPES[extension],
        as_attachment=extension == ".zip",
        filename=name,
    )
    response["Cache-Control"] = IMMUTABLE
    return response
