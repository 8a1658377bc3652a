"""The baseline users compare against: Faker called per row for a `customers` table (10 k rows by default).

python benchmarks/faker_per_row.py --rows 10000 --output /tmp/faker-customers
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    fake = Faker("en_US")
    Faker.seed(42)
    random.seed(42)
    records = []
    for customer_id in range(1, args.rows + 1):
        first, last = fake.first_name(), fake.last_name()
        records.append(
            {
                "customer_id": customer_id,
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}{random.randint(1, 9999)}@{fake.free_email_domain()}".lower(),
                "phone": fake.phone_number(),
                "address": fake.street_address(),
                "city": fake.city(),
                "country": fake.country_code(),
                "signup_date": fake.date_between(dt.date(2019, 1, 1), dt.date(2023, 12, 31)),
                "is_vip": random.random() < 0.05,
            }
        )
    os.makedirs(args.output, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(records), os.path.join(args.output, "customers.parquet"), compression="snappy"
    )


if __name__ == "__main__":
    main()
