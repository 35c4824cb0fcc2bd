/* Fuzz the virtual eFuse file loader (with and without a hidden companion) and the summary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/efuse.h"

static void exercise(espsec_chip_t chip, const uint8_t *data, size_t size)
{
    size_t n = espsec_efuse_file_size(chip);
    espsec_efuse_t *e = NULL;
    espsec_error_t err;
    const uint8_t *hidden = size >= 2 * n ? data + n : NULL;
    if (espsec_efuse_load(chip, data, size >= n ? n : size, hidden, hidden ? n : 0, &e, &err) != ESPSEC_OK) {
        return;
    }
    size_t count = espsec_efuse_field_count(e);
    for (size_t i = 0; i < count; i++) {
        espsec_efuse_field_info_t fi;
        (void)espsec_efuse_field_info(e, i, &fi);
    }
    int noop;
    uint64_t v;
    (void)espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0xF, &noop, &err);
    (void)espsec_efuse_stage_next_bit(e, chip == ESPSEC_CHIP_ESP32 ? "FLASH_CRYPT_CNT" : "SPI_BOOT_CRYPT_CNT", &v, &err);
    (void)espsec_efuse_burn(e, &err);
    uint8_t *f = NULL, *h = NULL;
    size_t fl, hl;
    if (espsec_efuse_serialize(e, &f, &fl, &h, &hl, &err) == ESPSEC_OK) {
        free(f);
        free(h);
    }
    espsec_efuse_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(ESPSEC_CHIP_ESP32, data, size);
    exercise(ESPSEC_CHIP_ESP32C3, data, size);
    return 0;
}
