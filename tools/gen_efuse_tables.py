#!/usr/bin/env python3
"""Generate src/chip/efuse_<chip>.c, espsec's eFuse tables (every chip, the ESP32 too), from the register
facts espefuse v5.3.1 publishes (efuse_defs/<chip>.yaml and each chip's
mem_definition.py: block addresses, protection bits, field positions, widths,
types, categories, value labels).

The descriptions are espsec's own: tools/efuse_descriptions.tsv where we
wrote one, else a plain expansion of the field's name. Nothing of espefuse's
prose is copied.

Run with espefuse importable (source /work/ref/env.sh), from the repository:
    python3 tools/gen_efuse_tables.py [CHIP...]
It also measures, with espefuse's own emulator, which controller registers a
burn leaves set (EFUSE_CONF and timing), so the virtual files match bytewise.
"""
import importlib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# chip -> (yaml revision to load for the virtual chip, calibration threshold on
# BLK_VERSION (major*100+minor), extra group (name of a yaml revision shown
# while the chip version <= limit), limit)
CHIPS = {
    # ESP32: 3/4 coding instead of Reed-Solomon, its own field groups (custom MAC and ADC calibration
    # in BLOCK3, key blocks of 256 bits under the NONE coding) and its own value classes
    "esp32": dict(esp32=True, burn_probe="JTAG_DISABLE",
                  groups=[("EG_ALWAYS", "EFUSES"), ("EG_KEYBLOCK", "KEYBLOCKS_256"), ("EG_CUSTOM_MAC", "CUSTOM_MAC"),
                          ("EG_ADC_CALIB", "ADC_CALIBRATION"), ("EG_CALC", "CALC")],
                  classes={"mac": "EC_MAC_CRC", "spipin": "EC_SPIPIN", "vref": "EC_VREF", "adc_tp": "EC_ADC_TP_ESP32",
                           "wafer": "EC_WAFER_ESP32", "pkg": "EC_PKG"}),
    "esp32c2": dict(calib=1, calc=False),
    "esp32c3": dict(calib=100),
    "esp32c5": dict(calib=1),
    "esp32c6": dict(calib=1),
    "esp32c61": dict(calib=1),
    "esp32h2": dict(calib=2, oldrev="esp32h2_v0.0_v1.1", oldrev_max=101),
    "esp32p4": dict(calib=1, revision="esp32p4_v3.0"),
    "esp32s2": dict(calib=1),
    "esp32s3": dict(calib=100),
}

# composite (calculated) fields: the parts, lowest bits first, as (field, shift)
COMPOSE = {
    ("esp32c3", "WAFER_VERSION_MINOR"): [("WAFER_VERSION_MINOR_LO", 0), ("WAFER_VERSION_MINOR_HI", 3)],
    ("esp32s2", "WAFER_VERSION_MINOR"): [("WAFER_VERSION_MINOR_LO", 0), ("WAFER_VERSION_MINOR_HI", 3)],
    ("esp32s3", "WAFER_VERSION_MINOR"): [("WAFER_VERSION_MINOR_LO", 0), ("WAFER_VERSION_MINOR_HI", 3)],
    ("esp32s3", "PSRAM_CAPACITY"): [("PSRAM_CAP", 0), ("PSRAM_CAP_3", 2)],
    ("esp32c6", "WAFER_VERSION_MINOR"): [("WAFER_VERSION_MINOR_LO", 0), ("WAFER_VERSION_MINOR_HI", 3)],
    ("esp32p4", "WAFER_VERSION_MAJOR"): [("WAFER_VERSION_MAJOR_LO", 0), ("WAFER_VERSION_MAJOR_HI", 2)],
    ("esp32p4", "RECOVERY_BOOTLOADER_FLASH_SECTOR"): [
        ("RECOVERY_BOOTLOADER_FLASH_SECTOR_0_1", 0), ("RECOVERY_BOOTLOADER_FLASH_SECTOR_2_2", 2),
        ("RECOVERY_BOOTLOADER_FLASH_SECTOR_3_6", 3), ("RECOVERY_BOOTLOADER_FLASH_SECTOR_7_7", 7),
        ("RECOVERY_BOOTLOADER_FLASH_SECTOR_8_10", 8), ("RECOVERY_BOOTLOADER_FLASH_SECTOR_11_11", 11)],
    ("esp32c5", "RECOVERY_BOOTLOADER_FLASH_SECTOR"): [
        ("RECOVERY_BOOTLOADER_FLASH_SECTOR_LO", 0), ("RECOVERY_BOOTLOADER_FLASH_SECTOR_HI", 9)],
    ("esp32c5", "BOOTLOADER_ANTI_ROLLBACK_SECURE_VERSION"): [
        ("BOOTLOADER_ANTI_ROLLBACK_SECURE_VERSION_LO", 0), ("BOOTLOADER_ANTI_ROLLBACK_SECURE_VERSION_HI", 3)],
}

