/*
 * Fuzz the NVS partition generator's CSV reader: any text must give an image
 * or one clear error; a generated image must mount and list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/flash.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    espsec_error_t err;
    uint8_t *out = NULL;
    /* file rows would read the host's files: only data and namespace rows are fed */
    if (memmem(data, size, "file", 4) != NULL) {
        return 0;
    }
    espsec_nvs_csv_opts_t o = {.version = size % 2 ? 1 : 2};
    if (espsec_nvs_gen_csv((const char *)data, size, "fuzz.csv", 0x6000, &o, &out, &err) != ESPSEC_OK) {
        if (err.msg[0] == '\0') {
            abort(); /* every refusal says why */
        }
        return 0;
    }
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    if (espsec_flash_from(out, 0x6000, &f, &err) == ESPSEC_OK) {
        if (espsec_nvs_mount(f, 0, 0x6000, NULL, &n, &err) != ESPSEC_OK) {
            abort(); /* the generator's output must always mount */
        }
        espsec_nvs_entry_info_t info[32];
        size_t count;
        (void)espsec_nvs_list(n, NULL, ESPSEC_NVS_TYPE_ANY, info, 32, &count);
        espsec_nvs_unmount(n);
        espsec_flash_free(f);
    }
    free(out);
    return 0;
}
