"""Work done away from the request: archiving sources and checking their links.

With TASKS_REDIS_URL set, a task goes to an RQ queue in Redis (django-rq) and a worker runs
it (`make worker`: `manage.py rqworker --with-scheduler`, the scheduler being what waits out a
retry's delay). Without it (`make run`, no Redis), the task runs in a daemon thread of the
process that asked: the page that asked answers at once although Save Page Now may take a
minute, and a retry sleeps in that thread, not in a request. Such a thread is lost if the
process stops; the next publication or `check_links` does not bring it back, an "Archive
now" does.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import close_old_connections, connections

from .services.archiving import source_archive
from .services.link_checks import sources_check_links

logger = logging.getLogger(__name__)

_threads: set[threading.Thread] = set()
# In-process tasks run one at a time, each in its own thread (so a retry's wait holds no
# other task back): SQLite, which `make run` uses, takes one writer at a time, and two
# archiving threads saving their copies together failed with "database table is locked".
_one_at_a_time = threading.Lock()


class QueueUnavailable(Exception):
    """The task queue (Redis) did not take the task."""


def enqueue(function: Callable, *args, retry_seconds: Sequence[int] = ()) -> None:
    """Run function(*args) away from the caller, trying again after each of retry_seconds."""
    if settings.TASKS_REDIS_URL:
        _enqueue_in_redis(function, args, retry_seconds)
    else:
        _start_thread(function, args, retry_seconds)


def _enqueue_in_redis(function, args, retry_seconds):
    import django_rq
    from redis.exceptions import RedisError
    from rq import Retry

    retry = Retry(max=len(retry_seconds), interval=list(retry_seconds)) if retry_seconds else None
    try:
        # Now, not at django-rq's default of the next commit: the callers choose when (the
        # services queue on commit), and a Redis that does not answer is reported here.
        queue = django_rq.get_queue(settings.TASKS_QUEUE, commit_mode="auto")
        queue.enqueue(function, *args, retry=retry)
    except RedisError as error:
        raise QueueUnavailable(f"Not queued: the task queue did not answer ({error}).") from error


def _start_thread(function, args, retry_seconds):
    thread = threading.Thread(
        target=_run_with_retries,
        args=(function, args, retry_seconds),
        name=f"task {function.__name__}",
        daemon=True,
    )
    _threads.add(thread)
    thread.start()


def _run_with_retries(function, args, retry_seconds):
    try:
        for wait in [*retry_seconds, None]:
            try:
                with _one_at_a_time:
                    function(*args)
                return
            except Exception:
                logger.exception("Task %s%r failed", function.__name__, args)
                if wait is None:
                    return
                time.sleep(wait)
                close_old_connections()
    finally:
        connections.close_all()  # this thread's connections only
        _threads.discard(threading.current_thread())


def wait_for_threads(timeout: float = 30) -> None:
    """Wait for the tasks running in this process's threads (tests; a clean stop)."""
    deadline = time.monotonic() + timeout
    for thread in list(_threads):
        thread.join(max(0, deadline - time.monotonic()))


# The tasks --------------------------------------------------------------------------------


def archive_source(source_id: int) -> None:
    """Ask Save Page Now for a copy of a source; raises to be retried."""
    source_archive(source_id=source_id)


def check_links() -> dict:
    """Check every source's link (the schedule in events.cron runs this)."""
    return dict(sources_check_links())
