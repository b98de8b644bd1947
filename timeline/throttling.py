"""The API's limit per anonymous client, counted where every gunicorn worker sees the counts.

DRF keeps a throttle's counts in the default cache, which without Redis is each worker's own
memory: two workers count apart, and gunicorn's max_requests restarts each worker, counts and
all. The "throttle" cache (settings.CACHES) is Redis when REDIS_URL is set, else files every
worker on this host shares.
"""

from django.core.cache import caches
from rest_framework import throttling

from events.admin.login import client_address


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's anonymous rate, counted in the shared cache under the address sign-in uses."""

    @property
    def cache(self):
        # Looked up on use, as DRF's default cache is: each thread gets its own connection.
        return caches["throttle"]

    def get_ident(self, request):
        return client_address(request)
