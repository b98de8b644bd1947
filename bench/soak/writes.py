"""What the writers attempted against what the database holds once the soak is over.

Every attempt carries a marker of its own: a creation puts "[marker]" at the start of the
event's title, an edit appends it to the summary, a publication makes it the comment of the
EventTransition. Nothing is retried under the same marker, so each marker is in the database
at most once, and exactly once if the write was acknowledged.
"""

import contextlib
from collections import Counter


def stored_counts(cluster, database, run):
    """Return {marker: rows holding it} for every soak write of this run the database kept."""
    with contextlib.closing(cluster.connect(database)) as connection, connection.cursor() as cur:
        cur.execute(
            "SELECT title, summary FROM events_event WHERE internal_notes = %s",
            (f"[soak] run {run}",),
        )
        events = cur.fetchall()
        cur.execute(
            "SELECT comment FROM events_eventtransition "
            "WHERE to_status = 'published' AND comment LIKE %s",
            (f"[soak-{run}-%",),
        )
        comments = [row[0] for row in cur.fetchall()]
    counts = Counter()
    for title, summary in events:
        counts.update(_markers(title[: title.find("]") + 1]))
        counts.update(_markers(summary))
    for comment in comments:
        counts.update(_markers(comment))
    return counts


def _markers(text):
    """Return the markers written in brackets in a text: [soak-<run>-<writer><n>-<op>]."""
    found = []
    start = text.find("[soak-")
    while start != -1:
        end = text.find("]", start)
        if end == -1:
            break
        found.append(text[start + 1 : end])
        start = text.find("[soak-", end)
    return found


def summarise(records, counts, *, db_ready_at):
    """Return attempted, acknowledged, stored, lost, stored but unacknowledged, errors by kind."""
    summary = {
        "attempted": len(records),
        "acknowledged": 0,
        "stored": 0,
        "lost": [],
        "stored_unacknowledged": [],
        "stored_twice": [],
        "errors": Counter(),
        "by_op": {},
        "first_acknowledged_after_db_ready": None,
    }
    for record in records:
        stored = counts.get(record["marker"], 0)
        op = summary["by_op"].setdefault(record["op"], Counter())
        op["attempted"] += 1
        if stored:
            summary["stored"] += 1
            op["stored"] += 1
        if stored > 1:
            summary["stored_twice"].append(record["marker"])
        if record["acknowledged"]:
            summary["acknowledged"] += 1
            op["acknowledged"] += 1
            if not stored:
                summary["lost"].append(record["marker"])
            if db_ready_at and record["ended"] >= db_ready_at:
                first = summary["first_acknowledged_after_db_ready"]
                summary["first_acknowledged_after_db_ready"] = min(
                    first or record["ended"], record["ended"]
                )
        else:
            summary["errors"][record["error"]] += 1
            if stored:
                summary["stored_unacknowledged"].append(
                    {"marker": record["marker"], "error": record["error"]}
                )
    summary["errors"] = dict(summary["errors"].most_common())
    summary["by_op"] = {name: dict(counter) for name, counter in summary["by_op"].items()}
    return summary
