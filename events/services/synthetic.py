"""Synthetic events at scale, for benchmarks and load tests: realistic, reproducible, removable.

Generated rows are written in bulk (COPY on PostgreSQL, executemany on SQLite), never one
save per row, so they carry no history: they were never curated. Every generated row is
marked so that generated_delete removes exactly them: events by GENERATED_NOTE at the start
of their internal notes, actors, platforms, tags and sources by the "gen-" prefix of their
slug or key.
"""

import datetime
import functools
import io
import itertools
import random
from dataclasses import dataclass, field
from decimal import Decimal

import opencc
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone
from django_countries import countries

from .. import search
from ..choices import (
    ActorKind,
    CountQualifier,
    CountUnit,
    EventStatus,
    PlatformKind,
    RelationType,
    Reliability,
    Role,
    SourceKind,
    Verification,
)
from ..dates import describe_for_storage, parse_date
from ..models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCount,
    EventRelation,
    EventTransition,
    EventType,
    Platform,
    PlatformAlias,
    PublicIdSequence,
    Source,
    Tag,
)
from ..public.fields import SEARCHABLE_FIELDS

GENERATED_NOTE = "[generated]"
GENERATED_PREFIX = "gen-"
GENERATED_DESCRIPTION = "Synthetic, written by generate_events for benchmarks and load tests."
SYNTHETIC_TAG_SUFFIX = " (synthetic)"
BATCH_EVENTS = 5000

