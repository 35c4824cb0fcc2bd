/* What the ROM knows about a chip and its eFuses (dev_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/util.h"
#include "util/bytes.h"

int dev_chip(espsec_chip_t chip, dev_chip_t *out)
{
    if (chip == ESPSEC_CHIP_ESP32) {
        *out = (dev_chip_t){ESPSEC_CHIP_ESP32, 0x1000, "FLASH_CRYPT_CNT", 7, ESPSEC_FE_ESP32, "ABS_DONE_1", 1, 300,
                            "DIS_CACHE", "RD_DIS"};
        return 0;
    }
    if (chip == ESPSEC_CHIP_ESP32C3) {
        *out = (dev_chip_t){ESPSEC_CHIP_ESP32C3, 0x0, "SPI_BOOT_CRYPT_CNT", 3, ESPSEC_FE_XTS, "SECURE_BOOT_EN", 3, 3,
                            "DIS_ICACHE", "RD_DIS"};
        return 0;
    }
    return -1;
}

static unsigned popcount(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1) {
        n++;
    }
    return n;
}

static int fuse(const espsec_efuse_t *e, const char *name)
{
    uint64_t v = 0;
    return espsec_efuse_get_uint_hw(e, name, &v, NULL) == ESPSEC_OK && v != 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static void reverse(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[n - 1 - i];
    }
}

static int field_wp(const espsec_efuse_t *e, const char *name)
{
    int i = espsec_efuse_find(e, name);
    espsec_efuse_field_info_t fi;
    return i >= 0 && espsec_efuse_field_info(e, (size_t)i, &fi) == ESPSEC_OK && !fi.writeable;
}

static unsigned field_bits(const espsec_efuse_t *e, const char *name)
{
    int i = espsec_efuse_find(e, name);
    espsec_efuse_field_info_t fi;
    return i >= 0 && espsec_efuse_field_info(e, (size_t)i, &fi) == ESPSEC_OK ? (unsigned)fi.bit_len : 0;
}

/* What every chip has under the same names: revision, anti-rollback, protection of RD_DIS. */
static void read_common(const espsec_efuse_t *e, const dev_chip_t *c, dev_fuses_t *f)
{
    uint64_t major = 0, minor = 0, sv = 0;
    espsec_efuse_get_uint_hw(e, "WAFER_VERSION_MAJOR", &major, NULL);
    espsec_efuse_get_uint_hw(e, "WAFER_VERSION_MINOR", &minor, NULL);
    f->chip_rev = (unsigned)(major * 100 + minor);
    espsec_efuse_get_uint_hw(e, "SECURE_VERSION", &sv, NULL);
    f->secure_version = popcount(sv);
    f->secure_version_max = field_bits(e, "SECURE_VERSION");
    f->rd_dis_locked = field_wp(e, c->rd_dis_wp);
    f->secure_dl = fuse(e, "ENABLE_SECURITY_DOWNLOAD");
    f->sb_aggressive = fuse(e, "SECURE_BOOT_AGGRESSIVE_REVOKE");
}

void dev_set_rev(dev_fuses_t *f, const dev_chip_t *c, int rev_override)
{
    if (rev_override >= 0) {
        f->chip_rev = (unsigned)rev_override;
    }
    f->chip_rev_known = rev_override >= 0 || f->chip_rev != 0;
    if (f->sb == 2 && f->chip_rev_known && f->chip_rev < (unsigned)c->sbv2_min_rev) {
        f->sb_rev_ignored = 1;
        f->sb = 0;
    }
}

void dev_rev_str(unsigned rev, char out[12])
{
    snprintf(out, 12, "v%u.%u", (rev / 100) % 100, rev % 100);
}

espsec_err_t dev_update_secure_version(espsec_efuse_t *e, unsigned bits_limit, unsigned secure_version, int *changed,
                                       espsec_error_t *err)
{
    *changed = 0;
    unsigned size = field_bits(e, "SECURE_VERSION");
    if (size == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "this chip has no SECURE_VERSION eFuse (anti-rollback)");
    }
    if (bits_limit > 0 && bits_limit < size) {
        size = bits_limit;
    }
    if (secure_version > size || secure_version > 63) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "Max secure version is %u. Given %u version can not be written.", size, secure_version);
    }
    uint64_t cur = 0;
    espsec_efuse_get_uint_hw(e, "SECURE_VERSION", &cur, NULL);
    if (popcount(cur) >= secure_version) {
        return ESPSEC_OK;
    }
    int noop = 0;
    espsec_err_t rc = espsec_efuse_stage_uint(e, "SECURE_VERSION", (1ull << secure_version) - 1, &noop, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_burn(e, err);
    }
    *changed = rc == ESPSEC_OK && !noop;
    return rc;
}

