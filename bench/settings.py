"""The production settings plus one bare view (bench.urls) to measure what the framework costs.

The benchmark's gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings, so the API and the
bare view answer from the same processes.
"""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The public response cache (timeline.caching) answers a repeated request from memory, and a
# benchmark repeats requests: most figures are taken with it off, to measure what answering
# costs; the "cached" section turns it back on (BENCH_RESPONSE_CACHE=on) to show what it saves.
if os.environ.get("BENCH_RESPONSE_CACHE", "off") == "off":
    PUBLIC_CACHE_SECONDS = 0
