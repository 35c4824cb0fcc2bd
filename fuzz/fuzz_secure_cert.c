/* Fuzz the esp_secure_cert partition reader: TLV walk, CRCs, integrity, signature and HMAC-encrypted entries,
 * DS parameter check (hostile lengths and offsets must give errors, never a crash). */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/secure_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t hmac[32] = {9, 8, 7};
    espsec_sc_tlv_t t[64];
    size_t n = 0, end = 0;
    espsec_error_t err;
    if (espsec_sc_parse(data, size, t, 64, &n, &end, &err) != ESPSEC_OK) {
        return 0;
    }
    if (end > size) {
        abort();
    }
    for (size_t i = 0; i < n && i < 64; i++) {
        espsec_sc_sig_info_t si;
        unsigned kb;
        uint8_t out[65536];
        size_t ol;
        switch (t[i].type) {
        case ESPSEC_SC_INTEGRITY:
            (void)espsec_sc_check_integrity(data, &t[i], &err);
            break;
        case ESPSEC_SC_SIGNATURE_BLOCK:
            (void)espsec_sc_check_signature(data, size, &t[i], &si, &err);
            break;
        case ESPSEC_SC_DS_DATA:
            if (t[i].len >= 20) {
                (void)espsec_sc_ds_check(t[i].value + 20, t[i].len - 20u, 4096, t[i].value + 4, hmac, &kb, &err);
            }
            break;
        default:
            if (t[i].flags & ESPSEC_SC_FLAG_HMAC_ENCRYPTED) {
                (void)espsec_sc_hmac_decrypt(&t[i], hmac, out, sizeof out, &ol, &err);
            }
        }
    }
    return 0;
}
