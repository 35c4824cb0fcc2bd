/*
 * otadata as ESP-IDF's bootloader and esp_ota_ops read and write it
 * (docs/FORMATS.md, "otadata"; dev_internal.h): the two 32-byte entries, the
 * rules for a valid entry and the active one, and the writes that change an
 * entry (erase its sector, program the entry; through flash encryption when
 * it is on).
 */
#include <string.h>

#include "dev_internal.h"
#include "espsec/util.h"
#include "util/bytes.h"

/* esp_ota_select_entry_t: ota_seq (4), seq_label (20), ota_state (4), crc (4) */
#define OTADATA_SEQ 0
#define OTADATA_STATE 24
#define OTADATA_CRC 28

const char *dev_ota_state_name(uint32_t state)
{
    switch (state) {
    case DEV_OTA_NEW:
        return "ESP_OTA_IMG_NEW";
    case DEV_OTA_PENDING_VERIFY:
        return "ESP_OTA_IMG_PENDING_VERIFY";
    case DEV_OTA_VALID:
        return "ESP_OTA_IMG_VALID";
    case DEV_OTA_INVALID:
        return "ESP_OTA_IMG_INVALID";
    case DEV_OTA_ABORTED:
        return "ESP_OTA_IMG_ABORTED";
    case DEV_OTA_UNDEFINED:
        return "ESP_OTA_IMG_UNDEFINED";
    default:
        return "unknown state";
    }
}

uint32_t dev_otadata_crc(const dev_otadata_entry_t *e)
{
    uint8_t seq[4];
    put_le32(seq, e->seq);
    return espsec_crc32(0xFFFFFFFFu, seq, 4);
}

/* bootloader_common_ota_select_invalid / _valid */
static int entry_invalid(const dev_otadata_entry_t *e)
{
    return e->seq == 0xFFFFFFFFu || e->state == DEV_OTA_INVALID || e->state == DEV_OTA_ABORTED;
}

int dev_otadata_unused(const dev_otadata_entry_t *e)
{
    return entry_invalid(e);
}

int dev_otadata_valid(const dev_otadata_entry_t *e)
{
    return !entry_invalid(e) && e->crc == dev_otadata_crc(e);
}

int dev_otadata_initial(const dev_otadata_entry_t *e)
{
    return e->seq == 0xFFFFFFFFu || e->crc != dev_otadata_crc(e);
}

int dev_otadata_active(const dev_otadata_entry_t two[2])
{
    int v0 = dev_otadata_valid(&two[0]), v1 = dev_otadata_valid(&two[1]);
    if (v0 && v1) {
        return two[0].seq >= two[1].seq ? 0 : 1;
    }
    return v0 ? 0 : v1 ? 1 : -1;
}

