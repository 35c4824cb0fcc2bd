/*
 * write-flash over the ROM download mode, as esptool and the chip would do
 * it under a set of eFuses (espsec/reflash.h). Which fuses matter comes from
 * the chip model; esptool's checks are played in its order, with its words.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/chip.h"
#include "espsec/reflash.h"
#include "espsec/util.h"

typedef struct {
    const espsec_efuse_t *ef;
    const espsec_chip_info_t *chip;
    espsec_dl_result_t *r;
} dl_t;

static int fuse_set(const espsec_efuse_t *e, const char *name)
{
    uint64_t v = 0;
    return name != NULL && espsec_efuse_find(e, name) >= 0 && espsec_efuse_get_uint_hw(e, name, &v, NULL) == ESPSEC_OK &&
           v != 0;
}

/* The refusal: what esptool prints before it stops. */
static void answer(dl_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void answer(dl_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->r->answer, sizeof(d->r->answer), fmt, ap);
    va_end(ap);
}

static void note(dl_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(dl_t *d, const char *fmt, ...)
{
    size_t used = strlen(d->r->notes);
    if (used + 2 >= sizeof(d->r->notes)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->r->notes + used, sizeof(d->r->notes) - used, fmt, ap);
    va_end(ap);
    used = strlen(d->r->notes);
    if (used + 1 < sizeof(d->r->notes)) {
        d->r->notes[used] = '\n';
        d->r->notes[used + 1] = '\0';
    }
}

/* esptool's is_flash_encryption_key_valid: a read-protected or non-zero key block, or an XTS key purpose. */
static int fe_key_valid(const dl_t *d)
{
    if (d->chip->fe.key_block != NULL) {
        int b = espsec_efuse_block_by_name(d->ef, d->chip->fe.key_block);
        if (b < 0) {
            return 0;
        }
        if (!espsec_efuse_block_readable(d->ef, b)) {
            return 1;
        }
        uint8_t blk[32];
        espsec_efuse_get_block(d->ef, b, blk);
        uint8_t acc = 0;
        for (size_t i = 0; i < sizeof(blk); i++) {
            acc |= blk[i];
        }
        return acc != 0;
    }
    for (int k = 0; k < 16; k++) {
        char name[24];
        uint64_t v = 0;
        snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
        if (espsec_efuse_find(d->ef, name) < 0) {
            break;
        }
        espsec_efuse_get_uint_hw(d->ef, name, &v, NULL);
        const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(d->chip, (int)v);
        if (v != 0 && kp != NULL && strncmp(kp->name, "XTS_AES", 7) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Does the chip decrypt reads of addr (bootloader, table, apps, otadata, nvs_keys, 'encrypted')? Names it. */
static int decrypted_region(const espsec_partition_table_t *pt, int have_pt, uint32_t pt_off, uint32_t addr,
                            char *what, size_t cap)
{
    if (addr < pt_off) {
        snprintf(what, cap, "the bootloader region");
        return 1;
    }
    if (addr < pt_off + 0x1000) {
        snprintf(what, cap, "the partition table");
        return 1;
    }
    for (size_t i = 0; have_pt && i < pt->count; i++) {
        const espsec_partition_t *p = &pt->entries[i];
        if (addr < p->offset || addr - p->offset >= p->size) {
            continue;
        }
        snprintf(what, cap, "partition '%s'", p->name);
        return p->type == 0 || (p->flags & ESPSEC_PT_FLAG_ENCRYPTED) ||
               (p->type == 1 && (p->subtype == 0x00 || p->subtype == 0x04));
    }
    snprintf(what, cap, "no partition");
    return 0;
}

/* esptool's checks, in its order; 0 to go on, -1 refused (answer set). */
static int checks(dl_t *d, const espsec_dl_opts_t *o, const espsec_dl_file_t *files, size_t n, int fe_on,
                  size_t flash_size)
{
    const espsec_chip_info_t *c = d->chip;
    const char *chip = c->display;
    int sdm = d->r->secure_download;
    int dl_enc_off = fuse_set(d->ef, c->lock.dis_dl_encrypt);
    if (!o->force && !sdm && fuse_set(d->ef, c->sb.enable_v1)) {
        for (size_t i = 0; i < n; i++) {
            if (files[i].addr < 0x8000) {
                answer(d, "A fatal error occurred: Secure Boot V1 detected, writing to flash regions < 0x8000 is "
                          "disabled to protect the bootloader. Use the force argument to override, please use with "
                          "caution, otherwise it may brick your device!");
                return -1;
            }
        }
    }
    if (!o->force && !sdm) {
        for (size_t i = 0; i < n; i++) {
            espsec_image_t img;
            if (files[i].len > 0 && files[i].data[0] == 0xE9 &&
                espsec_image_parse(files[i].data, files[i].len, &img, NULL) == ESPSEC_OK &&
                img.chip_id != (uint16_t)c->id) {
                answer(d, "A fatal error occurred: '%s' is not an %s image. Use the force argument to flash anyway.",
                       files[i].name, chip);
                return -1;
            }
        }
    }
    if (o->encrypt) {
        int do_write = 1;
        if ((c->fe.modes & ESPSEC_FE_MODE_ESP32_AES) && o->no_stub) {
            /* the AES-with-tweak chip's ROM loader has no encrypted write; only the stub has */
            answer(d, "A fatal error occurred: %s ROM bootloader does not support encrypted writes. Encrypted writing "
                      "is only supported by the flasher stub. Do not use --no-stub when writing encrypted data.",
                   chip);
            return -1;
        }
        if (!sdm) {
            if (dl_enc_off) {
                answer(d, "A fatal error occurred: This chip has encrypt functionality in UART download mode "
                          "disabled. This is the Flash Encryption configuration for Production mode instead of "
                          "Development mode.");
                return -1;
            }
            uint64_t conf = 0;
            if (espsec_efuse_find(d->ef, "FLASH_CRYPT_CONFIG") >= 0 &&
                espsec_efuse_get_uint_hw(d->ef, "FLASH_CRYPT_CONFIG", &conf, NULL) == ESPSEC_OK && conf != 0xF) {
                note(d, "esptool: Unexpected FLASH_CRYPT_CONFIG value: %#llx", (unsigned long long)conf);
                do_write = 0;
            }
            if (!fe_key_valid(d)) {
                note(d, "esptool: Flash encryption key is not programmed.");
                do_write = 0;
            }
        }
        unsigned align = (c->fe.modes & ESPSEC_FE_MODE_ESP32_AES) ? 32 : 16;
        for (size_t i = 0; i < n; i++) {
            if (files[i].addr % align != 0) {
                note(d, "esptool: '%s' (address %#x) is not %u byte aligned, can't flash encrypted.", files[i].name,
                     files[i].addr, align);
                do_write = 0;
            }
        }
        if (!do_write) {
            answer(d, "A fatal error occurred: Can't perform encrypted flash write, consult Flash Encryption "
                      "documentation for more information.");
            return -1;
        }
        if (sdm && dl_enc_off) {
            /* esptool cannot read the fuse in SDM; the ROM itself refuses the encrypted FLASH_BEGIN */
            answer(d, "A fatal error occurred: the ROM refuses the encrypted flash write (%s is burned; esptool "
                      "cannot check it in Secure Download Mode, so the failure comes from the chip's reply to "
                      "FLASH_BEGIN)",
                   c->lock.dis_dl_encrypt);
            return -1;
        }
    } else if (!o->force) {
        if (sdm && fe_on) {
            answer(d, "A fatal error occurred: Detected flash encryption and secure download mode enabled. Flashing "
                      "plaintext binary may brick your device! Use the force argument to override the warning.");
            return -1;
        }
        if (!sdm && dl_enc_off && fe_on) {
            answer(d, "A fatal error occurred: Detected flash encryption enabled and download manual encrypt "
                      "disabled. Data must be encrypted appropriately before flashing. Flashing plaintext data may "
                      "brick your device! Use the force argument to override the warning.");
            return -1;
        }
    }
    /* sizes: the detected flash (or --flash-size); in SDM the ROM assumes 2 MB and addresses 24 bits */
    size_t end_limit = flash_size;
    if (o->flash_size != 0 && o->flash_size < end_limit) {
        end_limit = o->flash_size;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t end = (uint64_t)files[i].addr + files[i].len;
        if (sdm && end > 0x1000000u) {
            answer(d, "A fatal error occurred: '%s' at %#010x runs past 16 MB, which Secure Download Mode cannot "
                      "address (3-byte addresses: the data would wrap to the start of the flash)",
                   files[i].name, files[i].addr);
            return -1;
        }
        if (sdm && o->flash_size == 0 && end > 0x200000u) {
            answer(d, "A fatal error occurred: Failed to write to target Flash after seq 0 (result was 01640000): in "
                      "Secure Download Mode the ROM assumes a 2MB flash; give --flash-size");
            return -1;
        }
        if ((!sdm || o->flash_size != 0) && end > end_limit) {
            answer(d, "A fatal error occurred: File '%s' (length %zu) at offset %#010x will not fit in %zu bytes of "
                      "flash. Change the flash_size argument or flashing address.",
                   files[i].name, files[i].len, files[i].addr, end_limit);
            return -1;
        }
    }
    return 0;
}

espsec_err_t espsec_download_write(const espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_dl_opts_t *opts,
                                   const espsec_dl_file_t *files, size_t n, espsec_dl_result_t *result,
                                   espsec_error_t *err)
{
    if (efuse == NULL || flash == NULL || opts == NULL || result == NULL || (files == NULL && n > 0)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "espsec_download_write: missing argument");
    }
    memset(result, 0, sizeof(*result));
    const espsec_chip_info_t *c = espsec_chip_by_id(espsec_efuse_chip(efuse));
    dev_chip_t dc;
    if (c == NULL || !c->has_security || dev_chip(c->id, &dc) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "the virtual device does not model this chip's download mode");
    }
    dl_t d = {efuse, c, result};
    dev_fuses_t fu;
    if (dev_read_fuses(efuse, &dc, opts->flash_key, opts->flash_key_len, &fu, err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_INVALID_STATE;
    }
    result->fe_on = fu.fe_on;
    result->crypt_bits = fu.crypt_bits;
    result->crypt_max = (unsigned)c->fe.crypt_cnt_bits;
    result->reflashes_left = fu.crypt_cnt_wp ? 0 : (int)((result->crypt_max - fu.crypt_bits) / 2);
    /* connecting: the ROM answers only when download mode is allowed */
    if (fuse_set(efuse, c->lock.dis_download)) {
        answer(&d, "A fatal error occurred: Failed to connect to %s: No serial data received. (%s is burned: the ROM "
                   "never enters download mode, over UART or USB; only the running app can update the flash)",
               c->display, c->lock.dis_download);
        return ESPSEC_OK;
    }
    result->connected = 1;
    result->secure_download = fuse_set(efuse, c->lock.secure_download);
    if (result->secure_download) {
        note(&d, "esptool: Chip type: %s in Secure Download Mode (no stub, no flash reads, no verification)",
             c->display);
    }
    if (checks(&d, opts, files, n, fu.fe_on, espsec_flash_size(flash)) != 0) {
        return ESPSEC_OK;
    }
    /* which regions the chip decrypts, from the partition table it boots with */
    espsec_fe_ctx_t *fe = NULL;
    espsec_err_t rc = ESPSEC_OK;
    if (opts->encrypt || fu.fe_on) {
        if (fu.fe_key_len == 0) {
            if (opts->encrypt) {
                return espsec_fail(err, ESPSEC_ERR_KEY,
                                   "the chip would encrypt with its eFuse key, which this eFuse file hides: give it "
                                   "with --flash-key to rehearse --encrypt");
            }
        } else {
            espsec_flash_enc_params_t p = {dc.fe_mode, fu.crypt_config};
            if (espsec_fe_new(&p, fu.fe_key, fu.fe_key_len, &fe, err) != ESPSEC_OK) {
                return err ? err->code : ESPSEC_ERR_KEY;
            }
        }
    }
    uint32_t pt_off = opts->pt_offset ? opts->pt_offset : 0x8000;
    espsec_partition_table_t pt;
    int have_pt = 0;
    uint8_t ptb[0xC00];
    if (pt_off + sizeof(ptb) <= espsec_flash_size(flash) &&
        dev_read(flash, fu.fe_on ? fe : NULL, pt_off, ptb, sizeof(ptb), NULL) == ESPSEC_OK) {
        espsec_pt_opts_t po;
        espsec_pt_opts_default(&po);
        po.table_offset = pt_off;
        have_pt = (fe != NULL || !fu.fe_on) && espsec_pt_from_binary(ptb, sizeof(ptb), &po, &pt, NULL) == ESPSEC_OK;
    }
    /* the writes: erase the covered sectors, program (encrypted by the chip with --encrypt) */
    unsigned align = opts->encrypt ? ((c->fe.modes & ESPSEC_FE_MODE_ESP32_AES) ? 32 : 16) : 4;
    for (size_t i = 0; rc == ESPSEC_OK && i < n; i++) {
        const espsec_dl_file_t *f = &files[i];
        size_t padded = (f->len + align - 1) / align * align;
        uint32_t start = f->addr & ~(ESPSEC_FLASH_SECTOR - 1);
        uint64_t end = ((uint64_t)f->addr + padded + ESPSEC_FLASH_SECTOR - 1) & ~(uint64_t)(ESPSEC_FLASH_SECTOR - 1);
        uint8_t *buf = malloc(padded ? padded : 1);
        if (buf == NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
            break;
        }
        memcpy(buf, f->data, f->len);
        memset(buf + f->len, 0xFF, padded - f->len);
        for (uint64_t a = start; rc == ESPSEC_OK && a < end; a += ESPSEC_FLASH_SECTOR) {
            rc = espsec_flash_erase(flash, (uint32_t)a, err);
        }
        if (rc == ESPSEC_OK && padded > 0) {
            rc = opts->encrypt ? espsec_flash_write_crypt(flash, fe, f->addr, buf, padded, err)
                               : espsec_flash_write(flash, f->addr, buf, padded, err);
        }
        free(buf);
        if (rc != ESPSEC_OK) {
            break;
        }
        note(&d, "esptool: Flash will be erased from %#010x to %#010llx... Wrote %zu bytes at %#010x%s", start,
             (unsigned long long)(end - 1), f->len, f->addr,
             opts->encrypt ? " (encrypted by the chip)" : "");
        char what[64];
        int dec = decrypted_region(&pt, have_pt, pt_off, f->addr, what, sizeof(what));
        if (!opts->encrypt && fu.fe_on && dec) {
            note(&d, "%#x ('%s'): plaintext in %s, which the chip decrypts: the next boot reads garbage there", f->addr,
                 f->name, what);
        } else if (opts->encrypt && !fu.fe_on) {
            note(&d, "%#x ('%s'): written encrypted, but flash encryption is off: the chip reads ciphertext there",
                 f->addr, f->name);
        } else if (opts->encrypt && fu.fe_on && !dec) {
            note(&d, "%#x ('%s'): written encrypted into %s, which the chip reads without decryption", f->addr,
                 f->name, what);
        }
    }
    espsec_fe_free(fe);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    result->written = 1;
    if (!opts->encrypt && !fu.fe_on && fu.crypt_bits > 0) {
        if (fu.crypt_cnt_wp) {
            note(&d, "%s is write-protected with %u of %u bits set: flash encryption can never be turned on again, "
                     "the plaintext stays plaintext",
                 c->fe.crypt_cnt, fu.crypt_bits, result->crypt_max);
        } else {
            note(&d, "development-mode re-flash: flash encryption is off (%s has %u of %u bits); the next first boot "
                     "encrypts in place and burns bit %u, leaving %u more plaintext re-flashes",
                 c->fe.crypt_cnt, fu.crypt_bits, result->crypt_max, fu.crypt_bits + 1,
                 (result->crypt_max - fu.crypt_bits - 1) / 2);
        }
    }
    return ESPSEC_OK;
}
