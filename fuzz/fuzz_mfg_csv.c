/*
 * Fuzz mfg's CSV handling: the input is a config CSV and a values CSV
 * separated by a NUL byte; a run into a fresh folder must succeed or fail
 * with a message, never crash (file rows are left out: they read the host).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "espsec/mfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0, size);
    if (sep == NULL || memmem(data, size, "file", 4) != NULL || size > 4096) {
        return 0;
    }
    char dir[] = "/dev/shm/espsec-fuzz-mfg-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return 0;
    }
    espsec_mfg_opts_t o = {.conf_name = "conf", .values_name = "values", .prefix = "f", .size = 0x3000,
                           .version = 2, .outdir = dir, .jobs = 1, .no_csv = size % 2};
    espsec_error_t err;
    espsec_mfg_stats_t st;
    if (espsec_mfg_generate((const char *)data, (size_t)(sep - data), (const char *)sep + 1, size - (size_t)(sep - data) - 1,
                            &o, &st, &err) != ESPSEC_OK && err.msg[0] == '\0') {
        abort();
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        abort();
    }
    return 0;
}
