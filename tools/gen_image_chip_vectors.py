#!/usr/bin/env python3
"""Make tests/vectors/image_chips: tiny synthetic ELF files for every chip
esptool v5.3.1 knows, the images esptool's elf2image makes from them (with
several option sets), and esptool's image-info output for each image.

    source /work/ref/env.sh
    python3 tools/gen_image_chip_vectors.py tests/vectors/image_chips

The ELFs are written here (our own minimal ELF32 writer); section addresses
come from each chip's memory map in esptool's target descriptions, so every
chip's flash windows, RAM and MMU-page rules are exercised.
"""
import hashlib
import os
import struct
import subprocess
import sys

from esptool.targets import ROM_LIST

SMALL = 16384  # outputs up to this size are stored; larger ones by SHA-256 only
XTENSA = {"ESP8266", "ESP32", "ESP32-S2", "ESP32-S3"}


def filler(tag, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{tag}:{i}".encode()).digest()
        i += 1
    return out[:n]


def app_desc(project, version):
    d = struct.pack("<II8s32s32s16s16s32s32sHHB3s72s", 0xABCD5432, 1, b"", version.encode(),
                    project.encode(), b"12:34:56", b"Jan  2 2026", b"v5.5.1", b"\0" * 32, 0, 0xFFFF, 0,
                    b"", b"")
    assert len(d) == 256
    return d


def boot_desc():
    d = struct.pack("<B3sI32s24s16s", 0x50, b"", 1, b"v5.5.1", b"Jan  2 2026 12:34:56", b"")
    assert len(d) == 80
    return d


def write_elf(path, machine, entry, sections):
    """sections: (name, addr, data or int for NOBITS size, align)"""
    names = b"\0"
    name_offs = []
    for s in sections:
        name_offs.append(len(names))
        names += s[0].encode() + b"\0"
    shstr_name = len(names)
    names += b".shstrtab\0"
    body = b""
    data_offs = []
    base = 0x34
    nload = sum(1 for s in sections if not isinstance(s[2], int))
    ph_off = base
    base += 0x20 * nload
    for s in sections:
        if isinstance(s[2], int):
            data_offs.append(0)
            continue
        while (base + len(body)) % 4:
            body += b"\0"
        data_offs.append(base + len(body))
        body += s[2]
    str_off = base + len(body)
    body += names
    while (base + len(body)) % 4:
        body += b"\0"
    sh_off = base + len(body)
    shdrs = struct.pack("<10I", *([0] * 10))
    phdrs = b""
    for (name, addr, data, align), no, do in zip(sections, name_offs, data_offs):
        nobits = isinstance(data, int)
        size = data if nobits else len(data)
        flags = 0x6 if "text" in name or "vectors" in name else 0x3
        shdrs += struct.pack("<10I", no, 8 if nobits else 1, flags, addr, do, size, 0, 0, align, 0)
        if not nobits:
            phdrs += struct.pack("<8I", 1, do, addr, addr, size, size, 5 if flags == 6 else 6, align)
    shdrs += struct.pack("<10I", shstr_name, 3, 0, 0, str_off, len(names), 0, 0, 1, 0)
    shnum = len(sections) + 2
    hdr = b"\x7fELF\x01\x01\x01" + b"\0" * 9
    hdr += struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, entry, ph_off if nload else 0, sh_off, 0, 0x34, 0x20,
                       nload, 0x28, shnum, shnum - 1)
    with open(path, "wb") as f:
        f.write(hdr + phdrs + body + shdrs)


def region(rom, name):
    for start, _end, label in rom.MEMORY_MAP:
        if label == name:
            return start
    raise KeyError(name)


def chip_elfs(rom, outdir):
    """Write NAME-app.elf and NAME-boot.elf for an ESP32-family chip; return their paths."""
    chip = rom.CHIP_NAME.lower().replace("-", "")
    machine = 0x5E if rom.CHIP_NAME in XTENSA else 0xF3
    dram = region(rom, "DRAM")
    iram = region(rom, "IRAM")
    if iram == dram:  # one RAM for code and data: keep them apart
        iram = dram + 0x8000
    drom = rom.DROM_MAP_START + 0x20
    irom = rom.IROM_MAP_START + 0x20
    if irom // 0x10000 == drom // 0x10000:
        irom = drom + 0x20000
    rodata = b"\0" * 0x40 + filler(chip + "ro", 0x2C0)  # zeros where --elf-sha256-offset writes
    app = [
        (".flash.appdesc", drom, app_desc(chip + "_app", "1.0.0"), 16),
        (".flash.rodata", drom + 0x100, rodata, 16),
        (".flash.text", irom, filler(chip + "tx", 0x1232), 4),
        (".iram0.vectors", iram, filler(chip + "vec", 0x400), 4),
        (".iram0.text", iram + 0x400, filler(chip + "it", 0x9FE), 4),
        (".dram0.data", dram + 0x100, filler(chip + "dd", 0x162), 16),
        (".dram0.bss", dram + 0x300, 0x200, 8),
    ]
    boot = [
        (".dram0.bootdesc", dram + 0x1000, boot_desc(), 16),
        (".dram0.rodata", dram + 0x1050, filler(chip + "br", 0x3A0), 16),
        (".iram_loader.text", iram + 0x2000, filler(chip + "bl", 0xC00), 4),
        (".iram.text", iram + 0x3000, filler(chip + "bt", 0x7F6), 4),
    ]
    a = os.path.join(outdir, "input", f"{chip}-app.elf")
    b = os.path.join(outdir, "input", f"{chip}-boot.elf")
    write_elf(a, machine, iram + 0x400, app)
    write_elf(b, machine, iram + 0x3000, boot)
    return chip, a, b


