#!/usr/bin/env python3
"""The day's user-log rollup (user_log_rollup_daily).

    user_log_rollup.py rollup --date D --logs DIR --out DIR
        reads the day's event files (JSON lines; broken lines and events of
        other days are counted and dropped) and writes
          events.csv      every kept event (the cold store's partition)
          per_minute.csv  events, distinct users and purchases per minute
          per_5min.csv    the same per 5-minute window
          hot.redis       the per-minute and 5-minute aggregates as Redis hashes
                          userlog:D:1m / userlog:D:5m, expiring after 2 days
          warm.redis      the 5-minute documents as hash userlog:warm:D,
                          expiring after 8 days (so Redis holds a 7-day window)
    user_log_rollup.py warm --window FILE --out FILE.jsonl
        the 7-day window read back from Redis (a JSON list of documents) as
        JSON lines for Kafka and the document store, oldest first

Each prints its count (the task's XCom).
"""

import argparse
import csv
import datetime as dt
import glob
import json
import os
import sys

HOT_TTL = 2 * 86400
WARM_TTL = 8 * 86400


def redis_arg(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hset_lines(key, mapping, ttl):
    items = sorted(mapping.items())
    lines = []
    for i in range(0, len(items), 100):  # 100 fields per HSET
        chunk = items[i:i + 100]
        lines.append(f"HSET {key} " + " ".join(f"{redis_arg(k)} {redis_arg(v)}" for k, v in chunk))
    lines.append(f"EXPIRE {key} {ttl}")
    return lines


def aggregate(events, width):
    buckets = {}
    for e in events:
        at = dt.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%SZ")
        start = at.replace(second=0, minute=at.minute - at.minute % width)
        b = buckets.setdefault(start, {"events": 0, "users": set(), "purchases": 0})
        b["events"] += 1
        b["users"].add(e["user_id"])
        b["purchases"] += e["event"] == "purchase"
    return {k: {"events": v["events"], "users": len(v["users"]), "purchases": v["purchases"]}
            for k, v in sorted(buckets.items())}


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def rollup(args):
    events, broken, other_day = [], 0, 0
    files = sorted(glob.glob(os.path.join(args.logs, "*.jsonl")))
    for path in files:
        with open(path) as f:
            for line in f:
                try:
                    e = json.loads(line)
                    if not all(isinstance(e.get(k), str) for k in ("ts", "user_id", "event", "page")):
                        raise ValueError
                    dt.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%SZ")
                except ValueError:
                    broken += line.strip() != ""
                    continue
                if not e["ts"].startswith(args.date):
                    other_day += 1
                    continue
                events.append(e)
    if not files:
        print(f"rollup: no event files in {args.logs}", file=sys.stderr)
        return 1
    events.sort(key=lambda e: (e["ts"], e["user_id"]))
    os.makedirs(args.out, exist_ok=True)
    write_csv(f"{args.out}/events.csv", ["ts", "user_id", "event", "page"],
              [(e["ts"], e["user_id"], e["event"], e["page"]) for e in events])
    per_minute, per_5min = aggregate(events, 1), aggregate(events, 5)
    header = ["window_start", "events", "users", "purchases"]
    for name, agg in (("per_minute", per_minute), ("per_5min", per_5min)):
        write_csv(f"{args.out}/{name}.csv", header,
                  [(k.strftime("%Y-%m-%dT%H:%M:%SZ"), v["events"], v["users"], v["purchases"]) for k, v in agg.items()])
    hot = hset_lines(f"userlog:{args.date}:1m", {k.strftime("%H:%M"): json.dumps(v) for k, v in per_minute.items()},
                     HOT_TTL)
    hot += hset_lines(f"userlog:{args.date}:5m", {k.strftime("%H:%M"): json.dumps(v) for k, v in per_5min.items()},
                      HOT_TTL)
    docs = {k.strftime("%Y-%m-%dT%H:%M:%SZ"): json.dumps(dict(window_start=k.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                                date=args.date, minutes=5, **v))
            for k, v in per_5min.items()}
    with open(f"{args.out}/hot.redis", "w") as f:
        f.write("\n".join(hot) + "\n")
    with open(f"{args.out}/warm.redis", "w") as f:
        f.write("\n".join(hset_lines(f"userlog:warm:{args.date}", docs, WARM_TTL)) + "\n")
    print(f"rollup: {len(events)} events from {len(files)} files ({broken} broken lines, {other_day} of another day "
          f"dropped); {len(per_minute)} minutes, {len(per_5min)} 5-minute windows")
    print(len(events))
    return 0


def warm(args):
    with open(args.window) as f:
        docs = [json.loads(d) for d in json.load(f)]
    docs.sort(key=lambda d: d["window_start"])
    with open(args.out, "w") as f:
        for d in docs:
            f.write(json.dumps(d) + "\n")
    days = sorted({d["date"] for d in docs})
    print(f"warm: {len(docs)} 5-minute documents over {len(days)} days"
          f"{' (' + days[0] + '..' + days[-1] + ')' if days else ''}")
    print(len(docs))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="step", required=True)
    r = sub.add_parser("rollup")
    r.add_argument("--date", required=True)
    r.add_argument("--logs", required=True)
    r.add_argument("--out", required=True)
    w = sub.add_parser("warm")
    w.add_argument("--window", required=True)
    w.add_argument("--out", required=True)
    args = ap.parse_args()
    return rollup(args) if args.step == "rollup" else warm(args)


if __name__ == "__main__":
    sys.exit(main())
