import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from events import choices
from events.models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventType,
    Platform,
    Source,
    Tag,
)
from events.services import event_save


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"curator{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    is_staff = True
    password = factory.django.Password("correct horse battery")


class EventCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventCategory

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class EventTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventType

    category = factory.SubFactory(EventCategoryFactory)
    name = factory.Sequence(lambda n: f"Type {n}")
    slug = factory.Sequence(lambda n: f"type-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Actor {n}")
    slug = factory.Sequence(lambda n: f"actor-{n}")
    kind = choices.ActorKind.GOVERNMENT
    country = "CN"


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform

    name = factory.Sequence(lambda n: f"Platform {n}")
    slug = factory.Sequence(lambda n: f"platform-{n}")
    kind = choices.PlatformKind.MESSAGING


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Report {n}")
    url = factory.Sequence(lambda n: f"https://news.example.org/report-{n}")
    publisher = "Example News"
    kind = choices.SourceKind.NEWS


class EventFactory(factory.django.DjangoModelFactory):
    """An event saved through the service, so its id and date bounds are real.

    EventFactory(published=True) is a published event as readers get it, first published
    now unless first_published_at says when; cited=True adds the citation publishing asks.
    """

    class Meta:
        model = Event
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(status=choices.EventStatus.PUBLISHED)
        cited = factory.Trait(
            citation=factory.RelatedFactory("tests.factories.CitationFactory", "event")
        )

    title = factory.Sequence(lambda n: f"Event {n}")
    summary = "Something happened."
    event_type = factory.SubFactory(EventTypeFactory)
    date_text = "2014-05-27"
    country = "CN"
    status = choices.EventStatus.DRAFT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        event = model_class(*args, **kwargs)
        if event.status in (choices.EventStatus.PUBLISHED, choices.EventStatus.RETRACTED):
            event.first_published_at = event.first_published_at or timezone.now()
        if event.status == choices.EventStatus.RETRACTED:
            event.retracted_at = event.retracted_at or timezone.now()
            event.retraction_reason = event.retraction_reason or "Found to be wrong."
        return event_save(event=event)


class EventActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventActor

    event = factory.SubFactory(EventFactory)
    actor = factory.SubFactory(ActorFactory)
    role = choices.Role.ORDERED


class CitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Citation

    event = factory.SubFactory(EventFactory)
    source = factory.SubFactory(SourceFactory)
    quote = "over 40 accounts being removed"
    locator = "para. 6"


def member_of(group_name, username):
    """Return a staff user in the Curator or Editor group (created if need be)."""
    from django.contrib.auth.models import Group

    from events.services import groups_ensure

    groups_ensure()
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=group_name))
    return user
