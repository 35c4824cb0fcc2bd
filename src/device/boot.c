/*
 * The boot simulation (espsec/device.h): ROM, second-stage bootloader with
 * first-boot provisioning, and the start of the app (NVS keys). Each pass
 * ends with the app running, a failure, or a software reset after
 * provisioning (then the next pass boots the provisioned device).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/nvs.h"
#include "espsec/util.h"
#include "util/bytes.h"

typedef struct {
    espsec_efuse_t *ef;
    espsec_flash_t *fl;
    const espsec_boot_opts_t *o;
    espsec_device_config_t cfg;
    int have_cfg;
    espsec_boot_result_t *r;
    dev_chip_t chip;
    dev_fuses_t fu;
    espsec_fe_ctx_t *fe; /* reads decrypt through this when flash encryption is on */
    unsigned ms;
    uint64_t rng_ctr;
    espsec_partition_table_t pt;
    int reset;    /* the pass ended with a software reset */
    int sw_reset; /* this pass follows one */
} device_t;

/* snprintf for messages that may be cut (a longer cause is cut, not overflowed) */
static void fmtcpy(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmtcpy(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* ---- the console ---- */

static void raw(device_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void raw(device_t *d, const char *fmt, ...)
{
    if (d->o->log != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(d->o->log, fmt, ap);
        va_end(ap);
    }
}

static void dlog(device_t *d, char lvl, const char *tag, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void dlog(device_t *d, char lvl, const char *tag, const char *fmt, ...)
{
    d->ms += 4;
    if (d->o->log != NULL) {
        fprintf(d->o->log, "%c (%u) %s: ", lvl, d->ms, tag);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(d->o->log, fmt, ap);
        va_end(ap);
        fputc('\n', d->o->log);
    }
}

/* The device stops here: record why (the log already shows what the chip prints). */
static void stop(device_t *d, const char *stage, uint32_t off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void stop(device_t *d, const char *stage, uint32_t off, const char *fmt, ...)
{
    snprintf(d->r->stage, sizeof(d->r->stage), "%s", stage);
    d->r->failure_offset = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->r->failure, sizeof(d->r->failure), fmt, ap);
    va_end(ap);
    d->r->booted = 0;
}

/* ---- randomness (the chip's RNG, or a seed for reproducible tests) ---- */

static espsec_err_t dev_random(device_t *d, uint8_t *out, size_t len)
{
    if (d->o->random_seed == NULL) {
        return espsec_random(out, len);
    }
    for (size_t off = 0; off < len; off += 32) {
        uint8_t in[40], h[32];
        memcpy(in, d->o->random_seed, 32);
        put_le64(in + 32, d->rng_ctr++);
        espsec_sha256(in, sizeof(in), h);
        memcpy(out + off, h, len - off < 32 ? len - off : 32);
    }
    return ESPSEC_OK;
}

/* ---- flash ---- */

static espsec_err_t rd(device_t *d, uint32_t addr, uint8_t *buf, size_t len, int decrypt, espsec_error_t *err)
{
    return dev_read(d->fl, decrypt ? d->fe : NULL, addr, buf, len, err);
}

/* Re-write whole sectors encrypted in place, as esp_flash_encrypt_region. */
static espsec_err_t encrypt_region(device_t *d, espsec_fe_ctx_t *fe, uint32_t addr, size_t len, espsec_error_t *err)
{
    uint8_t sec[4096];
    for (uint64_t a = addr & ~0xFFFu; a < (uint64_t)addr + len; a += 4096) {
        if (a + 4096 > espsec_flash_size(d->fl)) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "encrypting 0x%llx runs past the end of the flash",
                               (unsigned long long)a);
        }
        espsec_err_t rc = espsec_flash_read(d->fl, (uint32_t)a, sec, sizeof(sec), err);
        if (rc == ESPSEC_OK) {
            rc = espsec_fe_crypt(fe, (uint32_t)a, sec, sec, sizeof(sec), 0, err);
        }
        if (rc == ESPSEC_OK) {
            rc = espsec_flash_erase(d->fl, (uint32_t)a, err);
        }
        if (rc == ESPSEC_OK) {
            rc = espsec_flash_write(d->fl, (uint32_t)a, sec, sizeof(sec), err);
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    d->r->flash_changed = 1;
    return ESPSEC_OK;
}

/* Program bytes over erased flash (erasing the sectors first), encrypted when fe is given. */
static espsec_err_t write_sectors(device_t *d, espsec_fe_ctx_t *fe, uint32_t addr, const uint8_t *data, size_t len,
                                  espsec_error_t *err)
{
    uint8_t sec[4096];
    for (size_t off = 0; off < len; off += 4096) {
        size_t n = len - off < 4096 ? len - off : 4096;
        uint32_t a = addr + (uint32_t)off;
        memset(sec, 0xFF, sizeof(sec));
        memcpy(sec, data + off, n);
        espsec_err_t rc = fe ? espsec_fe_crypt(fe, a, sec, sec, sizeof(sec), 0, err) : ESPSEC_OK;
        if (rc == ESPSEC_OK) {
            rc = espsec_flash_erase(d->fl, a, err);
        }
        if (rc == ESPSEC_OK) {
            rc = espsec_flash_write(d->fl, a, sec, sizeof(sec), err);
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    d->r->flash_changed = 1;
    return ESPSEC_OK;
}

/* ---- images ---- */

typedef struct {
    uint8_t *buf; /* the region as read (decrypted when on) */
    size_t len;
    espsec_image_t img;
    size_t signed_len; /* image padded to 4 KiB + the signature sector (V2) */
} loaded_t;

static void loaded_free(loaded_t *l)
{
    free(l->buf);
    memset(l, 0, sizeof(*l));
}

/* Read and parse an image at addr, at most max bytes. Returns 0, or -1 having stopped the device. */
static int load_image(device_t *d, const char *stage, uint32_t addr, size_t max, loaded_t *l, espsec_error_t *err)
{
    memset(l, 0, sizeof(*l));
    size_t avail = espsec_flash_size(d->fl) > addr ? espsec_flash_size(d->fl) - addr : 0;
    l->len = max < avail ? max : avail;
    l->buf = malloc(l->len ? l->len : 1);
    if (l->buf == NULL) {
        espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        return -2;
    }
    espsec_error_t e2;
    if (rd(d, addr, l->buf, l->len, 1, &e2) != ESPSEC_OK) {
        *err = e2;
        return -2;
    }
    if (l->len < 4 || l->buf[0] != 0xE9) {
        uint32_t w = l->len >= 4 ? get_le32(l->buf) : 0xFFFFFFFFu;
        if (strcmp(stage, "rom") == 0) {
            for (int i = 0; i < 3; i++) {
                raw(d, "invalid header: 0x%08x\n", w);
            }
            raw(d, "(the ROM repeats this forever)\n");
        } else {
            dlog(d, 'E', "esp_image", "image at 0x%x has invalid magic byte (nothing flashed here?)", addr);
        }
        stop(d, stage, addr, "no valid image at 0x%x: first word 0x%08x, magic 0xE9 expected%s", addr, w,
             d->fe ? " (flash encryption is on: is this region encrypted with the device's key?)" : "");
        return -1;
    }
    espsec_error_t why;
    if (espsec_image_parse(l->buf, l->len, &l->img, &why) != ESPSEC_OK ||
        espsec_image_check(&l->img, &why) != ESPSEC_OK) {
        if (strcmp(stage, "rom") == 0) {
            raw(d, "checksum failure / invalid image\n");
        } else {
            dlog(d, 'E', "esp_image", "image at 0x%x is corrupt: %s", addr, why.msg);
        }
        stop(d, stage, addr, "image at 0x%x: %s", addr, why.msg);
        return -1;
    }
    if (l->img.chip_id != (uint16_t)d->chip.chip) {
        dlog(d, 'E', "esp_image", "image at 0x%x is for chip id %u, not %s", addr, l->img.chip_id,
             espsec_chip_display_name(d->chip.chip));
        stop(d, stage, addr, "image at 0x%x is for chip id %u, this device is %s", addr, l->img.chip_id,
             espsec_chip_display_name(d->chip.chip));
        return -1;
    }
    l->signed_len = ((l->img.image_len + 4095) & ~(size_t)4095) + 4096;
    return 0;
}

/* ---- stages ---- */

static void rom_banner(device_t *d, const loaded_t *bl)
{
    if (d->chip.chip == ESPSEC_CHIP_ESP32) {
        raw(d, "ets Jun  8 2016 00:22:57\n\nrst:%s,boot:0x13 (SPI_FAST_FLASH_BOOT)\n",
            d->sw_reset ? "0xc (SW_CPU_RESET)" : "0x1 (POWERON_RESET)");
        raw(d, "configsip: 0, SPIWP:0xee\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\n");
    } else {
        raw(d, "ESP-ROM:esp32c3-api1-20210207\nBuild:Feb  7 2021\nrst:%s,boot:0xc (SPI_FAST_FLASH_BOOT)\nSPIWP:0xee\n",
            d->sw_reset ? "0x3 (RTC_SW_SYS_RST)" : "0x1 (POWERON)");
    }
    if (bl != NULL) {
        raw(d, "mode:%s, clock div:%d\n", espsec_image_flash_mode_name(bl->img.spi_mode),
            d->chip.chip == ESPSEC_CHIP_ESP32 ? 2 : 1);
        for (int s = 0; s < bl->img.segment_count; s++) {
            raw(d, "load:0x%08x,len:%u\n", bl->img.segments[s].load_addr, bl->img.segments[s].length);
        }
        raw(d, "entry 0x%08x\n", bl->img.entry_addr);
    }
}

/* The ROM: fuses, decryption, the bootloader and its secure boot check. */
static int rom(device_t *d, loaded_t *bl, espsec_error_t *err)
{
    d->r->flash_encryption = d->fu.fe_on;
    d->r->secure_boot = d->fu.sb;
    espsec_fe_free(d->fe);
    d->fe = NULL;
    if (d->fu.fe_on) {
        if (d->fu.fe_key_hidden || d->fu.fe_key_len == 0) {
            espsec_fail(err, ESPSEC_ERR_KEY,
                        "flash encryption is on (%s has %u bits set) but the key block is read-protected and its "
                        "value is not in the eFuse file: give the key with --flash-key (espefuse's files hide it; "
                        "files espsec burned keep it in FILE.hidden)",
                        d->chip.crypt_cnt, d->fu.crypt_bits);
            return -2;
        }
        espsec_flash_enc_params_t p = {d->chip.fe_mode, d->fu.crypt_config};
        if (espsec_fe_new(&p, d->fu.fe_key, d->fu.fe_key_len, &d->fe, err) != ESPSEC_OK) {
            return -2;
        }
    }
    uint32_t pt_off = d->have_cfg ? d->cfg.pt_offset : 0x8000;
    int rc = load_image(d, "rom", d->chip.boot_offset, pt_off - d->chip.boot_offset, bl, err);
    if (rc != 0) {
        if (rc == -1) {
            rom_banner(d, NULL);
        }
        return rc;
    }
    rom_banner(d, bl);
    if (d->fu.sb == 2) {
        char why[256];
        int b = dev_sbv2_check(bl->buf, bl->len, bl->img.image_len, (const uint8_t(*)[32])d->fu.sb_digests,
                               d->fu.sb_digest_ok,
                           d->chip.chip == ESPSEC_CHIP_ESP32, why, sizeof(why), NULL);
        if (b < 0) {
            raw(d, "secure boot check fail\nets_main.c 371\n");
            stop(d, "rom", d->chip.boot_offset, "Secure Boot V2 refuses the bootloader at 0x%x: %s",
                 d->chip.boot_offset, why);
            return -1;
        }
    } else if (d->fu.sb == 1) {
        if (!d->fu.sbv1_key_known) {
            espsec_fail(err, ESPSEC_ERR_KEY,
                        "Secure Boot V1 is on but BLOCK2 (the bootloader digest key) is read-protected and unknown: "
                        "use an eFuse file espsec burned (FILE.hidden keeps it)");
            return -2;
        }
        uint8_t *zero = malloc(pt_off);
        espsec_error_t e2;
        if (zero == NULL || rd(d, 0, zero, pt_off, 1, &e2) != ESPSEC_OK ||
            espsec_sbv1_check_bootloader_digest(zero, pt_off, bl->img.image_len, d->fu.sbv1_key, &e2) != ESPSEC_OK) {
            free(zero);
            raw(d, "secure boot check fail\nets_main.c 371\n");
            stop(d, "rom", 0, "Secure Boot V1 refuses the bootloader: %s", zero ? e2.msg : "out of memory");
            return -1;
        }
        free(zero);
    }
    return 0;
}

static void bootloader_banner(device_t *d, const loaded_t *bl)
{
    const char *ver = bl->img.has_bootloader_desc ? bl->img.bootloader_desc.idf_ver : "v5.3";
    dlog(d, 'I', "boot", "ESP-IDF %s 2nd stage bootloader", ver);
    if (bl->img.has_bootloader_desc) {
        dlog(d, 'I', "boot", "compile time %s", bl->img.bootloader_desc.date_time);
    }
    if (d->chip.chip == ESPSEC_CHIP_ESP32) {
        dlog(d, 'I', "boot", "Multicore bootloader");
        dlog(d, 'I', "boot", "chip revision: v3.0");
    } else {
        dlog(d, 'I', "boot", "chip revision: v0.4");
    }
    const char *tag = d->chip.chip == ESPSEC_CHIP_ESP32 ? "boot.esp32" : "boot.esp32c3";
    char speed[16];
    snprintf(speed, sizeof(speed), "%s", espsec_image_flash_freq_name(bl->img.spi_size_freq));
    size_t sl = strlen(speed);
    if (sl > 0 && sl < 10 && speed[sl - 1] == 'm') {
        memcpy(speed + sl - 1, "MHz", 4);
    }
    dlog(d, 'I', tag, "SPI Speed      : %s", speed);
    dlog(d, 'I', tag, "SPI Mode       : %s", espsec_image_flash_mode_name(bl->img.spi_mode));
    dlog(d, 'I', tag, "SPI Flash Size : %s", espsec_image_flash_size_name(bl->img.spi_size_freq));
    dlog(d, 'I', "boot", "Enabling RNG early entropy source...");
}

static int load_partition_table(device_t *d, espsec_error_t *err)
{
    uint32_t off = d->have_cfg ? d->cfg.pt_offset : 0x8000;
    uint8_t buf[0xC00];
    if (rd(d, off, buf, sizeof(buf), 1, err) != ESPSEC_OK) {
        return -2;
    }
    espsec_pt_opts_t po;
    espsec_pt_opts_default(&po);
    po.table_offset = off;
    espsec_error_t why;
    if (buf[0] != 0xAA || buf[1] != 0x50) {
        dlog(d, 'E', "flash_parts", "partition 0 invalid magic number 0x%02x%02x", buf[1], buf[0]);
        dlog(d, 'E', "boot", "Failed to verify partition table");
        dlog(d, 'E', "boot", "load partition table error!");
        stop(d, "bootloader", off, "no partition table at 0x%x: magic 0x%02x%02x, 0x50AA expected%s", off, buf[1],
             buf[0], d->fe ? " (flash encryption is on: is the table encrypted?)" : "");
        return -1;
    }
    if (espsec_pt_from_binary(buf, sizeof(buf), &po, &d->pt, &why) != ESPSEC_OK) {
        dlog(d, 'E', "boot", "Failed to verify partition table");
        dlog(d, 'E', "boot", "load partition table error!");
        stop(d, "bootloader", off, "partition table at 0x%x: %s", off, why.msg);
        return -1;
    }
    /* flash_partitions.c (esp_partition_table_verify): every partition must lie inside the flash chip */
    size_t chip = espsec_flash_size(d->fl);
    for (size_t i = 0; i < d->pt.count; i++) {
        const espsec_partition_t *p = &d->pt.entries[i];
        if (p->offset > chip || p->size > chip - p->offset) {
            dlog(d, 'E', "flash_parts", "partition %zu invalid - offset 0x%x size 0x%x exceeds flash chip size 0x%zx", i,
                 p->offset, p->size, chip);
            dlog(d, 'E', "boot", "Failed to verify partition table");
            dlog(d, 'E', "boot", "load partition table error!");
            stop(d, "bootloader", off, "partition table at 0x%x: partition '%s' (0x%x, 0x%x bytes) ends past the end of "
                                       "the 0x%zx-byte flash",
                 off, p->name, p->offset, p->size, chip);
            return -1;
        }
    }
    dlog(d, 'I', "boot", "Partition Table:");
    dlog(d, 'I', "boot", "## Label            Usage          Type ST Offset   Length");
    for (size_t i = 0; i < d->pt.count; i++) {
        const espsec_partition_t *p = &d->pt.entries[i];
        dlog(d, 'I', "boot", "%2zu %-16s %-16s %02x %02x %08x %08x", i, p->name, dev_partition_usage(p), p->type,
             p->subtype, p->offset, p->size);
    }
    dlog(d, 'I', "boot", "End of partition table");
    return 0;
}

static void log_segments(device_t *d, uint32_t addr, const loaded_t *l)
{
    size_t pos = 24;
    for (int s = 0; s < l->img.segment_count; s++) {
        const espsec_image_segment_t *sg = &l->img.segments[s];
        dlog(d, 'I', "esp_image", "segment %d: paddr=%08zx vaddr=%08x size=%05xh (%6u) %s", s, addr + pos + 8,
             sg->load_addr, sg->length, sg->length,
             espsec_image_is_flash_addr(l->img.chip_id, sg->load_addr) ? "map" : "load");
        pos += 8 + sg->length;
    }
}

/* ---- first-boot provisioning ---- */

static espsec_err_t burn(device_t *d, espsec_error_t *err)
{
    if (!espsec_efuse_has_staged(d->ef)) {
        return ESPSEC_OK;
    }
    espsec_err_t rc = espsec_efuse_burn(d->ef, err);
    if (rc == ESPSEC_OK) {
        d->r->efuse_changed = 1;
        d->r->provisioned = 1;
    }
    return rc;
}

static espsec_err_t stage_bit(device_t *d, const char *name, const char *msg, espsec_error_t *err)
{
    if (espsec_efuse_find(d->ef, name) < 0) {
        return ESPSEC_OK; /* not on this chip */
    }
    int noop = 0;
    if (msg != NULL) {
        dlog(d, 'I', "flash_encrypt", "%s", msg);
    }
    return espsec_efuse_stage_uint(d->ef, name, 1, &noop, err);
}

/* ESP32-C3: the first key block with no purpose and no data (KEY5 refused for XTS keys); -1 if none. */
static int free_key_block(device_t *d, int for_xts)
{
    for (int k = 0; k < 6; k++) {
        char name[32];
        uint64_t p = 0;
        uint8_t b[32];
        snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
        espsec_efuse_get_uint_hw(d->ef, name, &p, NULL);
        espsec_efuse_get_block(d->ef, 4 + k, b);
        if (p == 0 && b[0] == 0 && memcmp(b, b + 1, 31) == 0 && !(for_xts && k == 5)) {
            return 4 + k;
        }
    }
    return -1;
}

/* Secure Boot V2 first enable: the bootloader's key digests go to eFuse, then the fuses. */
static int provision_sbv2(device_t *d, const loaded_t *bl, const loaded_t *app, espsec_error_t *err)
{
    dlog(d, 'I', "secure_boot_v2", "enabling secure boot v2...");
    size_t padded = (bl->img.image_len + 4095) & ~(size_t)4095;
    espsec_sbv2_block_info_t bi[ESPSEC_SBV2_MAX_BLOCKS], ai[ESPSEC_SBV2_MAX_BLOCKS];
    espsec_error_t e;
    int nb = 0;
    if (padded + 4096 <= bl->len && espsec_sbv2_info(bl->buf, padded + 4096, 0, bi, &e) == ESPSEC_OK) {
        for (int b = 0; b < ESPSEC_SBV2_MAX_BLOCKS && bi[b].present && bi[b].digest_matches; b++) {
            nb++;
        }
    }
    dlog(d, 'I', "secure_boot_v2", "Secure boot digests absent, generating..");
    if (nb == 0) {
        dlog(d, 'E', "secure_boot_v2", "No valid bootloader signature blocks found.");
        dlog(d, 'E', "boot", "Secure boot enable failed (the bootloader is not signed)");
        stop(d, "bootloader", d->chip.boot_offset,
             "Secure Boot V2 cannot be enabled: the bootloader at 0x%x has no valid signature block (sign it with "
             "espsec secure sign-data --version 2)",
             d->chip.boot_offset);
        return -1;
    }
    if (d->chip.chip == ESPSEC_CHIP_ESP32) {
        nb = 1; /* one key digest (BLK2) */
    }
    dlog(d, 'I', "secure_boot_v2", "%d signature block(s) found appended to the bootloader.", nb);
    /* the app must be signed by one of the bootloader's keys */
    size_t apad = (app->img.image_len + 4095) & ~(size_t)4095;
    int matched = 0;
    if (apad + 4096 <= app->len && espsec_sbv2_info(app->buf, apad + 4096, 0, ai, &e) == ESPSEC_OK) {
        int na = 0;
        for (int a = 0; a < ESPSEC_SBV2_MAX_BLOCKS && ai[a].present; a++) {
            na++;
            for (int b = 0; b < nb; b++) {
                if (ai[a].digest_matches && memcmp(ai[a].key_digest, bi[b].key_digest, 32) == 0) {
                    if (!matched) {
                        dlog(d, 'I', "secure_boot_v2", "Application key(%d) matches with bootloader key(%d).", a, b);
                    }
                    matched = 1;
                }
            }
        }
        dlog(d, 'I', "secure_boot_v2", "%d signature block(s) found appended to the app.", na);
    }
    if (!matched) {
        dlog(d, 'E', "secure_boot_v2", "No application key digest matches the bootloader key digest.");
        stop(d, "bootloader", app->img.image_len,
             "Secure Boot V2 cannot be enabled: the app is not signed by a key of the bootloader (sign both with the "
             "same key)");
        return -1;
    }
    dlog(d, 'I', "secure_boot_v2", "Burning public key hash to eFuse");
    for (int b = 0; b < nb; b++) {
        espsec_err_t rc;
        if (d->chip.chip == ESPSEC_CHIP_ESP32) {
            rc = espsec_efuse_stage_key(d->ef, 2, bi[b].key_digest, 32, NULL, 1, 0, err);
        } else {
            /* the first free key blocks, purposes SECURE_BOOT_DIGEST0.. */
            int blk = free_key_block(d, 0);
            rc = ESPSEC_ERR_NOT_FOUND;
            if (blk >= 0) {
                char purpose[32];
                snprintf(purpose, sizeof(purpose), "SECURE_BOOT_DIGEST%d", b);
                rc = espsec_efuse_stage_key(d->ef, blk, bi[b].key_digest, 32, purpose, 1, 0, err);
            }
            if (rc == ESPSEC_ERR_NOT_FOUND) {
                rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no free eFuse key block for the Secure Boot digest");
            }
        }
        if (rc != ESPSEC_OK) {
            return -2;
        }
        /* the staged key blocks are burned before the next digest picks a block */
        if (burn(d, err) != ESPSEC_OK) {
            return -2;
        }
    }
    dlog(d, 'I', "secure_boot_v2", "Digests successfully calculated, %d valid signatures (image offset 0x%x)", nb,
         d->chip.boot_offset);
    dlog(d, 'I', "secure_boot_v2", "blowing secure boot efuse...");
    espsec_err_t rc = stage_bit(d, d->chip.chip == ESPSEC_CHIP_ESP32 ? "ABS_DONE_1" : "SECURE_BOOT_EN", NULL, err);
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_jtag) {
        dlog(d, 'I', "secure_boot_v2", "Disable JTAG...");
        rc = stage_bit(d, d->chip.chip == ESPSEC_CHIP_ESP32 ? "JTAG_DISABLE" : "DIS_PAD_JTAG", NULL, err);
        if (rc == ESPSEC_OK && d->chip.chip != ESPSEC_CHIP_ESP32) {
            rc = stage_bit(d, "DIS_USB_JTAG", NULL, err);
        }
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_rom_basic && d->chip.chip == ESPSEC_CHIP_ESP32) {
        dlog(d, 'I', "secure_boot_v2", "Disable ROM BASIC interpreter fallback...");
        rc = stage_bit(d, "CONSOLE_DEBUG_DISABLE", NULL, err);
    }
    if (rc == ESPSEC_OK && d->chip.chip != ESPSEC_CHIP_ESP32) {
        /* unused digest slots are revoked (SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS off) */
        for (int s = nb; s < 3 && rc == ESPSEC_OK; s++) {
            char name[40];
            snprintf(name, sizeof(name), "SECURE_BOOT_KEY_REVOKE%d", s);
            dlog(d, 'I', "secure_boot_v2", "Revoking empty key digest slot (%d)...", s);
            rc = stage_bit(d, name, NULL, err);
        }
    }
    if (rc == ESPSEC_OK && d->cfg.disable_rom_dl_mode) {
        dlog(d, 'I', "secure_boot_v2", "Disable ROM Download mode...");
        rc = stage_bit(d, d->chip.chip == ESPSEC_CHIP_ESP32 ? "UART_DOWNLOAD_DIS" : "DIS_DOWNLOAD_MODE", NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = burn(d, err);
    }
    if (rc != ESPSEC_OK) {
        return -2;
    }
    dlog(d, 'I', "secure_boot_v2", "secure boot v2 is enabled");
    return 0;
}

/* Flash encryption first enable: key, fuses, every region encrypted in place, the counter. */
static int provision_fe(device_t *d, const loaded_t *bl, espsec_error_t *err)
{
    const char *T = "flash_encrypt";
    if (d->cfg.fe_require_enabled) {
        dlog(d, 'E', T, "flash encryption is not enabled, and SECURE_FLASH_REQUIRE_ALREADY_ENABLED is set, refusing "
                        "to boot.");
        stop(d, "bootloader", 0, "flash encryption is not enabled and the project requires it already enabled");
        return -1;
    }
    if (d->fu.crypt_cnt_wp) {
        dlog(d, 'E', T, "Flash Encryption cannot be enabled (CRYPT_CNT (%u) is write protected)", d->fu.crypt_cnt);
        stop(d, "bootloader", 0, "%s is write-protected at an even count: flash encryption can never be enabled",
             d->chip.crypt_cnt);
        return -1;
    }
    uint8_t key[32];
    size_t klen = d->chip.chip == ESPSEC_CHIP_ESP32 && espsec_efuse_coding_34(d->ef) ? 24 : 32;
    espsec_err_t rc = ESPSEC_OK;
    if (!d->fu.fe_key_blank) {
        dlog(d, 'I', T, "Using pre-loaded flash encryption key in efuse");
        if (d->fu.fe_key_hidden) {
            espsec_fail(err, ESPSEC_ERR_KEY,
                        "a flash encryption key is pre-burned but read-protected and unknown: give it with "
                        "--flash-key");
            return -2;
        }
        memcpy(key, d->fu.fe_key, klen);
    } else {
        dlog(d, 'I', T, "Generating new flash encryption key...");
        rc = dev_random(d, key, klen);
        uint8_t rev[32];
        for (size_t i = 0; i < klen; i++) {
            rev[i] = key[klen - 1 - i];
        }
        if (rc == ESPSEC_OK && d->chip.chip == ESPSEC_CHIP_ESP32) {
            rc = espsec_efuse_stage_key(d->ef, 1, rev, klen, NULL, 1, 1, err);
        } else if (rc == ESPSEC_OK) {
            int blk = free_key_block(d, 1);
            rc = blk < 0 ? espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no free eFuse key block for the flash key")
                         : espsec_efuse_stage_key(d->ef, blk, rev, 32, "XTS_AES_128_KEY", 1, 1, err);
        }
        espsec_wipe(rev, sizeof(rev));
    }
    if (rc == ESPSEC_OK && d->chip.chip == ESPSEC_CHIP_ESP32 && d->fu.crypt_config == 0) {
        dlog(d, 'I', T, "Setting CRYPT_CONFIG efuse to 0xF");
        int noop;
        rc = espsec_efuse_stage_uint(d->ef, "FLASH_CRYPT_CONFIG", 0xF, &noop, err);
    }
    const int esp32 = d->chip.chip == ESPSEC_CHIP_ESP32;
    if (rc == ESPSEC_OK && !d->cfg.fe_allow_dl_encrypt) {
        rc = stage_bit(d, esp32 ? "DISABLE_DL_ENCRYPT" : "DIS_DOWNLOAD_MANUAL_ENCRYPT",
                       "Disable UART bootloader encryption...", err);
    }
    if (rc == ESPSEC_OK && !d->cfg.fe_allow_dl_decrypt && esp32) {
        rc = stage_bit(d, "DISABLE_DL_DECRYPT", "Disable UART bootloader decryption...", err);
    }
    if (rc == ESPSEC_OK && !d->cfg.fe_allow_dl_cache) {
        rc = stage_bit(d, esp32 ? "DISABLE_DL_CACHE" : "DIS_DOWNLOAD_ICACHE", "Disable UART bootloader MMU cache...",
                       err);
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_jtag) {
        rc = stage_bit(d, esp32 ? "JTAG_DISABLE" : "DIS_PAD_JTAG", "Disable JTAG...", err);
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_rom_basic && esp32) {
        rc = stage_bit(d, "CONSOLE_DEBUG_DISABLE", "Disable ROM BASIC interpreter fallback...", err);
    }
    if (rc == ESPSEC_OK) {
        rc = burn(d, err);
    }
    espsec_fe_ctx_t *fe = NULL;
    espsec_flash_enc_params_t p = {d->chip.fe_mode, 0xF};
    if (rc == ESPSEC_OK) {
        uint64_t conf = 0xF;
        if (esp32) {
            espsec_efuse_get_uint_hw(d->ef, "FLASH_CRYPT_CONFIG", &conf, NULL);
        }
        p.flash_crypt_conf = (uint8_t)conf;
        rc = espsec_fe_new(&p, key, klen, &fe, err);
    }
    espsec_wipe(key, sizeof(key));
    if (rc != ESPSEC_OK) {
        espsec_fe_free(fe);
        return -2;
    }
    /* the bootloader (with its signature sector), then the table, then the partitions */
    size_t blen = d->cfg.secure_boot && d->cfg.secure_boot_version == 2 ? bl->signed_len : bl->img.image_len;
    rc = encrypt_region(d, fe, d->chip.boot_offset, blen, err);
    if (rc == ESPSEC_OK && d->cfg.secure_boot && d->cfg.secure_boot_version == 1) {
        rc = encrypt_region(d, fe, 0, 0x1000, err); /* the V1 IV and digest */
    }
    if (rc == ESPSEC_OK) {
        dlog(d, 'I', T, "bootloader encrypted successfully");
        rc = encrypt_region(d, fe, d->cfg.pt_offset, 0x1000, err);
    }
    if (rc == ESPSEC_OK) {
        dlog(d, 'I', T, "partition table encrypted and loaded successfully");
    }
    for (size_t i = 0; rc == ESPSEC_OK && i < d->pt.count; i++) {
        const espsec_partition_t *pp = &d->pt.entries[i];
        size_t len = 0;
        if (pp->type == 0) {
            loaded_t l;
            espsec_fe_ctx_t *saved = d->fe;
            d->fe = NULL; /* the app is still plaintext */
            espsec_boot_result_t keep = *d->r;
            FILE *log = d->o->log;
            ((espsec_boot_opts_t *)d->o)->log = NULL;
            int ok = load_image(d, "bootloader", pp->offset, pp->size, &l, err) == 0;
            ((espsec_boot_opts_t *)d->o)->log = log;
            *d->r = keep;
            d->fe = saved;
            if (ok) {
                /* only the image and its signature (CONFIG_SECURE_FLASH_ENCRYPT_ONLY_IMAGE_LEN_IN_APP_PART) */
                len = d->cfg.secure_boot || d->cfg.signed_apps_no_sb ? l.signed_len : l.img.image_len;
                len = len > pp->size ? pp->size : len;
            }
            loaded_free(&l);
        } else if ((pp->flags & ESPSEC_PT_FLAG_ENCRYPTED) ||
                   (pp->type == 1 && (pp->subtype == 0x00 || pp->subtype == 0x04))) {
            len = pp->size;
        }
        if (len > 0) {
            dlog(d, 'I', T, "Encrypting partition %zu at offset 0x%x (length 0x%zx)...", i, pp->offset, len);
            rc = encrypt_region(d, fe, pp->offset, len, err);
            dlog(d, 'I', T, "Done encrypting");
        }
    }
    espsec_fe_free(fe);
    if (rc != ESPSEC_OK) {
        return -2;
    }
    /* the counter: one more bit (development), or all of them (release) */
    if (d->cfg.flash_enc_release) {
        dlog(d, 'I', T, "Setting CRYPT_CNT for permanent encryption");
        int noop;
        rc = espsec_efuse_stage_uint(d->ef, d->chip.crypt_cnt, (1u << d->chip.crypt_cnt_bits) - 1, &noop, err);
        if (rc == ESPSEC_OK) {
            rc = espsec_efuse_stage_write_protect(d->ef, d->chip.crypt_cnt, err);
        }
    } else {
        uint64_t nv;
        rc = espsec_efuse_stage_next_bit(d->ef, d->chip.crypt_cnt, &nv, err);
    }
    if (rc == ESPSEC_OK) {
        rc = burn(d, err);
    }
    if (rc != ESPSEC_OK) {
        return -2;
    }
    dlog(d, 'I', T, "Flash encryption completed");
    dlog(d, 'I', "boot", "Resetting with flash encryption enabled...");
    d->reset = 1;
    return 0;
}

/* Secure Boot V1 first enable: key in BLK2, the bootloader digest at 0x0, the fuses. */
static int provision_sbv1(device_t *d, const loaded_t *bl, espsec_error_t *err)
{
    const char *T = "secure_boot_v1";
    if (d->chip.chip != ESPSEC_CHIP_ESP32) {
        stop(d, "bootloader", 0, "Secure Boot V1 exists on the ESP32 only");
        return -1;
    }
    dlog(d, 'I', T, "Generating new secure boot key...");
    uint8_t key[32], rev[32], iv[128];
    espsec_err_t rc = dev_random(d, key, sizeof(key));
    if (rc == ESPSEC_OK) {
        rc = dev_random(d, iv, sizeof(iv));
    }
    for (int i = 0; i < 32; i++) {
        rev[i] = key[31 - i];
    }
    uint8_t *out = NULL;
    size_t olen = 0;
    dlog(d, 'I', T, "Generating secure boot digest...");
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv1_digest_bootloader(bl->buf, bl->img.image_len, key, iv, &out, &olen, err);
    }
    if (rc == ESPSEC_OK) {
        rc = write_sectors(d, NULL, 0, out, 0x1000, err);
    }
    free(out);
    dlog(d, 'I', T, "Digest generation complete.");
    if (rc == ESPSEC_OK) {
        dlog(d, 'I', T, "Read & write protecting new key...");
        rc = espsec_efuse_stage_key(d->ef, 2, rev, 32, NULL, 1, 1, err);
    }
    espsec_wipe(key, sizeof(key));
    espsec_wipe(rev, sizeof(rev));
    if (rc == ESPSEC_OK) {
        rc = stage_bit(d, "ABS_DONE_0", NULL, err);
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_jtag) {
        rc = stage_bit(d, "JTAG_DISABLE", NULL, err);
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_rom_basic) {
        rc = stage_bit(d, "CONSOLE_DEBUG_DISABLE", NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = burn(d, err);
    }
    if (rc != ESPSEC_OK) {
        return -2;
    }
    dlog(d, 'I', T, "bootloader secure boot is now enabled.");
    return 0;
}

/* ---- the app starts: NVS ---- */

static void app_nvs(device_t *d)
{
    espsec_boot_result_t *r = d->r;
    const espsec_partition_t *nvs = espsec_pt_find(&d->pt, 1, 0x02);
    if (nvs == NULL) {
        return;
    }
    espsec_nvs_keys_t keys, *kp = NULL;
    espsec_error_t e;
    if (d->have_cfg && d->cfg.nvs_encryption) {
        r->nvs_encrypted = 1;
        const espsec_partition_t *kpart = espsec_pt_find(&d->pt, 1, 0x04);
        if (d->cfg.nvs_hmac) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                     "NVS encryption with the HMAC scheme: the HMAC key in eFuse is not modelled; use the flash "
                     "encryption scheme (nvs_keys partition)");
            return;
        }
        if (kpart == NULL) {
            dlog(d, 'E', "nvs", "nvs_flash_secure_init: no nvs_keys partition (ESP_ERR_NOT_FOUND)");
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                     "NVS encryption is on but the partition table has no nvs_keys partition");
            return;
        }
        if (!(kpart->flags & ESPSEC_PT_FLAG_ENCRYPTED) || d->fe == NULL) {
            dlog(d, 'E', "nvs_sec_provider", "nvs_keys partition must be flash-encrypted");
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                     d->fe == NULL ? "NVS encryption (flash-encryption scheme) needs flash encryption, which is off"
                                   : "the nvs_keys partition at 0x%x is not flagged 'encrypted'",
                     kpart->offset);
            return;
        }
        uint8_t kb[4096];
        if (rd(d, kpart->offset, kb, sizeof(kb), 1, &e) != ESPSEC_OK) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "%s", e.msg);
            return;
        }
        espsec_err_t rc = espsec_nvs_keys_parse(kb, sizeof(kb), &keys, &e);
        if (rc == ESP_ERR_NVS_KEYS_NOT_INITIALIZED) {
            dlog(d, 'I', "nvs", "nvs_keys partition is empty: generating NVS encryption keys (nvs_flash_generate_keys)");
            uint8_t raw64[64];
            if (dev_random(d, raw64, sizeof(raw64)) != ESPSEC_OK) {
                fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "random number generator failed");
                return;
            }
            memcpy(keys.eky, raw64, 32);
            memcpy(keys.tky, raw64 + 32, 32);
            espsec_wipe(raw64, sizeof(raw64));
            espsec_nvs_keys_encode(&keys, kb);
            if (write_sectors(d, d->fe, kpart->offset, kb, sizeof(kb), &e) != ESPSEC_OK) {
                fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "%s", e.msg);
                espsec_wipe(kb, sizeof(kb));
                return;
            }
            r->nvs_keys_generated = 1;
            r->provisioned = 1;
        } else if (rc != ESPSEC_OK) {
            dlog(d, 'E', "nvs", "nvs_flash_read_security_cfg failed: %s", espsec_err_to_name(rc));
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "nvs_keys partition at 0x%x: %s", kpart->offset, e.msg);
            espsec_wipe(kb, sizeof(kb));
            return;
        }
        espsec_wipe(kb, sizeof(kb));
        kp = &keys;
    } else if (!d->have_cfg) {
        /* no project settings: an nvs_keys partition holding keys means the app uses them */
        const espsec_partition_t *kpart = espsec_pt_find(&d->pt, 1, 0x04);
        uint8_t kb[4096];
        if (kpart != NULL && rd(d, kpart->offset, kb, sizeof(kb), (kpart->flags & ESPSEC_PT_FLAG_ENCRYPTED) != 0, &e) ==
                                 ESPSEC_OK &&
            espsec_nvs_keys_parse(kb, sizeof(kb), &keys, NULL) == ESPSEC_OK) {
            kp = &keys;
            r->nvs_encrypted = 1;
        }
        espsec_wipe(kb, sizeof(kb));
    }
    espsec_nvs_t *n = NULL;
    if (espsec_nvs_mount(d->fl, nvs->offset, nvs->size, kp, &n, &e) != ESPSEC_OK) {
        dlog(d, 'E', "nvs", "nvs_flash_init failed: %s", e.msg);
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "NVS partition '%s' at 0x%x: %s", nvs->name, nvs->offset,
                 e.msg);
    } else {
        espsec_nvs_stats_t st;
        espsec_nvs_get_stats(n, &st);
        espsec_nvs_entry_info_t *all = calloc(st.used_entries + 1, sizeof(*all));
        size_t count = 0;
        if (all != NULL) {
            espsec_nvs_list(n, NULL, ESPSEC_NVS_TYPE_ANY, all, st.used_entries + 1, &count);
        }
        free(all);
        r->nvs_values = count;
        r->nvs_checked = 1;
        dlog(d, 'I', "nvs", "NVS '%s' mounted%s: %zu values, %zu of %zu entries used", nvs->name,
             kp ? " (encrypted)" : "", count, st.used_entries, st.total_entries);
        espsec_nvs_unmount(n);
    }
    espsec_wipe(&keys, sizeof(keys));
}