# About sixty countries, the most recorded first: weights fall off like a Zipf curve.
COUNTRIES = (  # noqa: SIM905 (a list of codes reads best as one string)
    "CN RU IR TR IN EG SA VN PK BY ET MM TH AE BD KZ UZ AZ VE CU NI TM TJ ID MY PH SG LK KH LA "
    "NG ZW UG RW KE TZ SD DZ MA TN BH QA KW OM JO IQ SY YE LB IL PS GE AM KG MX BR CO HU PL US "
    "HK TW"
).split()
REGIONS = ("capital", "north", "south", "east", "west", "central province", "border region")
WORDS = {
    "account-removal": ("removes", "accounts", "public accounts", "channels"),
    "content-deletion": ("deletes", "posts", "articles", "videos"),
    "keyword-filtering": ("filters", "keywords", "search terms", "hashtags"),
    "blocking": ("blocks", "websites", "apps", "news sites"),
    "throttling": ("throttles", "connections", "video streams", "uploads"),
    "law-or-regulation": ("adopts", "a law on online speech", "rules for news apps", "a data law"),
    "judicial-interpretation": ("issues", "an interpretation on rumours", "guidance", "a ruling"),
    "licensing-rule": ("requires", "licences for bloggers", "real-name registration", "permits"),
    "campaign-announced": ("announces", "a cleanup campaign", "a crackdown", "a rectification"),
    "arrest-detention": ("detains", "bloggers", "journalists", "activists"),
    "sentencing": ("sentences", "a blogger", "a journalist", "an activist"),
    "summons-interrogation": ("summons", "editors", "platform managers", "reporters"),
    "fine": ("fines", "a platform", "a news outlet", "a forum operator"),
    "new-agency": ("creates", "an internet affairs office", "a leading group", "a task force"),
    "network-shutdown": ("shuts down", "mobile internet", "the internet", "broadband"),
    "vpn-crackdown": ("blocks", "VPN services", "proxy tools", "circumvention apps"),
    "platform-policy-change": ("changes", "its content rules", "its takedown policy", "its terms"),
    "platform-compliance": ("complies with", "takedown orders", "data requests", "removal orders"),
    "related-event": ("reports", "protests", "an election", "a court case"),
}
# The original title and summary of some events, in Chinese: for each type (as WORDS) a verb
# and three objects, each object the Chinese of the English one in the same place.
ZH_WORDS = {
    "account-removal": ("关闭", "微信账号", "微信公众号", "频道"),
    "content-deletion": ("删除", "微博帖子", "微信文章", "视频"),
    "keyword-filtering": ("过滤", "关键词", "微信搜索词", "话题标签"),
    "blocking": ("封锁", "网站", "应用", "新闻网站"),
    "throttling": ("限速", "网络连接", "视频直播", "微信文件上传"),
    "law-or-regulation": ("通过", "网络言论法", "新闻应用管理规定", "数据安全法"),
    "judicial-interpretation": ("发布", "网络谣言司法解释", "指导意见", "裁定"),
    "licensing-rule": ("要求", "博主许可证", "微信实名注册", "许可证"),
    "campaign-announced": ("宣布", "清朗专项行动", "严打行动", "整改"),
    "arrest-detention": ("拘留", "博主", "记者", "维权人士"),
    "sentencing": ("判处", "一名博主", "一名记者", "一名维权人士"),
    "summons-interrogation": ("约谈", "编辑", "平台负责人", "记者"),
    "fine": ("罚款", "一家平台", "一家新闻媒体", "一名论坛运营者"),
    "new-agency": ("设立", "网信办", "领导小组", "工作组"),
    "network-shutdown": ("切断", "移动互联网", "互联网", "宽带"),
    "vpn-crackdown": ("封锁", "VPN服务", "代理工具", "翻墙软件"),
    "platform-policy-change": ("修改", "内容规则", "删帖政策", "用户协议"),
    "platform-compliance": ("执行", "删帖命令", "数据调取要求", "封号命令"),
    "related-event": ("报道", "抗议活动", "选举", "法院案件"),
}
ZH_ENFORCERS = ("网信办", "公安机关", "法院", "宣传部门", "通信管理局", "平台运营方")
ZH_PLATFORMS = ("微信", "微信", "微博", "抖音", "QQ", "知乎")  # WeChat the most named
ZH_ENDINGS = ("各方消息一致。", "相关数字存在争议。")
# Country: (the share of its events with a Chinese original, their language, the OpenCC
# conversion from the Simplified tables above, if any).
ZH_ORIGINALS = {
    "CN": (0.15, "zh-hans", ""),
    "HK": (0.6, "zh-hant", "s2hk"),
    "TW": (0.6, "zh-hant", "s2tw"),
}
SYLLABLES = "an bo chen da fei gu hai jin ka li ma na ol pe qi ra sa ti ul va wen xi ya zo".split()  # noqa: SIM905
COMPANY_WORDS = ("Telecom", "Networks", "Media", "Online", "Digital", "Mobile", "Net", "Group")
AGENCY_WORDS = (
    "Cyberspace Administration",
    "Ministry of Information",
    "Cyber Police",
    "Communications Regulator",
    "State Security Bureau",
    "Public Prosecutor",
    "Supreme Court",
    "Propaganda Department",
)
PLATFORM_WORDS = ("Chat", "Tube", "Gram", "Book", "Talk", "Feed", "Cast", "Link", "Wave", "Hub")
TAG_WORDS = (
    "instant messaging", "elections", "protests", "journalism", "religion", "minorities",
    "health", "covid-19", "satire", "vpn", "encryption", "live streaming", "gaming", "finance",
    "corruption", "environment", "labour", "women's rights", "lgbtq", "students", "music",
    "film", "books", "maps", "history", "military", "borders", "diaspora", "translation",
    "search engines", "app stores", "cloud", "email", "podcasts", "news aggregators",
    "comment sections", "memes", "emoji", "usernames", "profile pictures",
)  # fmt: skip
STATUS_WEIGHTS = (
    (EventStatus.PUBLISHED, 90),
    (EventStatus.DRAFT, 4),
    (EventStatus.IN_REVIEW, 3),
    (EventStatus.RETRACTED, 3),
)


@dataclass
class GeneratedCounts:
    events: int = 0
    rows: dict = field(default_factory=dict)

    def add(self, model, number):
        label = model._meta.verbose_name_plural
        self.rows[label] = self.rows.get(label, 0) + number


