/*
 * espsec/powercut.h — power cuts during first-boot provisioning.
 *
 * The sweep plays the first boot of a fresh device (espsec_device_boot with
 * provisioning, the project's sdkconfig) once to count its eFuse block
 * programs and flash erase/program operations, then once per operation with
 * the power cut during it (the flash emulation's cut-after-N, optionally torn;
 * the eFuse controller's cut-after-N: the cut block program does not land).
 * After each cut the device is powered on and boots again with the same
 * bootloader, as the real one would continue, and the cut point is judged:
 *
 * - recovers: the device boots with the security the project asked for;
 * - stays plaintext: it boots, but without flash encryption (or Secure Boot)
 *   that the project asked for, and will not turn it on by itself;
 * - recovers after re-flash: it does not boot, but a re-flash over the ROM
 *   download mode as espsec flash write allows it (the original plaintext
 *   images; turning flash encryption off first with the counter's next bit in
 *   development mode; burning a half-written key's protection) makes it boot;
 * - bricked: it does not boot and the eFuses leave no way to re-flash it.
 */
#ifndef ESPSEC_POWERCUT_H
#define ESPSEC_POWERCUT_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/device.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef enum {
    ESPSEC_PC_RECOVERS = 0,
    ESPSEC_PC_STAYS_PLAINTEXT = 1,
    ESPSEC_PC_REFLASH = 2, /* recovers after a re-flash in download mode */
    ESPSEC_PC_BRICKED = 3,
} espsec_pc_outcome_t;

/** "recovers", "stays plaintext", "recovers after re-flash", "bricked". */
const char *espsec_pc_outcome_name(espsec_pc_outcome_t o);

typedef struct {
    int efuse;              /* 1: an eFuse block program; 0: a flash operation */
    uint64_t index;         /* its index among the operations of its kind */
    uint64_t flash_before, efuse_before; /* operations of each kind done before it */
    char what[96];          /* "eFuse BLOCK1", "flash erase 0x10000 (partition 'factory')" */
    espsec_pc_outcome_t outcome;
    char detail[256];       /* the reboot's verdict, and the recovery when one was needed */
} espsec_pc_point_t;

typedef struct {
    size_t points;          /* cut points (eFuse programs + flash operations) */
    size_t efuse_programs, flash_ops;
    size_t count[4];        /* per outcome */
} espsec_pc_summary_t;

typedef struct {
    const espsec_device_config_t *config; /* the project: what the first boot provisions */
    const uint8_t *random_seed;           /* 32 bytes: reproducible keys (NULL: the OS CSPRNG) */
    int tear;                             /* flash cuts leave the interrupted operation partial */
    uint64_t tear_seed;
} espsec_pc_opts_t;

/**
 * Sweep every cut point of the first boot of efuse/flash (left unchanged:
 * each run works on a copy). *points is malloc'd (free it), in the order the
 * operations happen. Fails when the uncut first boot does not boot.
 */
espsec_err_t espsec_powercut_sweep(const espsec_efuse_t *efuse, const espsec_flash_t *flash,
                                   const espsec_pc_opts_t *opts, espsec_pc_point_t **points,
                                   espsec_pc_summary_t *summary, espsec_error_t *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
