/*
 * espsec/demo.h — the main job: a narrated rehearsal of securing a device.
 *
 * espsec_demo_run makes, in a folder, everything a product team needs and
 * shows each step working: signing keys, a signed bootloader and app, their
 * verification, a tampered copy refused, flash encryption, the encrypted NVS
 * partition and the boot of the virtual device. Every file stays in the folder.
 * The story's choices come from the chip model: the Secure Boot V2 scheme
 * (RSA-3072 where the chip has it, else ECDSA P-256), the flash-encryption
 * key (XTS-AES-256 over two key blocks where the chip splits it, C2's 128-bit
 * key beside the digest in its one key block, else XTS-AES-128; ESP32 AES on
 * the ESP32) and where the bootloader sits.
 */
#ifndef ESPSEC_DEMO_H
#define ESPSEC_DEMO_H

#include <stdio.h>

#include "espsec/chip.h"
#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    const char *dir;  /* an empty or new folder for the files */
    FILE *report;     /* where the narration goes */
    const char *prog; /* how to call espsec in the hints (default "espsec") */
    const espsec_chip_info_t *chip; /* the chip secured (NULL: espsec_chip_default()); it needs virtual eFuses */
} espsec_demo_opts_t;

/** Run every step; fails at the first step that does not behave as it must. */
espsec_err_t espsec_demo_run(const espsec_demo_opts_t *opts, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
