/* What the ROM knows about a chip and its eFuses (dev_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/util.h"
#include "util/bytes.h"

int dev_chip(espsec_chip_t chip, dev_chip_t *out)
{
    const espsec_chip_info_t *ci = espsec_chip_by_id(chip);
    if (ci == NULL || !ci->has_security || ci->efuse == NULL || !(ci->sb.versions & ESPSEC_SBCAP_V2)) {
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->ci = ci;
    out->chip = ci->id;
    out->boot_offset = ci->bootloader_offset;
    out->crypt_cnt = ci->fe.crypt_cnt;
    out->crypt_cnt_bits = ci->fe.crypt_cnt_bits;
    out->fe_mode = (ci->fe.modes & ESPSEC_FE_MODE_ESP32_AES) ? ESPSEC_FE_ESP32 : ESPSEC_FE_XTS;
    out->sb_enable = ci->sb.enable;
    out->digest_slots = ci->sb.digest_slots;
    out->sbv2_min_rev = dev_sbv2_min_rev(ci, ESPSEC_SB_RSA3072);
    out->cache_wp = NULL; /* resolved against the eFuse table (dev_cache_fuse) */
    out->rd_dis_wp = "RD_DIS";
    return 0;
}

int dev_sbv2_min_rev(const espsec_chip_info_t *ci, espsec_sb_scheme_t scheme)
{
    const char *tag = scheme == ESPSEC_SB_RSA3072    ? "(RSA)"
                      : scheme == ESPSEC_SB_ECDSA384 ? "(ECDSA-P384)"
                      : scheme == ESPSEC_SB_ECDSA192 ? "(ECDSA-P192)"
                                                     : "(ECDSA-P256)";
    int rev = 0;
    for (const espsec_chip_rev_req_t *r = ci->rev_reqs; r != NULL && r->feature != NULL; r++) {
        if (strncmp(r->feature, "Secure Boot V2", 14) != 0) {
            continue;
        }
        const char *paren = strchr(r->feature, '(');
        if ((paren == NULL || strstr(r->feature, tag) != NULL) && r->min_rev > rev) {
            rev = r->min_rev;
        }
    }
    return rev;
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
    const espsec_chip_info_t *ci = c->ci;
    f->sb_digest_bytes = ci->sb.digest_bytes ? ci->sb.digest_bytes : 32;
    if (!ci->fe.key_purpose_field && !ci->fe.shared_key0) {
        /* one key block and one digest block (ESP32) */
        uint64_t conf = 0;
        espsec_efuse_get_uint_hw(e, "FLASH_CRYPT_CONFIG", &conf, NULL);
        f->crypt_config = (uint8_t)conf;
        size_t klen = espsec_efuse_coding_34(e) ? 24 : 32;
        int kb = espsec_efuse_block_by_name(e, ci->fe.key_block), db = espsec_efuse_block_by_name(e, ci->sb.digest_block);
        if (kb < 0 || db < 0 || espsec_efuse_get_block_hw(e, kb, blk, &known, err) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "the eFuse file has no key block %s", ci->fe.key_block);
        }
        if (known) {
            /* espefuse stores the key file byte-reversed */
            reverse(f->fe_key, blk, klen);
            f->fe_key_len = klen;
            f->fe_key_blank = all_zero(blk, 32);
        } else {
            f->fe_key_hidden = 1;
        }
        f->sb = fuse(e, ci->sb.enable) ? 2 : (ci->sb.enable_v1 && fuse(e, ci->sb.enable_v1)) ? 1 : 0;
        espsec_efuse_get_block(e, db, blk);
        if (f->sb == 2) {
            f->sb_digest_blk[0] = db;
            f->sb_digest_hidden[0] = !espsec_efuse_block_readable(e, db);
            memcpy(f->sb_digests[0], blk, 32);
            f->sb_digest_ok[0] = !all_zero(blk, 32) && !f->sb_digest_hidden[0];
            f->n_sb_digests = 1;
        } else if (f->sb == 1) {
            int k2 = 0;
            uint8_t hw[32];
            if (espsec_efuse_get_block_hw(e, db, hw, &k2, NULL) == ESPSEC_OK && k2) {
                reverse(f->sbv1_key, hw, 32);
                f->sbv1_key_known = 1;
            }
        }
    } else if (ci->fe.shared_key0) {
        /* C2: BLOCK_KEY0's low half the 128-bit key (or all of it the 256-bit one), its high half the digest */
        int kb = espsec_efuse_block_by_name(e, ci->fe.key_block);
        if (kb < 0 || espsec_efuse_get_block_hw(e, kb, blk, &known, err) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "the eFuse file has no key block %s", ci->fe.key_block);
        }
        uint64_t full = 0;
        if (ci->fe.xts_key_size_fuse != NULL) {
            espsec_efuse_get_uint_hw(e, ci->fe.xts_key_size_fuse, &full, NULL);
        }
        uint8_t sw[32];
        espsec_efuse_get_block(e, kb, sw);
        int lo_hidden = !known, lo_used = !all_zero(blk, 16) || lo_hidden;
        f->fe_key_blank = !lo_used;
        if (lo_used && !lo_hidden) {
            size_t klen = full ? 32 : 16;
            reverse(f->fe_key, blk, klen);
            f->fe_key_len = klen;
        } else if (lo_used) {
            f->fe_key_hidden = 1;
        }
        f->sb = fuse(e, ci->sb.enable) ? 2 : 0;
        int hi = espsec_efuse_find(e, "BLOCK_KEY0_HI_128");
        espsec_efuse_field_info_t fi;
        f->sb_digest_blk[0] = kb;
        f->sb_digest_hidden[0] = hi >= 0 && espsec_efuse_field_info(e, (size_t)hi, &fi) == ESPSEC_OK && !fi.readable;
        if (!full) {
            memcpy(f->sb_digests[0], sw + 16, 16);
            f->sb_digest_ok[0] = !all_zero(sw + 16, 16) && !f->sb_digest_hidden[0];
        }
        f->n_sb_digests = 1;
    } else {
        f->fe_key_blank = 1;
        uint8_t halves[2][32];
        int have_half[2] = {0, 0};
        for (int k = 0; k < 6; k++) {
            char name[32], bname[32];
            snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
            snprintf(bname, sizeof(bname), "BLOCK_KEY%d", k);
            int bn = espsec_efuse_block_by_name(e, bname);
            uint64_t p = 0;
            if (bn < 0 || espsec_efuse_get_uint_hw(e, name, &p, NULL) != ESPSEC_OK) {
                continue;
            }
            const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(ci, (int)p);
            if (kp == NULL || p == 0) {
                continue;
            }
            if (espsec_efuse_get_block_hw(e, bn, blk, &known, err) != ESPSEC_OK) {
                return err ? err->code : ESPSEC_ERR_INVALID_STATE;
            }
            int half = strcmp(kp->name, "XTS_AES_256_KEY_1") == 0 ? 0 : strcmp(kp->name, "XTS_AES_256_KEY_2") == 0 ? 1 : -1;
            if (strcmp(kp->name, "XTS_AES_128_KEY") == 0 && f->fe_key_len == 0 && !f->fe_key_hidden) {
                f->fe_key_blank = 0;
                if (known) {
                    reverse(f->fe_key, blk, 32);
                    f->fe_key_len = 32;
                } else {
                    f->fe_key_hidden = 1;
                }
            } else if (half >= 0) {
                f->fe_key_blank = 0;
                if (known) {
                    reverse(halves[half], blk, 32);
                    have_half[half] = 1;
                } else {
                    f->fe_key_hidden = 1;
                }
            } else if (strncmp(kp->name, "SECURE_BOOT_DIGEST", 18) == 0 && kp->name[18] >= '0' && kp->name[18] <= '2') {
                int slot = kp->name[18] - '0';
                const char *rev = slot < 3 ? ci->sb.revoke[slot] : NULL;
                espsec_efuse_get_block(e, bn, f->sb_digests[slot]);
                f->sb_digest_blk[slot] = bn;
                f->sb_digest_hidden[slot] = !espsec_efuse_block_readable(e, bn);
                f->sb_digest_ok[slot] = !(rev && fuse(e, rev)) && !all_zero(f->sb_digests[slot], 32) &&
                                        !f->sb_digest_hidden[slot];
            }
        }
        if (have_half[0] && have_half[1] && f->fe_key_len == 0) {
            memcpy(f->fe_key, halves[0], 32);
            memcpy(f->fe_key + 32, halves[1], 32);
            f->fe_key_len = 64;
        }
        espsec_wipe(halves, sizeof(halves));
        f->n_sb_digests = ci->sb.digest_slots;
        f->sb = fuse(e, ci->sb.enable) ? 2 : 0;
    }
    espsec_wipe(blk, sizeof(blk));
    const espsec_chip_lock_t *lk = &ci->lock;
    f->jtag_disabled = (lk->dis_pad_jtag == NULL || fuse(e, lk->dis_pad_jtag)) &&
                       (lk->dis_usb_jtag == NULL || fuse(e, lk->dis_usb_jtag));
    f->dl_encrypt_disabled = lk->dis_dl_encrypt != NULL && fuse(e, lk->dis_dl_encrypt);
    f->dl_decrypt_disabled = lk->dis_dl_decrypt != NULL ? fuse(e, lk->dis_dl_decrypt) : f->dl_encrypt_disabled;
    f->dl_cache_disabled = lk->dis_dl_cache != NULL && fuse(e, lk->dis_dl_cache);
    f->rom_basic_disabled = lk->console_debug_disable == NULL || fuse(e, lk->console_debug_disable);
    f->dl_mode_disabled = lk->dis_download != NULL && fuse(e, lk->dis_download);
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
