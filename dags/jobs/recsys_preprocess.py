#!/usr/bin/env python3
"""Preprocesses a CSV drop of ratings into a star schema (recsys_retrain).

    recsys_preprocess.py --input LAKE_URI --batch ID --out DIR

Reads every .csv under LAKE_URI (the backed-up drop): columns user_id,
item_id, rating, rated_at, user_age_band, item_title, item_genre. Rows that
do not parse, or rate outside 1..5, are dropped; a row exported twice is kept
once. Writes DIR/ratings.csv (the clean rows) and DIR/star.sql, which creates
the schema if needed (dim_user, dim_item, dim_date, fact_rating), upserts the
dimensions and replaces the batch's facts; plain SQL that SQLite, MariaDB
and MySQL all run. Prints the number of facts.
"""

import argparse
import csv
import datetime as dt
import io
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lakeio  # noqa: E402
import sqlfile  # noqa: E402

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS dim_user (
  user_id INTEGER NOT NULL PRIMARY KEY,
  age_band VARCHAR(8) NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS dim_item (
  item_id INTEGER NOT NULL PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  genre VARCHAR(32) NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS dim_date (
  date_id INTEGER NOT NULL PRIMARY KEY,
  day DATE NOT NULL,
  weekday SMALLINT NOT NULL,
  month SMALLINT NOT NULL,
  year SMALLINT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS fact_rating (
  user_id INTEGER NOT NULL,
  item_id INTEGER NOT NULL,
  date_id INTEGER NOT NULL,
  rating SMALLINT NOT NULL,
  rated_at VARCHAR(20) NOT NULL,
  batch VARCHAR(32) NOT NULL
)""",
]


def upsert(table, key, rows):
    """Replaces the rows whose first column (`key`) is among `rows`'."""
    if not rows:
        return []
    ids = ", ".join(sqlfile.literal(r[0]) for r in rows)
    return [f"DELETE FROM {table} WHERE {key} IN ({ids})"] + sqlfile.insert(table, rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    files = [f for f in lakeio.list_files(args.input) if f.endswith(".csv")]
    if not files:
        print(f"preprocess: no CSV files under {args.input}", file=sys.stderr)
        return 1
    seen, facts, users, items, dates, bad, repeated = set(), [], {}, {}, {}, 0, 0
    for uri in files:
        for row in csv.DictReader(io.StringIO(lakeio.read_text(uri))):
            try:
                user, item, rating = int(row["user_id"]), int(row["item_id"]), int(row["rating"])
                at = dt.datetime.strptime(row["rated_at"], "%Y-%m-%dT%H:%M:%SZ")
                band, title, genre = row["user_age_band"], row["item_title"], row["item_genre"]
                if not 1 <= rating <= 5 or not (band and title and genre):
                    raise ValueError
            except (KeyError, TypeError, ValueError):
                bad += 1
                continue
            key = (user, item, row["rated_at"])
            if key in seen:
                repeated += 1
                continue
            seen.add(key)
            date_id = int(at.strftime("%Y%m%d"))
            users[user], items[item] = band, (title, genre)
            dates[date_id] = (at.date().isoformat(), at.isoweekday(), at.month, at.year)
            facts.append((user, item, date_id, rating, row["rated_at"], args.batch))
    os.makedirs(args.out, exist_ok=True)
    with open(f"{args.out}/ratings.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["user_id", "item_id", "rating", "rated_at"])
        w.writerows((u, i, r, at) for u, i, _, r, at, _ in facts)
    statements = list(SCHEMA)
    statements += upsert("dim_user", "user_id", sorted((u, b) for u, b in users.items()))
    statements += upsert("dim_item", "item_id", sorted((i, t, g) for i, (t, g) in items.items()))
    statements += upsert("dim_date", "date_id", sorted((d,) + v for d, v in dates.items()))
    batch = sqlfile.literal(args.batch)
    statements.append(f"DELETE FROM fact_rating WHERE batch = {batch}")
    statements += sqlfile.insert("fact_rating", facts)
    statements.append(f"SELECT COUNT(*) FROM fact_rating WHERE batch = {batch}")
    sqlfile.write(f"{args.out}/star.sql", statements)
    print(f"preprocess: {len(facts)} ratings of {len(users)} users and {len(items)} items from {len(files)} "
          f"files ({bad} bad rows dropped, {repeated} exported twice)")
    print(len(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
