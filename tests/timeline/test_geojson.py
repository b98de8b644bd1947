"""format=geojson: RFC 7946, checked by the geojson library and read by shapely."""

import json
from decimal import Decimal

import geojson
import pytest
from shapely.geometry import Point, shape

from tests.factories import EventFactory, PlatformFactory
from tests.timeline.test_exports import walk_json
from timeline.geo import country_point

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"


def read(client, **params):
    response = client.get(EVENTS, {"format": "geojson", **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json; charset=utf-8"
    assert response["Content-Disposition"].endswith('.geojson"')
    text = b"".join(response.streaming_content).decode()
    collection = geojson.loads(text)
    assert collection.is_valid, collection.errors()
    assert len(collection["features"]) == int(response["X-Row-Count"])
    return json.loads(text)


def by_id(collection):
    return {feature["id"]: feature for feature in collection["features"]}


def test_coordinates_country_points_and_global_events(client):
    beijing = EventFactory(
        published=True,
        title="In Beijing",
        country="CN",
        latitude=Decimal("39.9042"),
        longitude=Decimal("116.4074"),
    )
    china = EventFactory(published=True, title="Somewhere in China", country="CN")
    hong_kong = EventFactory(published=True, title="In Hong Kong", country="HK")
    world = EventFactory(published=True, title="Everywhere", country="", is_global=True)

    features = by_id(read(client))

    assert features[beijing.public_id]["geometry"] == {
        "type": "Point",
        "coordinates": [116.4074, 39.9042],  # longitude first (RFC 7946)
    }
    assert features[beijing.public_id]["properties"]["location_precision"] == "point"
    assert features[china.public_id]["geometry"]["coordinates"] == list(country_point("CN"))
    assert features[china.public_id]["properties"]["location_precision"] == "country"
    assert features[hong_kong.public_id]["properties"]["location_precision"] == "country"
    assert features[world.public_id]["geometry"] is None
    assert features[world.public_id]["properties"]["location_precision"] == "global"


def test_a_country_the_data_package_has_no_point_for_has_no_geometry(client):
    event = EventFactory(published=True, country="AQ")  # Antarctica: countryinfo has no point

    (feature,) = read(client)["features"]

    assert feature["id"] == event.public_id
    assert feature["geometry"] is None
    assert feature["properties"]["location_precision"] == "none"


def test_country_points_fall_inside_their_countries_rough_bounds():
    # (min longitude, min latitude, max longitude, max latitude), generously drawn.
    bounds = {
        "CN": (73, 18, 135, 54),
        "HK": (113.8, 22.1, 114.5, 22.6),
        "MO": (113.5, 22.1, 113.6, 22.3),
        "TW": (119, 21.8, 122.2, 25.4),
        "RU": (19, 41, 180, 82),
        "IR": (44, 25, 64, 40),
    }
    for code, (west, south, east, north) in bounds.items():
        longitude, latitude = country_point(code)
        assert west <= longitude <= east and south <= latitude <= north, code


def test_properties_are_the_events_as_the_json_list_shows_them(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    for country in ("CN", "HK", "RU"):
        EventFactory(published=True, country=country).platforms.add(wechat)
    EventFactory(published=True, country="CN")

    collection = read(client, platform="wechat", ordering="-date")

    listed = walk_json(client, "platform=wechat&ordering=-date")
    properties = [feature["properties"] for feature in collection["features"]]
    assert [{k: v for k, v in p.items() if k != "location_precision"} for p in properties] == listed
    assert [feature["id"] for feature in collection["features"]] == [e["id"] for e in listed]


def test_shapely_reads_every_geometry(client):
    EventFactory(
        published=True, country="CN", latitude=Decimal("31.2304"), longitude=Decimal("121.4737")
    )
    EventFactory(published=True, country="TW")
    EventFactory(published=True, country="", is_global=True)

    geometries = [
        shape(feature["geometry"])
        for feature in read(client)["features"]
        if feature["geometry"] is not None
    ]

    assert len(geometries) == 2
    assert all(isinstance(geometry, Point) and geometry.is_valid for geometry in geometries)
    shanghai = min(geometries, key=lambda point: point.distance(Point(121.47, 31.23)))
    assert shanghai.equals(Point(121.4737, 31.2304))


def test_an_empty_selection_is_an_empty_collection(client):
    EventFactory(published=True, country="CN")

    assert read(client, country="RU") == {"type": "FeatureCollection", "features": []}


def test_one_event_as_geojson(client):
    event = EventFactory(published=True, country="CN")

    response = client.get(f"{EVENTS}{event.public_id}/", {"format": "geojson"})

    features = json.loads(b"".join(response.streaming_content))["features"]
    assert [feature["id"] for feature in features] == [event.public_id]
