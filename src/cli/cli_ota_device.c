/* espsec ota write/confirm/rollback: what the running app's esp_ota_ops calls do to the virtual device (espsec/ota.h).
   The rows are in the ota group's table (cli_ota.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espsec/enc_img.h"
#include "util/bytes.h"
#include "espsec/io.h"
#include "espsec/ota.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

static int load_sbv1(cli_args_t *a, espsec_sb_key_t **out)
{
    const char *p = cli_str(a, "sbv1-key");
    *out = NULL;
    if (p == NULL) {
        return 0;
    }
    uint8_t *kb = NULL;
    size_t kl = 0;
    espsec_error_t err;
    espsec_err_t rc = espsec_read_file(p, &kb, &kl, 1u << 20, &err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv1_key_load(kb, kl, out, &err);
        espsec_free_secret(kb, kl);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", p);
        }
    }
    return rc == ESPSEC_OK ? 0 : cli_fail(&err);
}

static void result_json(const espsec_ota_result_t *r)
{
    printf("{\n  \"accepted\": %s,\n  \"esp_err\": \"%s\",\n  \"call\": \"%s\",\n  \"why\": \"", r->accepted ? "true" : "false",
           r->esp_err, r->call);
    for (const char *p = r->why; *p; p++) {
        if (*p == '"' || *p == '\\') {
            putchar('\\');
        }
        putchar((unsigned char)*p < 0x20 ? ' ' : *p);
    }
    printf("\",\n  \"running\": {\"partition\": \"%s\", \"offset\": %u},\n", r->running, r->running_offset);
    printf("  \"target\": {\"partition\": \"%s\", \"offset\": %u},\n", r->target, r->target_offset);
    printf("  \"app\": {\"project_name\": \"%s\", \"version\": \"%s\", \"secure_version\": %u},\n", r->app.project_name,
           r->app.version, r->app.secure_version);
    printf("  \"encrypted\": %s,\n  \"otadata_sector\": %d,\n  \"seq\": %u,\n  \"state\": %u,\n",
           r->encrypted ? "true" : "false", r->otadata_sector, r->seq, r->state);
    printf("  \"secure_version_efuse\": %u\n}\n", r->secure_version_efuse);
}

/* Run one OTA operation: image NULL is confirm (valid) / rollback. */
/*
 * A pre-encrypted image (esp_encrypted_img) is decrypted as the app does before esp_ota_write sees it: with the
 * RSA key the app holds (--pre-encrypted-key) or, for ECIES, the device key derived from its eFuse HMAC key
 * (--pre-encrypted-hmac-key). Returns 0, or 1 after printing the refusal (nothing written), or 2 on bad input.
 */