/* ---- one pass from power-on ---- */

static int boot_pass(device_t *d, espsec_error_t *err)
{
    espsec_boot_result_t *r = d->r;
    if (dev_read_fuses(d->ef, &d->chip, d->o->flash_key, d->o->flash_key_len, &d->fu, err) != ESPSEC_OK) {
        return -2;
    }
    loaded_t bl = {0}, app = {0};
    int rc = rom(d, &bl, err);
    if (rc != 0) {
        loaded_free(&bl);
        return rc;
    }
    snprintf(r->stage, sizeof(r->stage), "bootloader");
    bootloader_banner(d, &bl);
    rc = load_partition_table(d, err);
    /* choose the app: otadata, else factory, else the first OTA slot */
    const espsec_partition_t *order[ESPSEC_PT_MAX_ENTRIES];
    size_t norder = 0;
    if (rc == 0) {
        const espsec_partition_t *ota[16] = {0};
        int n_ota = 0;
        for (size_t i = 0; i < d->pt.count; i++) {
            const espsec_partition_t *p = &d->pt.entries[i];
            if (p->type == 0 && p->subtype >= 0x10 && p->subtype < 0x20) {
                ota[p->subtype - 0x10] = p;
                n_ota = p->subtype - 0x10 + 1 > n_ota ? p->subtype - 0x10 + 1 : n_ota;
            }
        }
        const espsec_partition_t *otadata = espsec_pt_find(&d->pt, 1, 0x00);
        const espsec_partition_t *factory = espsec_pt_find(&d->pt, 0, 0x00);
        int slot = -1;
        if (otadata != NULL && otadata->size >= 0x2000) {
            int changed = 0;
            slot = dev_otadata_boot_select(d->fl, d->fe, otadata->offset, n_ota, d->have_cfg && d->cfg.app_rollback,
                                           &changed, err);
            if (slot == -2) {
                rc = -2;
            }
            d->r->flash_changed |= changed;
            if (slot >= 0 && ota[slot] == NULL) {
                slot = -1;
            }
        }
        if (slot >= 0) {
            order[norder++] = ota[slot];
        }
        if (factory != NULL) {
            order[norder++] = factory;
        }
        for (int s = 0; s < n_ota; s++) {
            if (ota[s] != NULL && s != slot) {
                order[norder++] = ota[s];
            }
        }
        if (rc == 0 && norder == 0) {
            dlog(d, 'E', "boot", "No bootable app partitions in the partition table");
            stop(d, "bootloader", d->cfg.pt_offset, "the partition table has no app partition");
            rc = -1;
        }
    }
    /* load the first app that passes every check */
    const int want_sb = d->fu.sb != 0;
    const espsec_partition_t *chosen = NULL;
    char last_why[320] = "";
    for (size_t i = 0; rc == 0 && i < norder && chosen == NULL; i++) {
        const espsec_partition_t *p = order[i];
        int lr = load_image(d, "bootloader", p->offset, p->size, &app, err);
        if (lr == -2) {
            rc = -2;
            break;
        }
        if (lr == 0) {
            log_segments(d, p->offset, &app);
            char why[256] = "";
            int ok = 1;
            if (want_sb && d->fu.sb == 2) {
                if (dev_sbv2_check(app.buf, app.len, app.img.image_len, (const uint8_t(*)[32])d->fu.sb_digests,
                                   d->fu.sb_digest_ok, 0, why, sizeof(why), NULL) < 0) {
                    dlog(d, 'E', "secure_boot_v2", "Secure Boot V2 verification failed: %s", why);
                    dlog(d, 'E', "esp_image", "Secure boot signature verification failed");
                    ok = 0;
                } else {
                    dlog(d, 'I', "secure_boot_v2", "Verifying with %s...",
                         d->chip.chip == ESPSEC_CHIP_ESP32 ? "RSA-PSS" : "RSA-PSS");
                    dlog(d, 'I', "secure_boot_v2", "Signature verified successfully!");
                }
            } else if (d->fu.sb == 1 || (d->have_cfg && d->cfg.secure_boot && d->cfg.secure_boot_version == 1)) {
                /* a V1 bootloader checks the app with the public key built into it */
                if (d->o->sbv1_key == NULL) {
                    espsec_fail(err, ESPSEC_ERR_KEY,
                                "Secure Boot V1: the bootloader checks the app with the public key built into it, "
                                "which the virtual device cannot read from the image: give it with --sbv1-key "
                                "(signature_verification_key, PEM or 64 raw bytes)");
                    loaded_free(&app);
                    rc = -2;
                    break;
                }
                espsec_error_t ve;
                size_t signed_len = app.img.image_len + ESPSEC_SBV1_SIG_BLOCK_LEN;
                if (signed_len > app.len || espsec_sbv1_verify(app.buf, signed_len, d->o->sbv1_key, &ve) != ESPSEC_OK) {
                    fmtcpy(why, sizeof(why), "Secure Boot V1 signature: %s",
                           signed_len > app.len ? "no signature block after the image" : ve.msg);
                    dlog(d, 'E', "secure_boot_v1", "%s", why);
                    ok = 0;
                } else {
                    dlog(d, 'I', "secure_boot_v1", "app signature verified");
                }
            }
            if (ok) {
                chosen = p;
                break;
            }
            fmtcpy(last_why, sizeof(last_why), "app '%s' at 0x%x: %s", p->name, p->offset, why);
            stop(d, "bootloader", p->offset, "%s", last_why);
        } else {
            fmtcpy(last_why, sizeof(last_why), "%s", r->failure);
        }
        dlog(d, 'E', "boot", "%s app partition is not bootable", p->subtype == 0 ? "Factory" : "OTA");
        loaded_free(&app);
    }
    if (rc == 0 && chosen == NULL) {
        dlog(d, 'E', "boot", "No bootable app partitions in the partition table");
        stop(d, "bootloader", r->failure_offset, "no bootable app: %s", last_why);
        rc = -1;
    }
    /* first-boot provisioning, as the bootloader built from the project does it */
    if (rc == 0 && d->have_cfg) {
        if (d->cfg.secure_boot && d->cfg.secure_boot_version == 2 && d->fu.sb == 0) {
            if (d->cfg.sb_require_enabled) {
                dlog(d, 'E', "secure_boot_v2", "secure boot is not enabled, and SECURE_BOOT_REQUIRE_ALREADY_ENABLED "
                                               "is set, refusing to boot.");
                stop(d, "bootloader", 0, "Secure Boot is not enabled and the project requires it already enabled");
                rc = -1;
            } else if (!d->o->provision) {
                stop(d, "bootloader", 0, "first boot would enable Secure Boot V2 (burn the key digest): provisioning "
                                         "not allowed");
                rc = -1;
            } else {
                rc = provision_sbv2(d, &bl, &app, err);
            }
        } else if (d->cfg.secure_boot && d->cfg.secure_boot_version == 1 && d->fu.sb == 0) {
            rc = d->o->provision ? provision_sbv1(d, &bl, err) : -1;
            if (!d->o->provision) {
                stop(d, "bootloader", 0, "first boot would enable Secure Boot V1: provisioning not allowed");
            }
        }
    }
    if (rc == 0) {
        dlog(d, 'I', "boot", "Loaded app from partition at offset 0x%x", chosen->offset);
        dlog(d, 'I', "boot", "Checking flash encryption...");
    }
    if (rc == 0 && d->fu.fe_on) {
        unsigned left = d->fu.crypt_cnt_wp || d->fu.crypt_bits == (unsigned)d->chip.crypt_cnt_bits
                            ? 0
                            : ((unsigned)d->chip.crypt_cnt_bits - d->fu.crypt_bits) / 2;
        dlog(d, 'I', "flash_encrypt", "flash encryption is enabled (%u plaintext flashes left)", left);
    } else if (rc == 0 && d->have_cfg && d->cfg.flash_encryption) {
        if (!d->o->provision) {
            stop(d, "bootloader", 0, "first boot would enable flash encryption (burn the key, encrypt the flash): "
                                     "provisioning not allowed");
            rc = -1;
        } else {
            rc = provision_fe(d, &bl, err);
        }
    }
    if (rc == 0 && !d->reset) {
        dlog(d, 'I', "boot", "Disabling RNG early entropy source...");
        snprintf(r->stage, sizeof(r->stage), "app");
        r->booted = 1;
        r->failure[0] = '\0';
        r->app_offset = chosen->offset;
        snprintf(r->app_partition, sizeof(r->app_partition), "%s", chosen->name);
        if (app.img.has_app_desc) {
            r->app = app.img.app_desc;
        }
        dlog(d, 'I', "cpu_start", "Pro cpu up.");
        dlog(d, 'I', "app_init", "Application information:");
        dlog(d, 'I', "app_init", "Project name:     %s", r->app.project_name);
        dlog(d, 'I', "app_init", "App version:      %s", r->app.version);
        if (d->fu.sb) {
            dlog(d, 'I', "app_init", "Secure version:   %u", r->app.secure_version);
        }
        dlog(d, 'I', "app_init", "Compile time:     %s %s", r->app.date, r->app.time);
        char hex[17];
        espsec_hex(r->app.app_elf_sha256, 8, hex, 0);
        dlog(d, 'I', "app_init", "ELF file SHA256:  %s...", hex);
        dlog(d, 'I', "app_init", "ESP-IDF:          %s", r->app.idf_ver);
        app_nvs(d);
        if (r->nvs_problem[0] != '\0' && d->have_cfg) {
            stop(d, "app", 0, "the app starts but nvs_flash_init fails: %s", r->nvs_problem);
        }
    }
    loaded_free(&bl);
    loaded_free(&app);
    return rc;
}

