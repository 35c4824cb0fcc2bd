/* Fuzz certificate loading as the TLS client and the bundle builder see it: PEM (several) or DER. */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *in[1] = {data};
    size_t lens[1] = {size}, bl = 0, n = 0;
    uint8_t *b = NULL;
    espsec_error_t err;
    if (espsec_crt_bundle_create(in, lens, 1, &b, &bl, &n, &err) == ESPSEC_OK) {
        espsec_bundle_entry_t *e = NULL;
        size_t m = 0;
        if (espsec_crt_bundle_list(b, bl, &e, &m, &err) != ESPSEC_OK || m != n) {
            abort(); /* what espsec writes, espsec must read */
        }
        free(e);
        free(b);
    }
    espsec_cert_info_t ci;
    (void)espsec_cert_info(data, size, &ci, &err);
    char *pem = espsec_cert_to_pem(data, size);
    free(pem);
    return 0;
}
