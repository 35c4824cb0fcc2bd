/*
 * OTA updates as the running app does them with esp_ota_ops (espsec/ota.h).
 * The checks and the otadata rules are the library's: image parsing, the
 * Secure Boot V2 block check and the otadata entries shared with the boot
 * simulation (dev_internal.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/ota.h"
#include "espsec/util.h"

/* The app that runs: the device after power-on, as the app sees it. */
typedef struct {
    espsec_efuse_t *ef;
    espsec_flash_t *fl;
    const espsec_ota_opts_t *o;
    espsec_device_config_t cfg;
    dev_chip_t chip;
    dev_fuses_t fu;
    espsec_fe_ctx_t *fe;
    espsec_partition_table_t pt;
    espsec_boot_result_t boot;
    const espsec_partition_t *running;
    const espsec_partition_t *otadata;
    int n_ota;
    unsigned ms;
    espsec_ota_result_t *r;
} app_t;

static void alog(app_t *a, char lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void alog(app_t *a, char lvl, const char *fmt, ...)
{
    a->ms += 7;
    if (a->o->log != NULL) {
        fprintf(a->o->log, "%c (%u) esp_ota_ops: ", lvl, a->ms);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(a->o->log, fmt, ap);
        va_end(ap);
        fputc('\n', a->o->log);
    }
}

/* A call returned an error: record it (the verdict, not a failure to run). */
static void refuse(app_t *a, const char *call, const char *esp_err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(app_t *a, const char *call, const char *esp_err, const char *fmt, ...)
{
    a->r->accepted = 0;
    snprintf(a->r->call, sizeof(a->r->call), "%s", call);
    snprintf(a->r->esp_err, sizeof(a->r->esp_err), "%s", esp_err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->r->why, sizeof(a->r->why), fmt, ap);
    va_end(ap);
    alog(a, 'E', "%s: %s (%s)", call, a->r->why, esp_err);
}

/* snprintf for messages that may be cut (a longer cause is cut, not overflowed) */
static void fmtcpy(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmtcpy(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static void app_free(app_t *a)
{
    espsec_fe_free(a->fe);
    a->fe = NULL;
}

static unsigned popcount64(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1) {
        n++;
    }
    return n;
}

static uint32_t efuse_secure_version(const espsec_efuse_t *e)
{
    uint64_t v = 0;
    if (espsec_efuse_get_uint_hw(e, "SECURE_VERSION", &v, NULL) != ESPSEC_OK) {
        return 0;
    }
    return popcount64(v);
}

/* Power on, let the app start, and look at the device from the app. */
static espsec_err_t app_start(app_t *a, espsec_efuse_t *ef, espsec_flash_t *fl, const espsec_ota_opts_t *o,
                              espsec_ota_result_t *r, espsec_error_t *err)
{
    memset(a, 0, sizeof(*a));
    memset(r, 0, sizeof(*r));
    r->otadata_sector = -1;
    a->ef = ef;
    a->fl = fl;
    a->o = o;
    a->r = r;
    if (o->config != NULL) {
        a->cfg = *o->config;
    } else {
        espsec_device_config_default(&a->cfg);
    }
    espsec_boot_opts_t bo = {.config = o->config,
                             .provision = 0,
                             .flash_key = o->flash_key,
                             .flash_key_len = o->flash_key_len,
                             .sbv1_key = o->sbv1_key,
                             .log = o->boot_log};
    espsec_err_t rc = espsec_device_boot(ef, fl, &bo, &a->boot, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    r->flash_changed = a->boot.flash_changed;
    if (!a->boot.booted) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_STATE,
                           "the device does not boot, so no app runs the update (%s, offset 0x%x): %s",
                           a->boot.stage, a->boot.failure_offset, a->boot.failure);
    }
    if (dev_chip(espsec_efuse_chip(ef), &a->chip) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "chip not modelled by the virtual device");
    }
    if (dev_read_fuses(ef, &a->chip, o->flash_key, o->flash_key_len, &a->fu, err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_INVALID_STATE;
    }
    if (a->fu.fe_on) {
        espsec_flash_enc_params_t p = {a->chip.fe_mode, a->fu.crypt_config};
        if (espsec_fe_new(&p, a->fu.fe_key, a->fu.fe_key_len, &a->fe, err) != ESPSEC_OK) {
            return err ? err->code : ESPSEC_ERR_KEY;
        }
    }
    uint8_t buf[0xC00];
    if (dev_read(fl, a->fe, a->cfg.pt_offset, buf, sizeof(buf), err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_INVALID_STATE;
    }
    espsec_pt_opts_t po;
    espsec_pt_opts_default(&po);
    po.table_offset = a->cfg.pt_offset;
    if (espsec_pt_from_binary(buf, sizeof(buf), &po, &a->pt, err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_FORMAT;
    }
    for (size_t i = 0; i < a->pt.count; i++) {
        const espsec_partition_t *p = &a->pt.entries[i];
        if (p->type == 0 && p->offset == a->boot.app_offset) {
            a->running = p;
        }
    }
    /* esp_ota_get_app_partition_count: ota_0, ota_1, ... without a gap */
    while (a->n_ota < 16 && espsec_pt_find(&a->pt, 0, (uint8_t)(0x10 + a->n_ota)) != NULL) {
        a->n_ota++;
    }
    a->otadata = espsec_pt_find(&a->pt, 1, 0x00);
    r->encrypted = a->fe != NULL;
    r->secure_version_efuse = efuse_secure_version(ef);
    if (a->running != NULL) {
        snprintf(r->running, sizeof(r->running), "%s", a->running->name);
        r->running_offset = a->running->offset;
    }
    return ESPSEC_OK;
}

/* esp_ota_get_state_partition: the state of the otadata entry that selects p; -1 if none. */
static int64_t slot_state(app_t *a, const espsec_partition_t *p, espsec_error_t *err, int *failed)
{
    *failed = 0;
    if (a->otadata == NULL || p == NULL || p->subtype < 0x10 || p->subtype >= 0x20 || a->n_ota == 0) {
        return -1;
    }
    dev_otadata_entry_t two[2];
    if (dev_otadata_read(a->fl, a->fe, a->otadata->offset, two, err) != ESPSEC_OK) {
        *failed = 1;
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (two[i].seq != 0xFFFFFFFFu && two[i].crc == dev_otadata_crc(&two[i]) &&
            (two[i].seq - 1) % (uint32_t)a->n_ota == (uint32_t)(p->subtype - 0x10)) {
            return two[i].state;
        }
    }
    return -1;
}

/*
 * The key digests of the running app's signature blocks: what
 * esp_secure_boot_verify_signature trusts before Secure Boot is enabled in
 * eFuse (CONFIG_SECURE_SIGNED_ON_UPDATE). 0, or -1 with why.
 */
static int running_keys(app_t *a, uint8_t digests[3][32], int ok[3], char *why, size_t cap, espsec_error_t *err,
                        int *failed)
{
    const espsec_partition_t *p = a->running;
    uint8_t *buf = malloc(p->size ? p->size : 1);
    if (buf == NULL) {
        *failed = 1;
        espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for a partition of %u bytes", p->size);
        return -1;
    }
    if (dev_read(a->fl, a->fe, p->offset, buf, p->size, err) != ESPSEC_OK) {
        free(buf);
        *failed = 1;
        return -1;
    }
    espsec_image_t img;
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    int n = 0;
    if (espsec_image_parse(buf, p->size, &img, NULL) == ESPSEC_OK) {
        size_t padded = (img.image_len + 4095) & ~(size_t)4095;
        if (padded <= p->size && p->size - padded >= 4096 &&
            espsec_sbv2_info(buf, padded + 4096, 0, info, NULL) == ESPSEC_OK) {
            for (int b = 0; b < ESPSEC_SBV2_MAX_BLOCKS; b++) {
                if (info[b].present && info[b].digest_matches) {
                    memcpy(digests[b], info[b].key_digest, 32);
                    ok[b] = 1;
                    n++;
                }
            }
        }
    }
    free(buf);
    if (n == 0) {
        fmtcpy(why, cap, "the running app '%s' at 0x%x has no signature block, so no update can be verified "
                           "(esp_secure_boot_get_signature_blocks_for_running_app fails)",
                 p->name, p->offset);
        return -1;
    }
    return 0;
}

/* esp_image_verify(ESP_IMAGE_VERIFY) from the app: 0, or -1 with why. */
static int verify_image(app_t *a, const espsec_partition_t *p, espsec_app_desc_t *desc, char *why, size_t cap,
                        espsec_error_t *err, int *failed)
{
    *failed = 0;
    uint8_t *buf = malloc(p->size ? p->size : 1);
    if (buf == NULL) {
        *failed = 1;
        espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for a partition of %u bytes", p->size);
        return -1;
    }
    if (dev_read(a->fl, a->fe, p->offset, buf, p->size, err) != ESPSEC_OK) {
        free(buf);
        *failed = 1;
        return -1;
    }
    espsec_image_t img;
    espsec_error_t e;
    int rc = -1;
    if (buf[0] != 0xE9) {
        fmtcpy(why, cap, "image at 0x%x has invalid magic byte 0x%02x (0xE9 expected)", p->offset, buf[0]);
    } else if (espsec_image_parse(buf, p->size, &img, &e) != ESPSEC_OK || espsec_image_check(&img, &e) != ESPSEC_OK) {
        fmtcpy(why, cap, "image at 0x%x is corrupt: %s", p->offset, e.msg);
    } else if (img.chip_id != (uint16_t)a->chip.chip) {
        fmtcpy(why, cap, "image at 0x%x is for chip id %u, this device is %s", p->offset, img.chip_id,
                 espsec_chip_display_name(a->chip.chip));
    } else {
        rc = 0;
        if (img.has_app_desc) {
            *desc = img.app_desc;
        }
        /* which keys may sign it: the eFuse digests with Secure Boot on, else the running app's keys when
           the project checks signatures of updates */
        uint8_t digests[3][32];
        int ok[3] = {0, 0, 0};
        int check = 0;
        memset(digests, 0, sizeof(digests));
        if (a->fu.sb == 2) {
            memcpy(digests, a->fu.sb_digests, sizeof(digests));
            memcpy(ok, a->fu.sb_digest_ok, sizeof(ok));
            check = 1;
            if (a->fu.sb_digest_bytes < 32) {
                dev_sbv2_expand_half_digests(buf, p->size, img.image_len, a->fu.sb_digest_bytes, digests, ok);
            }
        } else if (a->fu.sb == 0 && ((a->cfg.secure_boot && a->cfg.secure_boot_version == 2) ||
                                     a->cfg.signed_apps_no_sb)) {
            check = 1;
            if (a->running != NULL) {
                rc = running_keys(a, digests, ok, why, cap, err, failed);
            }
        }
        if (rc == 0 && (a->fu.sb == 1 || (a->cfg.secure_boot && a->cfg.secure_boot_version == 1))) {
            /* Secure Boot V1: the app checks the update with the public key built into it */
            size_t signed_len = img.image_len + ESPSEC_SBV1_SIG_BLOCK_LEN;
            if (a->o->sbv1_key == NULL) {
                *failed = 1;
                espsec_fail(err, ESPSEC_ERR_KEY,
                            "Secure Boot V1: updates are checked with the app's signature verification key: give it "
                            "with --sbv1-key");
                rc = -1;
            } else if (signed_len > p->size || espsec_sbv1_verify(buf, signed_len, a->o->sbv1_key, &e) != ESPSEC_OK) {
                fmtcpy(why, cap, "Secure Boot V1 signature of the image at 0x%x: %s", p->offset,
                       signed_len > p->size ? "no signature block after the image" : e.msg);
                rc = -1;
            }
        }
        if (rc == 0 && check) {
            char w[256];
            /* esp_secure_boot_verify_signature reads SECURE_BOOT_NUM_BLOCKS signature blocks, which ESP-IDF
             * asserts equal to the chip's key digest slots (1 on ESP32 and C2: block 0 only), and only
             * block 0 under CONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT */
            const int only_first = a->chip.digest_slots == 1 || a->cfg.signed_on_update_no_sb;
            if (dev_sbv2_check(buf, p->size, img.image_len, (const uint8_t(*)[32])digests, ok, only_first, w,
                               sizeof(w), NULL) < 0) {
                fmtcpy(why, cap, "Secure Boot V2 signature of the image at 0x%x: %s", p->offset, w);
                rc = -1;
            }
        }
    }
    free(buf);
    return rc;
}

/* esp_ota_get_next_update_partition(NULL): the OTA slot after the running one, else ota_0. */
static const espsec_partition_t *next_update_partition(const app_t *a)
{
    const espsec_partition_t *first = NULL;
    int next_is_result = 0;
    for (int t = 0x10; t < 0x20; t++) {
        const espsec_partition_t *p = espsec_pt_find(&a->pt, 0, t);
        if (p == NULL) {
            continue;
        }
        if (first == NULL) {
            first = p;
        }
        if (next_is_result) {
            return p;
        }
        next_is_result = p == a->running;
    }
    return first;
}

/* esp_ota_invalidate_inactive_ota_data_slot: the older otadata entry is erased unless it selects the running app. */
static espsec_err_t invalidate_inactive(app_t *a, espsec_error_t *err)
{
    dev_otadata_entry_t two[2];
    if (a->otadata == NULL || a->n_ota == 0) {
        return ESPSEC_OK;
    }
    espsec_err_t rc = dev_otadata_read(a->fl, a->fe, a->otadata->offset, two, err);
    int active = rc == ESPSEC_OK ? dev_otadata_active(two) : -1;
    if (rc != ESPSEC_OK || active < 0) {
        return rc;
    }
    int inactive = active ^ 1;
    if (dev_otadata_initial(&two[inactive])) {
        return ESPSEC_OK;
    }
    const espsec_partition_t *last =
        espsec_pt_find(&a->pt, 0, (int)(0x10 + (two[inactive].seq - 1) % (uint32_t)a->n_ota));
    if (last == NULL || last == a->running) {
        return ESPSEC_OK;
    }
    rc = espsec_flash_erase(a->fl, a->otadata->offset + (uint32_t)inactive * ESPSEC_FLASH_SECTOR, err);
    if (rc == ESPSEC_OK) {
        a->r->flash_changed = 1;
    }
    return rc;
}

/* esp_rewrite_ota_data: point otadata at OTA slot id. */
static espsec_err_t rewrite_ota_data(app_t *a, int id, espsec_error_t *err)
{
    dev_otadata_entry_t two[2];
    espsec_err_t rc = dev_otadata_read(a->fl, a->fe, a->otadata->offset, two, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint32_t n = (uint32_t)a->n_ota, base = ((uint32_t)id + 1) % n;
    int active = dev_otadata_active(two), next = 0;
    uint32_t seq = (uint32_t)id + 1;
    if (active >= 0) {
        uint32_t i = 0;
        while (two[active].seq > base + i * n) {
            i++;
        }
        seq = base + i * n;
        next = active ^ 1;
    }
    two[next].seq = seq;
    two[next].state = a->cfg.app_rollback ? DEV_OTA_NEW : DEV_OTA_UNDEFINED;
    rc = dev_otadata_write(a->fl, a->fe, a->otadata->offset, next, &two[next], err);
    if (rc == ESPSEC_OK) {
        a->r->flash_changed = 1;
        a->r->otadata_sector = next;
        a->r->seq = seq;
        a->r->state = two[next].state;
        alog(a, 'I', "otadata[%d]: sequence %u, %s", next, seq, dev_ota_state_name(two[next].state));
    }
    return rc;
}

/* Erase [off, off + len) of the flash, whole sectors. */
static espsec_err_t erase_range(app_t *a, uint32_t off, size_t len, espsec_error_t *err)
{
    for (size_t done = 0; done < len; done += ESPSEC_FLASH_SECTOR) {
        espsec_err_t rc = espsec_flash_erase(a->fl, off + (uint32_t)done, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        a->r->flash_changed = 1;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_ota_write(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_ota_opts_t *opts,
                              const uint8_t *image, size_t len, espsec_ota_result_t *result, espsec_error_t *err)
{
    if (efuse == NULL || flash == NULL || opts == NULL || result == NULL || (image == NULL && len > 0)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "espsec_ota_write: missing argument");
    }
    app_t a;
    espsec_err_t rc = app_start(&a, efuse, flash, opts, result, err);
    if (rc != ESPSEC_OK) {
        app_free(&a);
        return rc;
    }
    const espsec_partition_t *p = next_update_partition(&a);
    if (p == NULL || a.otadata == NULL) {
        app_free(&a);
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND,
                           "the partition table has no %s: the device cannot be updated over the air",
                           p == NULL ? "OTA app partition (ota_0, ota_1)" : "otadata partition");
    }
    snprintf(result->target, sizeof(result->target), "%s", p->name);
    result->target_offset = p->offset;
    alog(&a, 'I', "running partition '%s' at 0x%x, writing '%s' at 0x%x%s", result->running, result->running_offset,
         p->name, p->offset, a.fe ? " (flash encryption)" : "");
    int failed = 0;
    char why[320];
    /* esp_ota_begin */
    if (a.cfg.app_rollback) {
        int64_t st = slot_state(&a, a.running, err, &failed);
        if (failed) {
            app_free(&a);
            return err->code;
        }
        if (st == DEV_OTA_PENDING_VERIFY) {
            refuse(&a, "esp_ota_begin", "ESP_ERR_OTA_ROLLBACK_INVALID_STATE",
                   "Running app has not confirmed state (ESP_OTA_IMG_PENDING_VERIFY): confirm it first (espsec ota "
                   "confirm)");
            app_free(&a);
            return ESPSEC_OK;
        }
    }
    size_t erase = (len + ESPSEC_FLASH_SECTOR - 1) / ESPSEC_FLASH_SECTOR * ESPSEC_FLASH_SECTOR;
    if (len == 0 || erase > p->size) {
        refuse(&a, "esp_ota_begin", len == 0 ? "ESP_ERR_INVALID_ARG" : "ESP_ERR_INVALID_SIZE",
               "an image of %zu bytes for partition '%s' of %u bytes", len, p->name, p->size);
        app_free(&a);
        return ESPSEC_OK;
    }
    rc = erase_range(&a, p->offset, erase, err);
    if (rc == ESPSEC_OK && a.cfg.app_rollback) {
        rc = invalidate_inactive(&a, err);
    }
    if (rc != ESPSEC_OK) {
        app_free(&a);
        return rc;
    }
    /* esp_ota_write: the first byte must be the image magic; data goes out in 16-byte units */
    if (image[0] != 0xE9) {
        refuse(&a, "esp_ota_write", "ESP_ERR_OTA_VALIDATE_FAILED",
               "OTA image has invalid magic byte (expected 0xE9, saw 0x%02x)", image[0]);
        app_free(&a);
        return ESPSEC_OK;
    }
    size_t padded = (len + 15) & ~(size_t)15;
    uint8_t *buf = malloc(padded);
    if (buf == NULL) {
        app_free(&a);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for an image of %zu bytes", len);
    }
    memcpy(buf, image, len);
    memset(buf + len, 0xFF, padded - len);
    rc = a.fe ? espsec_flash_write_crypt(flash, a.fe, p->offset, buf, padded, err)
              : espsec_flash_write(flash, p->offset, buf, padded, err);
    free(buf);
    if (rc != ESPSEC_OK) {
        app_free(&a);
        return rc;
    }
    result->flash_changed = 1;
    alog(&a, 'I', "wrote %zu bytes to '%s'", len, p->name);
    /* esp_ota_end: esp_image_verify */
    if (verify_image(&a, p, &result->app, why, sizeof(why), err, &failed) != 0) {
        if (failed) {
            app_free(&a);
            return err->code;
        }
        refuse(&a, "esp_ota_end", "ESP_ERR_OTA_VALIDATE_FAILED", "New image failed verification: %s", why);
        app_free(&a);
        return ESPSEC_OK;
    }
    alog(&a, 'I', "esp_ota_end: image '%s' version %s verified%s", result->app.project_name, result->app.version,
         a.fu.sb == 2 ? " (Secure Boot V2 signature)" : "");
    /* esp_ota_set_boot_partition: anti-rollback, then otadata */
    uint32_t min_ver = efuse_secure_version(efuse);
    if (a.cfg.app_anti_rollback && result->app.secure_version < min_ver) {
        rc = erase_range(&a, p->offset, p->size, err);
        if (rc != ESPSEC_OK) {
            app_free(&a);
            return rc;
        }
        refuse(&a, "esp_ota_set_boot_partition", "ESP_ERR_OTA_SMALL_SEC_VER",
               "This a new partition can not be booted due to a secure version is lower than stored in efuse. "
               "Partition will be erased. (app secure_version %u, eFuse SECURE_VERSION %u)",
               result->app.secure_version, min_ver);
        app_free(&a);
        return ESPSEC_OK;
    }
    rc = rewrite_ota_data(&a, p->subtype - 0x10, err);
    app_free(&a);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    result->accepted = 1;
    snprintf(result->esp_err, sizeof(result->esp_err), "ESP_OK");
    return ESPSEC_OK;
}

/* esp_efuse_update_secure_version: set the lowest clear bits of SECURE_VERSION until v are set. */
static espsec_err_t update_secure_version(app_t *a, uint32_t v, espsec_error_t *err)
{
    uint64_t raw = 0;
    espsec_err_t rc = espsec_efuse_get_uint_hw(a->ef, "SECURE_VERSION", &raw, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    int idx = espsec_efuse_find(a->ef, "SECURE_VERSION");
    espsec_efuse_field_info_t fi;
    if (idx < 0 || espsec_efuse_field_info(a->ef, (size_t)idx, &fi) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "this chip has no SECURE_VERSION eFuse");
    }
    if (v > (uint32_t)fi.bit_len) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "Max secure version is %d. Given %u version can not be written.", fi.bit_len, v);
    }
    if (popcount64(raw) >= v) {
        return ESPSEC_OK;
    }
    uint64_t want = raw;
    for (int b = 0; b < fi.bit_len && popcount64(want) < v; b++) {
        want |= 1ull << b;
    }
    int noop = 0;
    rc = espsec_efuse_stage_uint(a->ef, "SECURE_VERSION", want, &noop, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_burn(a->ef, err);
    }
    if (rc == ESPSEC_OK) {
        a->r->efuse_changed = 1;
        alog(a, 'I', "anti-rollback: eFuse SECURE_VERSION raised to %u", v);
    } else {
        espsec_efuse_discard(a->ef);
    }
    return rc;
}

espsec_err_t espsec_ota_confirm(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_ota_opts_t *opts, int valid,
                                espsec_ota_result_t *result, espsec_error_t *err)
{
    if (efuse == NULL || flash == NULL || opts == NULL || result == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "espsec_ota_confirm: missing argument");
    }
    app_t a;
    espsec_err_t rc = app_start(&a, efuse, flash, opts, result, err);
    if (rc != ESPSEC_OK) {
        app_free(&a);
        return rc;
    }
    result->app = a.boot.app;
    snprintf(result->target, sizeof(result->target), "%s", result->running);
    result->target_offset = result->running_offset;
    const char *call = valid ? "esp_ota_mark_app_valid_cancel_rollback" : "esp_ota_mark_app_invalid_rollback";
    dev_otadata_entry_t two[2];
    int active = -1;
    if (a.otadata != NULL) {
        rc = dev_otadata_read(flash, a.fe, a.otadata->offset, two, err);
        if (rc != ESPSEC_OK) {
            app_free(&a);
            return rc;
        }
        active = dev_otadata_active(two);
    }
    if (active < 0 || a.n_ota == 0) {
        refuse(&a, call, "ESP_FAIL", "Running firmware is factory ('%s' at 0x%x): there is no OTA state to change",
               result->running, result->running_offset);
        app_free(&a);
        return ESPSEC_OK;
    }
    if (valid) {
        if (two[active].state != DEV_OTA_VALID) {
            two[active].state = DEV_OTA_VALID;
            rc = dev_otadata_write(flash, a.fe, a.otadata->offset, active, &two[active], err);
            if (rc != ESPSEC_OK) {
                app_free(&a);
                return rc;
            }
            result->flash_changed = 1;
            alog(&a, 'I', "otadata[%d]: '%s' marked %s", active, result->running, dev_ota_state_name(DEV_OTA_VALID));
            if (a.cfg.app_anti_rollback) {
                rc = update_secure_version(&a, a.boot.app.secure_version, err);
                if (rc != ESPSEC_OK) {
                    app_free(&a);
                    return rc;
                }
            }
        } else {
            alog(&a, 'I', "'%s' is already %s", result->running, dev_ota_state_name(DEV_OTA_VALID));
        }
    } else {
        /* esp_ota_check_rollback_is_possible: the other entry must select a bootable app */
        int other = active ^ 1;
        const espsec_partition_t *prev = NULL;
        if (dev_otadata_valid(&two[other])) {
            prev = espsec_pt_find(&a.pt, 0, (int)(0x10 + (two[other].seq - 1) % (uint32_t)a.n_ota));
        } else if (!a.cfg.app_anti_rollback) {
            prev = espsec_pt_find(&a.pt, 0, 0x00);
        }
        char why[320];
        int failed = 0;
        espsec_app_desc_t pd;
        memset(&pd, 0, sizeof(pd));
        int possible = prev != NULL && verify_image(&a, prev, &pd, why, sizeof(why), err, &failed) == 0;
        if (failed) {
            app_free(&a);
            return err->code;
        }
        if (possible && a.cfg.app_anti_rollback && pd.secure_version < efuse_secure_version(efuse)) {
            possible = 0;
        }
        if (!possible) {
            refuse(&a, call, "ESP_ERR_OTA_ROLLBACK_FAILED",
                   "Rollback is not possible, do not have any suitable apps in slots");
            app_free(&a);
            return ESPSEC_OK;
        }
        two[active].state = DEV_OTA_INVALID;
        rc = dev_otadata_write(flash, a.fe, a.otadata->offset, active, &two[active], err);
        if (rc != ESPSEC_OK) {
            app_free(&a);
            return rc;
        }
        result->flash_changed = 1;
        alog(&a, 'I', "Rollback to previously worked partition '%s'.", prev->name);
    }
    result->otadata_sector = active;
    result->seq = two[active].seq;
    result->state = two[active].state;
    result->secure_version_efuse = efuse_secure_version(efuse);
    result->accepted = 1;
    snprintf(result->esp_err, sizeof(result->esp_err), "ESP_OK");
    app_free(&a);
    return ESPSEC_OK;
}
