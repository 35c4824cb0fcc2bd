#!/usr/bin/env python3
"""Run one of esptool's own pytest suites with espsec standing in for the tools.

    run_suite.py SUITE.py [--chip CHIP]

--chip is passed on to pytest (test_espefuse.py runs for one chip per run, its
conftest's --chip option); the expected failures of such a run are the chip's own
list, expected_failures_espefuse/CHIP.txt, instead of expected_failures.txt.

Environment:
  ESPSEC              the built espsec binary (required)
  ESPTOOL_SRC         an esptool v5.3.1 checkout (default /work/ref/esptool)
  ESPTOOL_PYTHONPATH  extra folders for the reference's own dependencies
                      (default: rich-click/src and reedsolomon/src beside ESPTOOL_SRC)
  ESPSEC_SHIM_LOG     append every espsec command line the shim runs to this file

The suite runs on a copy of the checkout's test/ folder (the suites write next to
their inputs), with tests/esptool/shim first on PYTHONPATH: `python -m espsecure`,
`-m espefuse` and `-m esptool` become `espsec secure`, `espsec efuse` and
`espsec image ...`; imports of the real packages (helpers the suites use) work as
before. The result is compared with expected_failures.txt: the test fails on any
failure not listed there, on a listed test that passes, and on a listed test that
no longer exists. Exit 77 (CTest SKIP_RETURN_CODE) when the checkout or the
reference's Python dependencies are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
VERSION = "5.3.1"


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(SKIP)


def reference_version(src):
    try:
        with open(os.path.join(src, "esptool", "__init__.py"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("__version__"):
                    return line.split("=", 1)[1].strip().strip("\"'")
    except OSError:
        return None
    return None


def python_path(src):
    extra = os.environ.get("ESPTOOL_PYTHONPATH")
    if extra is None:
        parent = os.path.dirname(os.path.abspath(src))
        extra = ":".join(p for p in (os.path.join(parent, "rich-click", "src"),
                                     os.path.join(parent, "reedsolomon", "src"))
                         if os.path.isdir(p))
    parts = [os.path.join(HERE, "shim"), src] + [p for p in extra.split(":") if p]
    if os.path.isdir("/usr/lib/python3/dist-packages"):
        parts.append("/usr/lib/python3/dist-packages")
    return ":".join(parts)


def expected_path(suite, chip):
    """The expected-failures list of SUITE run for CHIP (None: not per chip)."""
    if chip is None:
        return os.path.join(HERE, "expected_failures.txt")
    stem = os.path.splitext(suite)[0].removeprefix("test_")
    return os.path.join(HERE, f"expected_failures_{stem}", f"{chip}.txt")


def load_expected(suite, chip):
    """({test id: reason}, runs) for SUITE (run for CHIP) from its expected-failures list;
    runs is the number of tests the reference itself runs (a per-chip list's "runs: N"), or None."""
    expected = {}
    runs = None
    path = expected_path(suite, chip)
    if not os.path.isfile(path):
        sys.exit(f"{path}: no expected-failures list for {suite} --chip {chip}")
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("runs:"):
                try:
                    runs = int(line.split(":", 1)[1])
                except ValueError:
                    sys.exit(f"{path}:{n}: 'runs: N' expected")
                continue
            test, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"{path}:{n}: a listed failure needs its reason")
            if test.split("::", 1)[0] == suite:
                expected[test] = reason.strip()
    if chip is not None and runs is None:
        sys.exit(f"{path}: 'runs: N' (how many tests the reference runs for {chip}) is missing")
    return expected, runs


def outcomes(report, suite):
    """{test id: 'passed'|'failed'|'skipped'} from pytest's JUnit XML."""
    result = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        cls = case.get("classname", "")
        # classname is "test_module.TestClass" (or just "test_module")
        parts = cls.split(".")
        node = "::".join([suite] + parts[1:] + [case.get("name", "")])
        state = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                state = "failed"
                break
            if child.tag == "skipped":
                state = "skipped"
        result[node] = state
    return result


