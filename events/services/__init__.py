"""Writes that touch several rows. The admin, the commands and the import all go through here."""

from .accounts import (
    CURATOR_GROUP,
    EDITOR_GROUP,
    demo_user_create,
    groups_ensure,
)
from .archiving import sources_archive_later
from .events import (
    EditConflict,
    event_allocate_public_id,
    event_likely_duplicates,
    event_linked_ids,
    event_public_id_prefix,
    event_publication_problems,
    event_publish,
    event_retract,
    event_return_to_draft,
    event_save,
    event_search_refresh,
    event_submit,
    events_linked_changed,
    events_referencing_changed,
    events_search_rebuild,
    references_delete,
)
from .link_checks import sources_check_links, sources_dead_or_unarchived
from .merges import actor_merge, platform_merge
from .releases import release_load, release_make, release_path_reader, release_tables
from .revisions import (
    event_is_moderated,
    revision_approve,
    revision_pending,
    revision_proposal,
    revision_proposal_of,
    revision_propose,
    revision_reject,
    revision_withdraw,
)
from .seeds import SEED_CHANGE_REASON, seed_load, source_seed

__all__ = [
    "CURATOR_GROUP",
    "EDITOR_GROUP",
    "SEED_CHANGE_REASON",
    "EditConflict",
    "actor_merge",
    "demo_user_create",
    "event_allocate_public_id",
    "event_is_moderated",
    "event_likely_duplicates",
    "event_linked_ids",
    "event_public_id_prefix",
    "event_publication_problems",
    "event_publish",
    "event_retract",
    "event_return_to_draft",
    "event_save",
    "event_search_refresh",
    "event_submit",
    "events_linked_changed",
    "events_referencing_changed",
    "events_search_rebuild",
    "groups_ensure",
    "platform_merge",
    "references_delete",
    "release_load",
    "release_make",
    "release_path_reader",
    "release_tables",
    "revision_approve",
    "revision_pending",
    "revision_proposal",
    "revision_proposal_of",
    "revision_propose",
    "revision_reject",
    "revision_withdraw",
    "seed_load",
    "source_seed",
    "sources_archive_later",
    "sources_check_links",
    "sources_dead_or_unarchived",
]
