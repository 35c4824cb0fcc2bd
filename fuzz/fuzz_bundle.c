/* Fuzz the x509_crt_bundle reader (what `espsec tls bundle list` and the client's bundle check read). */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    espsec_bundle_entry_t *e = NULL;
    size_t n = 0;
    espsec_error_t err;
    if (espsec_crt_bundle_list(data, size, &e, &n, &err) == ESPSEC_OK) {
        free(e);
    }
    return 0;
}
