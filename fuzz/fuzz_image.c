/* Fuzz the ESP image parser and checker. */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    espsec_image_t img;
    espsec_error_t err;
    if (espsec_image_parse(data, size, &img, &err) == ESPSEC_OK) {
        (void)espsec_image_check(&img, &err);
        const char *names[8];
        for (unsigned i = 0; i < img.segment_count; i++) {
            (void)espsec_image_memory_types(img.chip_id, img.segments[i].load_addr, names, 8);
        }
    }
    return 0;
}
