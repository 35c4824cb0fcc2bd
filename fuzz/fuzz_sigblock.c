/* Fuzz the Secure Boot V2 signature sector reader and the device-side block check. */
#include <stdint.h>
#include <string.h>

#include "espsec/secure_boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    espsec_error_t err;
    (void)espsec_sbv2_info(data, size, 1, info, &err);
    if (size >= ESPSEC_SBV2_BLOCK_SIZE) {
        uint8_t block[ESPSEC_SBV2_BLOCK_SIZE], digest[48], key_digest[32];
        memcpy(block, data, sizeof(block));
        memcpy(digest, block + 4, sizeof(digest));
        (void)espsec_sbv2_verify_block(block, digest, block[1] == 3 && block[2] == 1 ? 48 : 32, key_digest, &err);
    }
    espsec_sb_key_t *key = NULL;
    if (espsec_sb_key_load_pem(data, size, &key, &err) == ESPSEC_OK) {
        espsec_sb_key_free(key);
    }
    return 0;
}
