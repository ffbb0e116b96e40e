#!/usr/bin/env python3
"""Builds the yolov5 training set from the lake (yolov5_image_collection_daily).

    yolo_dataset.py --date D --lake LAKE_URI --days N --out DIR

Every image with detections collected in the N days through D (the lake's
/images/yolov5/dt=*/ partitions) goes into train.txt or, by its hash (1 in
10), val.txt; data.yaml is yolov5's dataset file naming them and the classes
seen. Paths are lake paths. Prints the number of training images.
"""

import argparse
import datetime as dt
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lakeio  # noqa: E402

COCO = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--date", required=True)
    ap.add_argument("--lake", required=True)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    last = dt.date.fromisoformat(args.date)
    first = last - dt.timedelta(days=args.days - 1)
    root = lakeio.join(args.lake, "images/yolov5")
    files = lakeio.list_files(root)
    labels = {f[:-4] for f in files if f.endswith(".txt")}
    train, val, classes = [], [], set()
    for f in files:
        m = re.search(r"/dt=(\d{4}-\d{2}-\d{2})/([0-9a-f]{64})\.(png|jpe?g)$", f)
        if not m or not first <= dt.date.fromisoformat(m.group(1)) <= last or f.rsplit(".", 1)[0] not in labels:
            continue
        for line in lakeio.read_text(f.rsplit(".", 1)[0] + ".txt").splitlines():
            if line.strip():
                classes.add(int(line.split()[0]))
        path = f"/images/yolov5/dt={m.group(1)}/{m.group(2)}.{m.group(3)}"
        (val if int(m.group(2), 16) % 10 == 0 else train).append(path)
    if not train:
        print(f"dataset: no labelled images in the lake from {first} to {last}", file=sys.stderr)
        return 1
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    with open(f"{args.out}/train.txt", "w") as f:
        f.write("".join(p + "\n" for p in train))
    with open(f"{args.out}/val.txt", "w") as f:
        f.write("".join(p + "\n" for p in val))
    names = {c: COCO.get(c, f"class{c}") for c in sorted(classes)}
    with open(f"{args.out}/data.yaml", "w") as f:
        f.write(f"# yolov5 dataset of {first}..{last}\n")
        f.write(f"path: /datasets/yolov5/{args.date}\ntrain: train.txt\nval: val.txt\n")
        f.write("names:\n" + "".join(f"  {c}: {n}\n" for c, n in names.items()))
    print(f"dataset: {len(train)} training and {len(val)} validation images from {first}..{last}, "
          f"classes {sorted(classes)}")
    print(len(train))
    return 0


if __name__ == "__main__":
    sys.exit(main())