def events_generate(
    *,
    count,
    seed=0,
    actors=2000,
    platforms=300,
    sources=50000,
    until=None,
    progress=None,
    using="default",
):
    """Add `count` synthetic events and what they refer to; return GeneratedCounts.

    The same seed on the same database state gives the same rows. `progress` is called with
    the number of events written after each batch.
    """
    rng = random.Random(seed)
    until = until or timezone.now().date()
    writer = _BulkWriter(connections[using])
    counts = GeneratedCounts()
    types = list(EventType.objects.using(using).values_list("pk", "slug"))
    if not types:
        raise ValueError("Load the event types first: python manage.py load_seed.")
    with transaction.atomic(using=using):
        references = _references_generate(
            rng, writer, counts, actors=actors, platforms=platforms, sources=sources, until=until
        )
    # The rows above were written with their ids: the next row saved through the ORM (an
    # actor added in the admin, say) must not be handed one of them by the sequence.
    writer.reset_sequences([Actor, ActorAlias, Platform, PlatformAlias, Source, Tag])
    public_ids = _PublicIds(using)
    next_id = _next_id(Event, using)
    written = 0
    while written < count:
        size = min(BATCH_EVENTS, count - written)
        with transaction.atomic(using=using):
            _events_batch(rng, writer, counts, references, types, public_ids, next_id, size, until)
            public_ids.save()
        next_id += size
        written += size
        counts.events = written
        if progress:
            progress(size)
    writer.reset_sequences([Event, EventActor, Citation, EventCount, EventRelation])
    writer.reset_sequences([Event.platforms.through, Event.tags.through])
    return counts


def generated_delete(*, using="default"):
    """Remove every generated row, and nothing a curator wrote; return rows removed per table.

    Raw DELETEs, in dependency order: deleting a million events through the ORM would load
    each one and write a history row for every cascade. A generated actor, platform, tag or
    source is told by two marks (its gen- slug and its synthetic description or name), and is
    kept while anything a curator wrote still refers to it.
    """
    connection = connections[using]
    t = _table
    events = f"SELECT id FROM {t(Event)} WHERE internal_notes LIKE %s"
    note = [GENERATED_NOTE + "%"]
    marks = [GENERATED_PREFIX + "%", GENERATED_DESCRIPTION]
    sources = f"""key LIKE %s AND summary = %s
        AND id NOT IN (SELECT source_id FROM {t(Citation)})"""
    platforms = f"""slug LIKE %s AND description = %s
        AND id NOT IN (SELECT platform_id FROM {t(Event.platforms.through)})"""
    actors = f"""slug LIKE %s AND description = %s
        AND id NOT IN (SELECT actor_id FROM {t(EventActor)})
        AND id NOT IN (SELECT operator_id FROM {t(Platform)} WHERE operator_id IS NOT NULL)
        AND id NOT IN (SELECT publisher_actor_id FROM {t(Source)}
                       WHERE publisher_actor_id IS NOT NULL)
        AND id NOT IN (SELECT parent_id FROM {t(Actor)} WHERE parent_id IS NOT NULL)"""
    tags = f"""slug LIKE %s AND name LIKE %s
        AND id NOT IN (SELECT tag_id FROM {t(Event.tags.through)})"""
    steps = [
        (EventActor, f"event_id IN ({events})", note),
        (Citation, f"event_id IN ({events})", note),
        (EventCount, f"event_id IN ({events})", note),
        (EventRelation, f"from_event_id IN ({events}) OR to_event_id IN ({events})", note * 2),
        (EventTransition, f"event_id IN ({events})", note),
        (Event.platforms.through, f"event_id IN ({events})", note),
        (Event.tags.through, f"event_id IN ({events})", note),
        (Event, "internal_notes LIKE %s", note),
        (Source, sources, marks),
        (PlatformAlias, f"platform_id IN (SELECT id FROM {t(Platform)} WHERE {platforms})", marks),
        (Platform, platforms, marks),
        (ActorAlias, f"actor_id IN (SELECT id FROM {t(Actor)} WHERE {actors})", marks),
        (Actor, actors, marks),
        (Tag, tags, [GENERATED_PREFIX + "%", f"%{SYNTHETIC_TAG_SUFFIX}"]),
    ]
    removed = {}
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for model, condition, params in steps:
            cursor.execute(f"DELETE FROM {t(model)} WHERE {condition}", params)
            removed[model._meta.db_table] = cursor.rowcount
    return removed


# References -------------------------------------------------------------------------------


