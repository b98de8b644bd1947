"""The data releases, for download: /data/ lists them, /data/<number>/<file> serves their files.

A release's files are immutable, so they are sent with a year's cache and read from the
releases storage (a local folder, or shared storage) as they are.
"""

import re

from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
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


@cache_public_page
def releases_page(request):
    releases = Release.objects.order_by("-number")
    return render(
        request,
        "timeline/data.html",
        {"releases": releases, "tables": TABLES, "package_name": PACKAGE_NAME},
    )


@cache_public_page
def release_page(request, number):
    release = get_object_or_404(Release, number=number)
    return render(
        request,
        "timeline/data.html",
        {"releases": [release], "tables": TABLES, "one": release, "package_name": PACKAGE_NAME},
    )


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
