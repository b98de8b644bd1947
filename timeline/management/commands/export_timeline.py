import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from tqdm import tqdm

from events.models import Event
from timeline import exports
from timeline.filters import EventFilterSet
from timeline.serializers import event_bases


class Command(BaseCommand):
    help = (
        "Write the published timeline, or the part the filters select, as "
        + ", ".join(exports.FORMATS)
        + ": the same rows and cells as the API's exports. Filters are the API's, as "
        "name=value: export_timeline --format csv --output wechat.csv platform=wechat "
        "date_from=2014"
    )

    def add_arguments(self, parser):
        parser.add_argument("filters", nargs="*", metavar="name=value")
        parser.add_argument("--format", choices=list(exports.FORMATS), default="csv")
        parser.add_argument("--output", default="-", help="File to write; - for stdout.")
        parser.add_argument(
            "--base-url",
            default=settings.SITE_URL,
            help="Site address for the links to event pages (default: the SITE_URL setting).",
        )

    def handle(self, *args, filters, format, output, base_url, **options):
        filterset = EventFilterSet(data=self._query(filters), queryset=Event.objects.published())
        if not filterset.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
            )
            raise CommandError(f"Filters not accepted: {problems}")
        export = exports.Export(
            filterset.qs, filterset.sort_order, event_bases({"base_url": base_url})
        )
        chunks = exports.FORMATS[format].stream(export)
        stream = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
        try:
            self._write(chunks, stream, show_progress=output != "-")
        finally:
            if stream is not sys.stdout.buffer:
                stream.close()

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
                progress.update(len(data))
