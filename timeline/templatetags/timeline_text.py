"""Text filters for the reader's pages."""

import functools
import re
import unicodedata

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy
from django_countries import countries

from events.choices import DATA_LANGUAGE, Role, Verification
from events.dates import describe

from ..filters import EventFilterSet

register = template.Library()

# A sentence ends at . ! ? (or their full-width forms) before a space or the end; full-width
# marks end a sentence even with no space after them, as Chinese writes.
SENTENCE_END = re.compile(r"(.+?(?:[.!?](?=\s|$)|[\u3002\uff01\uff1f]))", re.S)
LONGEST = 240  # characters: a summary with no sentence end is cut at a word
# Parameters a page can refuse that have no place on the filter form.
UNPLACED_LABELS = {"cursor": _("Page"), "ordering": _("Sort")}


@register.filter
def first_sentence(text):
    """Return the first sentence of a summary, or its first words when it has none."""
    text = (text or "").strip()
    match = SENTENCE_END.match(text)
    sentence = unicodedata.normalize("NFC", match[1] if match else text)
    if len(sentence) <= LONGEST:
        return sentence  # what Truncator returns, without translating its ellipsis each time
    return Truncator(sentence).chars(LONGEST)


@register.filter
def event_date(event):
    """Return an event's date in words in the page's language ("c. April 2014", 约2014年4月)."""
    return _described(event.date_text, translation.get_language())


@functools.lru_cache(maxsize=4096)
def _described(date_text, language):
    # In the active language, which is `language`; a page of 50 events parsed and
    # translated 50 dates, most of them alike.
    return describe(date_text)


@register.filter
def place(event):
    """Return where an event happened, in the page's language: "Beijing, China", "Global"."""
    return place_name({name: getattr(event, name) for name in PLACE_FIELDS})


# The fields that say where an event happened, by their names in the model and the JSON.
PLACE_FIELDS = ("is_global", "country", "locality")


def place_name(event):
    """Return a place in words in the active language, from PLACE_FIELDS in a mapping (the
    event's JSON in a feed, or its fields on a page): the one phrase both say."""
    is_global, country, locality = (event[name] for name in PLACE_FIELDS)
    language = translation.get_language()
    if is_global:
        return _phrase("global", language)
    name = _country_name(getattr(country, "code", country), language)
    if not locality:
        return name
    return _phrase("locality, country", language) % {"locality": locality, "country": name}


@functools.cache
def _country_name(code, language):
    return countries.name(code)  # in the active language, which is `language`: 80 µs a call


@register.filter
def original_first(event):
    """Return whether the page's reader reads the event's original title before the English:
    when the original is in the page's language (a Chinese title on the Chinese site)."""
    if not event.title_original:
        return False
    return _primary(event.original_language) == _primary(translation.get_language())


@register.simple_tag
def data_lang():
    """Return the lang attribute of the curated English text, on a page in another language
    (so that a screen reader reads it as English); nothing on an English page."""
    if _primary(translation.get_language()) == _primary(DATA_LANGUAGE):
        return ""
    return format_html(' lang="{}"', "en")


@register.simple_tag
def chart_year_counts(chart):
    """Return the years of a chart that hold events, with their events: "2013 2, 2014 5"."""
    joiner = pgettext("between names in a list", ", ")
    # Translators: a year of the chart and how many events it holds, such as "2014 5".
    year_count = pgettext("a year and its events, in the chart's caption", "%(year)s %(events)s")
    return joiner.join(
        year_count % {"year": bar["label"], "events": bar["count"]}
        for bar in chart["bars"]
        if bar["count"]
    )


# The choices a list of events names once per event: a label read from its enum costs one
# translation, where get_FOO_display() translates every choice to build its lookup (a third
# of the time a page of 50 events took to render).
CHOICES = {"role": Role, "verification": Verification}


@register.filter
def choice_label(value, name):
    """Return the label of a role or a verification in the page's language."""
    return _choice_label(name, value, translation.get_language())


@functools.cache
def _choice_label(name, value, language):
    return str(CHOICES[name](value).label)  # in the active language, which is `language`


# Phrases the list of events says for every event, read once per language: gettext costs
# some 10 µs a call, and a page of 50 events said these 300 times.
PHRASES = {
    "platforms": _("Platforms:"),
    "actors": _("Actors:"),
    "in brackets": pgettext_lazy("in brackets", "(%(text)s)"),
    "between names": pgettext_lazy("between names in a list", ", "),
    "global": _("Global"),
    "locality, country": _("%(locality)s, %(country)s"),
}


@functools.cache
def _phrase(name, language):
    return str(PHRASES[name])  # in the active language, which is `language`


@register.simple_tag
def platform_links(event):
    """Return "Platforms: WeChat, Weibo" with each name a link to its page, or nothing.

    The names are the event's platform_names and actor_names, which the list reads for the
    page's events together (timeline.pages._name_platforms_and_actors).

    This and actor_links are written here, not as loops in the template: a page of 50
    events names some 200 actors and platforms, and the template's tags and filters for
    each name were nearly half the time the list took to render (13 of 29 ms)."""
    language = translation.get_language()
    url = _url_with_key("platform-page", language, get_script_prefix())
    links = [_link(url, slug, name) for slug, name in event.platform_names]
    return _named_links("platforms", links, language)


@register.simple_tag
def actor_links(event):
    """Return "Actors: Tencent (enforced), …" with each name a link to its page, or nothing."""
    language = translation.get_language()
    url = _url_with_key("actor-page", language, get_script_prefix())
    in_brackets = _phrase("in brackets", language)
    roles = {}  # "(enforced)", once per role
    links = []
    for slug, name, role in event.actor_names:
        if role not in roles:
            label = escape(choice_label(role, "role").lower())
            roles[role] = f'<span class="role">{in_brackets % {"text": label}}</span>'
        links.append(f"{_link(url, slug, name)} {roles[role]}")
    return _named_links("actors", links, language)


def _link(url, key, name):
    return f'<a href="{escape(url.replace(KEY, key))}">{escape(name)}</a>'


def _named_links(label, links, language):
    """Return the links, already escaped, after their label, as a paragraph."""
    if not links:
        return ""
    joiner = escape(_phrase("between names", language))
    label = escape(_phrase(label, language))
    return mark_safe(f'<p class="tags">{label} {joiner.join(links)}</p>')


# Stands for the key in a reversed URL: a slug, and a valid public id's characters.
KEY = "KEY0"


@register.filter
def page_url(key, name):
    """Return the URL of a reader's page named by one key: event-page by a public id,
    actor-page and platform-page by a slug. The same as {% url %}, reversed once per page
    name, language and script prefix, not once per link (a list of 50 events links some
    250 times)."""
    return _url_with_key(name, translation.get_language(), get_script_prefix()).replace(KEY, key)


@functools.cache
def _url_with_key(name, language, script_prefix):
    return reverse(f"timeline:{name}", args=[KEY])


@register.filter
def filter_label(name):
    """Return a query parameter as the filter form names it: date_from is "From"."""
    declared = EventFilterSet.base_filters.get(name)
    if declared is not None and getattr(declared, "place", None) is not None:
        return declared.place.label
    return UNPLACED_LABELS.get(name, name)


def _primary(code):
    """Return a language tag's primary subtag: zh for zh-hans and zh-Hant."""
    return (code or "").split("-")[0].split("_")[0].lower()