@dataclass
class _References:
    actors: list  # (id, name, aliases, kind, country)
    actors_by_country: dict
    platforms: list  # (id, name, aliases)
    sources_by_year: dict  # year -> [(id, title)]
    tags: list


def _references_generate(rng, writer, counts, *, actors, platforms, sources, until):
    weights = _country_weights()
    now = timezone.now()
    actor_rows, alias_rows, actor_list = [], [], []
    actor_id = _next_id(Actor, writer.alias)
    alias_id = _next_id(ActorAlias, writer.alias)
    slugs = set(Actor.objects.using(writer.alias).values_list("slug", flat=True))
    for number in range(actors):
        country = rng.choices(*weights)[0]
        kind, name = _actor_name(rng, country, number)
        slug = _unique_slug(name, slugs)
        aliases = []
        if rng.random() < 0.15:
            aliases.append("".join(rng.choice(SYLLABLES) for _ in range(3)).title())
        actor_rows.append(
            {
                "id": actor_id,
                "created_at": now,
                "updated_at": now,
                "slug": slug,
                "name": name,
                "kind": kind,
                "country": country,
                "parent_id": None,
                "description": GENERATED_DESCRIPTION,
                "wikidata_id": "",
                "url": "",
            }
        )
        for alias in aliases:
            alias_rows.append(
                {
                    "id": alias_id,
                    "name": alias,
                    "kind": "alias",
                    "language": "",
                    "actor_id": actor_id,
                }
            )
            alias_id += 1
        actor_list.append((actor_id, name, tuple(aliases), kind, country))
        actor_id += 1
    writer.insert(Actor, actor_rows)
    writer.insert(ActorAlias, alias_rows)
    counts.add(Actor, len(actor_rows))
    actors_by_country = {}
    for actor in actor_list:
        actors_by_country.setdefault(actor[4], []).append(actor)

    platform_rows, platform_aliases, platform_list = [], [], []
    platform_id = _next_id(Platform, writer.alias)
    alias_id = _next_id(PlatformAlias, writer.alias)
    slugs = set(Platform.objects.using(writer.alias).values_list("slug", flat=True))
    companies = [actor for actor in actor_list if actor[3] == ActorKind.COMPANY] or actor_list
    for number in range(platforms):
        name = f"{rng.choice(SYLLABLES).title()}{rng.choice(PLATFORM_WORDS)} {number + 1}"
        slug = _unique_slug(name, slugs)
        operator = rng.choice(companies)
        platform_rows.append(
            {
                "id": platform_id,
                "created_at": now,
                "updated_at": now,
                "slug": slug,
                "name": name,
                "kind": rng.choice(PlatformKind.values),
                "operator_id": operator[0],
                "country": operator[4],
                "description": GENERATED_DESCRIPTION,
                "wikidata_id": "",
                "url": "",
            }
        )
        aliases = ()
        if rng.random() < 0.2:
            aliases = (name.lower().replace(" ", ""),)
            platform_aliases.append(
                {
                    "id": alias_id,
                    "name": aliases[0],
                    "kind": "abbreviation",
                    "language": "",
                    "platform_id": platform_id,
                }
            )
            alias_id += 1
        platform_list.append((platform_id, name, aliases))
        platform_id += 1
    writer.insert(Platform, platform_rows)
    writer.insert(PlatformAlias, platform_aliases)
    counts.add(Platform, len(platform_rows))

    tag_rows = []
    tag_id = _next_id(Tag, writer.alias)
    # A second run reuses the first's tags, and never a curator's that happens to start gen-.
    tags = Tag.objects.using(writer.alias).filter(
        slug__startswith=GENERATED_PREFIX, name__endswith=SYNTHETIC_TAG_SUFFIX
    )
    tag_ids = list(tags.values_list("pk", flat=True))
    existing_tags = set(tags.values_list("slug", flat=True))
    for name in TAG_WORDS:
        slug = GENERATED_PREFIX + name.replace(" ", "-").replace("'", "")
        if slug in existing_tags:
            continue
        tag_rows.append(
            {
                "id": tag_id,
                "created_at": now,
                "updated_at": now,
                "slug": slug,
                "name": f"{name}{SYNTHETIC_TAG_SUFFIX}",
            }
        )
        tag_ids.append(tag_id)
        tag_id += 1
    writer.insert(Tag, tag_rows)
    counts.add(Tag, len(tag_rows))

    source_rows, sources_by_year = [], {}
    source_id = _next_id(Source, writer.alias)
    publishers = [actor for actor in actor_list if actor[3] == ActorKind.MEDIA] or actor_list
    span = (until - datetime.date(2000, 1, 1)).days
    for number in range(sources):
        published = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(span + 1))
        publisher = rng.choice(publishers)
        title = f"{publisher[1]} report {number + 1}: {rng.choice(list(WORDS))} in {publisher[4]}"
        key = f"{GENERATED_PREFIX}source-{source_id:06d}"
        source_rows.append(
            {
                "id": source_id,
                "created_at": now,
                "updated_at": now,
                "key": key,
                "title": title,
                "summary": GENERATED_DESCRIPTION,
                "url": f"https://news.example.org/{published:%Y/%m}/{key}",
                "publisher": publisher[1],
                "publisher_actor_id": publisher[0],
                "authors": "",
                "published_on": published,
                "language": "en",
                "kind": rng.choice(SourceKind.values),
                "archive_url": "",
                "accessed_on": None,
                "reliability": rng.choice(Reliability.values),
                "full_text": "",
            }
        )
        sources_by_year.setdefault(published.year, []).append((source_id, title))
        source_id += 1
        if len(source_rows) == 10000:
            writer.insert(Source, source_rows)
            counts.add(Source, len(source_rows))
            source_rows = []
    writer.insert(Source, source_rows)
    counts.add(Source, len(source_rows))
    return _References(actor_list, actors_by_country, platform_list, sources_by_year, tag_ids)


