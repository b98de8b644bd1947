"""The people who curate: Curator and Editor groups, and the demo accounts of `make run`."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

CURATOR_GROUP = "Curator"
EDITOR_GROUP = "Editor"
RECORDED = (
    "event",
    "actor",
    "actoralias",
    "platform",
    "platformalias",
    "source",
    "tag",
    "eventactor",
    "citation",
    "eventcount",
    "eventrelation",
)
# Rows that hang off an event or an actor: removing one is part of editing it.
DEPENDENT = ("actoralias", "platformalias", "eventactor", "citation", "eventcount", "eventrelation")
# Curators record events and what they refer to, and send them to review. They publish
# nothing and delete no event, actor, platform or source.
CURATOR_PERMISSIONS = (
    [f"add_{model}" for model in RECORDED]
    + [f"change_{model}" for model in RECORDED]
    + [f"delete_{model}" for model in DEPENDENT]
    + [
        f"view_{model}"
        for model in (*RECORDED, "eventtype", "eventcategory", "eventtransition", "eventrevision")
    ]
)
# Editors do all that, publish, send back, retract, merge, import, delete drafts, and keep
# the taxonomy.
EDITOR_PERMISSIONS = [
    *CURATOR_PERMISSIONS,
    "publish_event",
    "import_event",
    "import_actor",
    "import_platform",
    "import_source",
    "merge_actor",
    "merge_platform",
    "delete_event",
    "delete_actor",
    "delete_platform",
    "delete_source",
    "delete_tag",
    "add_eventtype",
    "change_eventtype",
    "add_eventcategory",
    "change_eventcategory",
]


@transaction.atomic
def groups_ensure():
    """Create or refresh the Curator and Editor groups with exactly their permissions."""
    groups = {}
    for name, codenames in (
        (CURATOR_GROUP, CURATOR_PERMISSIONS),
        (EDITOR_GROUP, EDITOR_PERMISSIONS),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="events", codename__in=codenames)
        )
        groups[name] = group
    return groups


@transaction.atomic
def demo_user_create(*, username, password, group):
    """Create a staff account in a group; return False if the name is taken."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return False
    user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    user.groups.add(groups_ensure()[group])
    return True
