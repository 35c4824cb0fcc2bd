/* Fuzz the partition table parsers (binary and CSV) and their writers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static espsec_partition_table_t t;
    espsec_pt_opts_t o;
    espsec_error_t err;
    espsec_pt_opts_default(&o);
    o.expand_env = 0;
    uint8_t out[ESPSEC_PT_MAX_LEN];
    if (espsec_pt_from_binary(data, size, &o, &t, &err) == ESPSEC_OK) {
        free(espsec_pt_to_csv(&t));
        (void)espsec_pt_verify(&t, &o, &err);
    }
    if (espsec_pt_from_csv((const char *)data, size, &o, &t, &err) == ESPSEC_OK) {
        if (espsec_pt_verify(&t, &o, &err) == ESPSEC_OK) {
            (void)espsec_pt_to_binary(&t, &o, out, &err);
        }
    }
    return 0;
}
