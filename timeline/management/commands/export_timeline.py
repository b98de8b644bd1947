import contextlib
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from tqdm import tqdm

from events.models import Event
from timeline import exports
from timeline.filters import EventFilterSet
from timeline.serializers import event_bases

STDOUT = "-"
SIZE_UNITS = ("B", "kB", "MB", "GB", "TB")


class Command(BaseCommand):
    help = (
        "Write the published timeline, or the part the filters select, as "
        + ", ".join(exports.FORMATS)
        + ": the same rows and cells as the API's exports. Filters are the API's, as "
        "name=value: export_timeline --format csv --output wechat.csv platform=wechat "
        "date_from=2014. An existing file is overwritten only with --force. A summary "
        "(events, size, time) goes to stderr, so that stdout holds the data alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("filters", nargs="*", metavar="name=value")
        parser.add_argument("--format", choices=list(exports.FORMATS), default="csv")
        parser.add_argument("--output", default=STDOUT, help="File to write; - for stdout.")
        parser.add_argument(
            "--force", action="store_true", help="Overwrite the --output file if it exists."
        )
        parser.add_argument(
            "--base-url",
            default=settings.SITE_URL,
            help="Site address for the links to event pages (default: the SITE_URL setting).",
        )

    def handle(self, *args, filters, format, output, force, base_url, **options):
        started = time.monotonic()
        filterset = self._filterset(filters)
        # Opened before the export starts: on PostgreSQL that begins a COPY, which would
        # wait for a reader that a refused file never brings.
        stream = _open(output, force)
        try:
            events, size = self._export(
                filterset, exports.FORMATS[format], base_url, stream, show_progress=output != STDOUT
            )
        except BaseException:
            _discard(stream, output)
            raise
        if stream is not sys.stdout.buffer:
            stream.close()
        where = "standard output" if output == STDOUT else output
        self._summary(
            f"Wrote {events:,} event{'' if events == 1 else 's'} to {where}: "
            f"{human_size(size)} ({size:,} bytes) in {time.monotonic() - started:.2f} s."
        )

    def _filterset(self, filters):
        filterset = EventFilterSet(data=self._query(filters), queryset=Event.objects.published())
        if not filterset.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
            )
            raise CommandError(f"Filters not accepted: {problems}")
        return filterset

    def _export(self, filterset, export_format, base_url, stream, show_progress):
        """Write the export to stream; return how many events and bytes it held."""
        export = exports.Export(
            filterset.qs, filterset.sort_order, event_bases({"base_url": base_url})
        )
        chunks = export_format.stream(export)
        with contextlib.closing(chunks):  # a COPY's thread ends, written or not
            events = exports.export_row_count(filterset.qs, chunks)
            return events, self._write(chunks, stream, show_progress)

    def _query(self, filters):
        query = QueryDict(mutable=True)
        for item in filters:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"'{item}' is not name=value, such as platform=wechat.")
            if name not in EventFilterSet.base_filters:
                accepted = ", ".join(sorted(EventFilterSet.base_filters))
                raise CommandError(f"Unknown filter '{name}'. Accepted: {accepted}.")
            query.appendlist(name, value)
        return query

    def _write(self, chunks, stream, show_progress):
        """Write the export; return how many bytes it held."""
        size = 0
        # A progress bar on a terminal only (tqdm turns itself off when stderr is not one).
        with tqdm(
            unit="B",
            unit_scale=True,
            disable=None if show_progress else True,
            file=sys.stderr,
            desc="export",
        ) as progress:
            for chunk in chunks:
                data = chunk.encode() if isinstance(chunk, str) else chunk
                stream.write(data)
                size += len(data)
                progress.update(len(data))
        stream.flush()
        return size

    def _summary(self, text):
        # To stderr whatever --output is, so that stdout holds the export alone; plain, as
        # stderr's own style is for errors.
        self.stderr.write(text, style_func=str)


def _open(output, force):
    """Return the binary stream to write to, or refuse with what to do instead."""
    if output == STDOUT:
        return sys.stdout.buffer
    path = Path(output)
    if path.is_dir():
        raise CommandError(f"'{output}' is a directory: give --output a file name.")
    # Only a regular file holds data to lose: a pipe or a device (/dev/null) is written as is.
    if path.is_file() and not force:
        raise CommandError(f"'{output}' already exists: pass --force to overwrite it.")
    try:
        return path.open("wb")
    except FileNotFoundError:
        raise CommandError(
            f"The directory '{path.parent}' does not exist: create it or choose another --output."
        ) from None
    except OSError as error:
        raise CommandError(f"Cannot write '{output}': {error.strerror}.") from None


def _discard(stream, output):
    """Close and remove a file an export failed to finish: half a file looks like a whole one."""
    if stream is sys.stdout.buffer:
        return
    stream.close()
    path = Path(output)
    if path.is_file():
        path.unlink()


def human_size(size):
    """Return a number of bytes as people read it: 523 B, 12.3 kB, 4.6 MB (powers of 1000)."""
    number, unit = float(size), 0
    while number >= 999.95 and unit < len(SIZE_UNITS) - 1:
        number /= 1000
        unit += 1
    return f"{size} B" if unit == 0 else f"{number:.1f} {SIZE_UNITS[unit]}"
