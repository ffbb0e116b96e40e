#!/usr/bin/env python3
"""Writes the sample sources the seed pipelines read, under $DAGCTL_HOME/sources.

These stand in for the outside world on one machine: the no-label shop's
catalogue pages, the orders API's daily exports, the app servers' user logs,
users' image uploads with their yolov5 detections, the cars' spool folder and
the recommender's CSV drops. Dated sources are written for every date asked
for; the spool folders (car logs, CSV drops) get one batch, for the last date.
The data is the same for the same date, so runs can be checked.

    python3 dags/sample/seed.py                 # the last 7 days through today (UTC)
    python3 dags/sample/seed.py --date 2026-03-01 --date 2026-03-02
"""

import argparse
import datetime as dt
import json
import os
import random
import struct
import sys
import zlib


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


# --- the no-label shop's catalogue: an index and three pages of product cards

PRODUCTS = [
    ("Plain cotton tee", "apparel"), ("Heavyweight hoodie", "apparel"), ("Canvas tote bag", "bags"),
    ("Steel water bottle", "kitchen"), ("Bamboo toothbrush", "bath"), ("Wool socks", "apparel"),
    ("Linen apron", "kitchen"), ("Glass food container", "kitchen"), ("Cotton bath towel", "bath"),
    ("Recycled notebook", "stationery"), ("Gel pen set", "stationery"), ("Ceramic mug", "kitchen"),
    ("Laptop sleeve", "bags"), ("Silk pillowcase", "home"), ("Soy candle", "home"),
    ("Denim cap", "apparel"), ("Hand soap refill", "bath"), ("Desk organiser", "stationery"),
    ("Cork coaster set", "home"), ("Backpack", "bags"), ("Rain jacket", "apparel"),
    ("Chef knife", "kitchen"), ("Shower cap", "bath"), ("Photo frame", "home"),
    ("Weekly planner", "stationery"), ("Lunch box", "kitchen"), ("Beanie", "apparel"),
    ("Pencil case", "stationery"),
]


def product_card(i):
    name, category = PRODUCTS[i - 1]
    price = "가격 문의" if i == 7 else f"{(i * 3700) % 50000 + 4900:,}"  # "price on request"
    stock = "sold out" if i == 12 else "in stock"
    return (f'<div class="product" data-sku="NL-{i:04d}">\n'
            f'  <h2 class="name">{name}</h2>\n'
            f'  <span class="price">{price}</span> <span class="currency">KRW</span>\n'
            f'  <span class="category">{category}</span>\n'
            f'  <span class="stock">{stock}</span>\n'
            f'</div>\n')


def seed_catalogue(root):
    pages = [range(1, 11), range(10, 20), range(19, 29)]  # NL-0010 and NL-0019 are on two pages
    index = ['<html><head><meta charset="utf-8"><title>no-label shop</title></head><body>',
             '<h1>no-label products</h1>']
    for n, items in enumerate(pages, 1):
        index.append(f'<a class="page" href="page-{n}.html">page {n}</a>')
        nxt = f'<a class="next" href="page-{n + 1}.html">next</a>' if n < len(pages) else ""
        body = "".join(product_card(i) for i in items)
        write(f"{root}/page-{n}.html",
              f'<html><head><meta charset="utf-8"></head><body>\n{body}{nxt}\n</body></html>\n')
    index.append("</body></html>\n")
    write(f"{root}/index.html", "\n".join(index))


# --- the orders API: one JSON export per day

