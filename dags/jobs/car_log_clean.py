#!/usr/bin/env python3
"""Cleans a batch of car status logs from the spool (smartcar_log_ingest).

    car_log_clean.py --files JSON_LIST --out DIR

Each line is `car_id,timestamp,speed_kmh,lat,lon,engine_temp_c`; a line that
does not parse is garbage and is dropped (and counted). Kept lines go to
DIR/parts/wrk_date=YYYY-MM-DD/<spool file>.csv, by the UTC date of their
timestamp. Over-speed events (a car's average speed over a 30-second window
above 80 km/h) become Redis commands in DIR/overspeed.redis: one key per event,
overspeed:<car>:<window start>, expiring after 7 days. Prints the kept count.
"""

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import sys

LIMIT_KMH = 80.0
WINDOW_S = 30
KEEP_S = 7 * 86400


def parse(line):
    fields = line.strip().split(",")
    if len(fields) != 6 or not fields[0]:
        return None
    try:
        at = dt.datetime.strptime(fields[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        speed, lat, lon, temp = (float(x) for x in fields[2:])
    except ValueError:
        return None
    if not (0 <= speed < 400 and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"car_id": fields[0], "at": at, "speed": speed, "lat": lat, "lon": lon, "temp": temp}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", required=True, help="the spool files, as the sensor's JSON list")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    files = json.loads(args.files)
    shutil.rmtree(args.out, ignore_errors=True)
    kept, garbage = 0, 0
    windows = collections.defaultdict(list)  # (car, window start) -> speeds
    for path in files:
        parts = collections.defaultdict(list)
        with open(path, errors="replace") as f:
            for line in f:
                rec = parse(line)
                if rec is None:
                    garbage += 1
                    continue
                parts[rec["at"].strftime("%Y-%m-%d")].append(rec)
                start = int(rec["at"].timestamp()) // WINDOW_S * WINDOW_S
                windows[(rec["car_id"], start)].append(rec["speed"])
        stem = os.path.splitext(os.path.basename(path))[0]
        for wrk_date, recs in sorted(parts.items()):
            folder = f"{args.out}/parts/wrk_date={wrk_date}"
            os.makedirs(folder, exist_ok=True)
            with open(f"{folder}/{stem}.csv", "w") as out:
                out.write("car_id,ts,speed_kmh,lat,lon,engine_temp_c\n")
                for r in recs:
                    out.write(f"{r['car_id']},{r['at']:%Y-%m-%dT%H:%M:%SZ},{r['speed']:.1f},"
                              f"{r['lat']:.4f},{r['lon']:.4f},{r['temp']:.0f}\n")
            kept += len(recs)
    events = []
    for (car, start), speeds in sorted(windows.items()):
        avg = sum(speeds) / len(speeds)
        if avg > LIMIT_KMH:
            at = dt.datetime.fromtimestamp(start, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            doc = json.dumps({"car_id": car, "window_start": at, "window_s": WINDOW_S,
                              "avg_speed_kmh": round(avg, 1), "readings": len(speeds)})
            events.append(f'SET overspeed:{car}:{at} "{doc.replace(chr(34), chr(92) + chr(34))}" EX {KEEP_S}')
    os.makedirs(args.out, exist_ok=True)
    with open(f"{args.out}/overspeed.redis", "w") as f:
        f.write("".join(e + "\n" for e in events))
    print(f"clean: {kept} lines kept, {garbage} garbage lines dropped from {len(files)} files; "
          f"{len(events)} over-speed events")
    print(kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