static int pre_decrypt(cli_args_t *a, const char *path, uint8_t **img, size_t *len)
{
    const char *kp = cli_str(a, "pre-encrypted-key"), *hp = cli_str(a, "pre-encrypted-hmac-key");
    int is_enc = *len >= 4 && get_le32(*img) == ESPSEC_ENC_IMG_MAGIC;
    if (kp == NULL && hp == NULL) {
        if (is_enc) {
            fprintf(stderr, "espsec: error: %s: esp_ota_write returned ESP_ERR_OTA_VALIDATE_FAILED: the image is "
                            "pre-encrypted (esp_encrypted_img magic at 0x0, not 0xE9): the app decrypts it first "
                            "(give --pre-encrypted-key or --pre-encrypted-hmac-key); otadata unchanged, the running "
                            "app keeps booting\n", path);
            return 1;
        }
        return 0;
    }
    if (kp != NULL && hp != NULL) {
        return cli_error("give --pre-encrypted-key or --pre-encrypted-hmac-key, not both");
    }
    uint8_t *kb = NULL;
    size_t kl = 0;
    espsec_error_t err;
    if (espsec_read_file(kp ? kp : hp, &kb, &kl, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_enc_img_key_t *key = NULL;
    espsec_err_t rc;
    if (kp != NULL) {
        rc = espsec_enc_img_key_load_pem(kb, kl, &key, &err);
    } else if (kl != ESPSEC_ENC_IMG_HMAC_KEY_LEN) {
        rc = espsec_fail(&err, ESPSEC_ERR_KEY, "%zu bytes; an HMAC key file holds 32 raw bytes", kl);
    } else {
        rc = espsec_enc_img_key_from_hmac(kb, &key, &err);
    }
    espsec_free_secret(kb, kl);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", kp ? kp : hp);
        return cli_fail(&err);
    }
    size_t cap = *len > ESPSEC_ENC_IMG_HEADER_LEN ? *len - ESPSEC_ENC_IMG_HEADER_LEN : 1, pl = 0;
    uint8_t *plain = malloc(cap);
    rc = plain == NULL ? espsec_fail(&err, ESPSEC_ERR_NO_MEM, "out of memory")
                       : espsec_enc_img_decrypt(key, *img, *len, plain, cap, &pl, &err);
    espsec_enc_img_key_free(key);
    if (rc != ESPSEC_OK) {
        free(plain);
        fprintf(stderr, "espsec: error: %s: esp_encrypted_img_decrypt_%s returned ESP_FAIL: %s; otadata unchanged, the "
                        "running app keeps booting\n", path, rc == ESPSEC_ERR_VERIFY ? "end" : "data", err.msg);
        return 1;
    }
    printf("Pre-encrypted image (esp_encrypted_img, %s): %zu bytes decrypted, tag verified\n",
           kp ? "RSA-3072 or ECIES key" : "ECIES, HMAC-derived device key", pl);
    free(*img);
    *img = plain;
    *len = pl;
    return 0;
}

static int run(cli_args_t *a, const char *image_path, int valid)
{
    cli_device_inputs_t in;
    espsec_sb_key_t *v1 = NULL;
    int st = cli_device_load(a, &in);
    if (st == 0) {
        st = load_sbv1(a, &v1);
    }
    uint8_t *img = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (st == 0 && image_path != NULL && espsec_read_file(image_path, &img, &len, 64u << 20, &err) != ESPSEC_OK) {
        st = cli_fail(&err);
    }
    if (st == 0 && image_path != NULL) {
        st = pre_decrypt(a, image_path, &img, &len);
    }
    if (st != 0) {
        espsec_sb_key_free(v1);
        cli_device_free(&in);
        return st;
    }
    int json = cli_flag(a, "json");
    espsec_ota_opts_t o = {.config = in.have_cfg ? &in.cfg : NULL,
                           .flash_key = in.key_len ? in.key : NULL,
                           .flash_key_len = in.key_len,
                           .sbv1_key = v1,
                           .log = json ? NULL : stdout,
                           .boot_log = cli_flag(a, "boot-log") && !json ? stdout : NULL};
    espsec_ota_result_t r;
    espsec_err_t rc = image_path != NULL ? espsec_ota_write(in.ef, in.fl, &o, img, len, &r, &err)
                                         : espsec_ota_confirm(in.ef, in.fl, &o, valid, &r, &err);
    free(img);
    espsec_sb_key_free(v1);
    if (rc == ESPSEC_OK && (r.efuse_changed || r.flash_changed)) {
        /* what the device did is written back, refused or not (an erased slot stays erased) */
        rc = espsec_efuse_save_file(in.ef, in.efuse_path, &err);
        if (rc == ESPSEC_OK) {
            rc = espsec_flash_save(in.fl, in.flash_path, &err);
        }
    }
    if (rc != ESPSEC_OK) {
        cli_device_free(&in);
        return cli_fail(&err);
    }
    cli_device_free(&in);
    if (json) {
        result_json(&r);
    }
    if (!r.accepted) {
        (void)fflush(stdout);
        fprintf(stderr, "espsec: error: %s%s%s returned %s: %s; otadata unchanged, '%s' keeps booting\n",
                image_path ? image_path : "", image_path ? ": " : "", r.call, r.esp_err, r.why, r.running);
        return 1;
    }
    if (!json && image_path != NULL) {
        printf("OTA ACCEPTED: '%s' version %s (secure_version %u) in '%s' at 0x%x%s; otadata[%d] sequence %u (%s): "
               "the next boot runs it\n",
               r.app.project_name, r.app.version, r.app.secure_version, r.target, r.target_offset,
               r.encrypted ? ", encrypted" : "", r.otadata_sector, r.seq,
               r.state == 0 ? "ESP_OTA_IMG_NEW" : r.state == 0xFFFFFFFFu ? "ESP_OTA_IMG_UNDEFINED" : "set");
    } else if (!json) {
        printf("%s: '%s' at 0x%x, otadata[%d] state %s; eFuse SECURE_VERSION %u\n",
               valid ? "CONFIRMED" : "ROLLBACK REQUESTED", r.target, r.target_offset, r.otadata_sector,
               r.state == 2 ? "ESP_OTA_IMG_VALID" : "ESP_OTA_IMG_INVALID", r.secure_version_efuse);
    }
    return 0;
}

int cli_ota_write(cli_args_t *a)
{
    return run(a, cli_pos(a, 0), 1);
}

int cli_ota_confirm(cli_args_t *a)
{
    return run(a, NULL, 1);
}

int cli_ota_rollback(cli_args_t *a)
{
    return run(a, NULL, 0);
}

#define DEVICE_OPTS                                                                                                    \
    {"chip", 'c', CLI_VALUE, "CHIP", "esp32 (default) or esp32c3."},                                                   \
        {"efuse", 0, CLI_VALUE, "FILE", "Virtual eFuse file (espefuse's format)."},                                    \
        {"flash", 0, CLI_VALUE, "FILE", "Flash image (whole flash from offset 0); changed in place."},                 \
        {"sdkconfig", 0, CLI_VALUE, "FILE",                                                                            \
         "The project's sdkconfig (BOOTLOADER_APP_ROLLBACK_ENABLE, BOOTLOADER_APP_ANTI_ROLLBACK, signed updates)."},   \
        {"flash-key", 0, CLI_VALUE, "FILE", "Flash encryption key, when the eFuse file hides it."},                    \
        {"sbv1-key", 0, CLI_VALUE, "KEY", "Secure Boot V1: the app's signature verification key."},                   \
        {"boot-log", 0, CLI_FLAG, NULL, "Also print the console of the boot that starts the running app."},            \
        {"json", 0, CLI_FLAG, NULL, "The result as JSON."}

const cli_opt_t CLI_OTA_DEVICE_OPTS[] = {DEVICE_OPTS, {0}};
const cli_opt_t CLI_OTA_WRITE_OPTS[] = {
    DEVICE_OPTS,
    {"pre-encrypted-key", 0, CLI_VALUE, "PRIV.pem",
     "The image is pre-encrypted (esp_encrypted_img): the private key the app decrypts it with (RSA-3072, or P-256)."},
    {"pre-encrypted-hmac-key", 0, CLI_VALUE, "HMAC.bin",
     "Pre-encrypted with ECIES: the device's eFuse HMAC key (the app derives its key from it)."},
    {0}};
const cli_pos_t CLI_OTA_WRITE_POS[] = {{"APP", "The new app image (signed as the device needs it).", 0, 0}, {0}};