def _actor_name(rng, country, number):
    roll = rng.random()
    if roll < 0.35:
        return ActorKind.GOVERNMENT, f"{rng.choice(AGENCY_WORDS)} of {country} {number + 1}"
    if roll < 0.6:
        word = rng.choice(COMPANY_WORDS)
        return ActorKind.COMPANY, f"{rng.choice(SYLLABLES).title()} {word} {number + 1}"
    if roll < 0.75:
        return ActorKind.MEDIA, f"The {country} {rng.choice(SYLLABLES).title()} Daily {number + 1}"
    first, last = rng.choice(SYLLABLES).title(), "".join(rng.sample(SYLLABLES, 2)).title()
    return ActorKind.PERSON, f"{first} {last} {number + 1}"


def _unique_slug(name, taken):
    base = GENERATED_PREFIX + "-".join(search.words(name))[:100]
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    taken.add(slug)
    return slug


def _country_weights():
    return COUNTRIES, [1 / (rank + 1) ** 0.8 for rank in range(len(COUNTRIES))]


# Events -----------------------------------------------------------------------------------


def _events_batch(rng, writer, counts, refs, types, public_ids, first_id, size, until):
    weights = _country_weights()
    now = timezone.now()
    event_rows, role_rows, citation_rows, count_rows, relation_rows = [], [], [], [], []
    platform_links, tag_links = [], []
    role_id = writer.next_ids.setdefault(EventActor, _next_id(EventActor, writer.alias))
    citation_id = writer.next_ids.setdefault(Citation, _next_id(Citation, writer.alias))
    count_id = writer.next_ids.setdefault(EventCount, _next_id(EventCount, writer.alias))
    relation_id = writer.next_ids.setdefault(EventRelation, _next_id(EventRelation, writer.alias))
    platform_link_id = writer.next_ids.setdefault(
        Event.platforms.through, _next_id(Event.platforms.through, writer.alias)
    )
    tag_link_id = writer.next_ids.setdefault(
        Event.tags.through, _next_id(Event.tags.through, writer.alias)
    )
    for event_id in range(first_id, first_id + size):
        is_global = rng.random() < 0.03
        country = "" if is_global else rng.choices(*weights)[0]
        type_id, type_slug = rng.choice(types)
        verb, *objects = WORDS.get(type_slug, WORDS["related-event"])
        date_text = _date_text(rng, until)
        bounds = parse_date(date_text)
        status = rng.choices(*zip(*STATUS_WEIGHTS, strict=True))[0]

        local = refs.actors_by_country.get(country) or refs.actors
        cast = rng.sample(local, min(len(local), rng.randint(1, 4)))
        roles = [Role.ENFORCED, Role.TARGETED, Role.ORDERED, Role.ANNOUNCED]
        hit = rng.sample(refs.platforms, rng.choice((0, 1, 1, 1, 2, 3)))
        enforcer = cast[0][1]
        thing = rng.choice(objects)
        original = _chinese_original(rng, country, type_slug, objects.index(thing))
        number = rng.choice((None, None, 12, 40, 300, 1200, 25000)) if thing[0] != "a" else None
        place = rng.choice(REGIONS) if rng.random() < 0.5 else ""
        where = "worldwide" if is_global else f"in {countries.name(country)}"
        title = f"{enforcer} {verb} {f'{number} ' if number else ''}{thing} {where}"
        on = f" on {', '.join(platform[1] for platform in hit)}" if hit else ""
        summary = (
            f"{enforcer} {verb} {thing}{on} {where}"
            f"{f' ({place})' if place else ''}. Reported {bounds.text}; "
            f"{'the figures are disputed' if rng.random() < 0.1 else 'sources agree'}."
        )
        created = _moment(bounds.earliest, rng, now)
        published_at = submitted_at = retracted_at = None
        reason = ""
        if status in (EventStatus.PUBLISHED, EventStatus.RETRACTED):
            published_at = min(created + datetime.timedelta(days=rng.randint(0, 30)), now)
        if status == EventStatus.IN_REVIEW:
            submitted_at = created
        if status == EventStatus.RETRACTED:
            retracted_at = min(published_at + datetime.timedelta(days=rng.randint(1, 90)), now)
            reason = "A synthetic retraction: the sources were found to describe another event."
        updated = max(filter(None, (created, published_at, retracted_at)))
        quotes = [f"{verb} {thing}", f"{enforcer} {verb}", f"{thing}{on}".strip()]
        year_sources = (
            refs.sources_by_year.get(bounds.earliest.year)
            or refs.sources_by_year[
                min(refs.sources_by_year, key=lambda year: abs(year - bounds.earliest.year))
            ]
        )
        cited = rng.sample(year_sources, min(len(year_sources), rng.randint(1, 3)))
        names = [actor[1] for actor in cast] + [platform[1] for platform in hit]
        aliases = [a for item in cast for a in item[2]] + [a for p in hit for a in p[2]]
        quoted = quotes[: len(cited)]
        event_rows.append(
            {
                "id": event_id,
                "created_at": created,
                "updated_at": updated,
                "public_id": public_ids.next(
                    ("WW" if is_global else country) + f"-{bounds.stated_start.year}"
                ),
                "title": title[:300],
                "summary": summary,
                "event_type_id": type_id,
                "date_text": bounds.text,
                "date_earliest": bounds.earliest,
                "date_latest": bounds.latest,
                "date_precision": bounds.precision,
                "date_is_approximate": bounds.is_approximate,
                "date_is_uncertain": bounds.is_uncertain,
                "date_display": describe_for_storage(bounds.text),
                **dict(zip(Event.PLACE_FIELDS, (is_global, country, place), strict=True)),
                "latitude": _coordinate(rng, 60) if rng.random() < 0.2 else None,
                "longitude": None,
                "verification": rng.choice(Verification.values),
                "status": status,
                "first_published_at": published_at,
                "submitted_at": submitted_at,
                "retracted_at": retracted_at,
                "retraction_reason": reason,
                "version": 1,
                "internal_notes": f"{GENERATED_NOTE} by generate_events.",
                "search_text": "",
                "created_by_id": None,
                "updated_by_id": None,
                **original,
            }
        )  # fmt: skip
        row = event_rows[-1]
        if row["latitude"] is not None:
            row["longitude"] = _coordinate(rng, 170)
        searchable = (row.get(name, "") for name in SEARCHABLE_FIELDS)
        row["search_text"] = search.search_document(*searchable, *names, *aliases, *quoted)
        for actor, role in zip(cast, roles, strict=False):
            role_rows.append(
                {"id": role_id, "event_id": event_id, "actor_id": actor[0], "role": role,
                 "note": ""}
            )  # fmt: skip
            role_id += 1
        for (source_id, _title), quote in zip(cited, quotes, strict=False):
            citation_rows.append(
                {"id": citation_id, "event_id": event_id, "source_id": source_id, "quote": quote,
                 "locator": f"para. {rng.randint(1, 20)}", "note": ""}
            )  # fmt: skip
            citation_id += 1
        for platform in hit:
            platform_links.append(
                {"id": platform_link_id, "event_id": event_id, "platform_id": platform[0]}
            )
            platform_link_id += 1
        for tag in rng.sample(refs.tags, rng.choice((0, 0, 1, 1, 2))):
            tag_links.append({"id": tag_link_id, "event_id": event_id, "tag_id": tag})
            tag_link_id += 1
        if number:
            count_rows.append(
                {"id": count_id, "event_id": event_id, "quantity": number,
                 "qualifier": rng.choice(CountQualifier.values), "note": "",
                 "unit": rng.choice([unit for unit in CountUnit.values if unit != "other"])}
            )  # fmt: skip
            count_id += 1
        if event_id > first_id and rng.random() < 0.02:
            relation_rows.append(
                {"id": relation_id, "from_event_id": event_id,
                 "to_event_id": rng.randrange(first_id, event_id),
                 "relation_type": rng.choice(RelationType.values), "note": ""}
            )  # fmt: skip
            relation_id += 1
    writer.next_ids.update(
        {
            EventActor: role_id,
            Citation: citation_id,
            EventCount: count_id,
            EventRelation: relation_id,
            Event.platforms.through: platform_link_id,
            Event.tags.through: tag_link_id,
        }
    )
    for model, rows in (
        (Event, event_rows),
        (EventActor, role_rows),
        (Citation, citation_rows),
        (EventCount, count_rows),
        (EventRelation, relation_rows),
        (Event.platforms.through, platform_links),
        (Event.tags.through, tag_links),
    ):
        writer.insert(model, rows)
        counts.add(model, len(rows))