def esp8266_elf(outdir):
    secs = [
        (".data", 0x3FFE8000, filler("8266d", 0x322), 4),
        (".rodata", 0x3FFE8324, filler("8266r", 0x210), 4),
        (".text", 0x40100000, filler("8266t", 0x1400), 4),
        (".irom0.text", 0x40210000, filler("8266i", 0x2345), 4),
    ]
    p = os.path.join(outdir, "input", "esp8266-app.elf")
    write_elf(p, 0x5E, 0x40100004, secs)
    # version 3 images also take a .flash.rodata (its first 8 bytes are dropped)
    p3 = os.path.join(outdir, "input", "esp8266-app-v3.elf")
    write_elf(p3, 0x5E, 0x40100004, secs + [(".flash.rodata", 0x40230000, filler("8266f", 0x400), 4)])
    return p, p3


def main():
    outdir = sys.argv[1]
    os.makedirs(os.path.join(outdir, "input"), exist_ok=True)
    os.makedirs(os.path.join(outdir, "expected"), exist_ok=True)
    rows = []

    def run(chip, elf, name, args, files=None, keep=True):
        """Run esptool elf2image; record each output file (path relative to outdir)."""
        out = os.path.join("expected", name)
        elf_rel = os.path.relpath(elf, outdir) if keep else "ESPTOOL_TEST/" + os.path.basename(elf)
        cmd = ["python3", "-m", "esptool", "--chip", chip, "elf2image"] + args + ["-o", out, os.path.relpath(elf, outdir)]
        r = subprocess.run(cmd, cwd=outdir, capture_output=True, text=True)
        if r.returncode != 0:
            msg = (r.stdout + r.stderr).strip().splitlines()[-1]
            msg = msg.replace("\x1b[0m", "").replace("|", "/")
            rows.append((chip, " ".join(args), elf_rel, out, out, 0, "-", "refused: " + msg))
            return
        for f in files or [out]:
            p = os.path.join(outdir, f)
            data = open(p, "rb").read()
            info = subprocess.run(["python3", "-m", "esptool", "--chip", "esp8266" if chip == "esp8266" else chip,
                                   "image-info", f], cwd=outdir, capture_output=True, text=True)
            stored = len(data) <= SMALL and keep
            if stored and info.returncode == 0 and f.endswith(".bin") and not f.endswith("0x10000.bin"):
                with open(p[:-4] + ".info", "w") as fi:
                    fi.write(info.stdout)
            if not stored:
                os.remove(p)
            rows.append((chip, " ".join(args), elf_rel, out, f, len(data),
                         hashlib.sha256(data).hexdigest(), "stored" if stored else "digest"))

    for rom in ROM_LIST:
        if rom.CHIP_NAME == "ESP8266":
            elf, elf3 = esp8266_elf(outdir)
            run("esp8266", elf, "esp8266-app-v1-", ["--version", "1"],
                ["expected/esp8266-app-v1-0x00000.bin", "expected/esp8266-app-v1-0x10000.bin"])
            run("esp8266", elf, "esp8266-app-v1-fl-", ["--version", "1", "--flash-size", "4MB-c1", "--flash-freq", "26m"],
                ["expected/esp8266-app-v1-fl-0x00000.bin"])
            run("esp8266", elf, "esp8266-app-v2.bin", ["--version", "2", "--flash-size", "2MB", "--flash-mode", "dio"])
            run("esp8266", elf3, "esp8266-app-v3.bin", ["--version", "3", "--flash-freq", "80m"])
            continue
        chip, app, boot = chip_elfs(rom, outdir)
        freq = list(rom.FLASH_FREQUENCY)[0]
        run(chip, app, f"{chip}-app.bin", [])
        run(chip, app, f"{chip}-app-flash.bin", ["--flash-mode", "dio", "--flash-size", "4MB", "--flash-freq", freq,
                                                 "--min-rev-full", "101", "--max-rev-full", "299", "--min-rev", "1"])
        run(chip, app, f"{chip}-app-sb2.bin", ["--secure-pad-v2"])
        run(chip, app, f"{chip}-app-segments.bin", ["--use-segments"])
        run(chip, app, f"{chip}-app-ramonly.bin", ["--ram-only-header"])  # refused: the app description moves
        run(chip, boot, f"{chip}-boot-ramonly.bin", ["--ram-only-header"])
        run(chip, app, f"{chip}-app-nodigest.bin", ["--dont-append-digest"])
        run(chip, app, f"{chip}-app-pad.bin", ["--pad-to-size", "4KB"])
        run(chip, app, f"{chip}-app-elfsha.bin", ["--elf-sha256-offset", "0x130"])
        if rom.BOOTLOADER_IMAGE.MMU_PAGE_SIZE_CONF:
            run(chip, app, f"{chip}-app-mmu16k.bin", ["--flash-mmu-page-size", "16KB"])
        if chip == "esp32":
            run(chip, app, f"{chip}-app-sb1.bin", ["--secure-pad"])
        run(chip, boot, f"{chip}-boot.bin", ["--flash-mode", "dio", "--flash-size", "2MB"])
        run(chip, boot, f"{chip}-boot-sb2.bin", ["--secure-pad-v2", "--pad-to-size", "4KB"])

    # esptool's own test ELFs (not copied here: the test reads them from the esptool checkout)
    t = os.path.join(os.environ.get("ESPTOOL_SRC", "/work/ref/esptool"), "test", "elf2image")
    ext = [
        ("esp32", "esp32-app-template.elf", []), ("esp32", "esp32-app-template.elf", ["--ram-only-header"]),
        ("esp32", "esp32-app-template.elf", ["--secure-pad-v2"]), ("esp32", "esp32-app-template.elf", ["--secure-pad"]),
        ("esp32", "esp32-bootloader.elf", []), ("esp32", "esp32-bootloader.elf", ["--pad-to-size", "1MB"]),
        ("esp32", "esp32-zephyr.elf", []), ("esp32", "esp32-zephyr.elf", ["--use-segments"]),
        ("esp32", "esp32-zephyr.elf", ["--ram-only-header"]), ("esp32", "esp32-too-many-sections.elf", []),
        ("esp32c6", "esp32c6-appdesc.elf", []), ("esp32c6", "esp32c6-appdesc.elf", ["--flash-mmu-page-size", "8KB"]),
        ("esp32s3", "esp32-bootloader.elf", []), ("esp32p4", "esp32-bootloader.elf", []),
        ("esp8266", "esp8266-nonossdkv20-at-v2.elf", ["--version", "2"]),
        ("esp8266", "esp8266-openrtos-blink-v2.elf", ["--version", "2"]),
        ("esp8266", "esp8266-nonosssdk20-iotdemo.elf", ["--version", "3"]),
    ]
    for i, (chip, elf, args) in enumerate(ext):
        run(chip, os.path.join(t, elf), "esptool-%d.bin" % i, args, keep=False)
    for f in os.listdir(os.path.join(outdir, "expected")):
        if f.startswith("esptool-"):
            os.remove(os.path.join(outdir, "expected", f))

    with open(os.path.join(outdir, "MANIFEST.md"), "w") as m:
        m.write("# elf2image and image-info vectors for every chip (esptool v5.3.1)\n\n")
        m.write("Made by `tools/gen_image_chip_vectors.py` (run from the repository with `source /work/ref/env.sh`).\n")
        m.write("Inputs: synthetic ELF32 files in input/ written by that script (an app per chip with\n")
        m.write(".flash.appdesc, .flash.rodata, .flash.text, .iram0.vectors + .iram0.text (adjacent, merged),\n")
        m.write(".dram0.data and a .bss; a bootloader per chip with .dram0.bootdesc, .dram0.rodata and two IRAM\n")
        m.write("sections; an ESP8266 app), addresses from each chip's memory map in esptool's targets.\n")
        m.write("Each row: from this folder, `python3 -m esptool --chip CHIP elf2image ARGS -o OUTPUT ELF`.\n")
        m.write("Outputs up to 16 KiB are stored in expected/ (with esptool's `image-info` output as .info);\n")
        m.write("larger ones (64 KiB padding) are checked by size and SHA-256. ESP8266 version 1 writes two files\n")
        m.write("(`-o` is a prefix). Rows whose elf starts with ESPTOOL_TEST/ use esptool's own test ELFs\n")
        m.write("(test/elf2image/ of the esptool v5.3.1 checkout); only their digests are kept here.\n")
        m.write("Refused rows: esptool exits non-zero with the message shown; espsec must refuse too.\n\n")
        m.write("| chip | args | elf | -o | output | size | sha256 | kept |\n|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            m.write("| %s | %s | %s | %s | %s | %d | %s | %s |\n" % r)


if __name__ == "__main__":
    main()
