/*
 * espsec/device.h — the virtual device: the boot chain, first-boot
 * provisioning and the pre-burn checks.
 *
 * espsec_device_boot plays the ROM and the second-stage bootloader on a
 * flash image and a set of eFuses: flash decryption when the crypt counter
 * is odd, the bootloader's image and its Secure Boot (V2 signature against
 * the eFuse key digests, or the V1 digest), the partition table, the choice
 * of app (factory or OTA through otadata), the app's image and signature,
 * and, at "app start", NVS encryption keys as nvs_flash_secure_init would
 * find or generate them. With provisioning allowed and a configuration
 * (the project's sdkconfig) asking for flash encryption or Secure Boot V2,
 * the first boot does what ESP-IDF's bootloader does: generate and burn
 * the flash key, encrypt the bootloader, partition table, app and encrypted
 * partitions in place, burn the counters and the release-mode fuses, burn
 * the Secure Boot key digest. It writes a console log in the shape of the
 * real one and returns the outcome as data.
 *
 * espsec_doctor looks at the same inputs before anything is burned and
 * reports the mistakes that brick devices, each with an explanation and a fix.
 */
#ifndef ESPSEC_DEVICE_H
#define ESPSEC_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espsec/efuse.h"
#include "espsec/error.h"
#include "espsec/flash.h"
#include "espsec/image.h"
#include "espsec/secure_boot.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** The security settings of a project, as its sdkconfig states them (Kconfig defaults otherwise). */
typedef struct {
    espsec_chip_t chip;       /* CONFIG_IDF_TARGET */
    int have_target;          /* CONFIG_IDF_TARGET was given */
    int flash_encryption;     /* CONFIG_SECURE_FLASH_ENC_ENABLED */
    int flash_enc_release;    /* CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE (else development) */
    int fe_allow_dl_encrypt;  /* CONFIG_SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC */
    int fe_allow_dl_decrypt;  /* CONFIG_SECURE_FLASH_UART_BOOTLOADER_ALLOW_DEC */
    int fe_allow_dl_cache;    /* CONFIG_SECURE_FLASH_UART_BOOTLOADER_ALLOW_CACHE */
    int fe_require_enabled;   /* CONFIG_SECURE_FLASH_REQUIRE_ALREADY_ENABLED */
    int fe_aes256;            /* CONFIG_SECURE_FLASH_ENCRYPTION_AES256 (XTS chips) */
    int secure_boot;          /* CONFIG_SECURE_BOOT */
    int secure_boot_version;  /* 1 or 2 (CONFIG_SECURE_BOOT_V1_ENABLED / _V2_ENABLED) */
    espsec_sb_scheme_t sb_scheme; /* RSA-3072 unless CONFIG_SECURE_BOOT_V2_ECC_ENABLED */
    int sb_allow_jtag;        /* CONFIG_SECURE_BOOT_ALLOW_JTAG */
    int sb_allow_rom_basic;   /* CONFIG_SECURE_BOOT_ALLOW_ROM_BASIC */
    int sb_build_signed;      /* CONFIG_SECURE_BOOT_BUILD_SIGNED_BINARIES */
    int sb_require_enabled;   /* CONFIG_SECURE_BOOT_REQUIRE_ALREADY_ENABLED */
    int disable_rom_dl_mode;  /* CONFIG_SECURE_DISABLE_ROM_DL_MODE */
    int insecure;             /* CONFIG_SECURE_BOOT_INSECURE */
    uint32_t pt_offset;       /* CONFIG_PARTITION_TABLE_OFFSET (0x8000) */
    int nvs_encryption;       /* CONFIG_NVS_ENCRYPTION */
    int nvs_hmac;             /* CONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC */
    int nvs_hmac_key_id;      /* CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID */
    int app_rollback;         /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    int app_anti_rollback;    /* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    int signed_apps_no_sb;    /* CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT */
} espsec_device_config_t;

