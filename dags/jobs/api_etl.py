#!/usr/bin/env python3
"""Extract and transform of the orders API's daily export (api_collect_etl_daily).

    api_etl.py extract --input LAKE_URI --date D --out FILE.jsonl
        the day's raw orders from the lake, one JSON line each, as exported
    api_etl.py transform --input FILE.jsonl --date D --usd-krw RATE --out FILE.sql
        drops orders that are malformed or from another day, keeps one row per
        order id, converts amounts to KRW, and writes the SQL that replaces the
        day's partition of the warehouse table `api_orders`

Each prints its row count (the task's XCom).
"""

import argparse
import json
import os
import sys
from decimal import Decimal, InvalidOperation

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lakeio  # noqa: E402
import sqlfile  # noqa: E402

TABLE = """CREATE TABLE IF NOT EXISTS api_orders (
  dt DATE NOT NULL,
  order_id VARCHAR(32) NOT NULL,
  created_at VARCHAR(20) NOT NULL,
  customer VARCHAR(16) NOT NULL,
  amount DECIMAL(14,2) NOT NULL,
  currency CHAR(3) NOT NULL,
  amount_krw DECIMAL(16,2) NOT NULL,
  status VARCHAR(16) NOT NULL,
  PRIMARY KEY (dt, order_id)
)"""


def extract(args):
    export = json.loads(lakeio.read_text(args.input))
    if export.get("date") != args.date:
        print(f"extract: the export is for {export.get('date')}, not {args.date}", file=sys.stderr)
        return 1
    orders = export.get("orders", [])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        for order in orders:
            f.write(json.dumps(order) + "\n")
    print(f"extract: {len(orders)} orders for {args.date}")
    print(len(orders))
    return 0


def transform(args):
    rate = Decimal(args.usd_krw)
    rows, bad, repeated = {}, 0, 0
    with open(args.input) as f:
        for line in f:
            o = json.loads(line)
            try:
                amount = Decimal(o["amount"])
                if not amount.is_finite() or not o["created_at"].startswith(args.date) or not o["order_id"]:
                    raise ValueError
                krw = amount * (rate if o["currency"] == "USD" else 1)
            except (KeyError, ValueError, InvalidOperation):
                bad += 1
                continue
            repeated += o["order_id"] in rows
            rows[o["order_id"]] = (args.date, o["order_id"], o["created_at"], o["customer"], f"{amount:.2f}",
                                   o["currency"], f"{krw:.2f}", o["status"])
    day = sqlfile.literal(args.date)
    sqlfile.write(args.out, [TABLE, f"DELETE FROM api_orders WHERE dt = {day}"] +
                  sqlfile.insert("api_orders", [row for _, row in sorted(rows.items())],
                                 ["dt", "order_id", "created_at", "customer", "amount", "currency", "amount_krw",
                                  "status"]) +
                  [f"SELECT COUNT(*) FROM api_orders WHERE dt = {day}"])
    print(f"transform: {len(rows)} orders ({repeated} repeats merged, {bad} malformed dropped)")
    print(len(rows))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="step", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--input", required=True)
    e.add_argument("--date", required=True)
    e.add_argument("--out", required=True)
    t = sub.add_parser("transform")
    t.add_argument("--input", required=True)
    t.add_argument("--date", required=True)
    t.add_argument("--usd-krw", default="1350")
    t.add_argument("--out", required=True)
    args = ap.parse_args()
    return extract(args) if args.step == "extract" else transform(args)


if __name__ == "__main__":
    sys.exit(main())
