"""manage.py export_timeline: what it refuses, what it says when done, in every format.

The files' contents are the API's exports (tests/timeline/test_exports.py); here, the
command around them: it keeps an existing file unless told --force, names a directory that
is not there instead of a traceback, and ends with a summary on stderr, so that an export
written to stdout is the data alone.
"""

import dataclasses
import io
import os
import re
import sqlite3
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from events import choices
from tests.factories import EventFactory
from timeline import exports
from timeline.management.commands.export_timeline import human_size

FORMATS = list(exports.FORMATS)
KEPT = b"an earlier export, kept\n"
SUMMARY = re.compile(
    r"Wrote (?P<events>\d+) events? to (?P<where>.+): (?P<size>[\d.]+ [kMGT]?B) "
    r"\((?P<bytes>[\d,]+) bytes\) in (?P<seconds>\d+\.\d\d) s\.\n"
)


@pytest.fixture
def timeline(db):
    """Two published events and a draft, which no export holds."""
    published = [
        EventFactory(status=choices.EventStatus.PUBLISHED, title="WeChat accounts removed"),
        EventFactory(status=choices.EventStatus.PUBLISHED, title="VPN apps pulled"),
    ]
    EventFactory(title="A draft")
    return published


def export(*args):
    """Run the command in-process; return what it wrote to stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_timeline", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def summary(stderr):
    match = SUMMARY.fullmatch(stderr)
    assert match, f"no summary in {stderr!r}"
    return match


def exported_ids(fmt, data):
    return sorted(record["id"] for record in exports.FORMATS[fmt].records(data))


def public_ids(events):
    return sorted(event.public_id for event in events)


# Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_existing_file_is_kept_without_force(timeline, tmp_path, fmt):
    path = tmp_path / f"timeline.{fmt}"
    path.write_bytes(KEPT)

    with pytest.raises(CommandError) as refused:
        export("--format", fmt, "--output", str(path))

    assert str(refused.value) == f"'{path}' already exists: pass --force to overwrite it."
    assert path.read_bytes() == KEPT


@pytest.mark.parametrize("fmt", FORMATS)
def test_force_overwrites_an_existing_file_with_the_export(timeline, tmp_path, fmt):
    path = tmp_path / f"timeline.{fmt}"
    path.write_bytes(KEPT)

    export("--format", fmt, "--output", str(path), "--force")

    assert exported_ids(fmt, path.read_text(encoding="utf-8")) == public_ids(timeline)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_directory_is_named_instead_of_a_traceback(timeline, tmp_path, fmt):
    missing = tmp_path / "no-such-folder"

    with pytest.raises(CommandError) as refused:
        export("--format", fmt, "--output", str(missing / f"timeline.{fmt}"))

    assert str(refused.value) == (
        f"The directory '{missing}' does not exist: create it or choose another --output."
    )
    assert not missing.exists()


def test_a_directory_given_as_the_output_is_refused(timeline, tmp_path):
    with pytest.raises(CommandError, match="is a directory: give --output a file name"):
        export("--output", str(tmp_path), "--force")


def test_an_export_that_fails_midway_leaves_no_half_file(timeline, tmp_path, monkeypatch):
    def broken(_export):
        yield "id,title\r\n"
        raise RuntimeError("the database went away")

    csv_format = dataclasses.replace(exports.FORMATS["csv"], stream=broken)
    monkeypatch.setitem(exports.FORMATS, "csv", csv_format)
    path = tmp_path / "timeline.csv"

    with pytest.raises(RuntimeError):
        export("--output", str(path))

    assert not path.exists()


# The summary -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_export_ends_with_events_size_and_time_on_stderr(timeline, tmp_path, fmt):
    path = tmp_path / f"timeline.{fmt}"

    stdout, stderr = export("--format", fmt, "--output", str(path))

    written = summary(stderr)
    size = path.stat().st_size
    assert stdout == ""
    assert (written["events"], written["where"]) == ("2", str(path))
    assert (written["size"], written["bytes"]) == (human_size(size), f"{size:,}")
    assert exported_ids(fmt, path.read_text(encoding="utf-8")) == public_ids(timeline)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_export_to_stdout_keeps_the_summary_out_of_the_data(timeline, capsysbinary, fmt):
    _stdout, stderr = export("--format", fmt)

    data = capsysbinary.readouterr().out
    written = summary(stderr)
    assert (written["events"], written["where"]) == ("2", "standard output")
    assert written["bytes"] == f"{len(data):,}"
    assert exported_ids(fmt, data.decode("utf-8")) == public_ids(timeline)


def test_an_empty_export_says_so(db, tmp_path):
    path = tmp_path / "nothing.ndjson"

    _stdout, stderr = export("--format", "ndjson", "--output", str(path))

    assert stderr.startswith(f"Wrote 0 events to {path}: 0 B (0 bytes) in ")


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (12_345, "12.3 kB"),
        (999_949, "999.9 kB"),
        (999_950, "1.0 MB"),
        (4_600_000, "4.6 MB"),
        (7_200_000_000, "7.2 GB"),
    ],
)
def test_sizes_are_shown_in_powers_of_a_thousand(size, shown):
    assert human_size(size) == shown


# A real run ------------------------------------------------------------------------------


@pytest.fixture
def committed_database_url(transactional_db, tmp_path):
    """A URL for another process to read the test database, with two published events."""
    EventFactory(status=choices.EventStatus.PUBLISHED, title="WeChat accounts removed")
    EventFactory(status=choices.EventStatus.PUBLISHED, title="VPN apps pulled")
    if connection.vendor == "sqlite":  # in memory: copied to a file the process can open
        path = tmp_path / "copy.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as copy:
            connection.connection.backup(copy)
        copy.close()
        return f"sqlite:///{path}"
    url = urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path=f"/{connection.settings_dict['NAME']}").geturl()


def manage(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DATABASE_REPLICA_URLS", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        timeout=300,
    )


def test_manage_py_writes_csv_to_stdout_and_its_summary_to_stderr(committed_database_url):
    result = manage(committed_database_url, "export_timeline", "--format", "csv")

    assert result.returncode == 0, result.stderr.decode()
    rows = exports.csv_records(result.stdout.decode("utf-8"))
    assert sorted(row["title"] for row in rows) == ["VPN apps pulled", "WeChat accounts removed"]
    written = summary(result.stderr.decode())
    assert (written["events"], written["bytes"]) == ("2", f"{len(result.stdout):,}")


def test_manage_py_refuses_an_existing_file_with_a_message(committed_database_url, tmp_path):
    path = tmp_path / "timeline.csv"
    path.write_bytes(KEPT)

    result = manage(committed_database_url, "export_timeline", "--output", str(path))

    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"CommandError: '{path}' already exists: pass --force to overwrite it.\n"
    )
    assert result.stdout == b""
    assert path.read_bytes() == KEPT