WORDS = {
    "DIS": "disable", "EN": "enable", "ENA": "enable", "SOFT": "soft", "HARD": "hard", "FORCE": "force",
    "CNT": "counter", "CAP": "capacity", "VER": "version", "BLK": "block", "PKG": "package", "RD": "read",
    "WR": "write", "SEL": "select", "TEMP": "temperature", "CALIB": "calibration", "CAL": "calibration",
    "VOL": "voltage", "ATTEN": "attenuation", "INIT": "initial", "DIG": "digital", "MINOR": "minor",
    "MAJOR": "major", "LO": "low bits", "HI": "high bits", "PWR": "power", "TPUW": "power-up wait",
    "XPD": "power", "VDD": "VDD", "SDIO": "SDIO", "DL": "download", "DNLD": "download", "EXCHG": "exchange",
    "PINS": "pins", "REG": "regulator", "CH": "channel", "KM": "key manager", "RNG": "RNG", "DPA": "DPA",
    "MSPI": "MSPI", "SYS": "system", "USR": "user", "NUM": "number", "OPT": "option", "SEC": "security",
}
ACRONYMS = {"USB", "JTAG", "SPI", "MAC", "UART", "ADC", "LDO", "HMAC", "ECDSA", "XTS", "AES", "PSRAM", "GPIO",
            "TWAI", "CAN", "RTC", "WDT", "ROM", "OTG", "ECC", "EUI64", "DBIAS", "HVT", "OCODE", "CRC", "PLL",
            "ID", "BT", "SD", "DS", "PAD", "HYS", "PVT", "SHA", "IO", "BLOCK0", "EXT", "DCACHE", "ICACHE",
            "ARM", "TEE", "APM", "LSLP", "DSLP", "XTAL", "LP", "HP", "DCDC", "PMU", "FLASH", "ANA", "KEY"}


def load_descriptions():
    out = {}
    path = os.path.join(ROOT, "tools", "efuse_descriptions.tsv")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                name, _, desc = line.rstrip("\n").partition("\t")
                out[name] = desc
    return out


def expand(name):
    """A description from the field's name alone (ours, mechanical)."""
    parts = []
    for w in name.split("_"):
        if w in WORDS:
            parts.append(WORDS[w])
        elif w in ACRONYMS or re.match(r"^[A-Z]+\d+$", w) or re.match(r"^\d", w):
            parts.append(w)
        else:
            parts.append(w.lower())
    s = " ".join(parts)
    return s[:1].upper() + s[1:]


