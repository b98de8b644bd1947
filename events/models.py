"""The censorship event database: events, who took part, where it hit, and the sources."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from . import choices
from .dates import InvalidDate, describe_for_storage, parse_date
from .links import normalise_url, validate_archive_url
from .querysets import (
    ActorQuerySet,
    DatedQuerySet,
    EventCategoryQuerySet,
    EventQuerySet,
    EventTypeQuerySet,
    PlatformQuerySet,
    SourceQuerySet,
    TagQuerySet,
)
from .quotes import check_quote

# \Z, not $: $ also matches before a final newline. Both databases read \Z as end of text.
WIKIDATA_PATTERN = r"^Q[1-9][0-9]*\Z"
WIKIDATA_MESSAGE = _("A Wikidata id is Q followed by digits, such as Q15031.")
wikidata_validator = RegexValidator(WIKIDATA_PATTERN, WIKIDATA_MESSAGE)
DATE_HELP = _(
    "As the sources give it, in EDTF: 2014-05-27 (a day), 2014-03 (a month), 2014 (a year), "
    "2014-04~ (approximately April 2014), 2014-05? (May 2014, uncertain), "
    "2014-05-27/2014-06-27 (a span), 2009-07-07/.. (since 7 July 2009, still ongoing)."
)


def wikidata_constraint(model_name):
    return models.CheckConstraint(
        condition=Q(wikidata_id="") | Q(wikidata_id__regex=WIKIDATA_PATTERN),
        name=f"{model_name}_wikidata_id_format",
        violation_error_message=WIKIDATA_MESSAGE,
    )


class SlugNaturalKeyManager(models.Manager):
    """Let fixtures refer to rows by slug, so they load into any database."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class SluggedModel(models.Model):
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        help_text=_("Short stable name used in URLs and filters."),
    )

    objects = SlugNaturalKeyManager()

    class Meta:
        abstract = True

    def natural_key(self):
        return (self.slug,)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class EventCategory(SluggedModel, TimestampedModel):
    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("Such as 'Content control'.")
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("What belongs in this category.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Order in lists.")
    )

    objects = SlugNaturalKeyManager.from_queryset(EventCategoryQuerySet)()

    class Meta:
        ordering = ("position", "name")
        verbose_name = _("event category")
        verbose_name_plural = _("event categories")

    def __str__(self):
        return self.name


class EventTypeManager(SlugNaturalKeyManager):
    def get_queryset(self):
        return super().get_queryset().select_related("category")


class EventType(SluggedModel, TimestampedModel):
    category = models.ForeignKey(
        EventCategory,
        on_delete=models.PROTECT,
        related_name="types",
        verbose_name=_("category"),
        help_text=_("The category this type belongs to."),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("Such as 'Account removal or suspension'.")
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("When to use this type.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Order within its category.")
    )

    objects = EventTypeManager.from_queryset(EventTypeQuerySet)()

    class Meta:
        ordering = ("category__position", "position", "name")
        verbose_name = _("event type")
        verbose_name_plural = _("event types")
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="eventtype_unique_name"),
        ]

    def __str__(self):
        return f"{self.category.name}: {self.name}"


class Tag(SluggedModel, TimestampedModel):
    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("Such as 'instant messaging'.")
    )

    objects = SlugNaturalKeyManager.from_queryset(TagQuerySet)()

    class Meta:
        ordering = ("name",)
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Alias(models.Model):
    """Another name for an actor or platform: 习近平 for Xi Jinping, 微信 for WeChat."""

    name = models.CharField(
        _("name"), max_length=200, help_text=_("The name as written, in any script.")
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=choices.AliasKind,
        default=choices.AliasKind.NAME,
        help_text=_("What sort of name this is."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=choices.LANGUAGES,
        help_text=_("Language of the name, if it matters (zh-hans for 微信)."),
    )

    class Meta:
        abstract = True

    def __str__(self):
        return self.name


class Actor(SluggedModel, TimestampedModel):
    name = models.CharField(_("name"), max_length=200, help_text=_("The usual English name."))
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=choices.ActorKind,
        help_text=_("What sort of actor this is."),
    )
    country = CountryField(
        _("country"), blank=True, help_text=_("Where the actor is based, if anywhere.")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
        help_text=_("The organisation this one belongs to (a ministry's government)."),
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("Who they are, in a sentence or two.")
    )
    wikidata_id = models.CharField(
        _("wikidata id"),
        max_length=20,
        blank=True,
        validators=[wikidata_validator],
        help_text=_("Wikidata item, such as Q15031 for Xi Jinping."),
    )
    url = models.URLField(_("url"), max_length=500, blank=True, help_text=_("Official website."))

    history = HistoricalRecords()

    objects = SlugNaturalKeyManager.from_queryset(ActorQuerySet)()

    class Meta:
        permissions = [("merge_actor", "Can merge actors"), ("import_actor", "Can import actors")]
        ordering = ("name",)
        verbose_name = _("actor")
        verbose_name_plural = _("actors")
        constraints = [
            wikidata_constraint("actor"),
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="actor_not_own_parent",
                violation_error_message=_("An actor cannot be its own parent."),
            ),
        ]

    def __str__(self):
        return self.name


