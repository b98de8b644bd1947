from django.conf import global_settings
from django.db import models


class EventStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    RETRACTED = "retracted", "Retracted"


class Verification(models.TextChoices):
    SINGLE_SOURCE = "single_source", "Reported by one source"
    CORROBORATED = "corroborated", "Corroborated by independent sources"
    CONFIRMED = "confirmed", "Confirmed by an official or primary source"
    DISPUTED = "disputed", "Disputed"


class DatePrecision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    SEASON = "season", "Season"
    YEAR = "year", "Year"
    DECADE = "decade", "Decade"
    CENTURY = "century", "Century"


class ActorKind(models.TextChoices):
    GOVERNMENT = "government", "Government or state authority"
    PARTY = "party", "Political party"
    AGENCY = "agency", "Agency or leading group"
    COURT = "court", "Court or prosecutor"
    COMPANY = "company", "Company"
    MEDIA = "media", "Media outlet"
    NGO = "ngo", "NGO"
    PERSON = "person", "Person"
    GROUP = "group", "Group of people"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    ORDERED = "ordered", "Ordered or decided"
    ENFORCED = "enforced", "Implemented or enforced"
    TARGETED = "targeted", "Targeted"
    OPERATED_PLATFORM = "operated_platform", "Operated the affected platform"
    ANNOUNCED = "announced", "Announced or reported"
    RESPONDED = "responded", "Responded"
    OTHER = "other", "Other"


class PlatformKind(models.TextChoices):
    MESSAGING = "messaging", "Messaging"
    MICROBLOG = "microblog", "Microblog"
    SOCIAL_NETWORK = "social_network", "Social network"
    SEARCH = "search", "Search engine"
    VIDEO = "video", "Video"
    APP_STORE = "app_store", "App store"
    VPN = "vpn", "VPN"
    WEBSITE = "website", "Website"
    TELECOM = "telecom", "Telecom"
    OTHER = "other", "Other"


class SourceKind(models.TextChoices):
    NEWS = "news", "News report"
    OFFICIAL = "official", "Official notice"
    COURT = "court", "Court document"
    NGO_REPORT = "ngo_report", "NGO report"
    SOCIAL_POST = "social_post", "Social media post"
    ACADEMIC = "academic", "Academic"
    OTHER = "other", "Other"


class Reliability(models.TextChoices):
    RELIABLE = "reliable", "Reliable"
    USUALLY_RELIABLE = "usually_reliable", "Usually reliable"
    QUESTIONABLE = "questionable", "Questionable"
    UNKNOWN = "unknown", "Not yet assessed"


class RelationType(models.TextChoices):
    """Typed links read from the first event to the second (HURIDOCS chain of events)."""

    PART_OF = "part_of", "is part of"
    PRECEDES = "precedes", "precedes"
    CAUSED = "caused", "caused (the second responds to it)"
    SAME_EVENT = "same_event", "is the same event reported separately as"
    RELATED = "related", "is related to"


class CountUnit(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    POSTS = "posts", "Posts or articles"
    PEOPLE = "people", "People"
    WEBSITES = "websites", "Websites"
    APPS = "apps", "Apps"
    KEYWORDS = "keywords", "Keywords"
    OTHER = "other", "Other (say what in the note)"


class CountQualifier(models.TextChoices):
    EXACTLY = "exactly", "Exactly"
    AT_LEAST = "at_least", "At least"
    MORE_THAN = "more_than", "More than"
    ABOUT = "about", "About"
    AT_MOST = "at_most", "At most"


class AliasKind(models.TextChoices):
    NAME = "name", "Name in another script or language"
    ALIAS = "alias", "Alias or nickname"
    ABBREVIATION = "abbreviation", "Abbreviation"
    FORMER = "former", "Former name"


# Languages of sources and names: Django's list, which uses BCP 47 tags (zh-hans, pt-br).
LANGUAGES = sorted(global_settings.LANGUAGES, key=lambda language: language[1])