def c_str(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cls_of(chip, f, compose):
    ct = f.class_type or ""
    if ct in CHIPS[chip].get("classes", {}):
        return CHIPS[chip]["classes"][ct]
    if (chip, f.name) in compose:
        return "EC_COMPOSE"
    if f.name == "MAC_EUI64":
        return "EC_MAC_EUI64"
    if ct == "keypurpose" and f.name.endswith("_H"):
        return "EC_PLAIN"  # the fifth bit of a KEY_PURPOSE (ESP32-P4 v3): shown as its own bit
    return {
        "": "EC_PLAIN", "mac": "EC_MAC", "keypurpose": "EC_KEYPURPOSE", "bitcount": "EC_BITCOUNT",
        "keyblock": "EC_KEYBLOCK", "adc_tp": "EC_ADC_TP", "t_sensor": "EC_T_SENSOR",
    }[ct]


def dict_str(d):
    if not d:
        return None
    return ";".join(f"{k}={v}" for k, v in d.items())


def ftype(f):
    t = f.type
    if t.startswith("bytes"):
        return "ESPSEC_EF_BYTES"
    if t == "bool":
        return "ESPSEC_EF_BOOL"
    return "ESPSEC_EF_UINT"


def one_bit(v, what):
    if v is None:
        return -1
    if isinstance(v, list):
        if len(v) == 1:
            return v[0]
        if len(v) == 2:
            return v[0]
        raise SystemExit(f"{what}: several protection bits {v}")
    return v


def rd_hi(v):
    return v[1] if isinstance(v, list) and len(v) == 2 else -1


def more_mask(v):
    if isinstance(v, list) and len(v) == 2:
        return f"0x{1 << v[1]:X}u"
    return "0"


def after_burn_regs(chip, mem_size, blocks, base, probe):
    """Registers espefuse's emulator leaves set after a burn, outside the block data."""
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "e.bin")
        env = dict(os.environ)
        # any BLOCK0 boolean no other fuse depends on
        subprocess.run([sys.executable, "-m", "espefuse", "--chip", chip, "--virt", "--path-efuse-file", f,
                        "--do-not-confirm", "burn-efuse", probe, "1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        data = open(f, "rb").read()[::-1]
    if len(data) != mem_size:
        raise SystemExit(f"{chip}: emulator file is {len(data)} bytes, expected {mem_size}")
    covered = set()
    for b in blocks:
        covered.update(range(b["rd"], b["rd"] + 4 * b["len"]))
    regs = []
    for off in range(0, mem_size, 4):
        if any(o in covered for o in range(off, off + 4)):
            continue
        v = int.from_bytes(data[off:off + 4], "little")
        if v:
            regs.append((off, v))
    return regs


def gen(chip):
    opts = CHIPS[chip]
    md = importlib.import_module(f"espefuse.efuse.{chip}.mem_definition")
    regs = md.EfuseDefineRegisters
    base = regs.DR_REG_EFUSE_BASE
    mem_size = regs.EFUSE_MEM_SIZE
    blocks = []
    for b in md.EfuseDefineBlocks.BLOCKS:
        name, alias, idx, rd, wr, wr_dis, rd_dis, ln, kp = b
        blocks.append(dict(name=name, alias=alias, idx=idx, rd=rd - base, wr=wr - base, wr_dis=wr_dis,
                           rd_dis=rd_dis, len=ln, kp=kp))
    if "revision" in opts:
        fields = md.EfuseDefineFields(None, revision=opts["revision"])
    else:
        fields = md.EfuseDefineFields(None)
    if "groups" in opts:
        groups = [(g, getattr(fields, lst)) for g, lst in opts["groups"]]
    else:
        groups = [("EG_ALWAYS", fields.EFUSES), ("EG_KEYBLOCK", fields.KEYBLOCKS),
                  ("EG_BLK2_CALIB", fields.BLOCK2_CALIBRATION_EFUSES)]
        if opts.get("calc", True):
            groups.append(("EG_CALC", getattr(fields, "CALC", [])))
    if "oldrev" in opts:
        groups.append(("EG_OLDREV", md.EfuseDefineFields(None, revision=opts["oldrev"]).EFUSES))
    descs = load_descriptions()
    ident = chip.upper()
    out = []
    out.append("/*\n * eFuse table of the %s, generated by tools/gen_efuse_tables.py from the chip's\n"
               " * register facts (block addresses, protection bits, field positions, widths,\n"
               " * types, categories and value labels, as espefuse v5.3.1 publishes them).\n"
               " * Descriptions are espsec's own. Do not edit: change the generator.\n */\n" % ident)
    out.append('#include "chip/chip_efuse.h"\n\n#define A(x) (sizeof(x) / sizeof((x)[0]))\n')
    out.append(f"static const efuse_block_def_t BLOCKS[] = {{")
    for b in blocks:
        al = ", ".join(c_str(a) for a in b["alias"][:2]) + (", " if b["alias"] else "") + "NULL"
        out.append(f'    {{{c_str(b["name"])}, {{{al}}}, 0x{b["rd"]:03X}, 0x{b["wr"]:03X}, {b["len"]}, '
                   f'{-1 if b["wr_dis"] is None else b["wr_dis"]}, {one_bit(b["rd_dis"], b["name"])}, '
                   f'{c_str(b["kp"])}, {rd_hi(b["rd_dis"])}}},')
    out.append("};\n")
    comp_lines = []
    out.append("static const efuse_field_def_t FIELDS[] = {")
    for gname, lst in groups:
        for f in lst:
            calc = f.word is None
            cls = cls_of(chip, f, COMPOSE)
            parts = "NULL"
            if cls == "EC_COMPOSE":
                pname = f"PARTS_{f.name}"
                comp_lines.append(f"static const efuse_part_t {pname}[] = {{"
                                  + ", ".join(f"{{{c_str(n)}, {s}}}" for n, s in COMPOSE[(chip, f.name)])
                                  + ", {NULL, 0}};")
                parts = pname
            desc = descs.get(f"{chip}:{f.name}") or descs.get(f.name) or expand(f.name)
            alt = c_str(f.alt_names[0]) if f.alt_names else "NULL"
            word = -1 if calc else f.word
            pos = -1 if calc else f.pos
            out.append(f"    {{{c_str(f.name)}, {alt}, {f.block}, {word}, {pos}, {f.bit_len}, {ftype(f)}, "
                       f"{one_bit(f.write_disable_bit, f.name)}, {one_bit(f.read_disable_bit, f.name)}, "
                       f"{c_str(f.category)}, {cls}, {c_str(dict_str(f.dictionary))}, {gname}, {c_str(desc)}, "
                       f"{parts}, {more_mask(f.read_disable_bit)}}},")
    out.append("};\n")
    order = ", ".join(g for g, _ in groups)
    after = after_burn_regs(chip, mem_size, blocks, base, opts.get("burn_probe", "DIS_DOWNLOAD_MANUAL_ENCRYPT"))
    head = "\n".join(out)
    # the composite part lists go before the field table
    head = head.replace("static const efuse_field_def_t FIELDS[]", "\n".join(comp_lines) + "\n\nstatic const efuse_field_def_t FIELDS[]", 1) if comp_lines else head
    tail = []
    tail.append(f"static const enum efuse_group ORDER[] = {{{order}}};\n")
    tail.append("/* Registers a burn leaves set (EFUSE_CONF read op code, clock and timing values). */")
    tail.append("static const uint32_t AFTER_BURN[][2] = {" + ", ".join(f"{{0x{o:03X}, 0x{v:X}}}" for o, v in after) + "};\n")
    # error registers: per block (register, count mask, count shift, fail bit); BLOCK0's repeat-error
    # registers are all the REPEAT_ERR ones
    errs = []
    rep = sorted(getattr(regs, n) - base for n in dir(regs) if re.match(r"EFUSE_RD_REPEAT_ERR\d?_REG$", n))
    blkerr = list(getattr(regs, "BLOCK_ERRORS", []))
    if not blkerr and hasattr(regs, "BLOCK_NUM_ERRORS"):
        # C3: counts and fail bits in two lists (the fail bits shifted by one block, a chip erratum)
        blkerr = [(n[0], n[1], n[2], f[1]) for n, f in zip(regs.BLOCK_NUM_ERRORS, regs.BLOCK_FAIL_BIT)]
    if opts.get("esp32"):
        # one decoder status register for the 3/4-coded blocks: any error marks BLOCK1-3 failed
        blkerr = [None] + [(regs.EFUSE_REG_DEC_STATUS, regs.EFUSE_REG_DEC_STATUS_MASK, 0, None)] * (len(blocks) - 1)
    for i, be in enumerate(blkerr):
        if i == 0:
            continue
        reg = be[0] - base
        mask, offs, fail = (be[1], be[2], be[3]) if len(be) == 4 else (be[1], 0, None)
        errs.append((i, reg, mask or 0, offs or 0, -1 if fail is None else fail))
    tail.append("/* Read-error registers: BLOCK0's repeat errors, then (block, register, count mask, shift, fail bit). */")
    if rep:
        tail.append("static const uint16_t REPEAT_ERR[] = {" + ", ".join(f"0x{o:03X}" for o in rep) + "};")
    tail.append("static const efuse_err_def_t BLOCK_ERR[] = {" + ", ".join(f"{{{b}, 0x{r:03X}, 0x{m:X}, {o}, {f}}}" for b, r, m, o, f in errs) + "};\n")
    tail.append(f"const efuse_chip_def_t EFUSE_{ident} = {{")
    tail.append(f"    .chip = &CHIP_{ident},")
    tail.append(f"    .mem_size = 0x{mem_size:03X},")
    tail.append("    .blocks = BLOCKS,\n    .nblocks = (int)A(BLOCKS),\n    .fields = FIELDS,\n    .nfields = A(FIELDS),")
    tail.append("    .group_order = ORDER,\n    .ngroups = A(ORDER),\n    .after_burn = AFTER_BURN,\n    .nafter_burn = A(AFTER_BURN),")
    if opts.get("esp32"):
        tail.append("    .coding_34 = 1,")
    else:
        chk = getattr(regs, "EFUSE_CHECK_VALUE0_REG", None) or getattr(regs, "EFUSE_PGM_CHECK_VALUE0_REG")
        tail.append(f"    .rs_coding = 1,\n    .rs_check_off = 0x{chk - base:03X},")
        tail.append(f"    .calib_min_blk_version = {opts['calib']},")
    if rep:
        tail.append("    .repeat_err = REPEAT_ERR,\n    .nrepeat_err = A(REPEAT_ERR),")
    tail.append("    .block_err = BLOCK_ERR,\n    .nblock_err = A(BLOCK_ERR),")
    if "oldrev" in opts:
        tail.append(f"    .oldrev_max_chip_version = {opts['oldrev_max']},")
    tail.append("};")
    path = os.path.join(ROOT, "src", "chip", f"efuse_{chip}.c")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + "\n" + "\n".join(tail) + "\n")
    print(f"{path}: {sum(len(l) for _, l in groups)} fields, {len(blocks)} blocks, {len(after)} after-burn registers")


def main():
    chips = sys.argv[1:] or sorted(CHIPS)
    for c in chips:
        gen(c)


if __name__ == "__main__":
    main()