espsec_err_t dev_otadata_read(const espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, dev_otadata_entry_t two[2],
                              espsec_error_t *err)
{
    for (int i = 0; i < 2; i++) {
        uint8_t raw[32];
        espsec_err_t rc = dev_read(fl, fe, off + (uint32_t)i * ESPSEC_FLASH_SECTOR, raw, sizeof(raw), err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        memcpy(two[i].raw, raw, sizeof(raw));
        two[i].seq = get_le32(raw + OTADATA_SEQ);
        two[i].state = get_le32(raw + OTADATA_STATE);
        two[i].crc = get_le32(raw + OTADATA_CRC);
    }
    return ESPSEC_OK;
}

espsec_err_t dev_otadata_write(espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, int sector,
                               dev_otadata_entry_t *e, espsec_error_t *err)
{
    uint8_t raw[32];
    memcpy(raw, e->raw, sizeof(raw));
    put_le32(raw + OTADATA_SEQ, e->seq);
    put_le32(raw + OTADATA_STATE, e->state);
    e->crc = dev_otadata_crc(e);
    put_le32(raw + OTADATA_CRC, e->crc);
    memcpy(e->raw, raw, sizeof(raw));
    uint32_t at = off + (uint32_t)sector * ESPSEC_FLASH_SECTOR;
    espsec_err_t rc = espsec_flash_erase(fl, at, err);
    if (rc == ESPSEC_OK) {
        rc = fe ? espsec_flash_write_crypt(fl, fe, at, raw, sizeof(raw), err)
                : espsec_flash_write(fl, at, raw, sizeof(raw), err);
    }
    return rc;
}

int dev_otadata_boot_select(espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, int n_ota, int rollback,
                            int *changed, espsec_error_t *err)
{
    dev_otadata_entry_t two[2];
    *changed = 0;
    if (dev_otadata_read(fl, fe, off, two, err) != ESPSEC_OK) {
        return -2;
    }
    if (rollback) {
        /* an app that was tried and not confirmed is aborted */
        for (int i = 0; i < 2; i++) {
            if (two[i].state == DEV_OTA_PENDING_VERIFY) {
                two[i].state = DEV_OTA_ABORTED;
                if (dev_otadata_write(fl, fe, off, i, &two[i], err) != ESPSEC_OK) {
                    return -2;
                }
                *changed = 1;
            }
        }
    }
    int active = dev_otadata_active(two);
    if (active < 0 || n_ota <= 0) {
        return -1;
    }
    if (rollback && two[active].state == DEV_OTA_NEW) {
        /* its first boot: the app has to confirm it before the next reset */
        two[active].state = DEV_OTA_PENDING_VERIFY;
        if (dev_otadata_write(fl, fe, off, active, &two[active], err) != ESPSEC_OK) {
            return -2;
        }
        *changed = 1;
    }
    return (int)((two[active].seq - 1) % (uint32_t)n_ota);
}

int dev_sbv2_check(const uint8_t *buf, size_t len, size_t image_len, const uint8_t digests[3][32], const int ok[3],
                   int only_first, char *why, size_t cap, uint8_t key_digest_out[32])
{
    size_t padded = (image_len + 4095) & ~(size_t)4095;
    if (padded > len || len - padded < 4096) {
        snprintf(why, cap, "no signature sector: the image ends at 0x%zx and the region at 0x%zx", image_len, len);
        return -1;
    }
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    espsec_error_t e;
    if (espsec_sbv2_info(buf, padded + 4096, 0, info, &e) != ESPSEC_OK) {
        snprintf(why, cap, "%s", e.msg);
        return -1;
    }
    snprintf(why, cap, "no signature block (the image is not signed)");
    for (int b = 0; b < (only_first ? 1 : ESPSEC_SBV2_MAX_BLOCKS); b++) {
        if (!info[b].present) {
            if (b == 0) {
                snprintf(why, cap, "signature block 0 at 0x%zx: %s", padded, info[b].problem);
            }
            continue;
        }
        if (!info[b].digest_matches) {
            snprintf(why, cap, "signature block %d: the image digest does not match (the image was changed after "
                               "signing)",
                     b);
            continue;
        }
        int allowed = 0;
        for (int k = 0; k < 3; k++) {
            allowed |= ok[k] && espsec_ct_compare(digests[k], info[b].key_digest, 32) == 0;
        }
        if (!allowed) {
            char hex[65];
            espsec_hex(info[b].key_digest, 32, hex, 0);
            snprintf(why, cap, "signature block %d: key digest %.16s... is not burned in eFuse (signed with another key)",
                     b, hex);
            continue;
        }
        uint8_t kd[32];
        if (espsec_sbv2_verify_block(buf + padded + (size_t)b * ESPSEC_SBV2_BLOCK_SIZE, info[b].digest,
                                     info[b].digest_len, kd, &e) != ESPSEC_OK) {
            snprintf(why, cap, "signature block %d: %s", b, e.msg);
            continue;
        }
        if (key_digest_out != NULL) {
            memcpy(key_digest_out, kd, 32);
        }
        return b;
    }
    return -1;
}

void dev_sbv2_expand_half_digests(const uint8_t *buf, size_t len, size_t image_len, size_t bytes,
                                  uint8_t digests[3][32], const int ok[3])
{
    size_t padded = (image_len + 4095) & ~(size_t)4095;
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    if (bytes >= 32 || padded > len || len - padded < 4096 ||
        espsec_sbv2_info(buf, padded + 4096, 0, info, NULL) != ESPSEC_OK) {
        return;
    }
    for (int b = 0; b < ESPSEC_SBV2_MAX_BLOCKS; b++) {
        for (int k = 0; info[b].present && k < 3; k++) {
            if (ok[k] && espsec_ct_compare(digests[k], info[b].key_digest, bytes) == 0) {
                memcpy(digests[k], info[b].key_digest, 32);
            }
        }
    }
}
