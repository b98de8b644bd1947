"""The curators' room: where events, actors, platforms and sources are recorded."""

from . import events, references, revisions  # noqa: F401  (each registers its models)

# The site itself: events.site (named by events.apps), opening on events.admin.dashboard.
