/*
 * espsec/ota.h — over-the-air updates on the virtual device, as the running
 * app does them with ESP-IDF's esp_ota_ops.
 *
 * Each call first powers the device on (espsec_device_boot: the app that
 * runs is the one doing the update; with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE
 * that boot also moves otadata states as the bootloader does), then plays the
 * app's calls on the same eFuses and flash:
 *
 * espsec_ota_write: esp_ota_get_next_update_partition, esp_ota_begin (erase
 * the passive slot; with rollback, refuse while the running app is still
 * PENDING_VERIFY and invalidate the stale otadata sector), esp_ota_write
 * (magic byte check, writes through flash encryption when it is on),
 * esp_ota_end (esp_image_verify: image, chip, Secure Boot V2 signature
 * against the eFuse digests, or against the running app's keys when only
 * signed updates are required) and esp_ota_set_boot_partition (anti-rollback:
 * a secure_version below the eFuse SECURE_VERSION erases the slot and is
 * refused; then the otadata entry for the slot, state NEW with rollback).
 * A refusal leaves otadata alone, so the old app keeps booting.
 *
 * espsec_ota_confirm: esp_ota_mark_app_valid_cancel_rollback (VALID, and with
 * anti-rollback the eFuse SECURE_VERSION raised to the app's) or, with
 * valid = 0, esp_ota_mark_app_invalid_rollback (INVALID when another app can
 * boot).
 */
#ifndef ESPSEC_OTA_H
#define ESPSEC_OTA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espsec/device.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    const espsec_device_config_t *config; /* the project (NULL: Kconfig defaults) */
    const uint8_t *flash_key;             /* as for espsec_device_boot */
    size_t flash_key_len;
    const espsec_sb_key_t *sbv1_key;
    FILE *log;      /* the app's log lines (esp_ota_ops), or NULL */
    FILE *boot_log; /* the console of the boot before the update, or NULL */
} espsec_ota_opts_t;

typedef struct {
    int accepted;          /* the API calls succeeded (ESP_OK) */
    char esp_err[40];      /* what the failing call returned ("ESP_ERR_OTA_VALIDATE_FAILED"), "ESP_OK" */
    char call[40];         /* the call that failed ("esp_ota_end"), "" */
    char why[320];         /* the reason, with offsets */
    char running[17];      /* the app that ran the update */
    uint32_t running_offset;
    char target[17];       /* the slot written (write) or confirmed (confirm) */
    uint32_t target_offset;
    int encrypted;         /* written through flash encryption */
    int otadata_sector;    /* the otadata entry written, -1 if none */
    uint32_t seq, state;
    uint32_t secure_version_efuse; /* SECURE_VERSION after the call (bits set) */
    espsec_app_desc_t app; /* the new (write) or running (confirm) app */
    int efuse_changed, flash_changed;
} espsec_ota_result_t;

/**
 * Update the device with image (len bytes). ESPSEC_OK when the device ran
 * to a verdict (result->accepted says which); an error when it could not
 * run: the device does not boot (the message says why), no OTA slot, bad
 * arguments.
 */
espsec_err_t espsec_ota_write(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_ota_opts_t *opts,
                              const uint8_t *image, size_t len, espsec_ota_result_t *result, espsec_error_t *err);

/** The running app confirms itself (valid = 1) or asks for the rollback (valid = 0). */
espsec_err_t espsec_ota_confirm(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_ota_opts_t *opts, int valid,
                                espsec_ota_result_t *result, espsec_error_t *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