espsec_err_t dev_read_fuses(const espsec_efuse_t *e, const dev_chip_t *c, const uint8_t *flash_key, size_t flash_key_len,
                            dev_fuses_t *f, espsec_error_t *err)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < 3; i++) {
        f->sb_digest_blk[i] = -1;
    }
    uint64_t v = 0;
    if (espsec_efuse_get_uint_hw(e, c->crypt_cnt, &v, err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_INVALID_STATE;
    }
    f->crypt_cnt = (unsigned)v;
    f->crypt_bits = popcount(v);
    f->fe_on = f->crypt_bits % 2 == 1;
    f->crypt_cnt_wp = 0;
    int n = espsec_efuse_field_count(e) > 0 ? espsec_efuse_find(e, c->crypt_cnt) : -1;
    if (n >= 0) {
        espsec_efuse_field_info_t fi;
        if (espsec_efuse_field_info(e, (size_t)n, &fi) == ESPSEC_OK) {
            f->crypt_cnt_wp = !fi.writeable;
        }
    }
    uint8_t blk[32];
    int known = 0;
    if (c->chip == ESPSEC_CHIP_ESP32) {
        uint64_t conf = 0;
        espsec_efuse_get_uint_hw(e, "FLASH_CRYPT_CONFIG", &conf, NULL);
        f->crypt_config = (uint8_t)conf;
        size_t klen = espsec_efuse_coding_34(e) ? 24 : 32;
        if (espsec_efuse_get_block_hw(e, 1, blk, &known, err) != ESPSEC_OK) {
            return err ? err->code : ESPSEC_ERR_INVALID_STATE;
        }
        if (known) {
            /* espefuse stores the key file byte-reversed in BLOCK1 */
            reverse(f->fe_key, blk, klen);
            f->fe_key_len = klen;
            f->fe_key_blank = all_zero(blk, 32);
        } else {
            f->fe_key_hidden = 1;
        }
        f->sb = fuse(e, "ABS_DONE_1") ? 2 : fuse(e, "ABS_DONE_0") ? 1 : 0;
        espsec_efuse_get_block(e, 2, blk);
        if (f->sb == 2) {
            f->sb_digest_blk[0] = 2;
            f->sb_digest_hidden[0] = !espsec_efuse_block_readable(e, 2);
            memcpy(f->sb_digests[0], blk, 32);
            f->sb_digest_ok[0] = !all_zero(blk, 32) && !f->sb_digest_hidden[0];
            f->n_sb_digests = 1;
        } else if (f->sb == 1) {
            int k2 = 0;
            uint8_t hw[32];
            if (espsec_efuse_get_block_hw(e, 2, hw, &k2, NULL) == ESPSEC_OK && k2) {
                reverse(f->sbv1_key, hw, 32);
                f->sbv1_key_known = 1;
            }
        }
        f->jtag_disabled = fuse(e, "JTAG_DISABLE");
        f->dl_encrypt_disabled = fuse(e, "DISABLE_DL_ENCRYPT");
        f->dl_decrypt_disabled = fuse(e, "DISABLE_DL_DECRYPT");
        f->dl_cache_disabled = fuse(e, "DISABLE_DL_CACHE");
        f->rom_basic_disabled = fuse(e, "CONSOLE_DEBUG_DISABLE");
        f->dl_mode_disabled = fuse(e, "UART_DOWNLOAD_DIS");
    } else {
        f->fe_key_blank = 1;
        for (int k = 0; k < 6; k++) {
            char name[32];
            snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
            uint64_t p = 0;
            espsec_efuse_get_uint_hw(e, name, &p, NULL);
            if (p == 4 && f->fe_key_len == 0 && !f->fe_key_hidden) { /* XTS_AES_128_KEY */
                f->fe_key_blank = 0;
                if (espsec_efuse_get_block_hw(e, 4 + k, blk, &known, err) != ESPSEC_OK) {
                    return err ? err->code : ESPSEC_ERR_INVALID_STATE;
                }
                if (known) {
                    reverse(f->fe_key, blk, 32);
                    f->fe_key_len = 32;
                } else {
                    f->fe_key_hidden = 1;
                }
            } else if (p >= 9 && p <= 11) { /* SECURE_BOOT_DIGESTn */
                int slot = (int)p - 9;
                char rev[40];
                snprintf(rev, sizeof(rev), "SECURE_BOOT_KEY_REVOKE%d", slot);
                espsec_efuse_get_block(e, 4 + k, f->sb_digests[slot]);
                f->sb_digest_blk[slot] = 4 + k;
                f->sb_digest_hidden[slot] = !espsec_efuse_block_readable(e, 4 + k);
                f->sb_digest_ok[slot] = !fuse(e, rev) && !all_zero(f->sb_digests[slot], 32) &&
                                        !f->sb_digest_hidden[slot];
            }
        }
        f->n_sb_digests = 3;
        f->sb = fuse(e, "SECURE_BOOT_EN") ? 2 : 0;
        f->jtag_disabled = fuse(e, "DIS_PAD_JTAG") && (fuse(e, "DIS_USB_JTAG") || fuse(e, "DIS_USB_SERIAL_JTAG"));
        f->dl_encrypt_disabled = fuse(e, "DIS_DOWNLOAD_MANUAL_ENCRYPT");
        f->dl_decrypt_disabled = f->dl_encrypt_disabled;
        f->dl_cache_disabled = fuse(e, "DIS_DOWNLOAD_ICACHE");
        f->rom_basic_disabled = 1;
        f->dl_mode_disabled = fuse(e, "DIS_DOWNLOAD_MODE");
    }
    read_common(e, c, f);
    if (flash_key != NULL && flash_key_len > 0) {
        if (flash_key_len > sizeof(f->fe_key)) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "flash encryption key of %zu bytes is too long", flash_key_len);
        }
        memcpy(f->fe_key, flash_key, flash_key_len);
        f->fe_key_len = flash_key_len;
        f->fe_key_hidden = 0;
        f->fe_key_blank = 0;
    }
    return ESPSEC_OK;
}

