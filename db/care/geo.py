"""Distances on the globe and the bounding box used to prefilter nearby search in SQL."""

from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088

#: Generous bounds of mainland China, Hong Kong, Macao and Taiwan, used to catch swapped or garbled coordinates.
CHINA_LAT = (3.8, 53.6)
CHINA_LON = (73.4, 135.1)


class BoundingBox(NamedTuple):
    """Latitude/longitude limits (degrees) that contain every point within a radius of a centre."""

    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> BoundingBox:
    """The smallest lat/lon box guaranteed to contain the circle of `radius_km` around (lat, lon).

    Uses the exact maximum longitude spread of a spherical cap, so no point at distance <= radius is cut off
    (the box is a superset; the exact distance check follows). Near a pole, or when the cap crosses the
    antimeridian, the longitude range opens to the whole circle.
    """
    if radius_km < 0:
        raise ValueError("radius must not be negative")
    angular = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90 or max_lat >= 90:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    dlon = math.degrees(math.asin(ratio))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180 or max_lon > 180:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    # A hair of slack against floating-point rounding at the exact edge.
    eps = 1e-9
    return BoundingBox(min_lat - eps, max_lat + eps, min_lon - eps, max_lon + eps)


def valid_coordinates(lat: float, lon: float) -> bool:
    """Whether (lat, lon) is a point on Earth."""
    return (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )


def in_china(lat: float, lon: float) -> bool:
    """Whether (lat, lon) falls in the rough bounding box of China (catches swapped lat/lon)."""
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]
