#!/usr/bin/env python3
"""Crawls the no-label product catalogue: from the index page, every listing
page (following `page` and `next` links, each once), and every product card
on them. Writes the pages as fetched (raw/pages/) and one JSON line per card
(raw/products.jsonl), untouched apart from whitespace; prints the card count.

    nolabel_crawl.py --site URL --out DIR [--date YYYY-MM-DD]
"""

import argparse
import datetime as dt
import html.parser
import json
import os
import sys
import urllib.parse
import urllib.request


class CatalogueParser(html.parser.HTMLParser):
    """Collects product cards (div.product[data-sku] and its classed spans)
    and links to other listing pages (a.page, a.next)."""

    FIELDS = ("name", "price", "currency", "category", "stock")

    def __init__(self):
        super().__init__()
        self.cards, self.links = [], []
        self._card, self._field = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "product" in classes:
            self._card = {"sku": attrs.get("data-sku", "")}
        elif tag == "a" and ({"page", "next"} & set(classes)) and attrs.get("href"):
            self.links.append(attrs["href"])
        elif self._card is not None:
            self._field = next((c for c in classes if c in self.FIELDS), None)

    def handle_endtag(self, tag):
        if tag == "div" and self._card is not None:
            self.cards.append(self._card)
            self._card = None
        self._field = None

    def handle_data(self, data):
        if self._card is not None and self._field:
            self._card[self._field] = self._card.get(self._field, "") + data.strip()


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": "dagctl-nolabel-crawler/1.0"})
    with urllib.request.urlopen(request, timeout=30) as res:
        return res.read().decode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", required=True, help="the catalogue's base URL (https:// or file://)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--date", default=str(dt.date.today()))
    args = ap.parse_args()
    base = args.site.rstrip("/") + "/"
    os.makedirs(f"{args.out}/pages", exist_ok=True)
    queue, seen, cards = [urllib.parse.urljoin(base, "index.html")], set(), []
    crawled_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        page = fetch(url)
        name = os.path.basename(urllib.parse.urlsplit(url).path) or "index.html"
        with open(f"{args.out}/pages/{name}", "w") as f:
            f.write(page)
        parser = CatalogueParser()
        parser.feed(page)
        for card in parser.cards:
            card.update(source_url=url, crawled_at=crawled_at, crawl_date=args.date)
            cards.append(card)
        queue += [urllib.parse.urljoin(url, href) for href in parser.links]
    if not cards:
        print(f"crawl: no product cards at {base}", file=sys.stderr)
        return 1
    with open(f"{args.out}/products.jsonl", "w") as f:
        for card in cards:
            f.write(json.dumps(card, ensure_ascii=False) + "\n")
    print(f"crawl: {len(seen)} pages, {len(cards)} product cards")
    print(len(cards))
    return 0


if __name__ == "__main__":
    sys.exit(main())