class ActorAlias(Alias):
    actor = models.ForeignKey(
        Actor, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("actor")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("actor alias")
        verbose_name_plural = _("actor aliases")
        constraints = [
            models.UniqueConstraint(fields=["actor", "name"], name="actoralias_unique_name"),
        ]


class Platform(SluggedModel, TimestampedModel):
    name = models.CharField(
        _("name"), max_length=200, help_text=_("The usual English name, such as WeChat.")
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=choices.PlatformKind,
        help_text=_("What sort of service it is."),
    )
    operator = models.ForeignKey(
        Actor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="operated_platforms",
        verbose_name=_("operator"),
        help_text=_("The company or body that runs it (Tencent for WeChat)."),
    )
    country = CountryField(_("country"), blank=True, help_text=_("Where it is based."))
    description = models.TextField(
        _("description"), blank=True, help_text=_("What it is, in a sentence or two.")
    )
    wikidata_id = models.CharField(
        _("wikidata id"),
        max_length=20,
        blank=True,
        validators=[wikidata_validator],
        help_text=_("Wikidata item, such as Q283233 for WeChat."),
    )
    url = models.URLField(_("url"), max_length=500, blank=True, help_text=_("Its website."))

    history = HistoricalRecords()

    objects = SlugNaturalKeyManager.from_queryset(PlatformQuerySet)()

    class Meta:
        permissions = [
            ("merge_platform", "Can merge platforms"),
            ("import_platform", "Can import platforms"),
        ]
        ordering = ("name",)
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        constraints = [wikidata_constraint("platform")]

    def __str__(self):
        return self.name


class PlatformAlias(Alias):
    platform = models.ForeignKey(
        Platform, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("platform")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("platform alias")
        verbose_name_plural = _("platform aliases")
        constraints = [
            models.UniqueConstraint(fields=["platform", "name"], name="platformalias_unique_name"),
        ]


class SourceManager(models.Manager):
    def get_by_natural_key(self, key):
        return self.get(key=key)


class Source(TimestampedModel):
    key = models.SlugField(
        _("key"),
        max_length=160,
        unique=True,
        help_text=_("Short stable name, such as chinatopix-2014-05-28-instant-messaging."),
    )
    title = models.CharField(_("title"), max_length=500, help_text=_("Headline or document title."))
    summary = models.TextField(
        _("summary"), blank=True, help_text=_("What the source reports, in our own words; public.")
    )
    url = models.URLField(
        _("url"), max_length=1000, blank=True, help_text=_("Where it was published.")
    )
    publisher = models.CharField(
        _("publisher"), max_length=200, blank=True, help_text=_("Outlet or body.")
    )
    publisher_actor = models.ForeignKey(
        Actor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="published_sources",
        verbose_name=_("publisher actor"),
        help_text=_("The publisher as an actor, when it is one (Xinhua)."),
    )
    authors = models.CharField(
        _("authors"), max_length=500, blank=True, help_text=_("Separated by '; '.")
    )
    published_on = models.DateField(
        _("published on"), null=True, blank=True, help_text=_("Publication date.")
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=choices.LANGUAGES,
        help_text=_("Language of the source."),
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=choices.SourceKind,
        help_text=_("What sort of document it is."),
    )
    archive_url = models.URLField(
        _("archive url"),
        max_length=1000,
        blank=True,
        validators=[validate_archive_url],
        help_text=_("A saved copy: web.archive.org/web/<time>/<url>, archive.today, perma.cc."),
    )
    accessed_on = models.DateField(
        _("accessed on"), null=True, blank=True, help_text=_("When we last read it.")
    )
    reliability = models.CharField(
        _("reliability"),
        max_length=20,
        choices=choices.Reliability,
        default=choices.Reliability.UNKNOWN,
        help_text=_("How far this source can be trusted for facts of this kind."),
    )
    full_text = models.TextField(
        _("full text"),
        blank=True,
        help_text=_("Private copy of the text, to check quotes against. Never published."),
    )
    # Written by Save Page Now (events.services.archiving), not typed by curators.
    archived_at = models.DateTimeField(
        _("archived at"), null=True, blank=True, help_text=_("When the archive copy was made.")
    )
    archive_error = models.CharField(
        _("archive error"),
        max_length=500,
        blank=True,
        help_text=_("Why the last request to archive it failed; empty once one succeeds."),
    )
    # Written by the link checker (events.services.link_checks); private, never published.
    link_status = models.CharField(
        _("link status"),
        max_length=200,
        blank=True,
        help_text=_("What the last link check found: 200 OK, 404 Not Found, timed out, ..."),
    )
    link_checked_at = models.DateTimeField(
        _("link checked at"), null=True, blank=True, help_text=_("When the link was last checked.")
    )
    is_link_dead = models.BooleanField(
        _("link is dead"),
        default=False,
        help_text=_("The last check found no page at the URL."),
    )

    objects = SourceManager.from_queryset(SourceQuerySet)()
    # What the machines observe is not a curator's change: it stays out of the history.
    history = HistoricalRecords(
        excluded_fields=[
            "full_text",
            "archive_error",
            "link_status",
            "link_checked_at",
            "is_link_dead",
        ]
    )

    class Meta:
        permissions = [("import_source", "Can import sources")]
        ordering = ("-published_on", "title")
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="source_unique_url",
                violation_error_message=_("Another source already has this URL."),
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        # One spelling per page, so the unique URL catches the same article pasted twice.
        try:
            self.url = normalise_url(self.url)
        except ValidationError as error:
            raise ValidationError({"url": error.messages}) from error

    def natural_key(self):
        return (self.key,)


class EventManager(models.Manager.from_queryset(EventQuerySet)):
    def get_by_natural_key(self, public_id):
        return self.get(public_id=public_id)


class Event(TimestampedModel):
    public_id = models.CharField(
        _("public id"),
        max_length=24,
        unique=True,
        editable=False,
        help_text=_("Stable public identifier such as CN-2014-0003; fixed at creation."),
    )
    title = models.CharField(_("title"), max_length=300, help_text=_("What happened, in one line."))
    summary = models.TextField(
        _("summary"), help_text=_("What happened, in our own words; public.")
    )
    title_original = models.CharField(
        _("original title"),
        max_length=300,
        blank=True,
        help_text=_("The title in the source's own language (such as Chinese), if not English."),
    )
    summary_original = models.TextField(
        _("original summary"),
        blank=True,
        help_text=_("The summary in the source's own language, if not English; public."),
    )
    original_language = models.CharField(
        _("original language"),
        max_length=10,
        blank=True,
        choices=choices.LANGUAGES,
        help_text=_("The language of the original title and summary, such as Simplified Chinese."),
    )
    event_type = models.ForeignKey(
        EventType,
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
        verbose_name=_("event type"),
        help_text=_("The kind of event. Required to publish."),
    )

    date_text = models.CharField(_("date"), max_length=64, help_text=DATE_HELP)
    date_earliest = models.DateField(
        _("date earliest"), editable=False, help_text=_("Earliest day the event may have touched.")
    )
    date_latest = models.DateField(
        _("date latest"),
        null=True,
        editable=False,
        help_text=_("Latest day it may have touched; empty if ongoing."),
    )
    date_precision = models.CharField(
        _("date precision"), max_length=10, choices=choices.DatePrecision, editable=False
    )
    date_is_approximate = models.BooleanField(
        _("date is approximate"), default=False, editable=False
    )
    date_is_uncertain = models.BooleanField(_("date is uncertain"), default=False, editable=False)
    date_display = models.CharField(
        _("date display"),
        max_length=120,
        editable=False,
        help_text=_("As a reader says it: c. April 2014."),
    )

    country = CountryField(
        _("country"), blank=True, help_text=_("Where it happened; leave empty if global.")
    )
    is_global = models.BooleanField(
        _("is global"),
        default=False,
        help_text=_("The event spans the world rather than one country."),
    )
    locality = models.CharField(
        _("locality"),
        max_length=200,
        blank=True,
        help_text=_("Province, city or district, as free text."),
    )
    # The fields that say where an event happened, in the order a place is read: global, or
    # a country and perhaps a locality in it. Their names in the public JSON are the same.
    PLACE_FIELDS = ("is_global", "country", "locality")
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("Optional, with longitude, in decimal degrees."),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text=_("Optional, with latitude, in decimal degrees."),
    )

    actors = models.ManyToManyField(
        Actor, through="EventActor", related_name="events", verbose_name=_("actors")
    )
    platforms = models.ManyToManyField(
        Platform,
        blank=True,
        related_name="events",
        verbose_name=_("platforms"),
        help_text=_("Services the event hit."),
    )
    sources = models.ManyToManyField(
        Source, through="Citation", related_name="events", verbose_name=_("sources")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="events", verbose_name=_("tags"))

    verification = models.CharField(
        _("verification"),
        max_length=20,
        choices=choices.Verification,
        default=choices.Verification.SINGLE_SOURCE,
        help_text=_("How well the sources establish the event."),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=choices.EventStatus,
        default=choices.EventStatus.DRAFT,
        editable=False,
        help_text=_(
            "Only published events are public. Changed by submit, publish, return to "
            "draft and retract, never by editing."
        ),
    )
    first_published_at = models.DateTimeField(
        _("first published at"), null=True, blank=True, editable=False
    )
    submitted_at = models.DateTimeField(
        _("submitted at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When it last went to review."),
    )
    retracted_at = models.DateTimeField(_("retracted at"), null=True, blank=True, editable=False)
    retraction_reason = models.TextField(
        _("retraction reason"),
        blank=True,
        editable=False,
        help_text=_("Why it was retracted; public."),
    )
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Goes up with every save: refuses stale edits."),
    )
    internal_notes = models.TextField(
        _("internal notes"), blank=True, help_text=_("For curators only; never public.")
    )
    search_text = models.TextField(
        _("search text"),
        blank=True,
        editable=False,
        help_text=_(
            "Casefolded words of the title, summary, actor and platform names and "
            "aliases, and quotes: what full-text search reads (events.search)."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="events_created",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="events_updated",
        verbose_name=_("updated by"),
    )

    objects = EventManager()
    history = HistoricalRecords(m2m_fields=[platforms, tags], excluded_fields=["search_text"])

    class Meta:
        permissions = [
            ("publish_event", "Can publish, return to draft and retract events"),
            ("import_event", "Can import events"),
        ]
        ordering = ("date_earliest", "id")
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=Q(date_latest__isnull=True) | Q(date_latest__gte=F("date_earliest")),
                name="event_date_latest_not_before_earliest",
                violation_error_message=_("The date ends before it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(date_text=""),
                name="event_date_required",
                violation_error_message=_("A date is required."),
            ),
            models.CheckConstraint(
                condition=Q(is_global=False) | Q(country=""),
                name="event_global_has_no_country",
                violation_error_message=_("A global event has no country."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="event_coordinates_both_or_neither",
                violation_error_message=_("Give both latitude and longitude, or neither."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="event_coordinates_in_range",
                violation_error_message=_(
                    "Latitude runs from -90 to 90, longitude from -180 to 180."
                ),
            ),
            models.CheckConstraint(
                condition=Q(title_original="", summary_original="") | ~Q(original_language=""),
                name="event_original_has_language",
                violation_error_message=_(
                    "Say which language the original title and summary are in."
                ),
            ),
            models.CheckConstraint(
                condition=Q(public_id__regex=r"^[A-Z]{2}-[0-9]{4}-[0-9]{4,}\Z"),
                name="event_public_id_format",
                violation_error_message=_("A public id looks like CN-2014-0003."),
            ),
            models.CheckConstraint(
                condition=~Q(status=choices.EventStatus.PUBLISHED)
                | Q(first_published_at__isnull=False),
                name="event_published_has_first_published_at",
                violation_error_message=_("A published event records when it was first published."),
            ),
            models.CheckConstraint(
                condition=~Q(status=choices.EventStatus.RETRACTED)
                | (Q(retracted_at__isnull=False) & ~Q(retraction_reason="")),
                name="event_retracted_has_reason",
                violation_error_message=_("A retracted event records when and why."),
            ),
        ]
        indexes = [
            # "Events that may overlap [a, b]" and the timeline ordered by date.
            models.Index(fields=["date_earliest", "id"], name="event_date_order_idx"),
            # "Events certainly within [a, b]": bounds the other end of the range.
            models.Index(fields=["date_latest"], name="event_date_latest_idx"),
            # The public timeline: published events in date order.
            models.Index(fields=["status", "date_earliest", "id"], name="event_status_date_idx"),
            # Events by country (filters and the admin's country filter).
            models.Index(fields=["country", "date_earliest"], name="event_country_date_idx"),
            # Stats by country of published events, and the countries readers can pick: an
            # index-only scan instead of reading the whole table.
            models.Index(
                fields=["status", "country", "is_global"], name="event_status_country_idx"
            ),
            # "What changed since my last pull": researchers' sync.
            models.Index(fields=["updated_at", "id"], name="event_updated_idx"),
            # Counting events that may overlap a year (the admin's year filter): both bounds
            # in the index make it an index-only scan.
            models.Index(fields=["date_earliest", "date_latest"], name="event_date_span_idx"),
            # The admin's event list sorted by title.
            models.Index(fields=["title"], name="event_title_idx"),
            # The admin's event list sorted by verification, ties by date.
            models.Index(fields=["verification", "date_earliest"], name="event_verification_idx"),
            # The editors' review queue: events in review, oldest submission first.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status=choices.EventStatus.IN_REVIEW),
                name="event_review_queue_idx",
            ),
            # Events with no search text yet, which the admin's search reads column by column.
            models.Index(fields=["id"], condition=Q(search_text=""), name="event_unsearched_idx"),
        ]

    def __str__(self):
        return f"{self.public_id or 'new'}: {self.title}"

    def clean(self):
        try:
            self.set_date(self.date_text)
        except InvalidDate as error:
            raise ValidationError({"date_text": str(error)}) from error
        if self.is_global and self.country:
            raise ValidationError(
                {"is_global": gettext("A global event has no country; clear one.")}
            )

    def set_date(self, text):
        """Store the EDTF text and the bounds derived from it; raise InvalidDate if unreadable."""
        bounds = parse_date(text)
        self.date_text = bounds.text
        self.date_earliest = bounds.earliest
        self.date_latest = bounds.latest
        self.date_precision = bounds.precision
        self.date_is_approximate = bounds.is_approximate
        self.date_is_uncertain = bounds.is_uncertain
        self.date_display = describe_for_storage(bounds.text)
        return bounds

    def natural_key(self):
        return (self.public_id,)

    @property
    def is_ongoing(self):
        return self.date_latest is None

    @property
    def is_public(self):
        return self.status == choices.EventStatus.PUBLISHED


class EventActor(models.Model):
    """One actor's part in one event: who ordered, enforced, was targeted, ..."""

    # Indexed with the row's id (Meta): an event's roles in order, without a sort.
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="actor_roles",
        db_index=False,
        verbose_name=_("event"),
    )
    actor = models.ForeignKey(
        Actor,
        on_delete=models.PROTECT,
        related_name="event_roles",
        verbose_name=_("actor"),
        help_text=_("Who."),
    )
    role = models.CharField(
        _("role"), max_length=20, choices=choices.Role, help_text=_("Their part in this event.")
    )
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("Optional detail, such as 'heads the group'."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("event", "role", "actor__name")
        verbose_name = _("actor role")
        verbose_name_plural = _("actor roles")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "actor", "role"],
                name="eventactor_unique_role",
                violation_error_message=_("This actor already has this role in this event."),
            ),
        ]
        indexes = [
            # "Events where this actor played this role" (the actor + role filter): with the
            # event in the index too, the filter never reads the table.
            models.Index(fields=["actor", "role", "event"], name="eventactor_actor_role_idx"),
            # An event's roles in the order they were added (the API's, the exports'): read
            # along the index for a page or a whole export, with no sort per event.
            models.Index(fields=["event", "id"], name="eventactor_event_order_idx"),
        ]

    def __str__(self):
        return f"{self.actor} ({self.get_role_display()})"


