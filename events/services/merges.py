"""Merging duplicate actors and platforms: every reference moves, names become aliases."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from ..choices import AliasKind
from ..models import Actor, ActorAlias, Event, EventActor, Platform, PlatformAlias, Source
from .events import events_referencing_changed


@transaction.atomic
def actor_merge(*, keep, merge, user=None):
    """Fold the actors in `merge` into `keep`; their names and aliases become its aliases.

    The merged actors are deleted through the ORM, so their history records the deletion
    and every earlier version stays readable.
    """
    merge = _others(keep, merge, user, "events.merge_actor")
    touched = set(Event.objects.filter(actor_roles__actor__in=merge).values_list("pk", flat=True))
    for role in EventActor.objects.filter(actor__in=merge):
        duplicate = EventActor.objects.filter(event_id=role.event_id, actor=keep, role=role.role)
        if duplicate.exists():
            role.delete()
        else:
            role.actor = keep
            role.save()
    for model, field in ((Actor, "parent"), (Source, "publisher_actor"), (Platform, "operator")):
        referring = model.objects.filter(**{f"{field}__in": merge})
        if model is Actor:
            referring = referring.exclude(pk=keep.pk)  # the kept actor cannot be its own parent
        for row in referring:
            setattr(row, field, keep)
            row.save()
    _keep_names(keep, merge, ActorAlias, "actor")
    for actor in merge:
        actor.delete()
    events_referencing_changed(events=Event.objects.filter(pk__in=touched))
    return keep


@transaction.atomic
def platform_merge(*, keep, merge, user=None):
    """Fold the platforms in `merge` into `keep`, with their events and names."""
    merge = _others(keep, merge, user, "events.merge_platform")
    touched = list(Event.objects.filter(platforms__in=merge).distinct())
    for event in touched:
        event.platforms.add(keep)
        event.platforms.remove(*merge)
    _keep_names(keep, merge, PlatformAlias, "platform")
    for platform in merge:
        platform.delete()
    events_referencing_changed(events=Event.objects.filter(pk__in=[e.pk for e in touched]))
    return keep


def _others(keep, merge, user, permission):
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(gettext("Merging is for editors."))
    others = [row for row in merge if row.pk != keep.pk]
    if not others:
        raise ValidationError(
            gettext("Choose at least one other row to merge into the one you keep.")
        )
    return others


def _keep_names(keep, merge, alias_model, parent_field):
    known = {keep.name.casefold()} | {
        name.casefold() for name in keep.aliases.values_list("name", flat=True)
    }
    for row in merge:
        names = [(row.name, AliasKind.ALIAS, "")] + [
            (alias.name, alias.kind, alias.language) for alias in row.aliases.all()
        ]
        for name, kind, language in names:
            if name.casefold() in known:
                continue
            known.add(name.casefold())
            alias_model.objects.create(
                **{parent_field: keep}, name=name, kind=kind, language=language
            )