def _chinese_original(rng, country, type_slug, thing_index):
    """Return the original title, summary and language: Chinese for some events in CN, HK, TW."""
    share, language, conversion = ZH_ORIGINALS.get(country, (0, "", ""))
    if not share or rng.random() >= share:
        return {"title_original": "", "summary_original": "", "original_language": ""}
    verb, *objects = ZH_WORDS.get(type_slug, ZH_WORDS["related-event"])
    thing, enforcer = objects[thing_index], rng.choice(ZH_ENFORCERS)
    where, ending = rng.choice(ZH_PLATFORMS), rng.choice(ZH_ENDINGS)
    title = f"{enforcer}{verb}{thing}"
    summary = f"据报道，{enforcer}{verb}{where}上的{thing}。{ending}"  # noqa: RUF001 (Chinese comma)
    if conversion:  # Hong Kong and Taiwan write Traditional characters
        title, summary = (_converter(conversion).convert(text) for text in (title, summary))
    return {"title_original": title, "summary_original": summary, "original_language": language}


@functools.cache
def _converter(config):
    return opencc.OpenCC(config)


def _date_text(rng, until):
    """Return an EDTF date: every precision, some approximate or uncertain, ~5% ongoing."""
    first = datetime.date(2000, 1, 1)
    # More events in recent years, as in real trackers.
    day = first + datetime.timedelta(days=int((until - first).days * rng.random() ** 0.7))
    roll = rng.random()
    if roll < 0.05:
        return f"{day.isoformat()}/.."
    if roll < 0.10:
        end = min(day + datetime.timedelta(days=rng.randint(1, 400)), until)
        return f"{day:%Y-%m}/{end:%Y-%m}" if rng.random() < 0.5 else f"{day}/{end}"
    if 0.80 <= roll < 0.83 and not (day.month <= 2 and day.year == first.year):
        # The season the day falls in: winter (24) runs from December into February.
        year = day.year - 1 if day.month <= 2 else day.year
        return f"{year}-{21 + ((day.month - 3) % 12) // 3}"
    if roll >= 0.97:
        return f"{str(day.year)[:3]}X"  # a decade
    text = day.isoformat() if roll < 0.55 else f"{day:%Y-%m}" if roll < 0.80 else str(day.year)
    if rng.random() < 0.10:
        text += rng.choice("~~?%")
    return text


