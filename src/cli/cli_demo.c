/* espsec demo: the narrated rehearsal on built-in defaults. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "espsec/chip.h"
#include "espsec/demo.h"

static int cmd_demo(cli_args_t *a)
{
    char tmpl[] = "/tmp/espsec-demo-XXXXXX";
    const char *dir = cli_str(a, "dir"), *chip = cli_str(a, "chip");
    const espsec_chip_info_t *ci = chip ? espsec_chip_by_name(chip) : espsec_chip_default();
    if (ci == NULL || ci->efuse == NULL) {
        char names[256];
        return cli_error("--chip '%s': one of %s expected%s%s", chip, espsec_chip_efuse_names(names, sizeof(names)),
                         ci && ci->no_security_reason ? ": " : "", ci && ci->no_security_reason ? ci->no_security_reason : "");
    }
    if (dir == NULL) {
        dir = mkdtemp(tmpl);
        if (dir == NULL) {
            return cli_error("cannot create a temporary folder: %s", strerror(errno));
        }
    } else if (mkdir(dir, 0700) != 0) {
        if (errno != EEXIST) {
            return cli_error("%s: cannot create folder: %s", dir, strerror(errno));
        }
        DIR *dh = opendir(dir);
        if (dh == NULL) {
            return cli_error("%s: exists and is not a folder", dir);
        }
        struct dirent *de;
        int empty = 1;
        while ((de = readdir(dh)) != NULL) {
            empty &= strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
        }
        closedir(dh);
        if (!empty) {
            return cli_error("%s: exists and is not empty: the demo needs an empty or new folder (it never replaces "
                             "keys)",
                             dir);
        }
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[sl > 0 ? sl : 0] = '\0';
    espsec_demo_opts_t o = {.dir = dir, .report = stdout, .prog = sl > 0 ? self : NULL, .chip = ci};
    espsec_error_t err;
    if (espsec_demo_run(&o, &err) != ESPSEC_OK) {
        (void)fflush(stdout);
        return cli_fail(&err);
    }
    return 0;
}

static const cli_opt_t OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP",
     "The chip secured (esp32 by default; every chip with virtual eFuses): the story takes its Secure Boot scheme, "
     "flash-encryption key and bootloader offset."},
    {"dir", 'd', CLI_VALUE, "DIR", "Folder for the files (default: a new folder under /tmp)."},
    {0}};
static const cli_cmd_t CMDS[] = {
    {"", NULL, "Rehearse securing a chip (ESP32 by default) end to end on built-in defaults, narrating each step.",
     "Makes keys, a signed bootloader and app, shows a tampered app refused, encrypts the flash and the NVS, "
     "provisions and boots the virtual device. Every file is kept in the folder it names.",
     OPTS, NULL, cmd_demo},
    {0}};

const cli_group_t CLI_DEMO = {"demo", "The main job: a narrated end-to-end rehearsal on built-in defaults.", NULL, NULL,
                              CMDS};
