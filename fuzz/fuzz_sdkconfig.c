/* Fuzz the sdkconfig reader: any text gives a configuration or one clear error. */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    espsec_device_config_t c;
    espsec_error_t err;
    if (espsec_sdkconfig_parse((const char *)data, size, "fuzz", &c, &err) != ESPSEC_OK && err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