def seed_orders(root, day):
    rng = random.Random(f"orders-{day}")
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    orders = []
    for n in range(40):
        at = start + dt.timedelta(seconds=rng.randrange(86400))
        orders.append({
            "order_id": f"{day:%Y%m%d}-{n:04d}",
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "customer": f"c{rng.randrange(1, 60):03d}",
            "amount": f"{rng.randrange(1000, 200000) / 100:.2f}",
            "currency": rng.choice(["KRW", "KRW", "KRW", "USD"]),
            "status": rng.choice(["paid", "paid", "paid", "refunded"]),
        })
    items = orders + [dict(orders[3]), dict(orders[17]),  # the API repeats itself sometimes
                      {"order_id": f"{day:%Y%m%d}-bad", "created_at": f"{day}T12:00:00Z",
                       "customer": "c001", "amount": "n/a", "currency": "KRW", "status": "paid"}]
    write(f"{root}/orders/{day}.json",
          json.dumps({"status": "ok", "date": str(day), "count": len(items), "orders": items}, indent=1))


# --- user logs: a day of app events, in four files, with a few broken lines

def seed_user_logs(root, day):
    rng = random.Random(f"user-logs-{day}")
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    events = []
    for _ in range(1200):
        at = start + dt.timedelta(seconds=rng.randrange(86400))
        events.append({"ts": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "user_id": f"u{rng.randrange(1, 151):03d}",
                       "event": rng.choice(["view"] * 6 + ["click"] * 3 + ["purchase"]),
                       "page": f"/p/{rng.randrange(1, 80)}"})
    events.sort(key=lambda e: e["ts"])
    for part in range(4):
        lines = [json.dumps(e) for e in events[part * 300:(part + 1) * 300]]
        lines.insert(50, '{"ts": "2026-')  # cut off mid-write
        write(f"{root}/{day}/events-{part * 6:02d}.jsonl", "\n".join(lines) + "\n")
    write(f"{root}/{day}/_SUCCESS", "")


# --- image uploads: PNGs and yolov5 `detect.py --save-txt --save-conf` labels

def png(rng, width=32, height=32):
    """A small valid PNG with a few coloured boxes."""
    pixels = [[(rng.randrange(256), rng.randrange(256), rng.randrange(256))] * width for _ in range(height)]
    for _ in range(3):
        x, y, w, h = rng.randrange(24), rng.randrange(24), rng.randrange(4, 9), rng.randrange(4, 9)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        for yy in range(y, min(height, y + h)):
            pixels[yy] = pixels[yy][:x] + [colour] * min(w, width - x) + pixels[yy][x + w:]
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def day_images(day):
    rng = random.Random(f"images-{day}")
    return [png(rng) for _ in range(20)]


def seed_uploads(root, day):
    """20 new images (16 with detections), 2 re-uploads of the day before's and
    2 repeats of today's: 24 files, 20 new by content once the day before is in."""
    images = day_images(day)
    before = day_images(day - dt.timedelta(days=1))
    files = images + before[:2] + [images[5], images[11]]
    rng = random.Random(f"labels-{day}")
    for n, data in enumerate(files, 1):
        name = f"upload_{n:04d}"
        write(f"{root}/{day}/images/{name}.png", data)
        unlabelled = n in (4, 8, 13, 19)  # nothing detected: yolov5 writes no label file
        if unlabelled:
            continue
        boxes = []
        for _ in range(rng.randrange(1, 4)):
            cls = rng.choice([0, 0, 2, 3, 7])  # person, car, motorcycle, truck (COCO ids)
            boxes.append(f"{cls} {rng.uniform(0.2, 0.8):.6f} {rng.uniform(0.2, 0.8):.6f} "
                         f"{rng.uniform(0.05, 0.3):.6f} {rng.uniform(0.05, 0.3):.6f} {rng.uniform(0.3, 0.99):.6f}")
        write(f"{root}/{day}/labels/{name}.txt", "\n".join(boxes) + "\n")


# --- the cars' spool folder: status logs around midnight, some lines garbage

