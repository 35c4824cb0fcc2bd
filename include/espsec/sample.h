/*
 * espsec/sample.h — sample firmware images for rehearsals and tests.
 *
 * Valid ESP images with the segment layout of a real ESP-IDF build (an app
 * with esp_app_desc_t in its first DROM segment, IRAM and IROM segments; a
 * bootloader with esp_bootloader_desc_t and IRAM), filled with deterministic
 * pseudo-random "code" so every run makes the same bytes. They pass every
 * check the ROM and the bootloader make; they do not execute.
 */
#ifndef ESPSEC_SAMPLE_H
#define ESPSEC_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/image.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    espsec_chip_t chip;       /* ESP32 or ESP32-C3 */
    const char *project_name; /* esp_app_desc_t.project_name */
    const char *version;      /* esp_app_desc_t.version */
    uint32_t secure_version;  /* anti-rollback counter */
    uint32_t code_size;       /* bytes of IROM "code" (multiple of 4) */
    uint32_t seed;            /* for the pseudo-random contents */
} espsec_sample_app_t;

/** An application image (for flash offset 0x10000 or any 64 KiB-aligned slot). */
espsec_err_t espsec_sample_app(const espsec_sample_app_t *p, uint8_t **out, size_t *len, espsec_error_t *err);

/** A second-stage bootloader image (for flash offset 0x1000 on ESP32, 0x0 on ESP32-C3). */
espsec_err_t espsec_sample_bootloader(espsec_chip_t chip, uint32_t seed, uint8_t **out, size_t *len,
                                      espsec_error_t *err);
/** The same, extra bytes larger (to rehearse a bootloader that outgrows its space). */
espsec_err_t espsec_sample_bootloader_sized(espsec_chip_t chip, uint32_t seed, uint32_t extra, uint8_t **out,
                                            size_t *len, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
