"""Read replicas: a public read inside a request goes to a replica; everything else to default.

The router sends reads to a replica only inside a *replica scope*, which
config.middleware.ReplicaMiddleware opens for a request that may read stale data: a safe
method, outside the admin, from an anonymous client that has not written in the last
REPLICA_PIN_SECONDS. Everywhere else reads go to the primary (`default`):

- outside any request: management commands, the shell, tests, threads we start;
- inside a transaction on the primary (`transaction.atomic`), so a service reads what it is
  about to write, and a test case (which runs in a transaction) reads its own rows;
- writes, always.

One request reads from one replica, chosen at random at its first read and kept for the rest
of the request, so its queries (a page, then its count; chunk after chunk of an export) see
one consistent replica rather than several, each with its own lag.

A QuerySet asks the router for its database when it is *evaluated* (`QuerySet.db`), not when
it is built, and a StreamingHttpResponse is consumed by the server after every middleware
has returned. The middleware therefore hands the request's scope to the response body with
`bound_to_scope`, so the queries an export runs chunk by chunk go to the request's replica
and not to the primary. tests/test_deployment.py shows both the problem and the fix.
"""

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


class ReplicaScope:
    """Mark reads as replica-eligible; remember the replica the first read chose."""

    __slots__ = ("alias",)

    def __init__(self):
        self.alias = None


# None: read from the primary. Each thread and each asyncio task has its own value.
_scope: ContextVar[ReplicaScope | None] = ContextVar("replica_scope", default=None)


def current_scope():
    return _scope.get()


def enter_scope(scope):
    """Make reads follow scope (None: the primary) until exit_scope(token)."""
    return _scope.set(scope)


def exit_scope(token: Token):
    _scope.reset(token)


@contextmanager
def replica_reads(scope=None):
    """Let reads in this block go to a replica (the primary still takes writes)."""
    token = enter_scope(scope or ReplicaScope())
    try:
        yield
    finally:
        exit_scope(token)


def bound_to_scope(iterable: Iterable, scope) -> Iterator:
    """Yield from iterable with scope in force while each item is produced.

    The scope is entered and left around each step in this frame, never across a yield, so
    the caller's context is exactly as it was between items.
    """
    iterator = iter(iterable)
    while True:
        token = enter_scope(scope)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            exit_scope(token)
        yield item


class ReplicaRouter:
    """Send replica-eligible reads to one replica per request and the rest to default."""

    def __init__(self, replicas=None):
        self.replicas = list(settings.DATABASE_REPLICAS if replicas is None else replicas)

    def db_for_read(self, model, **hints):
        scope = _scope.get()
        if scope is None or not self.replicas:
            return DEFAULT_DB_ALIAS
        # Django does not tell routers about transactions: check the primary's ourselves.
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if scope.alias not in self.replicas:
            scope.alias = random.choice(self.replicas)
        return scope.alias

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every alias holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas follow the primary's schema by replication
