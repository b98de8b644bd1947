"""The schedule of `manage.py rqcron events.cron` (RQ's own cron), with TASKS_REDIS_URL set.

Without a task queue, run `manage.py check_links` from cron instead (docs/operations.md).
"""

from django.conf import settings
from rq import cron

from events.tasks import check_links

cron.register(
    check_links,
    queue_name=settings.TASKS_QUEUE,
    cron=settings.LINK_CHECK_CRON,
    job_timeout=6 * 3600,
)
