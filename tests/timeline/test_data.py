"""/data/ and /api/v1/releases/: the releases, for a researcher to download and cite."""

import hashlib
import re

import pytest

from events.services.releases import release_make
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_data_page_lists_releases_newest_first_with_their_checksums(client):
    EventFactory(published=True)
    first = release_make()
    EventFactory(published=True)
    second = release_make()

    page = client.get("/data/").content.decode()

    assert re.findall(r'<tr id="release-(\d+)">', page) == ["2", "1"]
    for release in (first, second):
        row = page[page.index(f'id="release-{release.number}"') :]
        row = row[: row.index("</tr>")]
        assert f">{release.event_count}<" in row
        assert release.sha256 in row
        (zip_url,) = re.findall(r'href="([^"]+\.zip)"', row)
        archive = body(client.get(zip_url))
        assert hashlib.sha256(archive).hexdigest() == release.sha256
    assert 'href="/data/"' in page  # in the site's navigation


def test_release_files_are_served_as_immutable(client):
    EventFactory(published=True, title="In the release")
    release_make()

    events = client.get("/data/1/events.csv")
    package = client.get("/data/1/datapackage.json")
    archive = client.get("/data/1/censorship-timeline-1.zip")

    assert events.status_code == 200 and events["Content-Type"] == "text/csv; charset=utf-8"
    assert b"In the release" in body(events)
    assert events["Cache-Control"] == "public, max-age=31536000, immutable"
    assert package["Content-Type"] == "application/json"
    assert archive["Content-Disposition"].startswith("attachment")
    assert client.get("/data/1/").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/data/2/events.csv", "/data/1/secrets.txt", "/data/1/..%2Fsettings.py", "/data/9/"],
)
def test_no_other_file_is_served(client, path):
    EventFactory(published=True)
    release_make()

    assert client.get(path).status_code == 404


def test_the_api_lists_releases_with_where_to_download_them(client):
    EventFactory(published=True)
    release_make()
    before = client.get("/api/v1/releases/")
    EventFactory(published=True)
    release = release_make()

    after = client.get("/api/v1/releases/", HTTP_IF_NONE_MATCH=before["ETag"])
    one = client.get("/api/v1/releases/2/").json()

    assert after.status_code == 200  # a new release changes the answer
    assert [item["number"] for item in after.json()] == [2, 1]
    assert one["sha256"] == release.sha256 and one["event_count"] == 2
    assert one["download_url"] == "http://testserver/data/2/censorship-timeline-2.zip"
    download = body(client.get(one["download_url"]))
    assert hashlib.sha256(download).hexdigest() == one["sha256"] and len(download) == one["size"]
    assert client.get(one["datapackage_url"]).status_code == 200
    assert client.get("/api/v1/releases/3/").status_code == 404
