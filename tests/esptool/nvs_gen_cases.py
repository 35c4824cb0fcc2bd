#!/usr/bin/env python3
"""ESP-IDF's NVS generator cases with espsec standing in for the tools.

ESP-IDF's host test (components/nvs_flash/host_test/nvs_host_test, test_nvs.cpp,
the [nvs_part_gen] and [mfg_gen] cases) runs nvs_partition_gen.py and mfg_gen.py
on the sample CSVs shipped next to them, then reads the partitions back with the
NVS API and checks every value (check_nvs_part_gen_args). Here the same commands
run as `espsec nvs generate` / `espsec mfg generate` on the same sample files, and
the same values are read back through espsec's NVS store (`espsec nvs get`).

Environment:
  ESPSEC        the built espsec binary (required)
  ESP_IDF_SRC   an ESP-IDF checkout; default: the bare mirror ESP_IDF_GIT
                (/work/.mirror/espressif+esp-idf/repo), read with git archive
Exit 77 (CTest SKIP_RETURN_CODE) when neither is there.
"""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
GEN = "components/nvs_flash/nvs_partition_generator"
MFG = "tools/mass_mfg"

failures = []
checks = 0


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}")


def fetch_sources(dest):
    """Copy GEN and MFG of ESP-IDF into dest; False when there is no source."""
    src = os.environ.get("ESP_IDF_SRC")
    if src:
        if not os.path.isdir(os.path.join(src, GEN)):
            return False
        for d in (GEN, MFG):
            shutil.copytree(os.path.join(src, d), os.path.join(dest, d))
        return True
    git = os.environ.get("ESP_IDF_GIT", "/work/.mirror/espressif+esp-idf/repo")
    if not os.path.isdir(git):
        return False
    for d in (GEN, MFG):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
        tar = subprocess.run(["git", "-C", git, "archive", f"HEAD:{d}"], capture_output=True)
        if tar.returncode != 0:
            return False
        subprocess.run(["tar", "-x", "-C", os.path.join(dest, d)], input=tar.stdout, check=True)
    return True


def espsec(*args, cwd):
    run = subprocess.run([os.environ["ESPSEC"], *args], cwd=cwd, capture_output=True)
    if run.returncode != 0:
        fail(f"espsec {' '.join(args)}: exit {run.returncode}: {run.stderr.decode(errors='replace').strip()}")
    return run


def get(image, key, cwd):
    run = espsec("nvs", "get", image, "dummyNamespace", key, cwd=cwd)
    return run.stdout.decode(errors="replace")[:-1] if run.returncode == 0 else None


def check_partition(case, image, blob_file, expected_string, cwd):
    """check_nvs_part_gen_args: the fixed values, then the string and the binary blob."""
    global checks
    want = {
        "dummyU8Key": "127",
        "dummyI8Key": "-128",
        "dummyU16Key": "32768",
        "dummyU32Key": "4294967295",
        "dummyI32Key": "-2147483648",
        "dummyHex2BinKey": "010203abcdef",
        "dummyBase64Key": b"123abc".hex(),
        "hexFileKey": "0123456789abcdef",
        "stringFileKey": "abcdefghijklmnopqrstuvwxyz",
        "dummyStringKey": expected_string,
    }
    with open(os.path.join(cwd, blob_file), "rb") as f:
        want["binFileKey"] = f.read(5200).hex()
    for key, value in want.items():
        checks += 1
        got = get(image, key, cwd)
        if got is not None and got != value:
            fail(f"{case}: {image} {key} = {got[:80]!r}, expected {value[:80]!r}")


def csv_value(path, key):
    """The value of key in an nvs_partition_gen CSV."""
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 4 and row[0] == key:
                return row[3]
    raise SystemExit(f"{path}: no {key}")