def main():
    args = sys.argv[1:]
    chip = None
    if len(args) == 3 and args[1] == "--chip":
        chip = args[2]
    elif len(args) != 1:
        sys.exit("usage: run_suite.py SUITE.py [--chip CHIP]")
    suite = args[0]
    espsec = os.environ.get("ESPSEC")
    if not espsec or not os.access(espsec, os.X_OK):
        sys.exit(f"ESPSEC must name the built espsec binary (got {espsec!r})")
    src = os.environ.get("ESPTOOL_SRC", "/work/ref/esptool")
    if not os.path.isfile(os.path.join(src, "test", suite)):
        skip(f"no esptool checkout with test/{suite} at {src} "
             f"(set ESPTOOL_SRC to an esptool v{VERSION} checkout)")
    version = reference_version(src)
    if version != VERSION:
        skip(f"{src} is esptool {version}, expected_failures.txt is for v{VERSION}")

    env = dict(os.environ)
    env["PYTHONPATH"] = python_path(src)
    env["ESPSEC"] = os.path.abspath(espsec)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    # test_imagegen.py reads the ELF files with pyelftools (Debian's python3-pyelftools)
    imports = "import pytest, esptool.targets, espsecure, espefuse" + (
        ", elftools" if suite == "test_imagegen.py" else "")
    probe = subprocess.run(
        [sys.executable, "-c", imports],
        env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        skip(f"the reference's Python dependencies are missing ({last}); "
             f"scripts/setup.sh installs the Debian ones, rich-click and reedsolo "
             f"come from ESPTOOL_PYTHONPATH")

    expected, runs = load_expected(suite, chip)
    with tempfile.TemporaryDirectory(prefix="espsec-esptool-") as tmp:
        tests = os.path.join(tmp, "test")
        shutil.copytree(os.path.join(src, "test"), tests, symlinks=True)
        report = os.path.join(tmp, "report.xml")
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
               "-q", "-rfE", "--tb=short", "--color=no", f"--junitxml={report}", suite]
        if chip is not None:
            cmd += ["--chip", chip]
        run = subprocess.run(cmd, cwd=tests, env=env)
        if not os.path.isfile(report):
            sys.exit(f"pytest wrote no report (exit {run.returncode})")
        got = outcomes(report, suite)

    failed = sorted(t for t, s in got.items() if s == "failed")
    passed = sorted(t for t, s in got.items() if s == "passed")
    skipped = sorted(t for t, s in got.items() if s == "skipped")
    unexpected = [t for t in failed if t not in expected]
    fixed = [t for t in passed if t in expected]
    stale = sorted(t for t in expected if t not in got)

    # The suite asks the tool (burn-key --help) what the chip supports and skips tests by the
    # answer: espsec must make it run exactly the tests the reference runs.
    ran = len(passed) + len(failed)
    wrong_runs = runs is not None and ran != runs

    print()
    for t in failed:
        if t in expected:
            print(f"expected failure: {t}: {expected[t]}")
    for t in unexpected:
        print(f"UNEXPECTED FAILURE: {t}")
    for t in fixed:
        print(f"NOW PASSES (remove it from the list): {t}")
    for t in stale:
        print(f"NOT IN THE SUITE (remove it from the list): {t}")
    what = suite if chip is None else f"{suite} --chip {chip}"
    listed = os.path.relpath(expected_path(suite, chip), HERE)
    if wrong_runs:
        print(f"RUNS {ran} TESTS, the reference runs {runs}: espsec's answers (burn-key --help) "
              f"made the suite skip or run tests the reference does not")
    if fixed or stale or wrong_runs:
        print(f"(the list is tests/esptool/{listed})")
    print(f"{what} with espsec: {len(passed)} of {ran} pass, "
          f"{len(failed)} fail ({len(failed) - len(unexpected)} of them listed), "
          f"{len(skipped)} skipped")
    return 1 if unexpected or fixed or stale or wrong_runs else 0


if __name__ == "__main__":
    sys.exit(main())
