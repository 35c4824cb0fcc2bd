#!/usr/bin/env python3
"""Every group, command and option that --help shows is in the man pages and
in the bash, zsh and fish completions the build made (build/doc/).

bash and fish completions are run (bash: the _espsec function with
COMP_WORDS set; fish: `complete -C`); zsh's is read (its function per group,
its case per command). Also: chip names complete after --chip, folders after
a DIR option, man pages render without warnings.
Environment: ESPSEC (the binary), DOC_DIR (build/doc).
"""
import os
import re
import shutil
import subprocess
import sys

ESPSEC = os.path.abspath(os.environ["ESPSEC"])
DOC = os.path.abspath(os.environ["DOC_DIR"])
failures = []


def fail(msg):
    failures.append(msg)


def help_of(*args):
    r = subprocess.run([ESPSEC, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: espsec {' '.join(args)} --help exited {r.returncode}")
    return r.stdout


def section(text, title):
    """Lines of an indented section that starts with a line equal to title."""
    out, inside = [], False
    for line in text.splitlines():
        if line == title:
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                break
            out.append(line)
    return out


def options(lines):
    opts = []
    for line in lines:
        m = re.match(r"^  (?:-(\w), )?--([\w-]+)", line)
        if m:
            opts.append("--" + m.group(2))
            if m.group(1):
                opts.append("-" + m.group(1))
    return opts


# ---- what --help shows ----
groups = {}  # name -> {"plain": bool, "gopts": [...], "cmds": {cmd: [opts]}}
top = help_of()
for line in section(top, "Groups:"):
    m = re.match(r"^  (\S+)\s", line)
    if m:
        groups[m.group(1)] = None
if len(groups) < 5:
    sys.exit(f"FAIL: 'espsec --help' lists {len(groups)} groups")
ncmds = nopts = 0
for g in groups:
    h = help_of(g)
    cmds = [re.match(r"^  (\S+)", l).group(1) for l in section(h, "Commands:") if re.match(r"^  \S", l)]
    if not cmds:  # a plain command
        groups[g] = {"plain": True, "gopts": [], "cmds": {"": options(section(h, "Options:"))}}
    else:
        gopts = options(section(h, "Options:"))
        groups[g] = {"plain": False, "gopts": gopts, "cmds": {}}
        for c in cmds:
            groups[g]["cmds"][c] = options(section(help_of(g, c), "Options:"))
    for c, o in groups[g]["cmds"].items():
        ncmds += 1
        nopts += len(o)
    nopts += len(groups[g]["gopts"])

# ---- bash: run the completion ----
bash_file = os.path.join(DOC, "completions", "espsec.bash")
queries = [("", ["espsec", ""])]
for g, d in groups.items():
    if d["plain"]:
        queries.append((g, ["espsec", g, "-"]))
        continue
    queries.append((g + " CMDS", ["espsec", g, ""]))
    queries.append((g + " GOPTS", ["espsec", g, "-"]))
    for c in d["cmds"]:
        queries.append((g + " " + c, ["espsec", g, c, "-"]))
queries.append(("CHIP", ["espsec", "efuse", "--chip", ""]))
queries.append(("DIR", ["espsec", "demo", "--dir", ""]))
script = [f"source {bash_file!r}"]
for key, words in queries:
    arr = " ".join("'" + w + "'" for w in words)
    script.append(f"COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; COMPREPLY=(); _espsec; "
                  f"printf '%s\\t%s\\n' {key!r} \"${{COMPREPLY[*]}}\"")
r = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True, cwd=DOC)
if r.returncode != 0 or r.stderr:
    sys.exit(f"FAIL: bash completion: exit {r.returncode}: {r.stderr.strip()}")
bash = {}
for line in r.stdout.splitlines():
    k, _, v = line.partition("\t")
    bash[k] = set(v.split())


def expect(shell, where, got, want):
    missing = [w for w in want if w not in got]
    if missing:
        fail(f"{shell}: {where}: missing {' '.join(missing)}")


expect("bash", "groups", bash.get("", set()), list(groups) + ["--help", "--version"])
for g, d in groups.items():
    if d["plain"]:
        expect("bash", g, bash.get(g, set()), d["cmds"][""])
        continue
    expect("bash", g + " commands", bash.get(g + " CMDS", set()), list(d["cmds"]))
    expect("bash", g + " group options", bash.get(g + " GOPTS", set()), d["gopts"])
    for c, o in d["cmds"].items():
        expect("bash", g + " " + c, bash.get(g + " " + c, set()), o)
expect("bash", "--chip values", bash.get("CHIP", set()), ["esp32", "esp32c3"])
expect("bash", "--dir values", bash.get("DIR", set()), ["man1", "completions"])
if "stamp" in bash.get("DIR", set()):
    fail("bash: --dir offers files, not only folders")

# ---- fish: run the completion when fish is there ----
fish_file = os.path.join(DOC, "completions", "espsec.fish")
if shutil.which("fish"):
    cmdlines = {"": "espsec "}
    for g, d in groups.items():
        if d["plain"]:
            cmdlines[g] = f"espsec {g} -"
            continue
        cmdlines[g + " CMDS"] = f"espsec {g} "
        cmdlines[g + " GOPTS"] = f"espsec {g} -"
        for c in d["cmds"]:
            cmdlines[g + " " + c] = f"espsec {g} {c} -"
    cmdlines["CHIP"] = "espsec efuse --chip "
    fs = [f"source {fish_file!r}"]
    for k, cl in cmdlines.items():
        fs.append(f"for l in (complete -C {cl!r}); echo {k!r}\\t(string split -f1 \\t -- $l); end")
    r = subprocess.run(["fish", "--no-config", "-c", "\n".join(fs)], capture_output=True, text=True, cwd=DOC)
    if r.returncode != 0 or r.stderr:
        sys.exit(f"FAIL: fish completion: exit {r.returncode}: {r.stderr.strip()}")
    fish = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("\t")
        fish.setdefault(k, set()).add(v)
    expect("fish", "groups", fish.get("", set()), list(groups))
    for g, d in groups.items():
        if d["plain"]:
            expect("fish", g, fish.get(g, set()), d["cmds"][""])
            continue
        expect("fish", g + " commands", fish.get(g + " CMDS", set()), list(d["cmds"]))
        expect("fish", g + " group options", fish.get(g + " GOPTS", set()), d["gopts"])
        for c, o in d["cmds"].items():
            expect("fish", g + " " + c, fish.get(g + " " + c, set()), o)
    expect("fish", "--chip values", fish.get("CHIP", set()), ["esp32", "esp32c3"])
    print("ok: fish completion run")
else:
    print("note: fish not installed; its completion only read")
    text = open(fish_file).read()
    for g, d in groups.items():
        for c, o in d["cmds"].items():
            for opt in o:
                if opt.startswith("--") and f" -l {opt[2:]} " not in text:
                    fail(f"fish: {g} {c}: {opt} missing")

# ---- zsh: read the completion (one function per group, one case per command) ----
zsh_text = open(os.path.join(DOC, "completions", "_espsec")).read()
if shutil.which("zsh"):
    r = subprocess.run(["zsh", "-n", os.path.join(DOC, "completions", "_espsec")], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"zsh: _espsec does not parse: {r.stderr.strip()}")
for g, d in groups.items():
    if f"'{g}:" not in zsh_text:
        fail(f"zsh: group {g} missing")
    m = re.search(r"^_espsec_group_" + re.escape(g.replace("-", "_")) + r"\(\) \{\n(.*?)^\}\n", zsh_text, re.M | re.S)
    if not m:
        fail(f"zsh: no function for group {g}")
        continue
    body = m.group(1)

    def has_opt(text, opt):
        if opt in ("--help", "-h"):
            return "{-h,--help}" in text
        return re.search(r"'\*" + re.escape(opt) + r"=?\[", text) is not None

    for opt in d["gopts"]:
        if not has_opt(body.split("case $state")[0], opt):
            fail(f"zsh: {g}: group option {opt} missing")
    for c, o in d["cmds"].items():
        if d["plain"]:
            part = body
        else:
            if f"'{c}:" not in body:
                fail(f"zsh: {g}: command {c} missing")
            cm = re.search(r"^        " + re.escape(c) + r"(\|[^)]*)?\)\n(.*?);;", body, re.M | re.S)
            if not cm:
                fail(f"zsh: {g}: no case for {c}")
                continue
            part = cm.group(2)
        for opt in o:
            if not has_opt(part, opt):
                fail(f"zsh: {g} {c}: {opt} missing")

# ---- man pages ----
def man_source(name):
    p = os.path.join(DOC, "man1", name + ".1")
    if not os.path.exists(p):
        fail(f"man: {name}.1 missing")
        return ""
    if shutil.which("man"):
        r = subprocess.run(["man", "--warnings", "-l", p], capture_output=True, text=True,
                           env={**os.environ, "MANWIDTH": "120", "MAN_KEEP_FORMATTING": "0"})
        if r.returncode != 0 or r.stderr.strip():
            fail(f"man: {name}.1: {r.stderr.strip() or 'exit %d' % r.returncode}")
    return re.sub(r"\\f[BIRP]", "", open(p).read()).replace("\\-", "-")


top_man = man_source("espsec")
for g, d in groups.items():
    if not re.search(r"espsec-" + re.escape(g) + r"\(1\)", top_man):
        fail(f"man: espsec.1 does not refer to espsec-{g}(1)")
    page = man_source("espsec-" + g)
    for opt in d["gopts"]:
        if opt not in page:
            fail(f"man: espsec-{g}.1: group option {opt} missing")
    for c, o in d["cmds"].items():
        if d["plain"]:
            part = page
        else:
            sm = re.search(r'^\.SS "' + re.escape(c) + r'"\n(.*?)(?=^\.SS |^\.SH )', page, re.M | re.S)
            if not sm:
                fail(f"man: espsec-{g}.1: command {c} missing")
                continue
            part = sm.group(1)
        for opt in o:
            if opt in ("--help", "-h"):
                continue
            if not re.search(r"(^|[\s,])" + re.escape(opt) + r"(\s|,|$)", part, re.M):
                fail(f"man: espsec-{g}.1: {c}: {opt} missing")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print(f"docs: {len(groups)} groups, {ncmds} commands, {nopts} options: all in the man pages and the "
      "bash, zsh and fish completions")
