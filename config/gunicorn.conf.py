"""Gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi` (what bin/serve runs).

Sized for 2 cores. Each thread keeps its own persistent database connection (CONN_MAX_AGE),
so the primary, and each replica, sees up to WEB_CONCURRENCY x GUNICORN_THREADS connections.
"""

import gc
import os


def env_int(name, default):
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}.") from None


# Loopback unless told otherwise: a proxy or load balancer on this host talks to it.
bind = os.environ.get("BIND", "127.0.0.1:8000")

# One process per core: Python threads share one core for Python code.
workers = env_int("WEB_CONCURRENCY", 2)

# Threads, not sync workers. In gunicorn's gthread worker (workers/gthread.py) the main thread
# runs the event loop and calls notify() (the heartbeat the arbiter checks against `timeout`)
# about once a second, while requests run in a thread pool. A CSV export streaming for minutes
# therefore keeps its worker alive; under the sync worker the heartbeat waits for the request,
# and a stream longer than `timeout` is killed mid-body (HTTP 200, truncated file). Threads
# also overlap database and client waits, which dominate our requests.
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 4)

# With gthread this catches a worker whose main loop is stuck (the heartbeat stopped), not a
# slow request: the arbiter then kills and replaces the whole process.
timeout = 30

# On restart or shutdown, requests in flight get this long to finish: long enough for a
# whole-timeline export, after which gunicorn closes what is left.
graceful_timeout = 120

# Idle keep-alive connections wait in the main loop's poller, not in a thread, so a few seconds
# cost nothing and save a proxy new connections.
keepalive = 5

# Replace each worker after about a thousand requests to bound slow memory growth; the jitter
# keeps the two workers from restarting at the same moment.
max_requests = 1000
max_requests_jitter = 100

# Access log to stdout, errors to stderr: the process supervisor keeps both.
accesslog = "-"
errorlog = "-"

# The heartbeat touches a file every second: keep it in memory where /dev/shm exists, so a busy
# disk cannot stall it into a false timeout.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn 27 also opens a control socket at one fixed path per user by default; we never use
# it, and of two servers on one machine (bin/serve, bin/bench) the second unlinks the first's.
control_socket_disable = True

# forwarded_allow_ips is left to gunicorn's own FORWARDED_ALLOW_IPS variable (default
# 127.0.0.1,::1): from those addresses X-Forwarded-Proto: https makes request.is_secure() true.


def post_worker_init(worker):
    """Load what pages share (the world map's outlines) once the app is up, then freeze every
    object alive so far: the garbage collector stops walking Django, the URL resolvers and the
    map on each full collection. Measured on the timeline page at a million events, in
    process: 133 ms to 73 ms (bench/README.md, "pages")."""
    from timeline import worldmap

    worldmap.world_map()
    gc.collect()
    gc.freeze()
