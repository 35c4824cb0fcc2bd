# espsec stands in for Espressif's tools inside esptool's own pytest suites.
#
# run_suite.py puts this folder first on PYTHONPATH, so every Python process the
# suites start imports this file before anything else. When the process is an
# invocation of a tool (`python -m espsecure|espefuse|esptool ...`), it is
# replaced by the built espsec ($ESPSEC) with the same arguments; any other
# process (pytest itself, helpers that `import espsecure` or `esptool.targets`)
# goes on untouched and sees the real packages.
import os
import sys

# Interpreter options that take a value (python -X opt -W arg ... -m module).
_OPTS_WITH_VALUE = {"-X", "-W", "--check-hash-based-pycs"}

# esptool's global options (before the command) and whether each takes a value.
# Only --chip means something to the host commands espsec implements; the
# serial-port options are accepted and dropped.
_ESPTOOL_GLOBALS = {
    "--chip": True, "-c": True, "--port": True, "-p": True, "--baud": True,
    "-b": True, "--port-filter": True, "--before": True, "--after": True,
    "-a": True, "--no-stub": False, "--stub-version": True, "--trace": False,
    "-t": False, "--verbose": False, "-v": False, "--silent": False, "-s": False,
    "--override-vddsdio": True, "--connect-attempts": True,
}

# esptool command -> espsec image command.
_ESPTOOL_COMMANDS = {
    "merge-bin": "merge-bin", "merge_bin": "merge-bin",
    "image-info": "info", "image_info": "info",
    "elf2image": "elf2image",
}


def _module_and_args(argv):
    """(module, args) for `python [opts] -m module args`, else (None, None)."""
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-m":
            if i + 1 < len(argv):
                return argv[i + 1], argv[i + 2:]
            return None, None
        if not a.startswith("-") or a in ("-", "-c"):
            return None, None
        i += 2 if a in _OPTS_WITH_VALUE else 1
    return None, None


def _esptool_args(args):
    """espsec image ... arguments for `esptool [globals] COMMAND args`."""
    chip = None
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        if name not in _ESPTOOL_GLOBALS:
            break
        if _ESPTOOL_GLOBALS[name] and not eq:
            value = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        if name in ("--chip", "-c"):
            chip = value
        i += 1
    if i == len(args):
        return ["image", "--help"]
    command = _ESPTOOL_COMMANDS.get(args[i], args[i])
    out = ["image", command]
    if chip is not None and chip != "auto":
        out += ["--chip", chip]
    return out + args[i + 1:]


def _espsec_argv(module, args):
    if module == "espsecure":
        return ["secure"] + args
    if module == "espefuse":
        return ["efuse"] + args
    if module == "esptool":
        return _esptool_args(args)
    return None


def _main():
    module, args = _module_and_args(getattr(sys, "orig_argv", []))
    if module is None:
        return
    mapped = _espsec_argv(module, args)
    if mapped is None:
        return
    espsec = os.environ.get("ESPSEC")
    if not espsec:
        sys.stderr.write("espsec shim: ESPSEC is not set (the built espsec binary)\n")
        sys.exit(2)
    if os.environ.get("ESPSEC_SHIM_LOG"):
        with open(os.environ["ESPSEC_SHIM_LOG"], "a", encoding="utf-8") as log:
            log.write(" ".join([espsec] + mapped) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(espsec, [espsec] + mapped)


_main()
