#!/usr/bin/env python3
"""Retrains the recommender from the star schema (recsys_retrain).

    recsys_train.py --mart URI --model FILE [--factors K] [--epochs N]

Reads every rating from fact_rating in the mart (sqlite:///path, or
mysql:// / mariadb:// with python3-pymysql), holds out one rating in ten (by
a hash of user and item), and fits a biased matrix factorisation by SGD. The
model is written as JSON with its hold-out RMSE and that of predicting the
mean; a model no better than the mean fails the task rather than replace the
last good one. Prints the RMSE.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import urllib.parse


def load_ratings(uri):
    parts = urllib.parse.urlsplit(uri)
    query = "SELECT user_id, item_id, rating FROM fact_rating ORDER BY user_id, item_id, rated_at"
    if parts.scheme == "sqlite":
        import sqlite3
        with sqlite3.connect(parts.path) as db:
            return db.execute(query).fetchall()
    if parts.scheme in ("mysql", "mariadb"):
        try:
            import pymysql
        except ImportError:
            sys.exit("train: reading a MariaDB/MySQL mart needs python3-pymysql (apt-get install python3-pymysql)")
        db = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=urllib.parse.unquote(parts.username or ""),
                             password=urllib.parse.unquote(parts.password or ""), database=parts.path.lstrip("/"))
        with db.cursor() as cur:
            cur.execute(query)
            return list(cur.fetchall())
    sys.exit(f"train: unsupported mart URI scheme '{parts.scheme}'")


def rmse(pairs):
    return math.sqrt(sum((p - r) ** 2 for p, r in pairs) / len(pairs)) if pairs else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mart", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--factors", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    ratings = [(int(u), int(i), float(r)) for u, i, r in load_ratings(args.mart)]
    if len(ratings) < 20:
        print(f"train: {len(ratings)} ratings are too few to train on", file=sys.stderr)
        return 1
    test = [x for x in ratings if (x[0] * 7919 + x[1] * 104729) % 10 == 0]
    train = [x for x in ratings if (x[0] * 7919 + x[1] * 104729) % 10 != 0]
    mean = sum(r for _, _, r in train) / len(train)
    rng = random.Random(42)
    k, lr, reg = args.factors, 0.02, 0.05
    users, items = {u for u, _, _ in ratings}, {i for _, i, _ in ratings}
    pu = {u: [rng.gauss(0, 0.1) for _ in range(k)] for u in users}
    qi = {i: [rng.gauss(0, 0.1) for _ in range(k)] for i in items}
    bu, bi = dict.fromkeys(users, 0.0), dict.fromkeys(items, 0.0)

    def predict(u, i):
        return mean + bu[u] + bi[i] + sum(a * b for a, b in zip(pu[u], qi[i]))

    order = list(train)
    for _ in range(args.epochs):
        rng.shuffle(order)
        for u, i, r in order:
            err = r - predict(u, i)
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])
            for f in range(k):
                pu[u][f], qi[i][f] = (pu[u][f] + lr * (err * qi[i][f] - reg * pu[u][f]),
                                      qi[i][f] + lr * (err * pu[u][f] - reg * qi[i][f]))
    model_rmse = rmse([(min(5, max(1, predict(u, i))), r) for u, i, r in test])
    mean_rmse = rmse([(mean, r) for _, _, r in test])
    model = {"trained_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "factors": k,
             "ratings": len(ratings), "holdout": len(test), "rmse": round(model_rmse, 4),
             "mean_rmse": round(mean_rmse, 4), "global_mean": round(mean, 4),
             "user_bias": {u: round(b, 4) for u, b in sorted(bu.items())},
             "item_bias": {i: round(b, 4) for i, b in sorted(bi.items())},
             "user_factors": {u: [round(x, 4) for x in v] for u, v in sorted(pu.items())},
             "item_factors": {i: [round(x, 4) for x in v] for i, v in sorted(qi.items())}}
    print(f"train: {len(train)} ratings, {len(test)} held out; RMSE {model_rmse:.4f} "
          f"(predicting the mean: {mean_rmse:.4f})")
    if not model_rmse < mean_rmse:
        print("train: the model is no better than predicting the mean; not publishing it", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.model)), exist_ok=True)
    with open(args.model, "w") as f:
        json.dump(model, f)
    print(f"{model_rmse:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