def _moment(day, rng, now):
    moment = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    moment += datetime.timedelta(days=rng.randint(0, 20), seconds=rng.randrange(86400))
    return min(moment, now)


def _coordinate(rng, limit):
    return Decimal(rng.randrange(-limit * 100000, limit * 100000)) / 100000


class _PublicIds:
    """Hands out CN-2014-0001 style ids after the highest used, and records them in sequences."""

    def __init__(self, using):
        self.using = using
        self.last = dict(PublicIdSequence.objects.using(using).values_list("prefix", "last_number"))
        # Live events, and deleted ones that history remembers: an id is never reused.
        live = Event.objects.using(using).values_list("public_id", flat=True)
        remembered = Event.history.using(using).values_list("public_id", flat=True).distinct()
        for public_id in itertools.chain(live.iterator(), remembered.iterator()):
            prefix, _, number = public_id.rpartition("-")
            self.last[prefix] = max(self.last.get(prefix, 0), int(number))
        self.changed = set()

    def next(self, prefix):
        self.last[prefix] = self.last.get(prefix, 0) + 1
        self.changed.add(prefix)
        return f"{prefix}-{self.last[prefix]:04d}"

    def save(self):
        existing = set(
            PublicIdSequence.objects.using(self.using)
            .filter(prefix__in=self.changed)
            .values_list("prefix", flat=True)
        )
        for prefix in existing:
            PublicIdSequence.objects.using(self.using).filter(prefix=prefix).update(
                last_number=self.last[prefix]
            )
        PublicIdSequence.objects.using(self.using).bulk_create(
            PublicIdSequence(prefix=prefix, last_number=self.last[prefix])
            for prefix in self.changed - existing
        )
        self.changed = set()


