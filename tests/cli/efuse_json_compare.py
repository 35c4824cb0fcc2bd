#!/usr/bin/env python3
"""Compare two espefuse-style JSON summaries field by field (all keys but the
free-text description). Usage: efuse_json_compare.py OURS.json THEIRS.json"""
import json
import sys

ours = json.load(open(sys.argv[1]))
theirs = json.load(open(sys.argv[2]))
problems = []
if sorted(ours) != sorted(theirs):
    problems.append(f"fields differ: only ours {sorted(set(ours) - set(theirs))}, only theirs {sorted(set(theirs) - set(ours))}")
for name in sorted(set(ours) & set(theirs)):
    for key in theirs[name]:
        if key == "description":
            continue
        if ours[name].get(key) != theirs[name][key]:
            problems.append(f"{name}.{key}: ours {ours[name].get(key)!r}, espefuse {theirs[name][key]!r}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