espsec_err_t dev_read(const espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t addr, uint8_t *buf, size_t len,
                      espsec_error_t *err)
{
    size_t size = espsec_flash_size(fl);
    if ((uint64_t)addr + len > size) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "flash read 0x%x+0x%zx runs past the end of the flash (0x%zx)",
                           addr, len, size);
    }
    return fe == NULL ? espsec_flash_read(fl, addr, buf, len, err) : espsec_flash_read_crypt(fl, fe, addr, buf, len, err);
}

const char *dev_partition_usage(const espsec_partition_t *p)
{
    if (p->type == 0) {
        if (p->subtype == 0) {
            return "factory app";
        }
        if (p->subtype >= 0x10 && p->subtype < 0x20) {
            return "OTA app";
        }
        if (p->subtype == 0x20) {
            return "test app";
        }
        return "unknown app";
    }
    if (p->type == 1) {
        switch (p->subtype) {
        case 0x00:
            return "OTA data";
        case 0x01:
            return "RF data";
        case 0x02:
            return "WiFi data";
        case 0x04:
            return "NVS keys";
        case 0x05:
            return "efuse";
        default:
            return "unknown data";
        }
    }
    return "unknown";
}

int dev_otadata_slot(const uint8_t *otadata, size_t len, int n_ota, uint32_t *seq)
{
    dev_otadata_entry_t two[2];
    for (size_t i = 0; i < 2; i++) {
        memset(two[i].raw, 0xFF, sizeof(two[i].raw));
        if ((i + 1) * 0x1000 <= len) {
            memcpy(two[i].raw, otadata + i * 0x1000, 32);
        }
        two[i].seq = get_le32(two[i].raw);
        two[i].state = get_le32(two[i].raw + 24);
        two[i].crc = get_le32(two[i].raw + 28);
    }
    int active = dev_otadata_active(two);
    if (active < 0 || n_ota <= 0 || two[active].seq == 0) {
        return -1;
    }
    *seq = two[active].seq;
    return (int)((two[active].seq - 1) % (uint32_t)n_ota);
}

espsec_err_t espsec_device_update_secure_version(espsec_efuse_t *efuse, unsigned field_bits, unsigned secure_version,
                                                 int *changed, espsec_error_t *err)
{
    return dev_update_secure_version(efuse, field_bits, secure_version, changed, err);
}
