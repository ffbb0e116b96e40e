#!/usr/bin/env python3
"""De-duplicates a day's image uploads by content (yolov5_image_collection_daily).

    yolo_dedupe.py --date D --uploads DIR --lake LAKE_URI --out DIR

DIR holds images/*.png|jpg and the yolov5 detections labels/<name>.txt
(`class x y w h conf` per box; no file when nothing was detected). An image
whose SHA-256 is already in the lake (from another day) or earlier in this
batch is a duplicate. The new ones are copied to OUT/unique/<sha256>.<ext>
with their labels beside them, and OUT/metadata.sql replaces the day's rows
of the table image_meta. Prints how many new images have detections; exits
99 (the task is skipped, and so is what follows) when nothing is new.
"""

import argparse
import hashlib
import os
import shutil
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lakeio  # noqa: E402
import sqlfile  # noqa: E402

TABLE = """CREATE TABLE IF NOT EXISTS image_meta (
  sha256 CHAR(64) NOT NULL PRIMARY KEY,
  dt DATE NOT NULL,
  upload_name VARCHAR(255) NOT NULL,
  lake_path VARCHAR(512) NOT NULL,
  width INTEGER,
  height INTEGER,
  bytes INTEGER NOT NULL,
  detections INTEGER NOT NULL,
  classes VARCHAR(255) NOT NULL
)"""


def size_of(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--date", required=True)
    ap.add_argument("--uploads", required=True)
    ap.add_argument("--lake", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    known = set()
    this_day = f"/dt={args.date}/"
    for uri in lakeio.list_files(lakeio.join(args.lake, "images/yolov5")):
        if this_day not in uri:  # a re-run of the day replaces its own partition
            known.add(os.path.splitext(os.path.basename(uri))[0])
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(f"{args.out}/unique")
    images = sorted(n for n in os.listdir(f"{args.uploads}/images") if n.lower().endswith((".png", ".jpg", ".jpeg")))
    rows, batch, seen_before, repeated, labelled = [], set(), 0, 0, 0
    for name in images:
        with open(f"{args.uploads}/images/{name}", "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest in known or digest in batch:
            seen_before += digest in known
            repeated += digest in batch
            continue
        batch.add(digest)
        ext = os.path.splitext(name)[1].lower()
        shutil.copyfile(f"{args.uploads}/images/{name}", f"{args.out}/unique/{digest}{ext}")
        label = f"{args.uploads}/labels/{os.path.splitext(name)[0]}.txt"
        boxes = []
        if os.path.exists(label):
            with open(label) as f:
                boxes = [line.split() for line in f if line.strip()]
        if boxes:
            shutil.copyfile(label, f"{args.out}/unique/{digest}.txt")
            labelled += 1
        width, height = size_of(data)
        classes = ",".join(sorted({b[0] for b in boxes}, key=int))
        rows.append((digest, args.date, name, f"/images/yolov5/dt={args.date}/{digest}{ext}", width, height,
                     len(data), len(boxes), classes))
    day = sqlfile.literal(args.date)
    sqlfile.write(f"{args.out}/metadata.sql",
                  [TABLE, f"DELETE FROM image_meta WHERE dt = {day}"] +
                  sqlfile.insert("image_meta", rows, ["sha256", "dt", "upload_name", "lake_path", "width", "height",
                                                      "bytes", "detections", "classes"]) +
                  [f"SELECT COUNT(*) FROM image_meta WHERE dt = {day}"])
    print(f"dedupe: {len(images)} uploads: {len(rows)} new ({labelled} with detections), "
          f"{seen_before} already in the lake, {repeated} repeated in the batch")
    if not rows:
        return 99
    print(labelled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
