"""Full-text search with one contract on PostgreSQL and SQLite.

The contract: every word of the query must begin a word of the event's search text (the
registry's searchable fields, actor and platform names and aliases, quoted passages),
ignoring case in any script and Traditional or Simplified Chinese characters. "arrest" finds
"arrested"; "wechat accounts" needs both.

Chinese is written without spaces, so a run of Han characters has no words to begin. Such a
run is folded to Simplified characters (OpenCC's t2s dictionaries: 審查 and 审查 are one
word) and cut into overlapping pairs of characters, bigrams, in the text and in the query
alike: "封鎖微信公眾號" is stored as 封锁 锁微 微信 信公 公众 众号, and q=公众号 asks for
公众 and 众号. As in every CJK bigram search (Lucene's CJKBigramFilter, pg_bigm), the query's
bigrams must all be there but not necessarily next to each other, so a rare event holding
公众 and 众号 apart is found too. A run of one character stays one word and, like any query
word, matches as a prefix: q=微 finds 微信, but not a character that only ends a run (the 号
of 公众号 begins no bigram). Letters, digits and other scripts are words as before; in
"WeChat微信账号" the Latin and Han runs are separate words (wechat, 微信 信账 账号).

Both databases read the same stored text, which we write already split into casefolded words
separated by single spaces, so they agree on what a word is:
- PostgreSQL: a generated `tsvector` column over that text with a GIN index, queried with a
  prefix `tsquery` (`'wechat':* & 'accounts':*`).
- SQLite: `LIKE '% wechat%'` on the same text, one condition per word. SQLite's LIKE folds
  only ASCII case, which is why the text and the query are casefolded in Python.

Changing what a word is means rewriting the search text it changes, as migration
0014_search_text_chinese_bigrams does with services.events_search_rebuild.
"""

import functools
import re

import opencc
from django.db import connections
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

# CJK Unified Ideographs, Extension A, the compatibility block and the supplementary planes'
# extensions (B onwards).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAS_HAN = re.compile(f"[{HAN}]")
# A run of Han characters, or a run of other letters and digits (never "_").
WORD = re.compile(f"[{HAN}]+|[^\\W_{HAN}]+")
# A 10-character Chinese query is 9 bigrams: room for that and a few words around it.
MAX_QUERY_WORDS = 32
SEARCH_VECTOR_COLUMN = "search_vector"


def words(text):
    """Return the casefolded words of a text, in order, Han runs as Simplified bigrams."""
    text = (text or "").casefold()
    if HAS_HAN.search(text):
        text = _simplified(text)
    return [word for run in WORD.findall(text) for word in _split_han(run)]


def _split_han(run):
    if len(run) < 3 or not HAS_HAN.match(run):
        return [run]  # other scripts, and Han runs of one or two characters, stay whole
    return [run[start : start + 2] for start in range(len(run) - 1)]


@functools.cache
def _converter():
    return opencc.OpenCC("t2s")  # loading the dictionaries takes a while: once per process


def _simplified(text):
    return _converter().convert(text)


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