espsec_err_t espsec_device_boot(espsec_efuse_t *efuse, espsec_flash_t *flash, const espsec_boot_opts_t *opts,
                                espsec_boot_result_t *result, espsec_error_t *err)
{
    memset(result, 0, sizeof(*result));
    espsec_boot_opts_t o = *opts;
    device_t d = {.ef = efuse, .fl = flash, .o = &o, .r = result};
    if (opts->config != NULL) {
        d.cfg = *opts->config;
        d.have_cfg = 1;
    } else {
        espsec_device_config_default(&d.cfg);
    }
    espsec_chip_t chip = ESPSEC_CHIP_ESP32;
    uint8_t probe[4];
    (void)probe;
    /* the chip is the eFuse file's */
    chip = espsec_efuse_find(efuse, "ABS_DONE_1") >= 0 ? ESPSEC_CHIP_ESP32 : ESPSEC_CHIP_ESP32C3;
    if (d.have_cfg && d.cfg.have_target && d.cfg.chip != chip) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "the sdkconfig targets %s but the eFuses are an %s's",
                           espsec_chip_display_name(d.cfg.chip), espsec_chip_display_name(chip));
    }
    if (dev_chip(chip, &d.chip) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "chip not modelled");
    }
    if (espsec_flash_size(flash) < 0x10000) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "a flash of 0x%zx bytes is too small to hold a bootloader, "
                                                         "a partition table and an app",
                           espsec_flash_size(flash));
    }
    espsec_err_t ret = ESPSEC_OK;
    for (int pass = 0; pass < 3; pass++) {
        d.sw_reset = d.reset;
        d.reset = 0;
        d.ms = 0;
        int provisioned = result->provisioned, ef = result->efuse_changed, fc = result->flash_changed;
        int rc = boot_pass(&d, err);
        result->provisioned |= provisioned;
        result->efuse_changed |= ef;
        result->flash_changed |= fc;
        if (rc == -2) {
            ret = err && err->code ? err->code : ESPSEC_ERR_INVALID_STATE;
            break;
        }
        if (!d.reset) {
            break;
        }
        memset(result->failure, 0, sizeof(result->failure));
        result->booted = 0;
    }
    espsec_fe_free(d.fe);
    return ret;
}