/** Everything off, targets ESP32: what a project without security options gets. */
void espsec_device_config_default(espsec_device_config_t *cfg);

/**
 * Read an sdkconfig (KEY=value lines, "# KEY is not set", comments).
 * Unknown keys are ignored; a malformed line is an error naming it. The
 * chip comes from CONFIG_IDF_TARGET; esp8266 is refused (no security).
 */
espsec_err_t espsec_sdkconfig_parse(const char *text, size_t len, const char *name, espsec_device_config_t *cfg,
                                    espsec_error_t *err);

/* ---- boot ---- */

typedef struct {
    const espsec_device_config_t *config; /* the project (NULL: a bootloader built without security options) */
    int provision;             /* allow first-boot provisioning to burn eFuses and rewrite flash */
    const uint8_t *flash_key;  /* the flash encryption key when the eFuse file hides it (espefuse zeroes it) */
    size_t flash_key_len;
    const uint8_t *random_seed; /* deterministic keys for tests (32 bytes); NULL: the OS CSPRNG */
    const espsec_sb_key_t *sbv1_key; /* Secure Boot V1: the app verification key built into the bootloader */
    FILE *log;                 /* the console (NULL: none) */
} espsec_boot_opts_t;

typedef struct {
    int booted;                 /* the app would run */
    char stage[16];             /* where it ended: "rom", "bootloader", "app" */
    char failure[320];          /* why it would not run, with the offset */
    uint32_t failure_offset;
    int flash_encryption;       /* reads went through flash decryption */
    int secure_boot;            /* 0, 1 or 2 */
    int provisioned;            /* this boot burned eFuses and/or rewrote flash */
    int efuse_changed, flash_changed;
    char app_partition[17];
    uint32_t app_offset;
    espsec_app_desc_t app;      /* the app that runs */
    int nvs_checked;            /* an NVS partition was mounted at app start */
    int nvs_encrypted;
    int nvs_keys_generated;     /* nvs_keys was blank and got keys */
    size_t nvs_values;          /* values in the first NVS partition */
    char nvs_problem[200];      /* NVS did not mount: why */
} espsec_boot_result_t;

/**
 * Boot once. efuse and flash are changed only by provisioning. Returns
 * ESPSEC_OK when the simulation ran to a verdict (result->booted says which);
 * an error only when it could not run (bad arguments, out of memory).
 */
espsec_err_t espsec_device_boot(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_boot_opts_t *opts,
                                espsec_boot_result_t *result, espsec_error_t *err);

/** Print the result as JSON. */
void espsec_boot_result_json(const espsec_boot_result_t *r, FILE *out);

/* ---- doctor ---- */

typedef enum { ESPSEC_DOCTOR_INFO, ESPSEC_DOCTOR_WARNING, ESPSEC_DOCTOR_ERROR } espsec_doctor_severity_t;

typedef struct {
    espsec_doctor_severity_t severity;
    char id[40];          /* stable identifier, e.g. "sb-key-mismatch" */
    char message[300];    /* what is wrong, with offsets */
    char explanation[500];/* why it matters */
    char fix[300];        /* what to do */
} espsec_doctor_finding_t;

typedef struct {
    const espsec_device_config_t *config; /* NULL: judge from the eFuses and flash alone */
    const uint8_t *flash_key;             /* as for boot */
    size_t flash_key_len;
    const espsec_sb_key_t *planned_key;   /* the Secure Boot key that will be burned (optional) */
} espsec_doctor_opts_t;

/**
 * Check eFuses and flash (and the project) without changing anything.
 * *findings is malloc'd (free it); count in *n.
 */
espsec_err_t espsec_doctor(const espsec_efuse_t *efuse, const espsec_flash_t *flash, const espsec_doctor_opts_t *opts,
                           espsec_doctor_finding_t **findings, size_t *n, espsec_error_t *err);

const char *espsec_doctor_severity_name(espsec_doctor_severity_t s);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
