"""Pages for readers. They read published events through the same QuerySets as the API."""

from django.shortcuts import get_object_or_404, render

from events.choices import EventStatus
from events.models import Event


def event_page(request, public_id):
    event = get_object_or_404(
        Event.objects.filter(status__in=[EventStatus.PUBLISHED, EventStatus.RETRACTED]).for_api(),
        public_id=public_id,
    )
    if event.status == EventStatus.RETRACTED:
        return render(request, "timeline/event_retracted.html", {"event": event}, status=410)
    return render(request, "timeline/event_detail.html", {"event": event})