class Citation(models.Model):
    """A source that supports an event, down to the quoted passage."""

    # Indexed with the row's id (Meta): an event's citations in order, without a sort.
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="citations",
        db_index=False,
        verbose_name=_("event"),
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="citations",
        verbose_name=_("source"),
        help_text=_("Which source."),
    )
    quote = models.TextField(
        _("quote"), blank=True, help_text=_("The passage that supports the event, copied exactly.")
    )
    locator = models.CharField(
        _("locator"),
        max_length=100,
        blank=True,
        help_text=_("Where in the source: paragraph, page, timestamp."),
    )
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("What this citation supports, if not obvious."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("event", "id")
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        indexes = [
            # Events citing one source (a source's page, duplicate detection by URL).
            models.Index(fields=["source", "event"], name="citation_source_event_idx"),
            # An event's citations in order (the API's, the exports', and each source's first
            # citation): read along the index, with no sort per event.
            models.Index(fields=["event", "id"], name="citation_event_order_idx"),
        ]

    def __str__(self):
        return f"{self.source} {self.locator}".strip()

    def clean(self):
        if not (self.quote and self.source_id and self.source.full_text):
            return
        check = check_quote(self.quote, self.source.full_text)
        if not check.found:
            message = gettext(
                "This passage is not in the source's text. The closest passage is: "
                "“%(closest)s” (%(similarity)s alike)."
            ) % {"closest": check.closest, "similarity": f"{check.similarity:.0%}"}
            raise ValidationError({"quote": message})


class EventRelation(models.Model):
    """A typed link between two events, read from the first to the second."""

    from_event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="relations_out", verbose_name=_("from event")
    )
    to_event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="relations_in",
        verbose_name=_("to event"),
        help_text=_("The other event."),
    )
    relation_type = models.CharField(
        _("relation type"),
        max_length=20,
        choices=choices.RelationType,
        help_text=_("How this event relates to the other one."),
    )
    note = models.CharField(
        _("note"), max_length=300, blank=True, help_text=_("Why they are linked.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("from_event", "relation_type", "to_event")
        verbose_name = _("event relation")
        verbose_name_plural = _("event relations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_event=F("to_event")),
                name="eventrelation_not_to_itself",
                violation_error_message=_("An event cannot be related to itself."),
            ),
            models.UniqueConstraint(
                fields=["from_event", "to_event", "relation_type"],
                name="eventrelation_unique_link",
                violation_error_message=_("These events are already linked this way."),
            ),
        ]

    def __str__(self):
        return (
            f"{self.from_event.public_id} {self.get_relation_type_display()} "
            f"{self.to_event.public_id}"
        )


class EventCount(models.Model):
    """How many accounts, posts or people were affected, as faithfully as the source says."""

    # Indexed with the row's id (Meta): an event's counts in order, without a sort.
    event = models.ForeignKey(
        Event,
        on_delete=models.CASCADE,
        related_name="counts",
        db_index=False,
        verbose_name=_("event"),
    )
    qualifier = models.CharField(
        _("qualifier"),
        max_length=20,
        choices=choices.CountQualifier,
        default=choices.CountQualifier.EXACTLY,
        help_text=_("'over 40' is More than 40; 'some 40' is About 40."),
    )
    quantity = models.PositiveBigIntegerField(_("quantity"), help_text=_("The number."))
    unit = models.CharField(
        _("unit"), max_length=20, choices=choices.CountUnit, help_text=_("Of what.")
    )
    note = models.CharField(
        _("note"), max_length=300, blank=True, help_text=_("Such as 'public accounts removed'.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("event", "unit", "id")
        verbose_name = _("event count")
        verbose_name_plural = _("event counts")
        indexes = [
            # An event's counts in the order they were added, read along the index.
            models.Index(fields=["event", "id"], name="eventcount_event_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit=choices.CountUnit.OTHER) | Q(note__gt=""),
                name="eventcount_other_unit_explained",
                violation_error_message=_(
                    "Say in the note what is counted when the unit is Other."
                ),
            ),
        ]

    def __str__(self):
        return self.describe(self.qualifier, self.quantity, self.unit)

    @staticmethod
    def describe(qualifier, quantity, unit):
        """Return a count as a reader says it, 'More than 40 accounts', from its values."""
        return gettext("%(qualifier)s %(quantity)s %(unit)s") % {
            "qualifier": choices.CountQualifier(qualifier).label,
            "quantity": quantity,
            "unit": choices.CountUnit(unit).label.lower(),
        }


class EventInReview(Event):
    """The editors' queue: events in review, oldest first (a view of Event in the admin)."""

    objects = EventManager()

    class Meta:
        proxy = True
        verbose_name = _("event in review")
        verbose_name_plural = _("review queue")


class EventRevision(models.Model):
    """A curator's edit to a published event, kept apart until an editor approves it.

    The proposal holds the event's fields, its platforms and tags, and every inline row as
    the curator left them; nothing of it is public until revision_approve applies it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn by its author")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("event")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING, editable=False
    )
    base_version = models.PositiveIntegerField(
        _("based on version"), help_text=_("The event's version the edit started from.")
    )
    proposal = models.JSONField(
        _("proposal"),
        encoder=DjangoJSONEncoder,
        help_text=_("The proposed fields, platforms and tags, and each inline's rows."),
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    comment = models.TextField(
        _("comment"), blank=True, help_text=_("The editor's reason; needed to reject.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("pending edit")
        verbose_name_plural = _("pending edits")
        constraints = [
            # A second pending edit would be made from a version the first does not know.
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(status="pending"),
                name="eventrevision_one_pending_per_event",
                violation_error_message=_("This event already has an edit waiting for an editor."),
            ),
        ]
        indexes = [
            # The editors' list: pending edits, oldest first.
            models.Index(fields=["status", "created_at"], name="eventrevision_queue_idx"),
        ]

    def __str__(self):
        return gettext("Edit of %(event)s by %(author)s") % {
            "event": self.event.public_id,
            "author": self.author.get_username() if self.author else "-",
        }


class EventTransition(models.Model):
    """One move of an event between draft, review, published and retracted: who, when, why."""

    event = models.ForeignKey(
        Event,
        on_delete=models.SET_NULL,
        null=True,
        related_name="transitions",
        verbose_name=_("event"),
    )
    public_id = models.CharField(
        _("public id"), max_length=24, help_text=_("Kept if a draft is deleted.")
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=choices.EventStatus)
    to_status = models.CharField(_("to status"), max_length=20, choices=choices.EventStatus)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = _("event transition")
        verbose_name_plural = _("event transitions")
        indexes = [
            # An event's workflow history, newest first.
            models.Index(fields=["event", "-at"], name="transition_event_at_idx"),
        ]

    def __str__(self):
        return f"{self.public_id}: {self.from_status} → {self.to_status}"


class PublicIdSequence(models.Model):
    """The last number handed out per prefix, so a deleted event's id is never reused."""

    prefix = models.CharField(max_length=12, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.prefix}: {self.last_number}"


class Release(models.Model):
    """A numbered, dated, immutable data release: its files are in the releases storage."""

    number = models.PositiveIntegerField(unique=True)
    released_at = models.DateTimeField(help_text="The moment the data was read (UTC).")
    event_count = models.PositiveIntegerField()
    retraction_count = models.PositiveIntegerField(help_text="Events retracted since the last.")
    archive = models.CharField(max_length=200, help_text="The zip of every file, in storage.")
    size = models.PositiveBigIntegerField(help_text="Of the archive, in bytes.")
    sha256 = models.CharField(max_length=64, help_text="Of the archive.")

    class Meta:
        ordering = ("-number",)

    def __str__(self):
        return f"Release {self.number} ({self.released_at:%Y-%m-%d})"

    @property
    def archive_name(self):
        return self.archive.rsplit("/", 1)[-1]


PUBLIC_STATUSES = (choices.EventStatus.PUBLISHED, choices.EventStatus.RETRACTED)


class PublicVersion(models.Model):
    """How many public changes have committed: the data version that names every ETag and
    cached response. One row, counted up by the database's own triggers (migration 0011), so
    no write path can miss it and it moves exactly when a change commits."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)

    def __str__(self):
        return f"public version {self.seq}"


class PublicChange(models.Model):
    """One change the public can see, numbered in the order it committed.

    Written by triggers on the events table (migration 0011) whenever an event that is, or
    was, published or retracted is inserted, changes its updated_at or status, or is
    deleted. On PostgreSQL the triggers are deferred to the commit and number the change
    under the lock of the PublicVersion row, so numbers follow commit order: a reader who
    sees change n sees every change before it (the change feed's after= relies on this). On
    SQLite one writer at a time gives the same order.
    """

    seq = models.BigIntegerField(primary_key=True)
    event = models.ForeignKey(
        Event, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    public_id = models.CharField(max_length=24)
    status = models.CharField(max_length=20, help_text="The event's status after the change.")
    at = models.DateTimeField(help_text="When it committed (UTC).")

    class Meta:
        indexes = [
            # The change feed: is there a later change of the same event?
            models.Index(fields=["public_id", "seq"], name="publicchange_event_seq_idx"),
            # The change feed's since=.
            models.Index(fields=["at"], name="publicchange_at_idx"),
        ]

    def __str__(self):
        return f"{self.seq}: {self.public_id} {self.status}"


class PublishedTally(models.Model):
    """How many events are published, per month of their earliest possible day, country and
    verification: the timeline's chart, count and map for a filter of those alone.

    Kept by triggers on the events table (migration 0020), so no write path can miss it: a
    publication, a retraction, an edit of the date, the country or the verification, a
    deletion, a bulk import or a COPY. On PostgreSQL one statement-level trigger per kind of
    change folds a whole statement's rows into one write per key, and an edit that moves no
    key writes nothing. Reading it costs a few thousand rows where counting the events costs
    every published one (900,000 at a million events). A key whose events all left keeps its
    row at zero.
    """

    month = models.DateField(help_text="The first day of the month of date_earliest.")
    country = models.CharField(max_length=2, blank=True)
    is_global = models.BooleanField()
    verification = models.CharField(max_length=20)
    events = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "country", "is_global", "verification"],
                name="publishedtally_key",
            ),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.country or '-'} {self.verification}: {self.events}"


class TypeTally(models.Model):
    """How many events of a type are published, per one more key: kept, as the tally is, by
    the database's triggers (migration 0024), for a filter of types or categories alone.

    The tally has no type among its keys: adding it would make 521,367 keys at a million
    events, more than the events of a large category. One key at a time keeps each small
    (a few thousand rows): the chart reads the months, the map the places.
    """

    # Read through the key's index, which begins with the type.
    event_type = models.ForeignKey(
        EventType, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    events = models.IntegerField()

    class Meta:
        abstract = True


class PublishedTypeMonth(TypeTally):
    """Published events of a type per month of their earliest possible day."""

    month = models.DateField(help_text="The first day of the month of date_earliest.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_type", "month"], name="publishedtypemonth_key")
        ]

    def __str__(self):
        return f"{self.event_type_id} {self.month:%Y-%m}: {self.events}"


class PublishedTypePlace(TypeTally):
    """Published events of a type per country (or the whole world)."""

    country = models.CharField(max_length=2, blank=True)
    is_global = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event_type", "country", "is_global"], name="publishedtypeplace_key"
            )
        ]

    def __str__(self):
        return f"{self.event_type_id} {self.country or 'global'}: {self.events}"


class NameUse(models.Model):
    """How many links name each actor, platform and tag, drafts' included: the ranking of the
    names the timeline's form suggests (the 30 most used of each).

    Kept by triggers on the link tables (migration 0025), as the tallies are: a link added or
    removed in the admin, an import or a deletion moves its name's count in the same
    transaction. Counting every link instead costs half a second at a million events. A name
    whose links all went keeps its row at zero.
    """

    class Kind(models.TextChoices):
        ACTOR = "actor"
        PLATFORM = "platform"
        TAG = "tag"

    kind = models.CharField(max_length=8, choices=Kind)
    named_id = models.BigIntegerField(help_text="The actor's, platform's or tag's id.")
    links = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "named_id"], name="nameuse_key")]

    def __str__(self):
        return f"{self.kind} {self.named_id}: {self.links}"


class PublishedWord(models.Model):
    """A word of a published event (a lexeme of its search_vector), with the event's days and
    place: a search's counts by day and by country, read from one index where counting the
    events reads every match's row. PostgreSQL only (SQLite matches the search text with LIKE
    and has no such table).

    The table, its index and the triggers that keep it are the migrations' own (0026 to 0028):
    Django only reads it, so the model is not managed. Its rows carry the columns the date
    and country filters read on the events, which narrow them alike
    (timeline.filters.EventFilterSet.published_words).
    """

    pk = models.CompositePrimaryKey("word", "event_id")
    word = models.TextField(db_collation="C")
    event_id = models.BigIntegerField()
    date_earliest = models.DateField()
    date_latest = models.DateField(null=True)
    country = models.CharField(max_length=2)
    is_global = models.BooleanField()

    objects = DatedQuerySet.as_manager()

    class Meta:
        managed = False

    def __str__(self):
        return f"{self.word} {self.event_id}"
