#!/usr/bin/env python3
"""Replay every row of a reference vector set's MANIFEST.md with espsec standing in for the tool.

usage: replay_manifest.py --espsec BIN --vectors DIR SET [--spellings as-written|both] [-v]

SET is a folder of DIR (secure_boot, flash_encryption, nvs, partition). Each MANIFEST table row names a
command of Espressif's tool (espsecure, nvs_partition_gen, mfg_gen, nvs_tool, gen_esp32part), the exit
status the tool gave and the sha256 of its output. The row is run in a scratch copy of the set with
espsec in the tool's place (espsecure -> espsec secure, nvs_partition_gen -> espsec nvs, mfg_gen ->
espsec mfg, nvs_tool -> espsec nvs dump, gen_esp32part -> espsec partition-table) and judged by:
  - the exit status class: 0, or refused (non-zero) with nothing left at the output path;
  - the sha256 of the output, or, where the reference output is random (random keys, RSA-PSS/ECDSA
    signatures, random IV or padding), a structural check of what can be checked (every byte outside the
    signature fields equals the reference's, the signature verifies with the row's key, ...).
Each row's output is put back to the reference's file afterwards, so rows are independent of each other.
With --spellings both every row is replayed a second time with the other spelling of the command and
option names (sign_data <-> sign-data), as espsec accepts both.
Rows whose outcome differs on purpose are listed in DELIBERATE with the reason (also in the README).
Exit status: 0 when every row passed.
"""
import argparse
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zlib

# Rows where espsec differs from the reference on purpose (README, "Vector replay"): case -> reason.
DELIBERATE = {
    "quirk_verify_foreign_key_in_block": "espsecure verifies with the supplied key and never compares it with the "
        "key stored in the block; espsec refuses, since the bootloader checks the block's key against the eFuse "
        "digest and would not boot such an image",
    "esp32_empty": "espsecure exits 0 and writes no file for an empty input; espsec refuses (exit 0 means the "
        "output exists)",
    "quirk_size_text": "nvs_partition_gen prints a message and exits 0 for a size that is not a number; espsec "
        "refuses (a script must not take 'no file' for success)",
    "bad_nonamespace": "nvs_partition_gen writes a value that precedes every namespace row with namespace index 0, "
        "where ESP-IDF keeps namespace definitions (it then reads as a namespace); espsec refuses naming the line",
    "quirk_ns_reuse": "nvs_partition_gen writes the rows after a re-opened namespace under the most recently "
        "created one; espsec writes them under the namespace the CSV names",
    "quirk_type_unknown": "nvs_partition_gen treats any type other than namespace/file as data; espsec refuses an "
        "unknown type (a typo such as 'fil' would store the path as the value)",
    "bad_output_ext": "nvs_partition_gen refuses an output name not ending in .bin; espsec writes any name",
    "quirk_enc_key_badcrc": "nvs_partition_gen ignores the nvs_keys CRC; espsec checks it as ESP-IDF does "
        "(ESP_ERR_NVS_CORRUPT_KEY_PART): the device would refuse that key partition",
    "check_bad_nonamespace": "nvs_tool -i reports a namespace without entries; espsec does not count an empty "
        "namespace as a problem (ESP-IDF creates one on every nvs_open in read-write mode)",
}

