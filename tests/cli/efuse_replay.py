#!/usr/bin/env python3
"""Replay every row of an espefuse vector MANIFEST.md with espsec.

Usage: efuse_replay.py ESPSEC VECTOR_DIR WORK_DIR [STEP_PREFIX]

Each row's command is run with `espefuse` replaced by `ESPSEC efuse`, from
WORK_DIR (where input/ points at the vectors' inputs). Then:
  - the exit status must be 0 when espefuse's was, non-zero when it refused;
  - the eFuse file must be byte-identical to expected/STEP.efuse.bin
    (so a refused step leaves the file as it was);
  - after a successful step, `summary --format json` must equal espefuse's
    field by field (every key but the free-text description), and
    `summary --format value_only NAME` must print espefuse's value for the
    security fields the step is about.
Prints one line per problem; exits 1 if there was any.
"""
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys

espsec, vdir, work = (os.path.abspath(p) for p in sys.argv[1:4])
prefix = sys.argv[4] if len(sys.argv) > 4 else ""
expected = os.path.join(vdir, "expected")
os.makedirs(work, exist_ok=True)
inp = os.path.join(work, "input")
if not os.path.exists(inp):
    os.symlink(os.path.join(vdir, "input"), inp)

rows = []
for line in open(os.path.join(vdir, "MANIFEST.md"), encoding="utf-8"):
    m = re.match(r"^\| (\S+) \| `(.+)` \| (\d+) \| ([0-9a-f]{64}) \|$", line.strip())
    if m:
        rows.append(m.groups())
if not rows:
    print("no rows in MANIFEST.md")
    sys.exit(1)

problems = []
checked = 0


def run(args):
    return subprocess.run([espsec] + args, cwd=work, capture_output=True, text=True, timeout=60)


def compare_json(step, ours, theirs):
    out = []
    if sorted(ours) != sorted(theirs):
        out.append(f"{step}: fields differ: only ours {sorted(set(ours) - set(theirs))}, "
                   f"only espefuse {sorted(set(theirs) - set(ours))}")
    for name in sorted(set(ours) & set(theirs)):
        for key in theirs[name]:
            if key != "description" and ours[name].get(key) != theirs[name][key]:
                out.append(f"{step}: {name}.{key}: ours {ours[name].get(key)!r}, espefuse {theirs[name][key]!r}")
    return out


WATCH = ["SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN", "KEY_PURPOSE_0", "KEY_PURPOSE_1", "BLOCK_KEY0", "BLOCK_KEY1",
         "SECURE_BOOT_KEY_REVOKE2", "ENABLE_SECURITY_DOWNLOAD", "WR_DIS", "RD_DIS"]

for step, cmd, rc, sha in rows:
    if not step.startswith(prefix):
        continue
    argv = shlex.split(cmd)
    assert argv[0] == "espefuse"
    argv = ["efuse"] + argv[1:]
    fi = argv.index("--path-efuse-file") + 1
    efile = os.path.join(work, argv[fi])
    chip = argv[argv.index("--chip") + 1]
    # A few public rows were recorded from an empty chip although the previous
    # step of the same file had burned BLOCK0 (espefuse v5.3.1 itself, run on
    # the previous step's file, makes a different file); their log says so
    # ("BLOCK0 ... is empty"). Such a row is replayed from an empty chip too.
    log = open(os.path.join(expected, step + ".log"), encoding="utf-8", errors="replace").read()
    if re.search(r"\[00\] BLOCK0\s+is empty", log) and os.path.exists(efile):
        cur = run(["efuse", "--chip", chip, "--virt", "--path-efuse-file", argv[fi], "summary", "--format", "json"])
        if cur.returncode == 0 and any(v["block"] == 0 and v["word"] is not None and int(v["raw_value"], 16)
                                       for v in json.loads(cur.stdout).values()):
            print(f"note: {step}: recorded from an empty chip (its log says BLOCK0 is empty); replayed so")
            os.remove(efile)
            if os.path.exists(efile + ".hidden"):
                os.remove(efile + ".hidden")
    r = run(argv)
    checked += 1
    if (r.returncode == 0) != (rc == "0"):
        problems.append(f"{step}: exit {r.returncode}, espefuse exited {rc}: {r.stderr.strip()[:300]}")
    if r.returncode != 0 and len(r.stderr.strip().splitlines()) != 1:
        problems.append(f"{step}: refusal is not one line on stderr: {r.stderr.strip()[:300]!r}")
    want = open(os.path.join(expected, step + ".efuse.bin"), "rb").read()
    if hashlib.sha256(want).hexdigest() != sha:
        problems.append(f"{step}: expected/{step}.efuse.bin does not match the manifest's sha256")
    got = open(efile, "rb").read() if os.path.exists(efile) else b""
    checked += 1
    if got != want:
        diff = [i for i in range(min(len(got), len(want))) if got[i] != want[i]]
        problems.append(f"{step}: file differs from espefuse's ({len(got)} vs {len(want)} bytes; "
                        f"first differing offsets {diff[:8]})")
    if rc != "0":
        continue
    base = ["efuse", "--chip", chip, "--virt", "--path-efuse-file", argv[fi]]
    s = run(base + ["summary", "--format", "json"])
    checked += 1
    if s.returncode != 0:
        problems.append(f"{step}: summary --format json failed: {s.stderr.strip()}")
        continue
    theirs = json.load(open(os.path.join(expected, step + ".summary.json")))
    problems += compare_json(step, json.loads(s.stdout), theirs)
    for name in WATCH:
        if name not in theirs:
            continue
        v = run(base + ["summary", "--format", "value_only", name])
        checked += 1
        if v.returncode != 0 or v.stdout.strip() != str(theirs[name]["value"]):
            problems.append(f"{step}: value_only {name}: ours {v.stdout.strip()!r}, espefuse {theirs[name]['value']!r}")

for p in problems:
    print("FAIL: " + p)
print(f"{len(rows)} rows, {checked} checks, {len(problems)} problems")
sys.exit(1 if problems else 0)
