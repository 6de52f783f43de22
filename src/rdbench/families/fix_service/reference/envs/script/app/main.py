"""Payments report: totals of large payments in one currency, per user."""

import argparse
import configparser
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(HERE, "vendor"))

import csv

from money import parse_cents


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    config = configparser.ConfigParser(interpolation=None)
    config.read(args.config, encoding="utf-8")
    section = config["service"]
    source = os.path.expandvars(section["input"])
    target = os.path.expandvars(section["output"])
    currency = section["currency"].strip()
    threshold = parse_cents(section["threshold"])
    totals = {}
    count = 0
    with open(source, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["currency"] != currency:
                continue
            cents = parse_cents(row["amount"])
            if cents < threshold:
                continue
            count += 1
            totals[row["user"]] = totals.get(row["user"], 0) + cents
    top = min(totals, key=lambda u: (-totals[u], u)) if totals else None
    report = {
        "count": count,
        "total_cents": sum(totals.values()),
        "top_user": top,
        "users": len(totals),
    }
    with open(target, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False)
    if os.environ.get("LOG_LEVEL") == "debug":
        print(report)


if __name__ == "__main__":
    main()
