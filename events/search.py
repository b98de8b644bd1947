"""Full-text search with one contract on PostgreSQL and SQLite.

The contract: every word of the query must begin a word of the event's search text (the
registry's searchable fields, actor and platform names and aliases, quoted passages),
ignoring case in any script. "arrest" finds "arrested"; "微信" finds "微信公众号"; "wechat
accounts" needs both.

Both databases read the same stored text, which we write already split into casefolded words
separated by single spaces, so they agree on what a word is:
- PostgreSQL: a generated `tsvector` column over that text with a GIN index, queried with a
  prefix `tsquery` (`'wechat':* & 'accounts':*`).
- SQLite: `LIKE '% wechat%'` on the same text, one condition per word. SQLite's LIKE folds
  only ASCII case, which is why the text and the query are casefolded in Python.
"""

import re

from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 16
SEARCH_VECTOR_COLUMN = "search_vector"


def words(text):
    """Return the casefolded words of a text, in order."""
    return WORD.findall((text or "").casefold())


def search_document(*parts):
    """Return the stored search text for some strings: their words, space separated."""
    found = [word for part in parts for word in words(part)]
    # The leading space lets "begins a word" be written as LIKE '% word%'.
    return " " + " ".join(found) if found else ""


def query_words(query):
    """Return the distinct words of a search query, at most MAX_QUERY_WORDS of them."""
    return list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]


def matching_condition(query_terms, using):
    """Return a filter condition: every term begins a word of Event.search_text."""
    if connections[using].vendor == "postgresql":
        tsquery = " & ".join(f"'{term}':*" for term in query_terms)
        return RawSQL(
            f'"events_event"."{SEARCH_VECTOR_COLUMN}" @@ to_tsquery(\'simple\', %s)',
            (tsquery,),
            output_field=BooleanField(),
        )
    condition = Q()
    for term in query_terms:
        condition &= Q(search_text__contains=f" {term}")
    return condition