TOOLS = {
    "espsecure": ["secure"],
    "nvs_partition_gen": ["nvs"],
    "mfg_gen": ["mfg"],
    "nvs_tool": ["nvs", "dump"],
    "gen_esp32part": ["partition-table"],
    "gen_esp32part.py": ["partition-table"],
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cells(line):
    """Split a markdown table row into stripped cells (no '|' appears inside our cells)."""
    parts = line.strip().strip("|").split("|")
    return [p.strip() for p in parts]


def parse_tables(text):
    """Yield (header cells, row cells, line number) for every table row of the MANIFEST."""
    header = None
    for no, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        c = cells(line)
        if header is None:
            header = [h.lower() for h in c]
            continue
        if set(line.strip()) <= set("|-: "):
            continue
        yield header, c, no


def other_spelling(argv, has_command=True):
    """The command with '_' and '-' swapped in the command name and long option names."""
    out = []
    for i, a in enumerate(argv):
        if i == 0 and not has_command:
            i = -1
        if a.startswith("--") and ("_" in a or "-" in a[2:]):
            name, eq, val = a[2:].partition("=")
            swapped = name.replace("_", "\x00").replace("-", "_").replace("\x00", "-")
            out.append("--" + swapped + eq + val)
        elif i == 0 and not a.startswith("-") and re.fullmatch(r"[a-z0-9_-]+", a) and ("_" in a or "-" in a):
            out.append(a.replace("_", "\x00").replace("-", "_").replace("\x00", "-"))
        else:
            out.append(a)
    return out


class Row:
    def __init__(self, table, case, argv, exit_code, sha, note, extra=None):
        self.table, self.case, self.argv, self.exit, self.sha, self.note = table, case, argv, exit_code, sha, note
        self.extra = extra or {}


def parse_command(cmd):
    m = re.search(r"`([^`]*)`", cmd)
    cmd = m.group(1) if m else cmd.strip()
    stdout_to = None
    if " > " in cmd:
        cmd, stdout_to = cmd.split(" > ", 1)
        stdout_to = stdout_to.strip()
    argv = shlex.split(cmd)
    return argv, stdout_to


def load_rows(setdir):
    text = open(os.path.join(setdir, "MANIFEST.md"), encoding="utf-8").read()
    rows = []
    section = ""
    lines = text.splitlines()
    # mfg outputs: "Outputs of CASE:" followed by "- path sha" lines
    mfg_outputs = {}
    cur = None
    for line in lines:
        m = re.match(r"Outputs of (\w+)", line)
        if m:
            cur = m.group(1)
            mfg_outputs[cur] = []
            continue
        m = re.match(r"- (expected/\S+) ([0-9a-f]{64})$", line)
        if m and cur:
            mfg_outputs[cur].append((m.group(1), m.group(2)))
        elif line.startswith("#"):
            cur = None
    for header, c, no in parse_tables(text):
        if len(c) != len(header):
            continue
        d = dict(zip(header, c))
        if "case" in d and "command" in d and "exit" in d:
            argv, stdout_to = parse_command(d["command"])
            shacol = d.get("sha256 of output", "-")
            r = Row("cmd", d["case"], argv, d["exit"], shacol, d.get("note", ""))
            r.extra["no_sha_column"] = "sha256 of output" not in d
            r.extra["stdout_to"] = stdout_to
            if r.case in mfg_outputs:
                r.extra["outputs"] = mfg_outputs[r.case]
            rows.append(r)
        elif "case" in d and "input" in d and "extra arguments" in d:
            extra = [] if d["extra arguments"] == "-" else shlex.split(d["extra arguments"].strip("`"))
            argv = ["gen_esp32part"] + extra + [d["input"], "expected/%s.bin" % d["case"]]
            rows.append(Row("cmd", d["case"], argv, d["exit"], d["sha256 of expected/case.bin"], ""))
        elif "case" in d and "ops" in d:
            rows.append(Row("rt", d["case"], [], d["exit"], d.get("outputs (sha256)", ""), d.get("note", "")))
    return rows


class Replayer:
    def __init__(self, espsec, src, work, verbose):
        self.espsec, self.src, self.work, self.verbose = espsec, src, work, verbose

    def run(self, argv, stdout_to=None):
        tool = argv[0]
        args = TOOLS[tool] + argv[1:]
        out = None
        if stdout_to:
            os.makedirs(os.path.dirname(os.path.join(self.work, stdout_to)) or ".", exist_ok=True)
            out = open(os.path.join(self.work, stdout_to), "wb")
        p = subprocess.run([self.espsec] + args, cwd=self.work, stdout=out if out else subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        if out:
            out.close()
        return p

    def path(self, rel):
        return os.path.join(self.work, rel)

    def restore(self, rels):
        for rel in rels:
            s, w = os.path.join(self.src, rel), self.path(rel)
            if os.path.exists(s):
                os.makedirs(os.path.dirname(w), exist_ok=True)
                shutil.copyfile(s, w)
            elif os.path.isfile(w):
                os.unlink(w)


def opt(argv, *names):
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None


def opt_list(argv, *names):
    """Values after an option that takes several (espsecure --keyfile a b c)."""
    for i, a in enumerate(argv):
        if a in names:
            vals = []
            for b in argv[i + 1:]:
                if b.startswith("-"):
                    break
                vals.append(b)
            return vals
    return []


def output_paths(row):
    """Where the row's tool writes (relative to the set folder)."""
    argv = row.argv
    if row.extra.get("stdout_to"):
        return [row.extra["stdout_to"]]
    if row.extra.get("outputs"):
        return [p for p, _ in row.extra["outputs"]]
    tool = argv[0]
    cmd = argv[1].replace("-", "_") if len(argv) > 1 else ""
    if tool in ("nvs_partition_gen", "mfg_gen") and cmd == "generate_key":
        keyfile = opt(argv, "--keyfile")
        if not keyfile:
            return []   # named after the time: found by judge_random
        outdir = opt(argv, "--outdir") or "."
        outs = [os.path.normpath(os.path.join(outdir, "keys", keyfile))]
        if "--kp_hmac_keygen" in argv or "--kp-hmac-keygen" in argv:
            outs.append(os.path.normpath(os.path.join(outdir, "keys", "hmac-" + keyfile)))
        return outs
    o = opt(argv, "--output", "-o")
    if o:
        return [o]
    if tool == "espsecure" and cmd in ("verify_signature", "signature_info_v2"):
        return []
    if tool == "espsecure" and cmd in ("generate_signing_key", "generate_flash_encryption_key",
                                       "extract_public_key", "digest_private_key"):
        return [argv[-1]]
    exp = [a for a in argv[1:] if a.startswith("expected/") or a.startswith("input/")]
    if tool in ("nvs_partition_gen",):
        exp = [a for a in argv[1:] if a.endswith(".bin") or a.endswith(".img")]
        if cmd in ("generate", "encrypt"):
            return [a for a in argv[2:] if not a.startswith("-")][-2:-1] if False else [nvs_output(argv)]
        if cmd == "decrypt":
            return [argv[-1]]
    if tool.startswith("gen_esp32part"):
        pos = [a for a in argv[1:] if not a.startswith("-")]
        return [pos[-1]] if pos else []
    exp = [a for a in argv[1:] if a.startswith("expected/")]
    return exp[-1:] if exp else []


def nvs_output(argv):
    pos = []
    skip = False
    for a in argv[2:]:
        if skip:
            skip = False
            continue
        if a.startswith("--"):
            if a in ("--version", "--inputkey", "--keyfile", "--outdir", "--kp_hmac_inputkey"):
                skip = True
            continue
        pos.append(a)
    # INPUT... OUTPUT SIZE
    return pos[-2] if len(pos) >= 2 else pos[-1]


def keys_crc_ok(data):
    return len(data) >= 68 and zlib.crc32(data[:64], 0xFFFFFFFF) == int.from_bytes(data[64:68], "little")


SIG_BLOCK = 1216


def sig_fields_only_differ(out, ref):
    """True when out and ref differ only inside signature fields and CRCs of the last-4 KiB signature sector."""
    if len(out) != len(ref):
        return False, "length %d, reference %d" % (len(out), len(ref))
    sector = len(out) - 4096
    for i in range(len(out)):
        if out[i] == ref[i]:
            continue
        if i < sector:
            return False, "byte 0x%x (image data) differs" % i
        blk, off = divmod(i - sector, SIG_BLOCK)
        if blk > 2:
            return False, "byte 0x%x (after the blocks) differs" % i
        base = sector + blk * SIG_BLOCK
        version = out[base + 1]
        # RSA-3072: the signature starts at 812; ECDSA: r||s after the curve id (36) and the point
        # (2 x 32 bytes for P-192/P-256, 2 x 48 for P-384)
        lo = 812 if version == 2 else (133 if out[base + 36] == 3 else 101)
        if not (lo <= off < 1200):
            return False, "byte 0x%x (block %d offset %d, not signature/CRC) differs" % (i, blk, off)
    return True, ""


class Result:
    def __init__(self):
        self.passed, self.failed, self.deliberate, self.lines = 0, 0, 0, []


def judge_random(rp, row, outs):
    """Structural checks for rows whose reference output is random. Returns an error string or ''."""
    argv = row.argv
    cmd = argv[1].replace("-", "_")
    out = outs[0] if outs else None
    if cmd == "generate_signing_key":
        if not os.path.isfile(rp.path(out)):
            return "no key written"
        ver = opt(argv, "--version", "-v") or "1"
        p = subprocess.run([rp.espsec, "secure", "extract_public_key", "--version", ver, "--keyfile", rp.path(out),
                            rp.path(out + ".pub")], capture_output=True)
        if p.returncode:
            return "generated key unusable: " + p.stderr.decode(errors="replace").strip()
        scheme = opt(argv, "--scheme")
        if scheme:
            want = {"rsa3072": "BEGIN PUBLIC KEY", "ecdsa256": "BEGIN PUBLIC KEY"}.get(scheme, "BEGIN PUBLIC KEY")
            if want not in open(rp.path(out + ".pub")).read():
                return "public key not PEM"
        os.unlink(rp.path(out + ".pub"))
        return ""
    if cmd == "generate_flash_encryption_key":
        bits = int(opt(argv, "--keylen", "-l") or "256")
        n = os.path.getsize(rp.path(out)) if os.path.isfile(rp.path(out)) else -1
        return "" if n == bits // 8 else "key of %d bytes, want %d" % (n, bits // 8)
    if cmd == "sign_data":
        ref = os.path.join(rp.src, out)
        got = read(rp.path(out))
        if os.path.isfile(ref):
            ok, why = sig_fields_only_differ(got, read(ref))
            if not ok:
                return why
        ver = opt(argv, "--version", "-v")
        keys = opt_list(argv, "--keyfile", "-k")
        flags = ["--skip-padding"] if "--skip-padding" in argv else []
        for k in keys:
            p = subprocess.run([rp.espsec, "secure", "verify_signature", "--version", ver, "--keyfile", rp.path(k)]
                               + flags + [rp.path(out)], capture_output=True)
            if p.returncode:
                return "signature by %s does not verify" % k
        return ""
    if cmd == "digest_secure_bootloader":
        got = read(rp.path(out))
        ref = read(os.path.join(rp.src, "expected/bootloader_digest.bin"))
        return "" if len(got) == len(ref) and got[0x1000:] == ref[0x1000:] else "bytes from 0x1000 differ"
    if cmd == "encrypt_flash_data":
        got = read(rp.path(out))
        ref = read(os.path.join(rp.src, out))
        return "" if len(got) == len(ref) and got[:-16] == ref[:-16] else "bytes before the last block differ"
    if argv[0] == "nvs_partition_gen" and cmd == "generate_key":
        if out is None:   # no --keyfile: keys/keys-<time>.bin
            made = [f for f in os.listdir(rp.path("keys")) if re.fullmatch(r"keys-.*\.bin", f)] \
                if os.path.isdir(rp.path("keys")) else []
            if len(made) != 1:
                return "want one keys/keys-<time>.bin, found %s" % made
            out = os.path.join("keys", made[0])
            outs.append(out)
        got = read(rp.path(out))
        if len(got) != 4096 or not keys_crc_ok(got):
            return "not an nvs_keys image (%d bytes)" % len(got)
        if "--kp_hmac_keygen" in argv or "--kp-hmac-keygen" in argv:
            hk = os.path.join(os.path.dirname(rp.path(out)), "hmac-" + os.path.basename(out))
            if not os.path.isfile(hk) or os.path.getsize(hk) != 32:
                return "no 32-byte HMAC key next to it"
        return ""
    if argv[0] == "nvs_partition_gen" and cmd == "encrypt":
        keyfile = os.path.join("keys", opt(argv, "--keyfile"))
        p = subprocess.run([rp.espsec, "nvs", "decrypt", rp.path(out), rp.path(keyfile), rp.path(out + ".dec.bin")],
                           capture_output=True)
        if p.returncode:
            return "decrypt failed: " + p.stderr.decode(errors="replace").strip()
        d = sha256(rp.path(out + ".dec.bin"))
        os.unlink(rp.path(out + ".dec.bin"))
        want = sha256(os.path.join(rp.src, "expected/types_0x6000.bin"))
        return "" if d == want else "decrypts to %s, not expected/types_0x6000.bin" % d[:16]
    if argv[0] == "mfg_gen":
        for rel, want in row.extra.get("outputs", []):
            if "/csv/" in rel:
                if not os.path.isfile(rp.path(rel)) or sha256(rp.path(rel)) != want:
                    return "%s differs" % rel
            elif "/bin/" in rel:
                n = re.search(r"dev-(\d+)\.bin", rel).group(1)
                key = rel.replace("/bin/dev-%s.bin" % n, "/keys/keys-dev-%s.bin" % n)
                p = subprocess.run([rp.espsec, "nvs", "decrypt", rp.path(rel), rp.path(key), rp.path(rel + ".dec.bin")],
                                   capture_output=True)
                if p.returncode:
                    return "%s: %s" % (rel, p.stderr.decode(errors="replace").strip())
                plain = os.path.join(rp.src, "expected/mfg_plain/bin/dev-%s.bin" % n)
                if sha256(rp.path(rel + ".dec.bin")) != sha256(plain):
                    return "%s does not decrypt to mfg_plain's" % rel
                os.unlink(rp.path(rel + ".dec.bin"))
        return ""
    return "no structural check for this random row"


def want_sha(row):
    if re.fullmatch(r"[0-9a-f]{64}", row.sha):
        return row.sha
    m = re.search(r"Output not stored[^.]*\.\s*sha256 ([0-9a-f]{64})", row.note) or \
        re.search(r"Output not stored .*?sha256 ([0-9a-f]{64})", row.note)
    return m.group(1) if m else None


def is_random(row):
    n = row.note.lower()
    if row.case == "nvs_keys" or (row.argv[0] == "espsecure" and row.argv[1].replace("-", "_") in
                                  ("generate_signing_key", "generate_flash_encryption_key")):
        return True
    return ("random" in n and "not random" not in n) and not ("deterministic" in n)



# ---- nvs_tool rows: espsec nvs dump takes nvs_tool's options but prints its own text, so a row is
# judged by what both outputs say: the same items, keys, values, blob sizes, namespaces and verdict ----

def _ref_heads(text):
    """(page, entry, state, key) of every Written/Erased item head in nvs_tool's -d all/written text."""
    heads, page = set(), -1
    for line in text.splitlines():
        # pages in their physical order ("Page no." is the header's sequence number, not the position)
        if re.match(r"Page no\. \d+, Status", line) or line.startswith("Page Empty"):
            page += 1
            continue
        m = re.match(r" (\d{3})\. (Written|Erased)\s*,.*\| ([^:]*):", line)
        if m and page >= 0:
            heads.add((page, int(m.group(1)), m.group(2), m.group(3)))
    return heads


def _espsec_heads(text):
    heads, page = set(), None
    for line in text.splitlines():
        m = re.match(r"Page (\d+) at 0x", line)
        if m:
            page = int(m.group(1))
            continue
        m = re.match(r"\s+(\d+) (Written|Erased)\s+(\S+)\s+(\S+)", line)
        if m and page is not None:
            heads.add((page, int(m.group(1)), m.group(2), m.group(4)))
    return heads


def judge_nvs_tool(rp, row, argv):
    ref = open(os.path.join(rp.src, row.extra["stdout_to"]), encoding="utf-8", errors="replace").read()
    p = subprocess.run([rp.espsec] + TOOLS["nvs_tool"] + argv[1:], cwd=rp.work, capture_output=True, timeout=300)
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace").strip()
    if "-i" in argv:
        # nvs_tool prints its findings and exits 0; espsec exits non-zero when it finds any
        ok_lines = re.compile(r"^(Page no\. \d+ \tCRC32: OK|Page Empty|)$")
        ref_bad = [l for l in ref.splitlines() if not ok_lines.match(l)]
        if bool(ref_bad) != (p.returncode != 0):
            return False, "verdict: nvs_tool %s, espsec exit %d (%s)" % (
                ("finds: " + ref_bad[0].strip()) if ref_bad else "finds nothing", p.returncode, err[-120:])
        return True, "same verdict (%s)" % ("problems" if ref_bad else "clean")
    if p.returncode != 0:
        return False, "exit %d, reference 0: %s" % (p.returncode, err)
    mode = opt(argv, "-d", "--dump") or "all"
    if opt(argv, "-f", "--format") == "json":
        import json
        r, o = json.loads(ref), json.loads(out)
        rh = {(pg["start_address"] // 4096, e["index"], e["state"], e.get("key"))
              for pg in r["pages"] for e in pg.get("entries", []) if e.get("state") in ("Written", "Erased")}
        oh = {(pg["index"], e["index"], e["state"], e.get("key"))
              for pg in o["pages"] for e in pg.get("entries", []) if e.get("state") in ("Written", "Erased")}
        return (rh == oh), "%d item heads %s" % (len(rh), "agree" if rh == oh else "differ: %s" % sorted(rh ^ oh)[:3])
    if mode in ("all", "written"):
        rh, oh = _ref_heads(ref), _espsec_heads(out)
        return (rh == oh and rh), "%d item heads %s" % (len(rh), "agree" if rh == oh else "differ: %s" % sorted(rh ^ oh)[:3])
    if mode == "minimal":
        rk = {}
        for line in ref.splitlines():
            m = re.match(r" ([^:]+):(.+?)(\[\d+\])? = (.*)$", line)
            if m:
                rk[(m.group(1), m.group(2))] = m.group(4).strip()
        ok = {}
        for line in out.splitlines():
            m = re.match(r"([^:]+):(.+?) = (.*)$", line)
            if m:
                ok[(m.group(1), m.group(2))] = m.group(3).strip()
        if set(rk) != set(ok):
            return False, "keys differ: %s" % sorted(set(rk) ^ set(ok))[:4]
        for k, v in rk.items():
            if re.fullmatch(r"-?\d+", v) and re.fullmatch(r"-?\d+", ok[k]) and v != ok[k]:
                return False, "%s:%s = %s, nvs_tool %s" % (k[0], k[1], ok[k], v)
        return True, "%d keys and their integer values agree" % len(rk)
    if mode == "namespaces":
        rn = {m.group(1) for m in re.finditer(r"^ \d{3}: (.*)$", ref, re.M)}
        on = {m.group(1) for m in re.finditer(r"Written \(namespaces\) (\S+)", out)}
        return (rn == on), "namespaces %s" % (sorted(rn) if rn == on else "differ: %s vs %s" % (sorted(rn), sorted(on)))
    if mode == "blobs":
        rb = {(m.group(1), int(m.group(2))) for m in re.finditer(r"^(\S+) - Type: Blob \(Version \d\), Size: (\d+)$", ref, re.M)}
        ob = {(m.group(1), len(m.group(2)) // 2) for m in re.finditer(r"^(\S+) = ([0-9a-f]*)$", out, re.M)}
        return (rb == ob), "%d blobs (name, size) %s" % (len(rb), "agree" if rb == ob else "differ: %s" % sorted(rb ^ ob)[:3])
    if mode == "storage_info":
        m = re.search(r"Total pages:\s+(\d+)", ref)
        t = re.search(r"total entries:\s+(\d+)", out)
        if not m or not t:
            return False, "no page count in %s" % ("nvs_tool's output" if not m else "espsec's output")
        return int(t.group(1)) == 126 * int(m.group(1)), "%s pages" % m.group(1)
    return False, "dump mode %s not judged" % mode

def replay_row(rp, row, argv):
    """Run one row; return (ok, message)."""
    if row.argv[0] == "nvs_tool":
        return judge_nvs_tool(rp, row, argv)
    outs = output_paths(row)
    want_ok = row.exit == "0"
    before = {}
    for o in outs:
        if os.path.isfile(rp.path(o)):
            if want_ok:
                os.unlink(rp.path(o))
            else:
                before[o] = sha256(rp.path(o))   # a refusal must leave an existing file alone
    if row.argv[0] == "mfg_gen":
        outdir = opt(argv, "--outdir")
        if outdir and os.path.isdir(rp.path(outdir)):
            shutil.rmtree(rp.path(outdir))
    if row.argv[0] == "nvs_partition_gen" and opt(argv, "--keyfile") and argv[1] != "generate-key" \
            and argv[1] != "generate_key":
        k = os.path.join("keys", opt(argv, "--keyfile"))
        if os.path.isfile(rp.path(k)):
            os.unlink(rp.path(k))
    try:
        p = rp.run(argv, row.extra.get("stdout_to"))
    except subprocess.TimeoutExpired:
        return False, "timed out"
    err = (p.stderr or b"").decode(errors="replace").strip().splitlines()
    err = err[-1] if err else ""
    try:
        if want_ok != (p.returncode == 0):
            return False, "exit %d, reference %s%s" % (p.returncode, row.exit, (": " + err) if err else "")
        if not want_ok:
            for o in outs:
                if row.extra.get("stdout_to"):
                    continue
                if o in before:
                    if sha256(rp.path(o)) != before[o]:
                        return False, "refused but changed the existing %s" % o
                elif os.path.exists(rp.path(o)):
                    return False, "refused but left %s behind" % o
            return True, "refused: " + err
        if row.extra.get("outputs") and not is_random(row):
            for rel, want in row.extra["outputs"]:
                if not os.path.isfile(rp.path(rel)):
                    return False, "no %s" % rel
                if sha256(rp.path(rel)) != want:
                    return False, "%s sha256 differs" % rel
            return True, "%d outputs identical" % len(row.extra["outputs"])
        if is_random(row):
            try:
                why = judge_random(rp, row, outs)
            except OSError as e:
                why = str(e)
            return (not why), (why or "structure ok (random output)")
        want = want_sha(row)
        if want is None and row.extra.get("no_sha_column") and outs and os.path.isfile(os.path.join(rp.src, outs[0])):
            want = sha256(os.path.join(rp.src, outs[0]))   # a table without a sha256 column: the stored file
        if want is None:
            for o in outs:
                if os.path.exists(rp.path(o)) and "no output file" in row.note:
                    return False, "wrote %s, the reference writes none" % o
            return True, "exit 0"
        if not outs or not os.path.isfile(rp.path(outs[0])):
            return False, "no output at %s" % (outs[0] if outs else "?")
        got = sha256(rp.path(outs[0]))
        if got != want:
            return False, "sha256 %s, reference %s" % (got[:16], want[:16])
        return True, "identical"
    finally:
        rp.restore(outs)
        if row.argv[0] == "mfg_gen":
            outdir = opt(argv, "--outdir")
            if outdir:
                shutil.rmtree(rp.path(outdir), ignore_errors=True)
                if os.path.isdir(os.path.join(rp.src, outdir)):
                    shutil.copytree(os.path.join(rp.src, outdir), rp.path(outdir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--espsec", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--spellings", choices=["as-written", "both"], default="both")
    ap.add_argument("--only", help="regular expression: replay only matching cases")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("set")
    a = ap.parse_args()
    src = os.path.abspath(os.path.join(a.vectors, a.set))
    espsec = os.path.abspath(a.espsec)
    rows = load_rows(src)
    res = Result()
    skipped = []
    with tempfile.TemporaryDirectory(prefix="replay_") as tmp:
        work = os.path.join(tmp, a.set)
        shutil.copytree(src, work)
        rp = Replayer(espsec, src, work, a.verbose)
        for row in rows:
            if a.only and not re.search(a.only, row.case):
                continue
            if row.table != "cmd" or row.argv[0] not in TOOLS:
                skipped.append(row.case)
                continue
            variants = [("", row.argv)]
            if a.spellings == "both":
                alt = [row.argv[0]] + other_spelling(row.argv[1:], has_command=row.argv[0] in
                                                     ("espsecure", "nvs_partition_gen", "mfg_gen"))
                if alt != row.argv:
                    variants.append((" [other spelling]", alt))
            for tag, argv in variants:
                ok, msg = replay_row(rp, row, argv)
                name = row.case + tag
                if not ok and row.case in DELIBERATE:
                    res.deliberate += 1
                    res.lines.append("DIFF %-40s %s (deliberate: %s)" % (name, msg, DELIBERATE[row.case]))
                elif ok:
                    res.passed += 1
                    if a.verbose:
                        res.lines.append("ok   %-40s %s" % (name, msg))
                else:
                    res.failed += 1
                    res.lines.append("FAIL %-40s %s   [%s]" % (name, msg, " ".join(argv)))
    for line in res.lines:
        print(line)
    print("%s: %d replays passed, %d failed, %d deliberate differences; %d rows of %d not replayed here%s"
          % (a.set, res.passed, res.failed, res.deliberate, len(skipped), len(rows),
             (" (" + ", ".join(skipped[:8]) + (", ..." if len(skipped) > 8 else "") + ")") if skipped else ""))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
