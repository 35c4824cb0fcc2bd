/*
 * espsec/demo.h — the main job: a narrated rehearsal of securing a device.
 *
 * espsec_demo_run makes, in a folder, everything a product team needs and
 * shows each step working: signing keys, a signed bootloader and app, their
 * verification, a tampered copy refused, flash encryption, the encrypted NVS
 * partition and the boot of the virtual device. Every file stays in the folder.
 */
#ifndef ESPSEC_DEMO_H
#define ESPSEC_DEMO_H

#include <stdio.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    const char *dir;  /* an empty or new folder for the files */
    FILE *report;     /* where the narration goes */
    const char *prog; /* how to call espsec in the hints (default "espsec") */
} espsec_demo_opts_t;

/** Run every step; fails at the first step that does not behave as it must. */
espsec_err_t espsec_demo_run(const espsec_demo_opts_t *opts, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
