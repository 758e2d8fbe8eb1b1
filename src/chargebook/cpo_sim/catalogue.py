"""A realistic generated catalogue: OCPI 2.2.1 Locations around German cities.

Deterministic for a given seed, so tests, the demo and benchmarks see the same chargers.
75 % of locations cluster around the 30 largest cities (weighted by population), 25 % are
spread over the rural rest of the country.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

#: (city, latitude, longitude, population in thousands, postal code prefix)
CITIES: list[tuple[str, float, float, int, str]] = [
    ("Berlin", 52.5200, 13.4050, 3878, "10"),
    ("Hamburg", 53.5511, 9.9937, 1892, "20"),
    ("München", 48.1351, 11.5820, 1512, "80"),
    ("Köln", 50.9375, 6.9603, 1084, "50"),
    ("Frankfurt am Main", 50.1109, 8.6821, 773, "60"),
    ("Stuttgart", 48.7758, 9.1829, 633, "70"),
    ("Düsseldorf", 51.2277, 6.7735, 629, "40"),
    ("Leipzig", 51.3397, 12.3731, 616, "04"),
    ("Dortmund", 51.5136, 7.4653, 595, "44"),
    ("Essen", 51.4556, 7.0116, 584, "45"),
    ("Bremen", 53.0793, 8.8017, 577, "28"),
    ("Dresden", 51.0504, 13.7373, 563, "01"),
    ("Hannover", 52.3759, 9.7320, 545, "30"),
    ("Nürnberg", 49.4521, 11.0767, 523, "90"),
    ("Duisburg", 51.4344, 6.7623, 503, "47"),
    ("Bochum", 51.4818, 7.2162, 365, "44"),
    ("Wuppertal", 51.2562, 7.1508, 358, "42"),
    ("Bielefeld", 52.0302, 8.5325, 334, "33"),
    ("Bonn", 50.7374, 7.0982, 331, "53"),
    ("Münster", 51.9607, 7.6261, 320, "48"),
    ("Mannheim", 49.4875, 8.4660, 315, "68"),
    ("Karlsruhe", 49.0069, 8.4037, 308, "76"),
    ("Augsburg", 48.3705, 10.8978, 301, "86"),
    ("Wiesbaden", 50.0782, 8.2398, 283, "65"),
    ("Mönchengladbach", 51.1805, 6.4428, 268, "41"),
    ("Gelsenkirchen", 51.5177, 7.0857, 263, "45"),
    ("Aachen", 50.7753, 6.0839, 249, "52"),
    ("Braunschweig", 52.2689, 10.5268, 249, "38"),
    ("Kiel", 54.3233, 10.1228, 247, "24"),
    ("Chemnitz", 50.8278, 12.9214, 243, "09"),
]
STREETS = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Marktplatz",
    "Industriestraße",
    "Lindenallee",
    "Gartenweg",
    "Schillerstraße",
    "Goethestraße",
    "Am Park",
    "Ringstraße",
]
OPERATORS = ["Stadtwerke", "Energie", "Ladepark", "Autohof", "Parkhaus", "Einkaufszentrum"]

# (standard, format, power_type, max_voltage, max_amperage, max_electric_power W)
AC_22 = ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 400, 32, 22000)
AC_11 = ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 400, 16, 11000)
DC_50 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 500, 125, 50000)
DC_150 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 200, 150000)
DC_300 = ("IEC_62196_T2_COMBO", "CABLE", "DC", 920, 500, 300000)
CHADEMO = ("CHADEMO", "CABLE", "DC", 500, 125, 50000)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _point(rng: random.Random) -> tuple[str, str, float, float]:
    """A city (with postal prefix) and coordinates: clustered near cities or rural."""
    weights = [c[3] for c in CITIES]
    city = rng.choices(CITIES, weights=weights)[0]
    if rng.random() < 0.75:
        # Gaussian around the centre, ~5 km standard deviation.
        lat = city[1] + rng.gauss(0, 0.045)
        lng = city[2] + rng.gauss(0, 0.045 / math.cos(math.radians(city[1])))
        return city[0], city[4], lat, lng
    lat = rng.uniform(47.6, 54.8)
    lng = rng.uniform(6.1, 14.9)
    nearest = min(CITIES, key=lambda c: (c[1] - lat) ** 2 + (c[2] - lng) ** 2)
    return f"Landkreis {nearest[0]}", nearest[4], lat, lng


def generate_locations(
    count: int,
    *,
    country_code: str = "DE",
    party_id: str = "SIM",
    seed: int = 7,
    reservable_share: float = 0.8,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` OCPI 2.2.1 Location objects with 1–6 EVSEs each."""
    rng = random.Random(seed)
    stamp = _iso(now or datetime(2026, 1, 1, tzinfo=UTC))
    for n in range(1, count + 1):
        city, postal, lat, lng = _point(rng)
        loc_id = f"{country_code}-{party_id}-E{n:07d}"
        fast = rng.random() < 0.3
        kinds = [DC_150, DC_300, DC_50, CHADEMO] if fast else [AC_22, AC_11]
        evses = []
        for e in range(1, rng.randint(1, 6) + 1):
            spec = rng.choice(kinds)
            std, fmt, ptype, volts, amps, watts = spec
            evses.append(
                {
                    "uid": f"{country_code}*{party_id}*E{n:07d}*{e}",
                    "evse_id": f"{country_code}*{party_id}*E{n:07d}*{e}",
                    "status": rng.choices(
                        ["AVAILABLE", "CHARGING", "OUTOFORDER"], weights=[85, 12, 3]
                    )[0],
                    "capabilities": (
                        ["RESERVABLE", "REMOTE_START_STOP_CAPABLE", "RFID_READER"]
                        if rng.random() < reservable_share
                        else ["RFID_READER"]
                    ),
                    "connectors": [
                        {
                            "id": "1",
                            "standard": std,
                            "format": fmt,
                            "power_type": ptype,
                            "max_voltage": volts,
                            "max_amperage": amps,
                            "max_electric_power": watts,
                            "tariff_ids": ["DC-STD" if ptype == "DC" else "AC-STD"],
                            "last_updated": stamp,
                        }
                    ],
                    "last_updated": stamp,
                }
            )
        yield {
            "country_code": country_code,
            "party_id": party_id,
            "id": loc_id,
            "publish": True,
            "name": f"{rng.choice(OPERATORS)} {city} {n}",
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 200)}",
            "city": city,
            "postal_code": f"{postal}{rng.randint(100, 999)}",
            "country": "DEU",
            "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"},
            "time_zone": "Europe/Berlin",
            "evses": evses,
            "last_updated": stamp,
        }
