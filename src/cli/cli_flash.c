/* espsec flash write: esptool write-flash [--encrypt] against the virtual device in download mode (espsec/reflash.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "espsec/io.h"
#include "espsec/reflash.h"
#include "espsec/util.h"

/* esptool's --flash-size: 256KB .. 128MB, keep, detect; 0 for keep/detect, -1 if not one */
static long long flash_size_arg(const char *s)
{
    if (s == NULL || strcasecmp(s, "keep") == 0 || strcasecmp(s, "detect") == 0) {
        return 0;
    }
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || v == 0 || v > 128) {
        return -1;
    }
    if (strcasecmp(end, "MB") == 0) {
        return (long long)v << 20;
    }
    if (strcasecmp(end, "KB") == 0 && v >= 256) {
        return (long long)v << 10;
    }
    return -1;
}

static int cmd_write(cli_args_t *a)
{
    if (a->npos < 2 || a->npos % 2 != 0) {
        return cli_error("ADDR FILE pairs expected (got %zu argument%s)", a->npos, a->npos == 1 ? "" : "s");
    }
    long long fsz = flash_size_arg(cli_str(a, "flash-size"));
    if (fsz < 0) {
        return cli_error("--flash-size '%s': 256KB..128MB (e.g. 4MB), keep or detect expected", cli_str(a, "flash-size"));
    }
    size_t n = a->npos / 2;
    espsec_dl_file_t *files = calloc(n, sizeof(*files));
    uint8_t **bufs = calloc(n, sizeof(*bufs));
    if (files == NULL || bufs == NULL) {
        free(files);
        free(bufs);
        return cli_error("out of memory");
    }
    cli_device_inputs_t in;
    int st = cli_device_load(a, &in);
    espsec_error_t err;
    for (size_t i = 0; st == 0 && i < n; i++) {
        const char *as = cli_pos(a, 2 * i), *path = cli_pos(a, 2 * i + 1);
        uint64_t addr = 0;
        if (espsec_parse_u64(as, &addr) != 0 || addr > 0xFFFFFFFFu) {
            st = cli_error("'%s': a flash address expected (before %s)", as, path);
            break;
        }
        if (espsec_read_file(path, &bufs[i], &files[i].len, 1u << 30, &err) != ESPSEC_OK) {
            st = cli_fail(&err);
            break;
        }
        files[i].addr = (uint32_t)addr;
        files[i].data = bufs[i];
        files[i].name = path;
    }
    espsec_dl_result_t r;
    if (st == 0) {
        espsec_dl_opts_t o = {.encrypt = cli_flag(a, "encrypt"),
                              .force = cli_flag(a, "force"),
                              .no_stub = cli_flag(a, "no-stub"),
                              .flash_size = (size_t)fsz,
                              .pt_offset = in.have_cfg ? in.cfg.pt_offset : 0x8000,
                              .flash_key = in.key_len ? in.key : NULL,
                              .flash_key_len = in.key_len};
        espsec_err_t rc = espsec_download_write(in.ef, in.fl, &o, files, n, &r, &err);
        if (rc == ESPSEC_OK && r.written) {
            rc = espsec_flash_save(in.fl, in.flash_path, &err);
        }
        st = rc != ESPSEC_OK ? cli_fail(&err) : 0;
    }
    for (size_t i = 0; i < n; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(files);
    cli_device_free(&in);
    if (st != 0) {
        return st;
    }
    fputs(r.notes, stdout);
    if (!r.written) {
        (void)fflush(stdout);
        fprintf(stderr, "espsec: error: the chip refuses: %s\n", r.answer);
        return 1;
    }
    printf("WRITTEN%s: flash encryption %s, crypt counter %u of %u bits, %d development-mode plaintext re-flash%s "
           "left\n",
           r.secure_download ? " in Secure Download Mode" : "", r.fe_on ? "on" : "off", r.crypt_bits, r.crypt_max,
           r.reflashes_left, r.reflashes_left == 1 ? "" : "es");
    return 0;
}

static const cli_opt_t WRITE_OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "esp32 (default) or esp32c3."},
    {"efuse", 0, CLI_VALUE, "FILE", "Virtual eFuse file (espefuse's format): what the chip's ROM reads."},
    {"flash", 0, CLI_VALUE, "FILE", "Flash image (whole flash from offset 0); written in place."},
    {"sdkconfig", 0, CLI_VALUE, "FILE", "The project's sdkconfig (the partition table offset)."},
    {"flash-key", 0, CLI_VALUE, "FILE", "The chip's flash encryption key, when the eFuse file hides it (--encrypt)."},
    {"encrypt", 0, CLI_FLAG, NULL, "Encrypt with the chip's key while writing (esptool --encrypt)."},
    {"force", 0, CLI_FLAG, NULL, "Override esptool's safety checks (esptool --force)."},
    {"no-stub", 0, CLI_FLAG, NULL, "Use the ROM loader, not the flasher stub (esptool --no-stub)."},
    {"flash-size", 0, CLI_VALUE, "SIZE", "esptool --flash-size (4MB, ..., keep, detect)."},
    {0}};
static const cli_pos_t WRITE_POS[] = {{"ADDR FILE", "Address and file pairs, as esptool write-flash.", 0, 1}, {0}};

static const cli_cmd_t FLASH_CMDS[] = {
    {"write", "write-flash", "What esptool write-flash [--encrypt] does to this chip in download mode.",
     "Plays the ROM download mode under the eFuses (download mode disabled: no answer; Secure Download Mode: no stub, "
     "plaintext over flash encryption refused, 2 MB assumed; Secure Boot V1: bootloader region protected; manual "
     "encryption disabled: --encrypt refused and plaintext over flash encryption refused) with esptool's checks and "
     "words, then writes as esptool does and says what it means for the next boot (plaintext where the chip "
     "decrypts; the development-mode budget of re-flashes in the crypt counter). Exit status: 0 written, 1 refused "
     "(one line with what the chip or esptool answers), 2 bad input.",
     WRITE_OPTS, WRITE_POS, cmd_write},
    {0}};

const cli_group_t CLI_FLASH = {"flash", "Re-flash the virtual device over its ROM download mode (esptool write-flash).",
                               NULL, NULL, FLASH_CMDS};
