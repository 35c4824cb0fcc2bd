/* Fuzz the pre-encrypted OTA image reader: header parse, then decryption with a fixed ECIES device key
 * (a hostile header, public point or size must give an error, never a crash or an accepted image). */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/enc_img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static espsec_enc_img_key_t *key;
    espsec_error_t err;
    if (key == NULL) {
        static const uint8_t hmac[ESPSEC_ENC_IMG_HMAC_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
        if (espsec_enc_img_key_from_hmac(hmac, &key, &err) != ESPSEC_OK) {
            abort();
        }
    }
    espsec_enc_img_info_t info;
    if (espsec_enc_img_parse(data, size, &info, &err) != ESPSEC_OK) {
        return 0;
    }
    uint8_t *out = malloc(info.plain_len ? info.plain_len : 1);
    size_t n = 0;
    if (out != NULL && espsec_enc_img_decrypt(key, data, size, out, info.plain_len, &n, &err) == ESPSEC_OK) {
        abort(); /* forging a GCM tag for an unknown key is not expected of a fuzzer */
    }
    free(out);
    return 0;
}
