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
    int sb_force_ecdsa;       /* CONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA (ECDSA on chips with the errata) */
    uint32_t pt_offset;       /* CONFIG_PARTITION_TABLE_OFFSET (0x8000) */
    int nvs_encryption;       /* CONFIG_NVS_ENCRYPTION */
    int nvs_hmac;             /* CONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC */
    int nvs_hmac_key_id;      /* CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID */
    /* anti-rollback */
    int app_anti_rollback;    /* CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK */
    int app_rollback;         /* CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE */
    int sec_ver_efuse_bits;   /* CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD (0: the whole SECURE_VERSION field) */
    /* app signatures without hardware Secure Boot */
    int signed_apps_no_sb;    /* CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT */
    int signed_on_boot_no_sb; /* CONFIG_SECURE_SIGNED_ON_BOOT_NO_SECURE_BOOT */
    int signed_on_update_no_sb; /* CONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT */
    int signed_scheme_v1;     /* CONFIG_SECURE_SIGNED_APPS_ECDSA_SCHEME (the V1 scheme) */
    /* what first boot burns */
    int secure_rom_dl_mode;   /* CONFIG_SECURE_ENABLE_SECURE_ROM_DL_MODE */
    int sb_aggressive_revoke; /* CONFIG_SECURE_BOOT_ENABLE_AGGRESSIVE_KEY_REVOKE */
    int sb_allow_unused_slots;/* CONFIG_SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS */
    int sb_allow_efuse_rd_dis;/* CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS */
    int fe_aes128_derived;    /* CONFIG_SECURE_FLASH_ENCRYPTION_AES128_DERIVED */
    int fe_skip_wp_cache;     /* CONFIG_SECURE_FLASH_SKIP_WRITE_PROTECTION_CACHE */
    int fe_pseudo_round;      /* CONFIG_SECURE_FLASH_PSEUDO_ROUND_FUNC; -1: not given (ESP-IDF: on in release mode) */
    int fe_pseudo_strength;   /* CONFIG_SECURE_FLASH_PSEUDO_ROUND_FUNC_STRENGTH: 1 low (default), 2 medium, 3 high */
    int keys_burn_together;   /* CONFIG_SECURE_BOOT_FLASH_ENC_KEYS_BURN_TOGETHER */
    int fe_only_image_len;    /* CONFIG_SECURE_FLASH_ENCRYPT_ONLY_IMAGE_LEN_IN_APP_PART (default on) */
    int insecure_allow_dl;    /* CONFIG_SECURE_INSECURE_ALLOW_DL_MODE */
    /* chip revision the build targets (CONFIG_<TARGET>_REV_MIN_FULL / _REV_MAX_FULL, e.g. 300 = v3.0) */
    int rev_min_full;         /* -1: not given */
    int rev_max_full;         /* -1: not given */
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

/* ---- an idf.py build folder ---- */

#define ESPSEC_IDF_MAX_FILES 32
#define ESPSEC_IDF_PATH_MAX 1024

typedef struct {
    espsec_chip_t chip;        /* project_description.json "target" */
    char sdkconfig[ESPSEC_IDF_PATH_MAX]; /* its config_file ("" when not found) */
    size_t flash_size;         /* flasher_args.json flash_settings.flash_size (4 MiB when "keep"/"detect") */
    struct {
        uint32_t offset;
        char path[ESPSEC_IDF_PATH_MAX];
    } files[ESPSEC_IDF_MAX_FILES]; /* flash_files, plus the bootloader when Secure Boot left it out */
    size_t nfiles;
    int have_bootloader;
    uint32_t bootloader_offset;
} espsec_idf_build_t;

/**
 * Read an idf.py build folder: flasher_args.json (which file at which
 * offset, the flash size), project_description.json (target, sdkconfig).
 * Offsets are the build's, never guessed.
 */
espsec_err_t espsec_idf_build_load(const char *dir, espsec_idf_build_t *b, espsec_error_t *err);

/** An erased flash of the build's size with every file written at its offset. */
espsec_err_t espsec_idf_build_flash(const espsec_idf_build_t *b, espsec_flash_t **out, espsec_error_t *err);

/* ---- boot ---- */

typedef struct {
    const espsec_device_config_t *config; /* the project (NULL: a bootloader built without security options) */
    int provision;             /* allow first-boot provisioning to burn eFuses and rewrite flash */
    const uint8_t *flash_key;  /* the flash encryption key when the eFuse file hides it (espefuse zeroes it) */
    size_t flash_key_len;
    const uint8_t *random_seed; /* deterministic keys for tests (32 bytes); NULL: the OS CSPRNG */
    const espsec_sb_key_t *sbv1_key; /* Secure Boot V1: the app verification key built into the bootloader */
    FILE *log;                 /* the console (NULL: none) */
    int have_chip_rev;         /* chip_rev_full overrides the revision the eFuses record */
    unsigned chip_rev_full;    /* major*100 + minor, e.g. 300 for v3.0 */
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
    unsigned chip_rev;          /* the revision the device ran as (major*100 + minor) */
    unsigned efuse_secure_version; /* anti-rollback eFuse after this boot */
    int secure_version_bumped;  /* this boot raised it (the app was confirmed) */
} espsec_boot_result_t;

/**
 * Anti-rollback after the app is confirmed (esp_ota_mark_app_valid_cancel_rollback with
 * CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK): raise the SECURE_VERSION eFuse to the app's
 * secure_version (never lowers it; a version past the field's size is an error).
 * field_bits: CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD, 0 for the whole field.
 * *changed tells whether a bit was burned.
 */
espsec_err_t espsec_device_update_secure_version(espsec_efuse_t *efuse, unsigned field_bits, unsigned secure_version,
                                                 int *changed, espsec_error_t *err);

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
    int have_chip_rev;                    /* as for boot */
    unsigned chip_rev_full;
    int planned_download;                 /* the plan flashes over the serial ROM loader after the burn */
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
