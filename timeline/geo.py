"""Where an event goes on a map: its own coordinates, or its country's representative point.

Countries' points come from a maintained data package (countryinfo), never a table typed by
hand. It lacks a few territories (Palestine, Åland, Antarctica and some islands): an event
there with no coordinates of its own has no geometry.
"""

import functools

import orjson
from countryinfo import CountryInfo
from countryinfo.exceptions import CountryNotFoundError

# How precise an event's geometry is (GeoJSON's location_precision).
POINT = "point"  # the event's own coordinates, as curated
COUNTRY = "country"  # its country's representative point
GLOBAL = "global"  # a global event: no geometry
NONE = "none"  # a country the data package has no point for: no geometry


@functools.cache
def country_point(code):
    """Return (longitude, latitude) of a country's representative point, or None."""
    try:
        latlng = CountryInfo(code).latlng()
    except (CountryNotFoundError, KeyError, ValueError):
        return None
    if not latlng or len(latlng) != 2:
        return None
    latitude, longitude = latlng
    return (round(float(longitude), 6), round(float(latitude), 6))


def event_geometry(event):
    """Return (GeoJSON geometry or None, location_precision) for an event's public JSON."""
    if event["latitude"] is not None and event["longitude"] is not None:
        point = (float(event["longitude"]), float(event["latitude"]))
        return {"type": "Point", "coordinates": point}, POINT
    if event["is_global"] or not event["country"]:
        return None, GLOBAL
    point = country_point(event["country"])
    if point is None:
        return None, NONE
    return {"type": "Point", "coordinates": point}, COUNTRY


def feature_text(document_text):
    """Return an RFC 7946 Feature for an event: its geometry, and its JSON as properties.

    The event's JSON is written by the database; it is spliced in whole, not encoded again.
    """
    event = orjson.loads(document_text)
    geometry, precision = event_geometry(event)
    properties = document_text[: document_text.rindex("}")]
    return (
        '{"type":"Feature","id":'
        + orjson.dumps(event["id"]).decode()
        + ',"geometry":'
        + orjson.dumps(geometry).decode()
        + ',"properties":'
        + properties
        + ',"location_precision":"'
        + precision
        + '"}}'
    )


def feature_collection_schema(event):
    """An RFC 7946 FeatureCollection whose features' properties are Events."""
    point = {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"type": "string", "enum": ["Point"]},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": "[longitude, latitude] in WGS 84.",
            },
        },
    }
    precision = {
        "type": "string",
        "enum": [POINT, COUNTRY, GLOBAL, NONE],
        "description": "point: the event's own coordinates; country: its country's "
        "representative point; global, or none (a country with no point): no geometry.",
    }
    feature = {
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "description": "The event's public id."},
            "geometry": point | {"nullable": True, "description": "null: no place to draw."},
            "properties": {
                "allOf": [
                    event,
                    {
                        "type": "object",
                        "required": ["location_precision"],
                        "properties": {"location_precision": precision},
                    },
                ]
            },
        },
    }
    return {
        "type": "object",
        "description": "An RFC 7946 FeatureCollection, one Feature per event.",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature},
        },
    }
