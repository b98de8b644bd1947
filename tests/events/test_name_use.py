"""How many links name each actor, platform and tag (models.NameUse, migration 0025), against
the links themselves, and the timeline's suggested names read from it.

The database's triggers keep the counts, so every way a link is written is tried: adding,
removing, setting and clearing, an edit that moves a link to another name and one that moves
none, bulk inserts and updates, deleting events, a flush. After each, the counts must say
what counting the links says.
"""

import importlib
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from events.models import Event, EventActor, NameUse
from tests.factories import (
    ActorFactory,
    EventActorFactory,
    EventFactory,
    PlatformFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

LINKS = {
    "actor": (EventActor, "actor"),
    "platform": (Event.platforms.through, "platform"),
    "tag": (Event.tags.through, "tag"),
}


def used():
    return {(row.kind, row.named_id): row.links for row in NameUse.objects.all() if row.links}


def linked():
    return {
        (kind, row[column]): row["n"]
        for kind, (through, column) in LINKS.items()
        for row in through.objects.values(column).annotate(n=Count("*"))
    }


def test_links_added_and_removed_move_their_names_counts():
    wechat, weibo = PlatformFactory(name="WeChat"), PlatformFactory(name="Weibo")
    tag = TagFactory()
    events = [EventFactory() for _ in range(3)]
    for event in events:
        event.platforms.add(wechat)
    events[0].platforms.add(weibo)
    events[1].tags.add(tag)
    assert used() == linked()
    assert used()[("platform", wechat.pk)] == 3

    events[0].platforms.remove(wechat)
    events[1].platforms.set([weibo])
    events[2].platforms.clear()
    events[1].tags.clear()
    assert used() == linked() == {("platform", weibo.pk): 2}


def test_an_actor_moved_to_another_name_or_role(curator):
    bureau, police = ActorFactory(), ActorFactory()
    roles = [EventActorFactory(actor=bureau) for _ in range(2)]
    EventActorFactory(event=roles[0].event, actor=bureau, role="enforced")  # twice in one event
    assert used() == linked() == {("actor", bureau.pk): 3}

    roles[0].actor = police
    roles[0].save()
    roles[1].role = "targeted"  # no name moves
    roles[1].save()
    assert used() == linked() == {("actor", bureau.pk): 2, ("actor", police.pk): 1}

    EventActor.objects.filter(actor=bureau).update(actor=police)
    assert used() == linked() == {("actor", police.pk): 3}


def test_bulk_inserts_and_deletions():
    actors = [ActorFactory() for _ in range(3)]
    events = [EventFactory() for _ in range(4)]
    EventActor.objects.bulk_create(
        EventActor(event=event, actor=actor, role="ordered") for event in events for actor in actors
    )
    Event.tags.through.objects.bulk_create(
        Event.tags.through(event=event, tag=TagFactory()) for event in events
    )
    assert used() == linked()
    assert used()[("actor", actors[0].pk)] == 4

    events[0].delete()  # its links go with it
    assert used() == linked()
    assert used()[("actor", actors[0].pk)] == 3
    Event.objects.filter(pk__in=[event.pk for event in events[1:3]]).delete()
    EventActor.objects.filter(actor=actors[2]).delete()
    assert used() == linked()
    assert used()[("actor", actors[0].pk)] == 1


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_it():
    EventActorFactory().event.platforms.add(PlatformFactory())
    assert used()
    call_command("flush", interactive=False, verbosity=0)
    assert NameUse.objects.count() == 0


class _Executing:
    """What the migration's functions need of a schema editor, inside the test's transaction."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_migration_counts_the_links_already_there():
    migration = importlib.import_module("events.migrations.0025_name_use")
    migration.drop_triggers(None, _Executing())
    NameUse.objects.all().delete()
    EventActorFactory().event.platforms.add(PlatformFactory(), PlatformFactory())
    EventActorFactory().event.tags.add(TagFactory())
    assert not NameUse.objects.exists()  # no trigger counted them

    migration.create_triggers(None, _Executing())
    assert used() == linked()
    assert len(used()) == 5
    EventActorFactory()  # and the triggers count from there
    assert used() == linked()


# What a reader sees: the form's suggestions, the most used names among the public ones.


def suggested(client, kind):
    page = client.get("/").content.decode()
    names = re.search(rf'<datalist id="{kind}-names">(.*?)</datalist>', page, re.S)[1]
    return re.findall(r'<option value="([^"]+)">', names)


def test_the_form_suggests_the_thirty_most_used_public_names_at_once(client, editor):
    actors = [ActorFactory(name=f"Bureau {n:02d}") for n in range(35)]
    for n, actor in enumerate(actors):  # Bureau 00 in one event, Bureau 34 in 35
        for _ in range(n + 1):
            EventActorFactory(event=EventFactory(published=True), actor=actor)
    hidden = ActorFactory(name="Only in drafts")
    for _ in range(50):
        EventActorFactory(event=EventFactory(), actor=hidden)

    assert suggested(client, "actor") == [f"Bureau {n:02d}" for n in range(5, 35)]

    # A name newly in use is suggested on the next view, not minutes later.
    for _ in range(40):
        EventActorFactory(event=EventFactory(published=True), actor=actors[0])
    shown = suggested(client, "actor")
    assert "Bureau 00" in shown and "Bureau 05" not in shown
    assert "Only in drafts" not in shown
