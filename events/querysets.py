from django.db import models
from django.db.models import Q

from .choices import EventStatus


class EventQuerySet(models.QuerySet):
    def published(self):
        """Return the events the public may see."""
        return self.filter(status=EventStatus.PUBLISHED)

    def overlapping(self, start=None, end=None):
        """Return events that may have touched any day of [start, end] (either end open).

        "March 2014" (1-31 March) overlaps 15 March to 15 April; an ongoing event overlaps
        every range after its start.
        """
        queryset = self
        if end is not None:
            queryset = queryset.filter(date_earliest__lte=end)
        if start is not None:
            queryset = queryset.filter(Q(date_latest__gte=start) | Q(date_latest__isnull=True))
        return queryset

    def within(self, start=None, end=None):
        """Return events certainly inside [start, end]: every day they may have touched is.

        "March 2014" is within 2014 but not within 15 March to 15 April; an ongoing event is
        within no range that has an end.
        """
        queryset = self
        if start is not None:
            queryset = queryset.filter(date_earliest__gte=start)
        if end is not None:
            queryset = queryset.filter(date_latest__lte=end)
        return queryset

    def for_admin_list(self):
        """Return events with what the curators' changelist shows, in a fixed number of queries."""
        return self.select_related("event_type__category")
