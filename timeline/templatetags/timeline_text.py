"""Text filters for the reader's pages."""

import functools
import html
import re
import unicodedata

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from events.choices import DATA_LANGUAGE, Role, Verification
from events.dates import describe
from events.models import Event

from ..filters import EventFilterSet

register = template.Library()

# A sentence ends at . ! ? (or their full-width forms) before a space or the end; full-width
# marks end a sentence even with no space after them, as Chinese writes.
SENTENCE_END = re.compile(r"(.+?(?:[.!?](?=\s|$)|[\u3002\uff01\uff1f]))", re.S)
LONGEST = 240  # characters: a summary with no sentence end is cut at a word
# Parameters a page can refuse that have no place on the filter form.
UNPLACED_LABELS = {"cursor": _("Page"), "ordering": _("Sort")}


def first_sentence(text):
    """Return the first sentence of a summary, or its first words when it has none."""
    text = (text or "").strip()
    match = SENTENCE_END.match(text)
    sentence = unicodedata.normalize("NFC", match[1] if match else text)
    if len(sentence) <= LONGEST:
        return sentence  # what Truncator returns, without translating its ellipsis each time
    return Truncator(sentence).chars(LONGEST)


@register.simple_tag
def event_items(events):
    """Return the list items of a page's events: each one's date, type and place, its title
    (the original first where the page is in the original's language), the first sentence of
    its summary, its verification and sources, the platforms and actors it names, and its
    public id.

    The names are the event's platform_names and actor_names, which the list reads for the
    page's events together (timeline.pages._name_platforms_and_actors).

    Written here, not as a loop in the template: the template's tags and filters for each
    of 50 events, and each of the 200 names they link, were most of the time a page took to
    render. Each string is escaped with the standard library's html.escape, which is what
    Django's escape calls after checking for lazy text; a page escapes 1,200 strings."""
    language = translation.get_language()
    prefix = get_script_prefix()
    said = {
        "english": data_lang(),
        "event": _url_with_key("event-page", language, prefix),
        "platform": _url_with_key("platform-page", language, prefix),
        "actor": _url_with_key("actor-page", language, prefix),
        "platforms": escape(_phrase("platforms", language)),
        "actors": escape(_phrase("actors", language)),
        "between": escape(_phrase("between names", language)),
    }
    return mark_safe("".join(_event_item(event, language, said) for event in events))


def _event_item(event, language, said):
    english = said["english"]
    url = html.escape(said["event"].replace(KEY, event.public_id))
    title, original = html.escape(event.title), html.escape(event.title_original)
    in_original = f' lang="{html.escape(event.original_language)}"'
    if _original_first(event, language):
        titles = (
            f'<h4{in_original}><a href="{url}">{original}</a></h4>'
            f'<p class="title-original meta"{english}>{title}</p>'
        )
    else:
        titles = f'<h4{english}><a href="{url}">{title}</a></h4>'
        if original:
            titles += f'<p class="title-original meta"{in_original}>{original}</p>'
    evidence = html.escape(_choice_label("verification", event.verification, language))
    if event.source_count is not None:
        evidence += " · " + html.escape(_sources(event.source_count, language))
    when = _described(event.date_text, language)
    where = _place_of(event, language)
    return (
        '<li class="event"><p class="meta">'
        f'<time datetime="{event.date_earliest.isoformat()}">{html.escape(when)}</time>'
        f" · {html.escape(event.event_type.name)} · {html.escape(where)}</p>{titles}"
        f'<p class="summary"{english}>{html.escape(first_sentence(event.summary))}</p>'
        f'<p class="evidence">{evidence}</p>'
        f"{_platform_links(event, said)}{_actor_links(event, language, said)}"
        f'<p class="id">{html.escape(event.public_id)}</p></li>'
    )


def _platform_links(event, said):
    """ "Platforms: WeChat, Weibo", each name a link to its page, or nothing."""
    links = [_link(said["platform"], slug, name) for slug, name in event.platform_names]
    return _named_links(said["platforms"], links, said)


def _actor_links(event, language, said):
    """ "Actors: Tencent (enforced), …", each name a link to its page, or nothing."""
    in_brackets = _phrase("in brackets", language)
    roles = {}  # "(enforced)", once per role
    links = []
    for slug, name, role in event.actor_names:
        if role not in roles:
            label = html.escape(_choice_label("role", role, language).lower())
            roles[role] = f'<span class="role">{in_brackets % {"text": label}}</span>'
        links.append(f"{_link(said['actor'], slug, name)} {roles[role]}")
    return _named_links(said["actors"], links, said)


def _link(url, key, name):
    return f'<a href="{html.escape(url.replace(KEY, key))}">{html.escape(name)}</a>'


def _named_links(label, links, said):
    """Return the links, already escaped, after their label (escaped), as a paragraph."""
    if not links:
        return ""
    return f'<p class="tags">{label} {said["between"].join(links)}</p>'


@functools.lru_cache(maxsize=1024)
def _sources(count, language):
    # In the active language, which is `language`.
    return ngettext("%(sources)s source", "%(sources)s sources", count) % {"sources": count}


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
    return _place_of(event, translation.get_language())


def _place_of(event, language):
    return _place(*(getattr(event, name) for name in Event.PLACE_FIELDS), language)


def place_name(event):
    """Return a place in words in the active language, from Event.PLACE_FIELDS in a mapping (the
    event's JSON in a feed, or its fields on a page): the one phrase both say."""
    is_global, country, locality = (event[name] for name in Event.PLACE_FIELDS)
    return _place(is_global, country, locality, translation.get_language())


def _place(is_global, country, locality, language):
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
    return _original_first(event, translation.get_language())


def _original_first(event, language):
    if not event.title_original:
        return False
    return _primary(event.original_language) == _primary(language)


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


@register.simple_tag
def chart_bars(chart):
    """Return the chart's bars as SVG: each a rectangle titled with its period and events,
    a link to them where it has any, and every few bars the period's label below the axis.

    Written here, not as a loop in the template: a chart of three years has 36 bars, and
    the template's tags for each cost more than the rest of the chart."""
    # Translators: a bar of the chart: its period and how many events it holds, such as
    # "2014: 5" or "May 2014: 2".
    titled = gettext("%(period)s: %(events)s")
    below = chart["height"] + 20
    drawn = []
    for bar in chart["bars"]:
        title = html.escape(titled % {"period": bar["label"], "events": bar["count"]})
        shape = (
            f"<g><title>{title}</title>"
            f'<rect x="{bar["x"]}" y="{bar["y"]}" width="{bar["width"]}" '
            f'height="{bar["height"]}"></rect>'
        )
        if bar["show_label"]:
            alternate = " alternate" if bar["alternate"] else ""
            shape += (
                f'<text class="axis{alternate}" x="{bar["middle"]}" y="{below}" '
                f'text-anchor="middle">{html.escape(bar["label"])}</text>'
            )
        shape += "</g>"
        if bar["count"]:
            shape = f'<a href="{html.escape(bar["url"])}">{shape}</a>'
        drawn.append(shape)
    return mark_safe("".join(drawn))


# The choices a list of events names once per event: a label read from its enum costs one
# translation, where get_FOO_display() translates every choice to build its lookup (a third
# of the time a page of 50 events took to render).
CHOICES = {"role": Role, "verification": Verification}


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


# Stands for the key in a reversed URL: a slug, and a valid public id's characters.
KEY = "KEY0"


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


@functools.cache
def _primary(code):
    """Return a language tag's primary subtag: zh for zh-hans and zh-Hant."""
    return (code or "").split("-")[0].split("_")[0].lower()