def seed_car_spool(root, day):
    start = dt.datetime.combine(day, dt.time(23, 58), dt.timezone.utc)
    lines = []
    for step in range(48):  # every 5 s for 4 minutes: 23:58:00 .. 00:01:55
        at = start + dt.timedelta(seconds=5 * step)
        for car in ("car-01", "car-02", "car-03"):
            speed = 62.0 + step % 3
            if car == "car-02" and start + dt.timedelta(seconds=90) <= at < start + dt.timedelta(seconds=150):
                speed = 95.0  # 23:59:30 .. 00:00:30 over the limit: two 30 s windows
            if car == "car-03" and at.time() == dt.time(0, 1):
                speed = 85.0  # one fast reading; its 30 s average stays under 80
            lines.append(f"{car},{at:%Y-%m-%dT%H:%M:%SZ},{speed:.1f},37.{5000 + step:04d},127.{300 + step:04d},88")
    lines[10:10] = ["", "car-01,2026-xx-01T00:00:00Z,abc,1,2,3"]
    lines[70:70] = ["#### spool writer restarted ####", "car-02,"]
    half = len(lines) // 2
    write(f"{root}/car_status_{day:%Y%m%d}_a.log", "\n".join(lines[:half]) + "\n")
    write(f"{root}/car_status_{day:%Y%m%d}_b.log", "\n".join(lines[half:]) + "\n")


# --- the recommender's CSV drop: ratings from latent tastes, a few bad rows

def seed_recsys_drop(root, day):
    world = random.Random("ratings")  # the same users and items, with the same tastes, every day
    genres = ["drama", "comedy", "action", "documentary", "animation"]
    items = [(i, f"Title {i:03d}", genres[i % len(genres)]) for i in range(1, 41)]
    users = [(u, world.choice(["10s", "20s", "30s", "40s", "50s"])) for u in range(1, 61)]
    taste = {u: [world.gauss(0, 1) for _ in range(3)] for u, _ in users}
    trait = {i: [world.gauss(0, 1) for _ in range(3)] for i, _, _ in items}
    rng = random.Random(f"ratings-{day}")
    rows = ["user_id,item_id,rating,rated_at,user_age_band,item_title,item_genre"]
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc) - dt.timedelta(days=3)
    for u, band in users:
        for i, title, genre in rng.sample(items, 20):
            score = 3.2 + 0.7 * sum(a * b for a, b in zip(taste[u], trait[i])) + rng.gauss(0, 0.3)
            rating = max(1, min(5, round(score)))
            at = start + dt.timedelta(seconds=rng.randrange(3 * 86400))
            rows.append(f"{u},{i},{rating},{at:%Y-%m-%dT%H:%M:%SZ},{band},{title},{genre}")
    rows += [rows[5], rows[99], rows[400],  # exported twice
             "7,3,9,2026-01-01T00:00:00Z,30s,Title 003,action",  # rating out of range
             "8,,4,2026-01-01T00:00:00Z,20s,,drama",  # no item
             "oops"]
    write(f"{root}/ratings_{day:%Y%m%d}.csv", "\n".join(rows) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=os.environ.get("DAGCTL_HOME", os.path.expanduser("~/.dagctl")))
    parser.add_argument("--date", action="append", type=dt.date.fromisoformat, help="YYYY-MM-DD (repeatable)")
    parser.add_argument("--days", type=int, default=7, help="without --date: this many days through today")
    args = parser.parse_args()
    today = dt.datetime.now(dt.timezone.utc).date()
    days = sorted(args.date or [today - dt.timedelta(days=n) for n in range(args.days - 1, -1, -1)])
    src = os.path.join(os.path.abspath(args.home), "sources")
    seed_catalogue(f"{src}/nolabel_site")
    for day in days:
        seed_orders(f"{src}/collect_api", day)
        seed_user_logs(f"{src}/user_logs", day)
        seed_uploads(f"{src}/image_uploads", day)
    seed_car_spool(f"{src}/car_spool", days[-1])
    seed_recsys_drop(f"{src}/recsys_drops", days[-1])
    print(f"seed: sample sources for {days[0]}..{days[-1]} in {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
