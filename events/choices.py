from django.conf import global_settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# What events store and publish is in English (date_display; the labels in the API and the
# exports), whatever language a curator's admin or a reader's page is in.
DATA_LANGUAGE = "en-gb"


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    RETRACTED = "retracted", _("Retracted")


class Verification(models.TextChoices):
    SINGLE_SOURCE = "single_source", _("Reported by one source")
    CORROBORATED = "corroborated", _("Corroborated by independent sources")
    CONFIRMED = "confirmed", _("Confirmed by an official or primary source")
    DISPUTED = "disputed", _("Disputed")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    SEASON = "season", _("Season")
    YEAR = "year", _("Year")
    DECADE = "decade", _("Decade")
    CENTURY = "century", _("Century")


class ActorKind(models.TextChoices):
    GOVERNMENT = "government", _("Government or state authority")
    PARTY = "party", _("Political party")
    AGENCY = "agency", _("Agency or leading group")
    COURT = "court", _("Court or prosecutor")
    COMPANY = "company", _("Company")
    MEDIA = "media", _("Media outlet")
    NGO = "ngo", _("NGO")
    PERSON = "person", _("Person")
    GROUP = "group", _("Group of people")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    ORDERED = "ordered", _("Ordered or decided")
    ENFORCED = "enforced", _("Implemented or enforced")
    TARGETED = "targeted", _("Targeted")
    OPERATED_PLATFORM = "operated_platform", _("Operated the affected platform")
    ANNOUNCED = "announced", _("Announced or reported")
    RESPONDED = "responded", _("Responded")
    OTHER = "other", _("Other")


class PlatformKind(models.TextChoices):
    MESSAGING = "messaging", _("Messaging")
    MICROBLOG = "microblog", _("Microblog")
    SOCIAL_NETWORK = "social_network", _("Social network")
    SEARCH = "search", _("Search engine")
    VIDEO = "video", _("Video")
    APP_STORE = "app_store", _("App store")
    VPN = "vpn", _("VPN")
    WEBSITE = "website", _("Website")
    TELECOM = "telecom", _("Telecom")
    OTHER = "other", _("Other")


class SourceKind(models.TextChoices):
    NEWS = "news", _("News report")
    OFFICIAL = "official", _("Official notice")
    COURT = "court", _("Court document")
    NGO_REPORT = "ngo_report", _("NGO report")
    SOCIAL_POST = "social_post", _("Social media post")
    ACADEMIC = "academic", _("Academic")
    OTHER = "other", _("Other")


class Reliability(models.TextChoices):
    RELIABLE = "reliable", _("Reliable")
    USUALLY_RELIABLE = "usually_reliable", _("Usually reliable")
    QUESTIONABLE = "questionable", _("Questionable")
    UNKNOWN = "unknown", _("Not yet assessed")


class RelationType(models.TextChoices):
    """Typed links read from the first event to the second (HURIDOCS chain of events)."""

    PART_OF = "part_of", _("is part of")
    PRECEDES = "precedes", _("precedes")
    CAUSED = "caused", _("caused (the second responds to it)")
    SAME_EVENT = "same_event", _("is the same event reported separately as")
    RELATED = "related", _("is related to")


class CountUnit(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    POSTS = "posts", _("Posts or articles")
    PEOPLE = "people", _("People")
    WEBSITES = "websites", _("Websites")
    APPS = "apps", _("Apps")
    KEYWORDS = "keywords", _("Keywords")
    OTHER = "other", _("Other (say what in the note)")


class CountQualifier(models.TextChoices):
    # In context: "About" alone is also the name of a page.
    EXACTLY = "exactly", pgettext_lazy("how many", "Exactly")
    AT_LEAST = "at_least", pgettext_lazy("how many", "At least")
    MORE_THAN = "more_than", pgettext_lazy("how many", "More than")
    ABOUT = "about", pgettext_lazy("how many", "About")
    AT_MOST = "at_most", pgettext_lazy("how many", "At most")


class AliasKind(models.TextChoices):
    NAME = "name", _("Name in another script or language")
    ALIAS = "alias", _("Alias or nickname")
    ABBREVIATION = "abbreviation", _("Abbreviation")
    FORMER = "former", _("Former name")


# Languages of sources and names: Django's list, which uses BCP 47 tags (zh-hans, pt-br), in
# the order of their English names. Django's own catalogue translates the names.
LANGUAGES = [
    (code, _(name))
    for code, name in sorted(global_settings.LANGUAGES, key=lambda language: language[1])
]


def english_labels(choices):
    """Return a TextChoices' (code, label) pairs in English, whatever language is active."""
    with translation.override(DATA_LANGUAGE):
        return [(code, str(label)) for code, label in choices.choices]