void espsec_boot_result_json(const espsec_boot_result_t *r, FILE *out)
{
    fprintf(out, "{\n  \"booted\": %s,\n  \"stage\": \"%s\",\n", r->booted ? "true" : "false", r->stage);
    fprintf(out, "  \"failure\": \"");
    for (const char *p = r->failure; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', out);
        }
        fputc((unsigned char)*p < 0x20 ? ' ' : *p, out);
    }
    fprintf(out, "\",\n  \"failure_offset\": %u,\n", r->failure_offset);
    fprintf(out, "  \"flash_encryption\": %s,\n  \"secure_boot\": %d,\n", r->flash_encryption ? "true" : "false",
            r->secure_boot);
    fprintf(out, "  \"provisioned\": %s,\n  \"efuse_changed\": %s,\n  \"flash_changed\": %s,\n",
            r->provisioned ? "true" : "false", r->efuse_changed ? "true" : "false", r->flash_changed ? "true" : "false");
    if (r->booted) {
        fprintf(out, "  \"app\": {\"partition\": \"%s\", \"offset\": %u, \"project_name\": \"%s\", \"version\": \"%s\", "
                     "\"secure_version\": %u, \"idf_ver\": \"%s\"},\n",
                r->app_partition, r->app_offset, r->app.project_name, r->app.version, r->app.secure_version,
                r->app.idf_ver);
    } else {
        fprintf(out, "  \"app\": null,\n");
    }
    fprintf(out, "  \"nvs\": {\"checked\": %s, \"encrypted\": %s, \"keys_generated\": %s, \"values\": %zu, "
                 "\"problem\": \"%s\"}\n}\n",
            r->nvs_checked ? "true" : "false", r->nvs_encrypted ? "true" : "false",
            r->nvs_keys_generated ? "true" : "false", r->nvs_values, r->nvs_problem);
}