def mfg_value(path, key, row_id="1"):
    """The value of key for device row_id in an mfg_gen values CSV (blank lines skipped)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    header = rows[0]
    for r in rows[1:]:
        if r[0] == row_id:
            return r[header.index(key)]
    raise SystemExit(f"{path}: no row {row_id}")


def nvs_part_gen_case(work, name, csv_name, size, version, blob):
    """nvs_partition_gen generate CSV OUT SIZE --version V --outdir GEN, run in a folder with testdata/."""
    out = f"partition_{name}.bin"
    run = espsec("nvs", "generate", f"{GEN}/{csv_name}", out, size, "--version", version, "--outdir", GEN, cwd=work)
    if run.returncode == 0:
        check_partition(name, f"{GEN}/{out}", f"{GEN}/testdata/{blob}",
                        csv_value(os.path.join(work, GEN, csv_name), "dummyStringKey"), work)


def mfg_case(work, name, config, values, size, version, blob):
    """mfg_gen generate, then nvs_partition_gen on the device CSV it wrote; both partitions checked."""
    outdir = os.path.join(work, MFG, f"host_test_{name}")
    shutil.rmtree(os.path.join(work, "testdata"), ignore_errors=True)
    shutil.copytree(os.path.join(work, GEN, "testdata"), os.path.join(work, "testdata"))
    shutil.rmtree(os.path.join(work, "mfg_testdata"), ignore_errors=True)
    shutil.copytree(os.path.join(work, MFG, "testdata"), os.path.join(work, "mfg_testdata"))
    run = espsec("mfg", "generate", f"{MFG}/samples/{config}", f"{MFG}/samples/{values}", "Test", size,
                 "--outdir", outdir, "--version", version, cwd=work)
    if run.returncode != 0:
        return
    part = f"{GEN}/Test-1-partition-{name}.bin"
    run = espsec("nvs", "generate", f"{outdir}/csv/Test-1.csv", part, size, "--version", version, cwd=work)
    if run.returncode != 0:
        return
    expected = mfg_value(os.path.join(work, MFG, "samples", values), "dummyStringKey")
    check_partition(name, f"{outdir}/bin/Test-1.bin", f"mfg_testdata/{blob}", expected, work)
    check_partition(name, part, f"testdata/{blob}", expected, work)
    global checks
    checks += 1
    with open(os.path.join(outdir, "bin", "Test-1.bin"), "rb") as a, open(os.path.join(work, part), "rb") as b:
        if a.read() != b.read():
            fail(f"{name}: mfg generate's partition differs from nvs generate's on the CSV it wrote")


def main():
    if not os.environ.get("ESPSEC"):
        sys.exit("ESPSEC must name the built espsec binary")
    os.environ["ESPSEC"] = os.path.abspath(os.environ["ESPSEC"])
    with tempfile.TemporaryDirectory(prefix="espsec-nvsgen-") as work:
        if not fetch_sources(work):
            print("SKIPPED: no ESP-IDF sources (set ESP_IDF_SRC to a checkout, or ESP_IDF_GIT to a bare mirror) "
                  f"with {GEN} and {MFG}")
            return SKIP
        shutil.copytree(os.path.join(work, GEN, "testdata"), os.path.join(work, "testdata"))
        cases = [
            lambda: nvs_part_gen_case(work, "single_page", "sample_singlepage_blob.csv", "0x3000", "1",
                                      "sample_singlepage_blob.bin"),
            lambda: nvs_part_gen_case(work, "multipage_blob", "sample_multipage_blob.csv", "0x4000", "2",
                                      "sample_multipage_blob.bin"),
            lambda: mfg_case(work, "mfg_singlepage", "sample_config.csv", "sample_values_singlepage_blob.csv",
                             "0x3000", "1", "sample_singlepage_blob.bin"),
            lambda: mfg_case(work, "mfg_blank_lines", "sample_config_blank_lines.csv",
                             "sample_values_singlepage_blob_blank_lines.csv", "0x3000", "1",
                             "sample_singlepage_blob.bin"),
            lambda: mfg_case(work, "mfg_multipage", "sample_config.csv", "sample_values_multipage_blob.csv",
                             "0x4000", "2", "sample_multipage_blob.bin"),
        ]
        failed_cases = 0
        for case in cases:
            before = len(failures)
            case()
            failed_cases += len(failures) > before
    passed = len(cases) - failed_cases
    print(f"ESP-IDF NVS generator cases with espsec: {passed} of {len(cases)} pass ({checks} values checked)")
    print(f"{passed} passed, {failed_cases} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