# Writing ----------------------------------------------------------------------------------


def _table(model):
    return model._meta.db_table


def _next_id(model, using):
    highest = model.objects.using(using).aggregate(highest=Max("pk"))["highest"]
    return (highest or 0) + 1


class _BulkWriter:
    """Inserts rows given as dicts of column values: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, connection):
        self.connection = connection
        self.alias = connection.alias
        self.next_ids = {}

    def insert(self, model, rows):
        """Insert rows; a column a row does not set takes the field's default (or NULL)."""
        if not rows:
            return
        fields = model._meta.concrete_fields
        missing = [f for f in fields if f.column not in rows[0] and f.attname not in rows[0]]
        if missing:
            defaults = {f.column: f.get_default() for f in missing}
            rows = [defaults | row for row in rows]
        columns = [field.column for field in fields]
        if self.connection.vendor == "postgresql":
            self._copy(model, columns, rows)
        else:
            self._executemany(model, columns, rows)

    def _copy(self, model, columns, rows):
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_text(row[column]) for column in columns))
            buffer.write("\n")
        buffer.seek(0)
        quoted = ", ".join(self.connection.ops.quote_name(column) for column in columns)
        self.connection.ensure_connection()
        with self.connection.connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {_table(model)} ({quoted}) FROM STDIN", buffer)

    def _executemany(self, model, columns, rows):
        fields = {field.column: field for field in model._meta.concrete_fields}
        values = [
            [fields[column].get_db_prep_save(row[column], self.connection) for column in columns]
            for row in rows
        ]
        quoted = ", ".join(self.connection.ops.quote_name(column) for column in columns)
        marks = ", ".join(["%s"] * len(columns))
        with self.connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {_table(model)} ({quoted}) VALUES ({marks})", values)

    def reset_sequences(self, models):
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), models)
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _copy_text(value):
    """Return a value in COPY's text format: \\N for NULL, backslash escapes."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text
