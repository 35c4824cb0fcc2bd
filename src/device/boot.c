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
#include "espsec/chip.h"
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
    int hold_burn; /* CONFIG_SECURE_BOOT_FLASH_ENC_KEYS_BURN_TOGETHER: one batch for both keys */
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

/*
 * Secure Boot V2 as the device checks it (dev_sbv2_check), with what it knows
 * of the eFuses: a read-protected digest reads as zeros and is named as such;
 * any_key: no digest burned yet, the image's own keys are trusted (the
 * bootloader's first boot and signed apps without hardware Secure Boot).
 */
static int sbv2_check(const loaded_t *l, const dev_fuses_t *fu, int only_first, int any_key, char *why, size_t cap,
                      uint8_t key_digest_out[32])
{
    uint8_t digests[3][32];
    int ok[3];
    memcpy(digests, fu->sb_digests, sizeof(digests));
    memcpy(ok, fu->sb_digest_ok, sizeof(ok));
    size_t padded = (l->img.image_len + 4095) & ~(size_t)4095;
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    int have_info = padded + 4096 <= l->len && espsec_sbv2_info(l->buf, padded + 4096, 0, info, NULL) == ESPSEC_OK;
    for (int b = 0; have_info && b < 3 && b < ESPSEC_SBV2_MAX_BLOCKS; b++) {
        if (!info[b].present) {
            continue;
        }
        if (any_key) {
            memcpy(digests[b], info[b].key_digest, 32);
            ok[b] = 1;
        }
    }
    if (have_info) {
        dev_sbv2_expand_half_digests(l->buf, padded + 4096, l->img.image_len, fu->sb_digest_bytes, digests, ok);
    }
    int b = dev_sbv2_check(l->buf, l->len, l->img.image_len, (const uint8_t(*)[32])digests, ok, only_first, why, cap,
                           key_digest_out);
    for (int k = 0; b < 0 && k < 3; k++) {
        if (fu->sb_digest_hidden[k] && strstr(why, "is not burned in eFuse") != NULL) {
            fmtcpy(why, cap,
                   "the key digest in BLOCK%d (slot %d) is read-protected, so the ROM reads zeros and no key can "
                   "match (a read-protected digest bricks the chip)",
                   fu->sb_digest_blk[k], k);
            break;
        }
    }
    return b;
}

/* ---- stages ---- */

static void rom_banner(device_t *d, const loaded_t *bl)
{
    if (d->chip.fe_mode == ESPSEC_FE_ESP32) {
        raw(d, "ets Jun  8 2016 00:22:57\n\nrst:%s,boot:0x13 (SPI_FAST_FLASH_BOOT)\n",
            d->sw_reset ? "0xc (SW_CPU_RESET)" : "0x1 (POWERON_RESET)");
        raw(d, "configsip: 0, SPIWP:0xee\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\n");
    } else {
        raw(d, "ESP-ROM:%s\nrst:%s,boot:0xc (SPI_FAST_FLASH_BOOT)\nSPIWP:0xee\n", d->chip.ci->name,
            d->sw_reset ? "0x3 (RTC_SW_SYS_RST)" : "0x1 (POWERON)");
    }
    if (bl != NULL) {
        raw(d, "mode:%s, clock div:%d\n", espsec_image_flash_mode_name(bl->img.spi_mode),
            d->chip.fe_mode == ESPSEC_FE_ESP32 ? 2 : 1);
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
        int b = sbv2_check(bl, &d->fu, d->chip.digest_slots == 1, 0, why, sizeof(why), NULL);
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
    char rev[12];
    dev_rev_str(d->fu.chip_rev, rev);
    dlog(d, 'I', "boot", "chip revision: %s", rev);
    char tag[32];
    snprintf(tag, sizeof(tag), "boot.%s", d->chip.ci->name);
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

static int all_zero32(const uint8_t *p)
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static espsec_err_t burn(device_t *d, espsec_error_t *err)
{
    if (d->hold_burn || !espsec_efuse_has_staged(d->ef)) {
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

/* The first key block with no purpose and no data, not in used_mask (bit k: BLOCK_KEYk) and able to hold the
 * purpose (BLOCK_KEY5 refuses some, per chip); the block number, or -1 if none. */
static int free_key_block(device_t *d, const char *purpose, unsigned used_mask, int *key_index)
{
    const espsec_chip_info_t *ci = d->chip.ci;
    for (int k = 0; k < 6; k++) {
        char name[32], bname[32];
        uint64_t p = 0;
        uint8_t b[32];
        snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
        snprintf(bname, sizeof(bname), "BLOCK_KEY%d", k);
        int bn = espsec_efuse_block_by_name(d->ef, bname);
        if (bn < 0 || espsec_efuse_get_uint_hw(d->ef, name, &p, NULL) != ESPSEC_OK) {
            continue;
        }
        espsec_efuse_get_block(d->ef, bn, b);
        int forbidden = 0;
        for (size_t i = 0; k == 5 && i < 5 && ci->fe.key5_forbidden[i] != NULL; i++) {
            forbidden |= strcmp(ci->fe.key5_forbidden[i], purpose) == 0;
        }
        if (p == 0 && all_zero32(b) && espsec_efuse_block_readable(d->ef, bn) && !forbidden &&
            !(used_mask & (1u << k))) {
            *key_index = k;
            return bn;
        }
    }
    return -1;
}

/* C2: a key or a digest into its half of BLOCK_KEY0, as espefuse burns it. */
static espsec_err_t stage_key0_half(device_t *d, const uint8_t *data, size_t len, const char *purpose,
                                    espsec_error_t *err)
{
    espsec_efuse_key_step_t steps[2];
    int n = 0;
    return espsec_efuse_stage_key_purpose(d->ef, d->chip.ci->fe.key_block, data, len, purpose, 0, 0, 0, steps, &n,
                                          err);
}

/* A step of first-boot provisioning the chip refuses: log it, drop the batch, the app does not start. */
static int prov_fail(device_t *d, const char *tag, const char *what, const char *detail)
{
    dlog(d, 'E', tag, "%s", what);
    espsec_efuse_discard(d->ef);
    stop(d, "bootloader", 0, "first-boot provisioning fails: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return -1;
}

/* Stage one bit if the chip has the fuse (the first of names it has); the rest of a list are alternatives. */
static espsec_err_t stage_first(device_t *d, const char *const *names, espsec_error_t *err)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        if (espsec_efuse_find(d->ef, names[i]) >= 0) {
            return stage_bit(d, names[i], NULL, err);
        }
    }
    return ESPSEC_OK;
}

static int chip_has(const device_t *d, const char *name)
{
    return espsec_efuse_find(d->ef, name) >= 0;
}

/* JTAG off: the pad and USB JTAG fuses, and the software disable at its full count. */
static espsec_err_t stage_jtag_off(device_t *d, espsec_error_t *err)
{
    static const char *const HARD[] = {"JTAG_DISABLE", "HARD_DIS_JTAG", "DIS_PAD_JTAG", NULL};
    espsec_err_t rc = stage_first(d, HARD, err);
    if (rc == ESPSEC_OK && chip_has(d, "DIS_USB_JTAG")) {
        rc = stage_bit(d, "DIS_USB_JTAG", NULL, err);
    }
    return rc;
}

static espsec_err_t stage_soft_jtag_off(device_t *d, espsec_error_t *err)
{
    int i = espsec_efuse_find(d->ef, "SOFT_DIS_JTAG");
    espsec_efuse_field_info_t fi;
    if (i < 0 || espsec_efuse_field_info(d->ef, (size_t)i, &fi) != ESPSEC_OK) {
        return ESPSEC_OK;
    }
    int noop = 0;
    return espsec_efuse_stage_uint(d->ef, "SOFT_DIS_JTAG", (1ull << fi.bit_len) - 1, &noop, err);
}

/* esp_efuse_disable_rom_download_mode / esp_efuse_enable_rom_secure_download_mode. 0, or why not. */
static const char *stage_dl_mode(device_t *d, int secure, espsec_error_t *err)
{
    if (secure) {
        if (!chip_has(d, "ENABLE_SECURITY_DOWNLOAD")) {
            return NULL; /* the option does not exist for this chip */
        }
        uint64_t v = 0;
        espsec_efuse_get_uint_hw(d->ef, "DIS_DOWNLOAD_MODE", &v, NULL);
        if (v) {
            return "download mode is already disabled: secure download mode cannot be enabled";
        }
        return stage_bit(d, "ENABLE_SECURITY_DOWNLOAD", NULL, err) == ESPSEC_OK ? NULL : err->msg;
    }
    if (chip_has(d, "UART_DOWNLOAD_DIS")) {
        if (d->fu.chip_rev_known && d->fu.chip_rev < 300) {
            return "UART_DOWNLOAD_DIS needs chip revision v3.0 or later (ESP_ERR_NOT_SUPPORTED)";
        }
        return stage_bit(d, "UART_DOWNLOAD_DIS", NULL, err) == ESPSEC_OK ? NULL : err->msg;
    }
    return stage_bit(d, "DIS_DOWNLOAD_MODE", NULL, err) == ESPSEC_OK ? NULL : err->msg;
}

/* esp_secure_boot_enable_secure_features: what is burned with the Secure Boot fuse, in ESP-IDF's order. */
static int sb_secure_features(device_t *d, espsec_error_t *err)
{
    const char *T = "secure_boot"; /* <chip>/secure_boot_secure_features.c logs as "secure_boot" */
    const int one_slot = d->chip.digest_slots == 1;
    espsec_err_t rc = ESPSEC_OK;
    if (!one_slot) {
        static const char *const DIRECT[] = {"DIS_DIRECT_BOOT", "DIS_LEGACY_SPI_BOOT", NULL};
        rc = stage_first(d, DIRECT, err);
        if (rc == ESPSEC_OK && chip_has(d, "DIS_BOOT_REMAP")) {
            rc = stage_bit(d, "DIS_BOOT_REMAP", NULL, err);
        }
    } else {
        rc = stage_bit(d, d->chip.sb_enable, NULL, err);
    }
    if (rc != ESPSEC_OK) {
        return prov_fail(d, T, "Blowing secure boot efuse...failed.", err->msg);
    }
    if (one_slot) {
        if (!d->cfg.sb_allow_jtag) {
            dlog(d, 'I', T, "Disable JTAG...");
            if (stage_jtag_off(d, err) != ESPSEC_OK) {
                return prov_fail(d, T, "Disable JTAG...failed.", err->msg);
            }
        } else {
            dlog(d, 'W', T, "Not disabling JTAG - SECURITY COMPROMISED");
        }
        if (chip_has(d, "CONSOLE_DEBUG_DISABLE")) {
            if (!d->cfg.sb_allow_rom_basic) {
                dlog(d, 'I', T, "Disable ROM BASIC interpreter fallback...");
                if (stage_bit(d, "CONSOLE_DEBUG_DISABLE", NULL, err) != ESPSEC_OK) {
                    return prov_fail(d, T, "Disable ROM BASIC interpreter fallback...failed.", err->msg);
                }
            } else {
                dlog(d, 'W', T, "Not disabling ROM BASIC fallback - SECURITY COMPROMISED");
            }
        }
    }
    if (d->cfg.secure_rom_dl_mode && chip_has(d, "ENABLE_SECURITY_DOWNLOAD")) {
        dlog(d, 'I', T, "Enabling Security download mode...");
        const char *why = stage_dl_mode(d, 1, err);
        if (why != NULL) {
            return prov_fail(d, T, "Could not enable Security download mode...", why);
        }
    } else if (d->cfg.disable_rom_dl_mode) {
        dlog(d, 'I', T, "Disable ROM Download mode...");
        const char *why = stage_dl_mode(d, 0, err);
        if (why != NULL) {
            return prov_fail(d, T, "Could not disable ROM Download mode...", why);
        }
    } else {
        dlog(d, 'W', T, "UART ROM Download mode kept enabled - SECURITY COMPROMISED");
    }
    if (!one_slot) {
        if (!d->cfg.sb_allow_jtag) {
            dlog(d, 'I', T, "Disable hardware & software JTAG...");
            rc = stage_jtag_off(d, err);
            if (rc == ESPSEC_OK) {
                rc = stage_soft_jtag_off(d, err);
            }
            if (rc != ESPSEC_OK) {
                return prov_fail(d, T, "Disable JTAG...failed.", err->msg);
            }
        } else {
            dlog(d, 'W', T, "Not disabling JTAG - SECURITY COMPROMISED");
        }
        if (d->cfg.sb_aggressive_revoke && stage_bit(d, "SECURE_BOOT_AGGRESSIVE_REVOKE", NULL, err) != ESPSEC_OK) {
            return prov_fail(d, T, "Blowing SECURE_BOOT_AGGRESSIVE_REVOKE failed.", err->msg);
        }
        /* ECDSA-P384 digests are SHA-384: chips that have the choice are told so (P4, C5) */
        if (d->cfg.sb_scheme == ESPSEC_SB_ECDSA384 && chip_has(d, "SECURE_BOOT_SHA384_EN") &&
            stage_bit(d, "SECURE_BOOT_SHA384_EN", NULL, err) != ESPSEC_OK) {
            return prov_fail(d, T, "Blowing SECURE_BOOT_SHA384_EN failed.", err->msg);
        }
        if (stage_bit(d, d->chip.sb_enable, NULL, err) != ESPSEC_OK) {
            return prov_fail(d, T, "Blowing secure boot efuse...failed.", err->msg);
        }
    }
    if (!d->cfg.sb_allow_efuse_rd_dis) {
        /* with flash encryption still to come, RD_DIS stays writable until its key is read-protected */
        int rd_dis_now = !d->cfg.flash_encryption || d->fu.fe_on;
        if (rd_dis_now) {
            dlog(d, 'I', T, "Prevent read disabling of additional efuses...");
            if (espsec_efuse_stage_write_protect(d->ef, d->chip.rd_dis_wp, err) != ESPSEC_OK && !d->fu.rd_dis_locked) {
                return prov_fail(d, T, "Prevent read disabling of additional efuses...failed.", err->msg);
            }
        }
    } else {
        dlog(d, 'W', T, "Allowing read disabling of additional efuses - SECURITY COMPROMISED");
    }
    return 0;
}

/* The key digests of an image's verified signature blocks (s_calculate_image_public_key_digests). -1: a bad block. */
static int image_key_digests(device_t *d, const loaded_t *l, uint32_t off, int max, uint8_t out[3][32])
{
    size_t padded = (l->img.image_len + 4095) & ~(size_t)4095;
    espsec_sbv2_block_info_t bi[ESPSEC_SBV2_MAX_BLOCKS];
    espsec_error_t e;
    int n = 0;
    if (padded + 4096 > l->len || espsec_sbv2_info(l->buf, padded + 4096, 0, bi, &e) != ESPSEC_OK) {
        return 0;
    }
    for (int b = 0; b < ESPSEC_SBV2_MAX_BLOCKS && b < max && bi[b].present && bi[b].digest_matches; b++) {
        if (espsec_sbv2_verify_block(l->buf + padded + (size_t)b * ESPSEC_SBV2_BLOCK_SIZE, bi[b].digest,
                                     bi[b].digest_len, out[n], &e) != ESPSEC_OK) {
            dlog(d, 'E', "secure_boot_v2", "Secure boot key (%d) verification failed.", b);
            return -1;
        }
        n++;
    }
    if (n > 0) {
        dlog(d, 'I', "secure_boot_v2", "Digests successfully calculated, %d valid signatures (image offset 0x%x)", n,
             off);
    }
    return n;
}

/* Secure Boot V2 first enable (esp_secure_boot_v2_permanently_enable): digests, revocations, the fuses, one batch. */
static int provision_sbv2(device_t *d, const loaded_t *bl, const loaded_t *app, uint32_t app_off, espsec_error_t *err)
{
    const char *T = "secure_boot_v2";
    const int slots = d->chip.digest_slots;
    dlog(d, 'I', T, "enabling secure boot v2...");
    if (slots == 1 && espsec_efuse_coding_34(d->ef)) {
        return prov_fail(d, T, "No coding schemes are supported in secure boot v2.(Detected scheme: 0x1)", NULL);
    }
    uint8_t boot[3][32];
    int nboot = 0, have = 0;
    for (int i = 0; i < 3; i++) {
        have |= d->fu.sb_digest_blk[i] >= 0 && (d->fu.sb_digest_hidden[i] || !all_zero32(d->fu.sb_digests[i]));
    }
    dlog(d, 'I', T, "Secure boot digests %s", have ? "already present" : "absent, generating..");
    if (!have) {
        nboot = image_key_digests(d, bl, d->chip.boot_offset, slots, boot);
        if (nboot < 0) {
            return prov_fail(d, T, "Bootloader signature block is invalid", NULL);
        }
        if (nboot == 0) {
            dlog(d, 'E', T, "No valid bootloader signature blocks found.");
            return prov_fail(d, "boot", "Secure Boot v2 failed (the bootloader has no valid signature block: sign it "
                                        "with espsec secure sign-data --version 2)",
                             NULL);
        }
        dlog(d, 'I', T, "%d signature block(s) found appended to the bootloader.", nboot);
        dlog(d, 'I', T, "Burning public key hash to eFuse");
        unsigned used = 0;
        for (int b = 0; b < nboot; b++) {
            espsec_err_t rc;
            if (d->chip.ci->fe.shared_key0) {
                rc = stage_key0_half(d, boot[b], 32, "SECURE_BOOT_DIGEST", err);
            } else if (slots == 1) {
                rc = espsec_efuse_stage_key(d->ef, espsec_efuse_block_by_name(d->ef, d->chip.ci->sb.digest_block),
                                            boot[b], 32, NULL, 1, 0, err);
            } else {
                char purpose[32];
                snprintf(purpose, sizeof(purpose), "SECURE_BOOT_DIGEST%d", b);
                int ki = 0, blk = free_key_block(d, purpose, used, &ki);
                if (blk < 0) {
                    dlog(d, 'E', T, "Bootloader signatures(%d) more than available key slots.", nboot);
                    return prov_fail(d, T, "Secure Boot v2 failed: not enough free eFuse key blocks", NULL);
                }
                used |= 1u << ki;
                rc = espsec_efuse_stage_key(d->ef, blk, boot[b], 32, purpose, 1, 0, err);
            }
            if (rc != ESPSEC_OK) {
                return prov_fail(d, T, "Failed to write efuse block with purpose. Can't continue.", err->msg);
            }
        }
    } else {
        for (int i = 0; i < slots; i++) {
            if (d->fu.sb_digest_blk[i] < 0) {
                continue;
            }
            char rev[40];
            snprintf(rev, sizeof(rev), "SECURE_BOOT_KEY_REVOKE%d", i);
            uint64_t rv = 0;
            espsec_efuse_get_uint_hw(d->ef, rev, &rv, NULL);
            if (rv) {
                continue;
            }
            if (d->fu.sb_digest_hidden[i]) {
                char m[80];
                snprintf(m, sizeof(m), "Key digest (BLK%d) read protected, aborting...", d->fu.sb_digest_blk[i]);
                return prov_fail(d, T, m, NULL);
            }
            if (all_zero32(d->fu.sb_digests[i])) {
                char m[80];
                snprintf(m, sizeof(m), "%d eFuse block is empty, aborting...", d->fu.sb_digest_blk[i]);
                return prov_fail(d, T, m, NULL);
            }
            espsec_efuse_stage_write_protect(d->ef, espsec_efuse_block_name(d->ef, d->fu.sb_digest_blk[i]), NULL);
            memcpy(boot[nboot++], d->fu.sb_digests[i], 32);
        }
        if (nboot == 0) {
            return prov_fail(d, T, "No valid pre-loaded public key digest in eFuse", NULL);
        }
        dlog(d, 'W', T, "Using pre-loaded public key digest in eFuse");
    }
    uint8_t appd[3][32];
    int napp = image_key_digests(d, app, app_off, slots, appd);
    if (napp < 0) {
        return prov_fail(d, T, "Application signature block is invalid.", NULL);
    }
    if (napp == 0) {
        return prov_fail(d, T, "No valid applications signature blocks found.", NULL);
    }
    dlog(d, 'I', T, "%d signature block(s) found appended to the app.", napp);
    if (napp > nboot) {
        dlog(d, 'W', T, "App has %d signature blocks but bootloader only has %d. Some keys missing from bootloader?",
             napp, nboot);
    }
    int match = 0;
    for (int i = 0; i < nboot; i++) {
        for (int j = 0; j < napp; j++) {
            if (espsec_ct_compare(boot[i], appd[j], have ? d->fu.sb_digest_bytes : 32) == 0) {
                dlog(d, 'I', T, "Application key(%d) matches with bootloader key(%d).", j, i);
                match = 1;
            }
        }
    }
    if (!match) {
        return prov_fail(d, T, "No application key digest matches the bootloader key digest.", NULL);
    }
    if (slots > 1) {
        for (int i = nboot; i < slots; i++) {
            char name[40];
            snprintf(name, sizeof(name), "SECURE_BOOT_KEY_REVOKE%d", i);
            if (d->cfg.sb_allow_unused_slots) {
                dlog(d, 'W', T,
                     "Unused key digest slot (%d) left un-revoked due to the config SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS",
                     i);
                continue;
            }
            dlog(d, 'I', T, "Revoking empty key digest slot (%d)...", i);
            if (stage_bit(d, name, NULL, err) != ESPSEC_OK) {
                return prov_fail(d, T, "Revoking an empty key digest slot failed", err->msg);
            }
        }
    }
    dlog(d, 'I', T, "blowing secure boot efuse...");
    if (sb_secure_features(d, err) != 0) {
        return -1;
    }
    if (burn(d, err) != ESPSEC_OK) {
        return prov_fail(d, T, "Error programming security eFuses.", err->msg);
    }
    if (!d->hold_burn) {
        dlog(d, 'I', T, "Secure boot permanently enabled");
    }
    return 0;
}

/* check_and_generate_encryption_keys: the key the chip will use (generated and staged, or pre-burned). */
/*
 * check_and_generate_encryption_keys: a pre-loaded flash key must be read-
 * and write-protected, and its key purpose write-protected; else
 * ESP_ERR_INVALID_STATE. The first block that is not, or NULL.
 */
static const char *preloaded_key_unprotected(const device_t *d)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(d->chip.chip);
    if (c == NULL) {
        return NULL;
    }
    if (c->fe.key_block != NULL) {
        int b = espsec_efuse_block_by_name(d->ef, c->fe.key_block);
        return b >= 0 && (espsec_efuse_block_readable(d->ef, b) || espsec_efuse_block_writeable(d->ef, b))
                   ? c->fe.key_block
                   : NULL;
    }
    int key0 = espsec_efuse_block_by_name(d->ef, "BLOCK_KEY0");
    for (int k = 0; key0 >= 0 && k < 6; k++) {
        char name[24];
        uint64_t v = 0;
        snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
        int fi = espsec_efuse_find(d->ef, name);
        if (fi < 0 || espsec_efuse_get_uint_hw(d->ef, name, &v, NULL) != ESPSEC_OK || v == 0) {
            continue;
        }
        const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(c, (int)v);
        if (kp == NULL || strncmp(kp->name, "XTS_AES", 7) != 0) {
            continue;
        }
        espsec_efuse_field_info_t info;
        int purpose_wp = espsec_efuse_field_info(d->ef, (size_t)fi, &info) == ESPSEC_OK && !info.writeable;
        if (espsec_efuse_block_readable(d->ef, key0 + k) || espsec_efuse_block_writeable(d->ef, key0 + k) ||
            !purpose_wp) {
            return espsec_efuse_block_name(d->ef, key0 + k);
        }
    }
    return NULL;
}

static int fe_key_setup(device_t *d, uint8_t key[64], size_t *klen, espsec_error_t *err)
{
    const char *T = "flash_encrypt";
    const int one_block = d->chip.fe_mode == ESPSEC_FE_ESP32;
    const unsigned modes = d->chip.ci->fe.modes;
    const int two = !one_block && d->cfg.fe_aes256 && !d->cfg.fe_aes128_derived && (modes & ESPSEC_FE_MODE_XTS256);
    const int derived = !one_block && d->cfg.fe_aes128_derived && (modes & ESPSEC_FE_MODE_XTS128_DERIVED);
    size_t part = one_block && espsec_efuse_coding_34(d->ef) ? 24 : derived ? 16 : 32;
    *klen = two ? 64 : part;
    if (!d->fu.fe_key_blank) {
        const char *unprotected = preloaded_key_unprotected(d);
        if (unprotected != NULL) {
            dlog(d, 'E', T, "Invalid key state, check read&write protection for key and keypurpose(if exists)");
            stop(d, "bootloader", 0, "flash encryption key in %s is burned but not read- and write-protected "
                                     "(ESP_ERR_INVALID_STATE): the bootloader refuses to use it",
                 unprotected);
            return -1;
        }
        if (d->fu.fe_key_hidden) {
            espsec_fail(err, ESPSEC_ERR_KEY,
                        "a flash encryption key is pre-burned but read-protected and unknown: give it with "
                        "--flash-key");
            return -2;
        }
        dlog(d, 'I', T, "Using pre-loaded flash encryption key in efuse");
        memcpy(key, d->fu.fe_key, d->fu.fe_key_len < 64 ? d->fu.fe_key_len : 64);
        *klen = d->fu.fe_key_len;
        return 0;
    }
    dlog(d, 'I', T, "Generating new flash encryption key...");
    if (dev_random(d, key, *klen) != ESPSEC_OK) {
        return prov_fail(d, T, "random number generator failed", NULL);
    }
    uint8_t rev[32];
    espsec_err_t rc = ESPSEC_OK;
    unsigned used = 0;
    for (size_t off = 0; rc == ESPSEC_OK && off < *klen; off += part) {
        for (size_t i = 0; i < part; i++) {
            rev[i] = key[off + part - 1 - i];
        }
        if (one_block) {
            rc = espsec_efuse_stage_key(d->ef, espsec_efuse_block_by_name(d->ef, d->chip.ci->fe.key_block), rev,
                                        part, NULL, 1, 1, err);
            continue;
        }
        const char *purpose = two ? (off == 0 ? "XTS_AES_256_KEY_1" : "XTS_AES_256_KEY_2")
                                  : derived ? "XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS" : "XTS_AES_128_KEY";
        if (d->chip.ci->fe.shared_key0) {
            /* the purpose decides the reversal: give the key as generated */
            rc = stage_key0_half(d, key + off, part, purpose, err);
            continue;
        }
        int ki = 0, blk = free_key_block(d, purpose, used, &ki);
        if (blk < 0) {
            dlog(d, 'E', T, "Not enough free efuse key blocks (need %d) to continue", two ? 2 : 1);
            espsec_wipe(rev, sizeof(rev));
            return prov_fail(d, T, "Initialization of Flash Encryption key failed", "no free eFuse key block");
        }
        used |= 1u << ki;
        rc = espsec_efuse_stage_key(d->ef, blk, rev, part, purpose, 1, 1, err);
    }
    espsec_wipe(rev, sizeof(rev));
    if (rc != ESPSEC_OK) {
        dlog(d, 'E', T, "Failed to write efuse block with purpose (err=0x%x). Can't continue.", (unsigned)rc);
        return prov_fail(d, T, "Initialization of Flash Encryption key failed", err->msg);
    }
    return 0;
}

/*
 * CONFIG_SECURE_FLASH_PSEUDO_ROUND_FUNC (on by default in release mode) on a chip with XTS_DPA_PSEUDO_LEVEL, at a
 * revision that has the function (the chip model's "XTS-AES pseudo rounds" minimum: P4 v3.0, H2 v1.2). An unknown
 * revision counts as new enough, unless the build's minimum revision says older chips are allowed.
 */
static int pseudo_rounds_on(const device_t *d)
{
    const int on = d->cfg.fe_pseudo_round >= 0 ? d->cfg.fe_pseudo_round : d->cfg.flash_enc_release;
    if (!on || !chip_has(d, "XTS_DPA_PSEUDO_LEVEL")) {
        return 0;
    }
    unsigned need = 0;
    for (const espsec_chip_rev_req_t *r = d->chip.ci->rev_reqs; r != NULL && r->feature != NULL; r++) {
        if (strcmp(r->feature, "XTS-AES pseudo rounds") == 0) {
            need = r->min_rev;
        }
    }
    if (d->fu.chip_rev_known) {
        return d->fu.chip_rev >= need;
    }
    return d->cfg.rev_min_full < 0 || (unsigned)d->cfg.rev_min_full >= need;
}

/* esp_flash_encryption_enable_secure_features, in ESP-IDF's order. */
static int fe_secure_features(device_t *d, espsec_error_t *err)
{
    const char *T = "flash_encrypt";
    const int one_block = d->chip.fe_mode == ESPSEC_FE_ESP32;
    espsec_err_t rc = ESPSEC_OK;
    if (one_block && d->fu.crypt_config == 0) {
        dlog(d, 'I', T, "Setting CRYPT_CONFIG efuse to 0xF");
        int noop;
        rc = espsec_efuse_stage_uint(d->ef, "FLASH_CRYPT_CONFIG", 0xF, &noop, err);
    } else if (one_block) {
        dlog(d, 'I', T, "Setting CRYPT_CONFIG efuse to 0xF");
        if (d->fu.crypt_config != 0xF) {
            dlog(d, 'E', T, "EFUSE_ENCRYPT_CONFIG should be set 0xF but it is 0x%x", d->fu.crypt_config);
        }
    }
    if (rc == ESPSEC_OK && !d->cfg.fe_allow_dl_encrypt) {
        static const char *const ENC[] = {"DISABLE_DL_ENCRYPT", "DIS_DOWNLOAD_MANUAL_ENCRYPT", NULL};
        dlog(d, 'I', T, "Disable UART bootloader encryption...");
        rc = stage_first(d, ENC, err);
    } else if (rc == ESPSEC_OK) {
        dlog(d, 'W', T, "Not disabling UART bootloader encryption");
    }
    if (rc == ESPSEC_OK && chip_has(d, "DISABLE_DL_DECRYPT")) {
        if (!d->cfg.fe_allow_dl_decrypt) {
            dlog(d, 'I', T, "Disable UART bootloader decryption...");
            rc = stage_bit(d, "DISABLE_DL_DECRYPT", NULL, err);
        } else {
            dlog(d, 'W', T, "Not disabling UART bootloader decryption - SECURITY COMPROMISED");
        }
    }
    /* the download-mode cache fuse from the chip model (DISABLE_DL_CACHE, DIS_DOWNLOAD_ICACHE, SPI_DOWNLOAD_MSPI_DIS);
       a chip without one (ESP32-H2) has no such step */
    const char *dl_cache = d->chip.ci->lock.dis_dl_cache;
    if (rc == ESPSEC_OK && dl_cache == NULL) {
        /* nothing to disable, nothing logged */
    } else if (rc == ESPSEC_OK && !d->cfg.fe_allow_dl_cache) {
        dlog(d, 'I', T, one_block ? "Disable UART bootloader MMU cache..." : "Disable UART bootloader cache...");
        rc = stage_bit(d, dl_cache, NULL, err);
        if (rc == ESPSEC_OK && chip_has(d, "DIS_DOWNLOAD_DCACHE")) {
            rc = stage_bit(d, "DIS_DOWNLOAD_DCACHE", NULL, err);
        }
    } else if (rc == ESPSEC_OK) {
        dlog(d, 'W', T, "Not disabling UART bootloader %scache - SECURITY COMPROMISED", one_block ? "MMU " : "");
    }
    if (rc == ESPSEC_OK && !d->cfg.sb_allow_jtag) {
        dlog(d, 'I', T, "Disable JTAG...");
        rc = stage_jtag_off(d, err);
    } else if (rc == ESPSEC_OK) {
        dlog(d, 'W', T, "Not disabling JTAG - SECURITY COMPROMISED");
    }
    if (rc == ESPSEC_OK && chip_has(d, "CONSOLE_DEBUG_DISABLE")) {
        if (!d->cfg.sb_allow_rom_basic) {
            dlog(d, 'I', T, "Disable ROM BASIC interpreter fallback...");
            rc = stage_bit(d, "CONSOLE_DEBUG_DISABLE", NULL, err);
        } else {
            dlog(d, 'W', T, "Not disabling ROM BASIC fallback - SECURITY COMPROMISED");
        }
    }
    if (rc == ESPSEC_OK && !one_block) {
        static const char *const DIRECT[] = {"DIS_DIRECT_BOOT", "DIS_LEGACY_SPI_BOOT", NULL};
        rc = stage_first(d, DIRECT, err);
        if (rc == ESPSEC_OK && chip_has(d, "DIS_BOOT_REMAP")) {
            rc = stage_bit(d, "DIS_BOOT_REMAP", NULL, err);
        }
    }
    if (rc == ESPSEC_OK && pseudo_rounds_on(d)) {
        int noop = 0;
        dlog(d, 'I', T, "Enable XTS-AES pseudo rounds function...");
        rc = espsec_efuse_stage_uint(d->ef, "XTS_DPA_PSEUDO_LEVEL", (uint64_t)d->cfg.fe_pseudo_strength, &noop, err);
    }
    if (rc != ESPSEC_OK) {
        return prov_fail(d, T, "Initialization of Flash Encryption key failed", err->msg);
    }
    /* Secure Boot V2 deferred this until the flash key was read-protected */
    if (d->cfg.secure_boot && d->cfg.secure_boot_version == 2 && !d->cfg.sb_allow_efuse_rd_dis && !d->fu.rd_dis_locked &&
        espsec_efuse_stage_write_protect(d->ef, d->chip.rd_dis_wp, err) != ESPSEC_OK) {
        return prov_fail(d, T, "Write-protecting RD_DIS failed", err->msg);
    }
    /* the cache-disable fuse shares a write-protect bit: protect it so no later burn disables the cache */
    /* DIS_ICACHE, or the ESP32's DIS_CACHE */
    const char *cache = chip_has(d, "DIS_ICACHE") ? "DIS_ICACHE" : chip_has(d, "DIS_CACHE") ? "DIS_CACHE" : NULL;
    if (!d->cfg.fe_skip_wp_cache && cache != NULL) {
        espsec_efuse_field_info_t fi;
        int i = espsec_efuse_find(d->ef, cache);
        if (espsec_efuse_field_info(d->ef, (size_t)i, &fi) == ESPSEC_OK && fi.writeable &&
            espsec_efuse_stage_write_protect(d->ef, cache, err) != ESPSEC_OK) {
            return prov_fail(d, T, "Write-protecting the cache eFuse failed", err->msg);
        }
    }
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
    uint8_t key[64];
    size_t klen = 32;
    espsec_err_t rc = ESPSEC_OK;
    if (d->fu.crypt_cnt != 0) {
        /* esp_flash_encrypt_init runs once: a counter already counting (re-enable) keeps key and fuses */
        if (d->fu.fe_key_hidden || d->fu.fe_key_len == 0) {
            espsec_fail(err, ESPSEC_ERR_KEY, "flash encryption is being re-enabled with a key the eFuse file hides: give "
                                             "it with --flash-key");
            return -2;
        }
        memcpy(key, d->fu.fe_key, d->fu.fe_key_len);
        klen = d->fu.fe_key_len;
    } else {
        int fk = fe_key_setup(d, key, &klen, err);
        if (fk != 0) {
            espsec_wipe(key, sizeof(key));
            return fk;
        }
        if (fe_secure_features(d, err) != 0) {
            espsec_wipe(key, sizeof(key));
            return -1;
        }
        if (d->hold_burn) {
            d->hold_burn = 0; /* the batch with the Secure Boot digest is committed here */
            dlog(d, 'I', "boot", "Secure boot permanently enabled");
        }
        if (burn(d, err) != ESPSEC_OK) {
            espsec_wipe(key, sizeof(key));
            return prov_fail(d, T, "Error programming security eFuses.", err->msg);
        }
    }
    const int esp32 = d->chip.digest_slots == 1;
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
                len = !d->cfg.fe_only_image_len ? pp->size
                      : d->cfg.secure_boot || d->cfg.signed_apps_no_sb ? l.signed_len
                                                                       : l.img.image_len;
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
        /* the counter at its maximum needs no write protection (it would also lock the fuses sharing its bit);
           the derived 128-bit key protects it so XTS_KEY_LENGTH_256 cannot change */
        if (rc == ESPSEC_OK && d->cfg.fe_aes128_derived && d->chip.fe_mode != ESPSEC_FE_ESP32) {
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
    if (!(d->chip.ci->sb.versions & ESPSEC_SBCAP_V1)) {
        stop(d, "bootloader", 0, "Secure Boot V1 does not exist on the %s", d->chip.ci->display);
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

/*
 * nvs_sec_provider's HMAC scheme (CONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC): the NVS keys are HMAC-SHA256s of fixed
 * seeds with the key in BLOCK_KEY<CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID>, purpose HMAC_UP. On the first start the block
 * has no purpose and the app burns a random key with esp_efuse_write_key (one batch: the key, its write and read
 * protection, the purpose and the purpose's write protection). The controller programs the key block first and
 * BLOCK0 last; a BLOCK0 bit whose write protection is set (RD_DIS, once Secure Boot V2 locked it) does not take,
 * the check after the burn fails and the call returns ESP_FAIL, with the key and purpose burned and the key readable
 * (esp-idf#13909). 0: keys derived; -1: r->nvs_problem says why.
 */
static int app_nvs_hmac(device_t *d, espsec_nvs_keys_t *keys)
{
    espsec_boot_result_t *r = d->r;
    const char *T = "nvs_sec_provider";
    static const char GEN_FAILED[] = "ESP_ERR_NVS_SEC_HMAC_KEY_GENERATION_FAILED";
    const espsec_key_purpose_t *hp = espsec_chip_key_purpose(d->chip.ci, "HMAC_UP");
    const int id = d->cfg.nvs_hmac_key_id;
    if (hp == NULL) {
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "NVS encryption with the HMAC scheme, but the %s has no HMAC "
                                                       "peripheral (ESP-IDF offers the scheme only where it has)",
               d->chip.ci->display);
        return -1;
    }
    if (id < 0 || id > 5) {
        dlog(d, 'E', T, "Invalid HMAC key ID received!");
        if (id == -1) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID is not set (0..5 for "
                                                           "BLOCK_KEY0..5)");
        } else {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                   "CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=%d names no eFuse key block (0..5 for BLOCK_KEY0..5)", id);
        }
        return -1;
    }
    char bname[16], pname[16];
    snprintf(bname, sizeof(bname), "BLOCK_KEY%d", id);
    snprintf(pname, sizeof(pname), "KEY_PURPOSE_%d", id);
    const int blk = espsec_efuse_block_by_name(d->ef, bname);
    uint64_t purpose = 0;
    espsec_error_t e;
    if (blk < 0 || espsec_efuse_get_uint_hw(d->ef, pname, &purpose, &e) != ESPSEC_OK) {
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "the %s has no %s", d->chip.ci->display, bname);
        return -1;
    }
    uint8_t key[32];
    if (purpose != (uint64_t)hp->value) {
        /* nvs_flash_init: read_security_cfg finds no key, generate_keys burns one */
        dlog(d, 'E', T, "Could not find HMAC key in configured eFuse block!");
        dlog(d, 'W', "nvs", "Failed to read NVS security cfg: [0xF001] (ESP_ERR_NVS_SEC_HMAC_KEY_NOT_FOUND)");
        dlog(d, 'I', "nvs", "Generating NVS encr-keys...");
        uint8_t b[32];
        espsec_efuse_get_block(d->ef, blk, b);
        const int unused = purpose == 0 && all_zero32(b) && espsec_efuse_block_readable(d->ef, blk) &&
                           espsec_efuse_block_writeable(d->ef, blk);
        dlog(d, 'I', "efuse", "Batch mode of writing fields is enabled");
        if (!unused) {
            dlog(d, 'I', "efuse", "Batch mode of writing fields is cancelled");
            dlog(d, 'E', T, "Failed to write the HMAC key to eFuse: [0x103] (ESP_ERR_INVALID_STATE)");
            dlog(d, 'E', "nvs", "Failed to generate NVS encr-keys: [0xF003] (%s)", GEN_FAILED);
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                   "%s holds another key or purpose: esp_efuse_write_key refuses it (ESP_ERR_INVALID_STATE)", bname);
            return -1;
        }
        if (!d->o->provision) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                   "the app would burn its NVS HMAC key into %s: provisioning not allowed", bname);
            return -1;
        }
        if (dev_random(d, key, sizeof(key)) != ESPSEC_OK) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "random number generator failed");
            return -1;
        }
        /* what the hardware keeps: RD_DIS only when its write protection is not set (as burned now: the
           bootloader may have set it on this boot) */
        const int rd_ok = espsec_efuse_is_protected(d->ef, d->chip.rd_dis_wp, 0) == 0;
        if (espsec_efuse_stage_key(d->ef, blk, key, sizeof(key), "HMAC_UP", 1, rd_ok, &e) != ESPSEC_OK ||
            burn(d, &e) != ESPSEC_OK) {
            espsec_efuse_discard(d->ef);
            espsec_wipe(key, sizeof(key));
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "burning the HMAC key into %s: %s", bname, e.msg);
            return -1;
        }
        dlog(d, 'I', "efuse", "BURN BLOCK%d", blk);
        dlog(d, 'I', "efuse", "BURN BLOCK%d - OK (write block == read block)", blk);
        if (!rd_ok) {
            for (int i = 1; i <= 3; i++) { /* the burn and its two retries */
                dlog(d, 'I', "efuse", "BURN BLOCK0");
                dlog(d, 'E', "efuse", "BURN BLOCK0 - ERROR (written bits != read bits)");
                dlog(d, 'W', "efuse", "BLOCK0: next retry to fix an error [%d/3]...", i);
            }
            dlog(d, 'E', "efuse", "Written data are incorrect");
            dlog(d, 'I', "efuse", "Batch mode. Prepared fields are committed");
            dlog(d, 'E', T, "Failed to write the HMAC key to eFuse: [0xFFFFFFFF] (ESP_FAIL)");
            dlog(d, 'E', "nvs", "Failed to generate NVS encr-keys: [0xF003] (%s)", GEN_FAILED);
            espsec_wipe(key, sizeof(key));
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                   "the HMAC key was burned into %s but RD_DIS is write-protected, so it could not be read-protected "
                   "(esp_efuse_write_key: ESP_FAIL); the key stays readable",
                   bname);
            return -1;
        }
        dlog(d, 'I', "efuse", "BURN BLOCK0");
        dlog(d, 'I', "efuse", "BURN BLOCK0 - OK (all write block bits are set)");
        dlog(d, 'I', "efuse", "Batch mode. Prepared fields are committed");
    } else {
        int known = 0;
        if (espsec_efuse_get_block_hw(d->ef, blk, key, &known, &e) != ESPSEC_OK || !known) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                   "the HMAC key in %s is read-protected and espsec does not know it (no hidden view of the eFuses)",
                   bname);
            return -1;
        }
    }
    espsec_err_t rc = espsec_nvs_keys_from_hmac(key, sizeof(key), keys);
    espsec_wipe(key, sizeof(key));
    if (rc != ESPSEC_OK) {
        dlog(d, 'E', T, "Failed to derive the encryption keys using HMAC!");
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "deriving the NVS keys with HMAC failed");
        return -1;
    }
    if (purpose != (uint64_t)hp->value) {
        r->nvs_keys_generated = 1;
    }
    return 0;
}

/* The flash-encryption scheme: the NVS keys in an encrypted nvs_keys partition, generated when it is empty. */
static int app_nvs_fe_keys(device_t *d, espsec_nvs_keys_t *keys)
{
    espsec_boot_result_t *r = d->r;
    espsec_error_t e;
    const espsec_partition_t *kpart = espsec_pt_find(&d->pt, 1, 0x04);
    if (kpart == NULL) {
        dlog(d, 'E', "nvs", "nvs_flash_secure_init: no nvs_keys partition (ESP_ERR_NOT_FOUND)");
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                 "NVS encryption is on but the partition table has no nvs_keys partition");
        return -1;
    }
    if (!(kpart->flags & ESPSEC_PT_FLAG_ENCRYPTED) || d->fe == NULL) {
        dlog(d, 'E', "nvs_sec_provider", "nvs_keys partition must be flash-encrypted");
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem),
                 d->fe == NULL ? "NVS encryption (flash-encryption scheme) needs flash encryption, which is off"
                               : "the nvs_keys partition at 0x%x is not flagged 'encrypted'",
                 kpart->offset);
        return -1;
    }
    uint8_t kb[4096];
    if (rd(d, kpart->offset, kb, sizeof(kb), 1, &e) != ESPSEC_OK) {
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "%s", e.msg);
        return -1;
    }
    espsec_err_t rc = espsec_nvs_keys_parse(kb, sizeof(kb), keys, &e);
    if (rc == ESP_ERR_NVS_KEYS_NOT_INITIALIZED) {
        dlog(d, 'I', "nvs", "nvs_keys partition is empty: generating NVS encryption keys (nvs_flash_generate_keys)");
        uint8_t raw64[64];
        if (dev_random(d, raw64, sizeof(raw64)) != ESPSEC_OK) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "random number generator failed");
            return -1;
        }
        memcpy(keys->eky, raw64, 32);
        memcpy(keys->tky, raw64 + 32, 32);
        espsec_wipe(raw64, sizeof(raw64));
        espsec_nvs_keys_encode(keys, kb);
        if (write_sectors(d, d->fe, kpart->offset, kb, sizeof(kb), &e) != ESPSEC_OK) {
            fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "%s", e.msg);
            espsec_wipe(kb, sizeof(kb));
            return -1;
        }
        r->nvs_keys_generated = 1;
        r->provisioned = 1;
    } else if (rc != ESPSEC_OK) {
        dlog(d, 'E', "nvs", "nvs_flash_read_security_cfg failed: %s", espsec_err_to_name(rc));
        fmtcpy(r->nvs_problem, sizeof(r->nvs_problem), "nvs_keys partition at 0x%x: %s", kpart->offset, e.msg);
        espsec_wipe(kb, sizeof(kb));
        return -1;
    }
    espsec_wipe(kb, sizeof(kb));
    return 0;
}

static void app_nvs(device_t *d)
{
    espsec_boot_result_t *r = d->r;
    const espsec_partition_t *nvs = espsec_pt_find(&d->pt, 1, 0x02);
    if (nvs == NULL) {
        return;
    }
    espsec_nvs_keys_t keys, *kp = NULL;
    espsec_error_t e;
    memset(&keys, 0, sizeof(keys));
    if (d->have_cfg && d->cfg.nvs_encryption) {
        r->nvs_encrypted = 1;
        if ((d->cfg.nvs_hmac ? app_nvs_hmac(d, &keys) : app_nvs_fe_keys(d, &keys)) != 0) {
            espsec_wipe(&keys, sizeof(keys));
            return;
        }
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

/* bootloader_common_check_chip_validity: the image header's revision range against the chip. 0: fine. */
static int check_rev(device_t *d, const espsec_image_t *img, int is_app, uint32_t off)
{
    unsigned rev = d->fu.chip_rev, min = img->min_rev_full, max = img->max_rev_full;
    if (rev < min) {
        dlog(d, 'E', "boot_comm", "Image requires chip rev >= v%u.%u, but chip is v%u.%u", min / 100, min % 100,
             rev / 100, rev % 100);
        stop(d, "bootloader", off, "the image at 0x%x requires chip revision v%u.%u or later, the chip is v%u.%u", off,
             min / 100, min % 100, rev / 100, rev % 100);
        return -1;
    }
    uint64_t dis_major = 0;
    espsec_efuse_get_uint_hw(d->ef, "DISABLE_WAFER_VERSION_MAJOR", &dis_major, NULL);
    if (is_app && max != 0 && max != 0xFFFF && rev > max && !dis_major) {
        dlog(d, 'E', "boot_comm", "Image requires chip rev <= v%u.%u, but chip is v%u.%u", max / 100, max % 100,
             rev / 100, rev % 100);
        stop(d, "bootloader", off, "the app at 0x%x supports chip revisions up to v%u.%u, the chip is v%u.%u", off,
             max / 100, max % 100, rev / 100, rev % 100);
        return -1;
    }
    return 0;
}

/* The app's secure_version from its header (esp_app_desc_t), as check_anti_rollback reads it; -1: none. */
static long app_secure_version(device_t *d, const espsec_partition_t *p)
{
    uint8_t buf[32 + ESPSEC_APP_DESC_LEN];
    espsec_app_desc_t desc;
    espsec_error_t e;
    if (p->size < sizeof(buf) || rd(d, p->offset, buf, sizeof(buf), 1, &e) != ESPSEC_OK ||
        espsec_app_desc_decode(buf + 32, ESPSEC_APP_DESC_LEN, &desc) != 0) {
        return -1;
    }
    return (long)desc.secure_version;
}

/* ---- one pass from power-on ---- */

static int boot_pass(device_t *d, espsec_error_t *err)
{
    espsec_boot_result_t *r = d->r;
    if (dev_read_fuses(d->ef, &d->chip, d->o->flash_key, d->o->flash_key_len, &d->fu, err) != ESPSEC_OK) {
        return -2;
    }
    dev_set_rev(&d->fu, &d->chip, d->o->have_chip_rev ? (int)d->o->chip_rev_full : -1);
    r->chip_rev = d->fu.chip_rev;
    r->efuse_secure_version = d->fu.secure_version;
    loaded_t bl = {0}, app = {0};
    int rc = rom(d, &bl, err);
    if (rc != 0) {
        loaded_free(&bl);
        return rc;
    }
    snprintf(r->stage, sizeof(r->stage), "bootloader");
    bootloader_banner(d, &bl);
    rc = check_rev(d, &bl.img, 0, d->chip.boot_offset) ? -1 : 0;
    if (rc == 0) {
        rc = load_partition_table(d, err);
    }
    /* choose the app: otadata, else factory, else the first OTA slot */
    const espsec_partition_t *order[ESPSEC_PT_MAX_ENTRIES];
    size_t norder = 0;
    const espsec_partition_t *active_ota = NULL; /* the slot otadata selects */
    int ota_initial = 0; /* no factory app and otadata blank: the bootloader records the slot it boots */
    uint32_t ota_state = 0xFFFFFFFFu;           /* its esp_ota_img_states_t */
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
            dev_otadata_entry_t ent[2];
            if (slot == -1 && dev_otadata_read(d->fl, d->fe, otadata->offset, ent, NULL) == ESPSEC_OK) {
                /* bootloader_utility_get_selected_boot_partition: both entries unused (or no OTA app) is a
                 * fresh device; otherwise otadata is damaged */
                int fresh = n_ota == 0 || (dev_otadata_unused(&ent[0]) && dev_otadata_unused(&ent[1]));
                if (fresh && factory != NULL) {
                    dlog(d, 'I', "boot", "Defaulting to factory image");
                } else if (fresh) {
                    dlog(d, 'I', "boot", "No factory image, trying OTA 0");
                    /* neither entry holds a sequence number with a good CRC: the one booted gets written */
                    ota_initial = dev_otadata_initial(&ent[0]) && dev_otadata_initial(&ent[1]);
                } else if (factory != NULL) {
                    dlog(d, 'E', "boot", "ota data partition invalid, falling back to factory");
                } else {
                    dlog(d, 'E', "boot", "ota data partition invalid and no factory, will try all partitions");
                }
            }
            d->r->flash_changed |= changed;
            if (slot >= 0 && ota[slot] == NULL) {
                slot = -1;
            } else {
                dev_otadata_entry_t two[2];
                int act = -1;
                if (slot >= 0 && dev_otadata_read(d->fl, d->fe, otadata->offset, two, NULL) == ESPSEC_OK &&
                    (act = dev_otadata_active(two)) >= 0) {
                    ota_state = two[act].state;
                }
            }
        }
        if (slot >= 0) {
            order[norder++] = ota[slot];
            active_ota = ota[slot];
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
    /* an old ROM ignores the Secure Boot V2 fuse, the bootloader (reading the fuse itself) still checks apps */
    const int app_sbv2 = d->fu.sb == 2 || d->fu.sb_rev_ignored;
    const int anti_rb = d->have_cfg && d->cfg.app_anti_rollback;
    const int sb_cfg_v1 = d->have_cfg && d->cfg.secure_boot && d->cfg.secure_boot_version == 1;
    /* CONFIG_SECURE_SIGNED_ON_BOOT without hardware Secure Boot: the bootloader checks app signatures itself */
    const int signed_on_boot = d->have_cfg && !d->cfg.secure_boot && d->cfg.signed_apps_no_sb &&
                               d->cfg.signed_on_boot_no_sb;
    if (rc == 0 && anti_rb) {
        dlog(d, 'I', "boot", "Enabled a check secure version of app for anti rollback");
        dlog(d, 'I', "boot", "Secure version (from eFuse) = %u", d->fu.secure_version);
    }
    const espsec_partition_t *chosen = NULL;
    char last_why[320] = "";
    for (size_t i = 0; rc == 0 && i < norder && chosen == NULL; i++) {
        const espsec_partition_t *p = order[i];
        if (anti_rb) {
            long sv = app_secure_version(d, p);
            if (sv >= 0 && (unsigned long)sv < d->fu.secure_version) {
                fmtcpy(last_why, sizeof(last_why),
                       "app '%s' at 0x%x: secure_version %ld is below the eFuse SECURE_VERSION %u (anti-rollback)",
                       p->name, p->offset, sv, d->fu.secure_version);
                stop(d, "bootloader", p->offset, "%s", last_why);
                dlog(d, 'E', "boot", "%s app partition is not bootable", p->subtype == 0 ? "Factory" : "OTA");
                continue;
            }
        }
        int lr = load_image(d, "bootloader", p->offset, p->size, &app, err);
        if (lr == -2) {
            rc = -2;
            break;
        }
        if (lr == 0 && check_rev(d, &app.img, 1, p->offset) != 0) {
            lr = -1;
        }
        if (lr == 0 && !app.img.has_app_desc && app.len >= 32 + ESPSEC_APP_DESC_LEN) {
            /* where the bootloader reads it: right after the image and first segment headers */
            app.img.has_app_desc = espsec_app_desc_decode(app.buf + 32, ESPSEC_APP_DESC_LEN, &app.img.app_desc) == 0;
        }
        if (lr == 0) {
            log_segments(d, p->offset, &app);
            char why[256] = "";
            int ok = 1;
            if (app_sbv2) {
                if (sbv2_check(&app, &d->fu, 0, 0, why, sizeof(why), NULL) < 0) {
                    dlog(d, 'E', "secure_boot_v2", "Secure Boot V2 verification failed: %s", why);
                    dlog(d, 'E', "esp_image", "Secure boot signature verification failed");
                    ok = 0;
                } else {
                    dlog(d, 'I', "secure_boot_v2", "Verifying with %s...",
                         d->cfg.sb_scheme == ESPSEC_SB_RSA3072 ? "RSA-PSS" : "ECDSA");
                    dlog(d, 'I', "secure_boot_v2", "Signature verified successfully!");
                }
            } else if (signed_on_boot && !d->cfg.signed_scheme_v1) {
                /* the digests in eFuse when some are burned, else the keys the app carries */
                int burned = d->fu.sb_digest_ok[0] || d->fu.sb_digest_ok[1] || d->fu.sb_digest_ok[2];
                if (!burned) {
                    dlog(d, 'I', "secure_boot_v2", "Secure boot V2 is not enabled yet and eFuse digest keys are not set");
                }
                dlog(d, 'I', "secure_boot_v2", "Verifying with %s...",
                     d->cfg.sb_scheme == ESPSEC_SB_RSA3072 ? "RSA-PSS" : "ECDSA");
                if (sbv2_check(&app, &d->fu, d->chip.digest_slots == 1, !burned, why, sizeof(why), NULL) < 0) {
                    dlog(d, 'E', "secure_boot_v2", "Secure Boot V2 verification failed.");
                    dlog(d, 'E', "esp_image", "Secure boot signature verification failed");
                    char w2[256];
                    fmtcpy(w2, sizeof(w2), "signature check without hardware Secure Boot "
                                           "(CONFIG_SECURE_SIGNED_ON_BOOT_NO_SECURE_BOOT): %s",
                           why);
                    memcpy(why, w2, sizeof(why));
                    ok = 0;
                } else {
                    dlog(d, 'I', "secure_boot_v2", "Signature verified successfully!");
                }
            } else if (d->fu.sb == 1 || sb_cfg_v1 || (signed_on_boot && d->cfg.signed_scheme_v1)) {
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
        } else if (last_why[0] == '\0' || strstr(r->failure, "first word 0xffffffff") == NULL) {
            /* an erased slot does not hide why an earlier one was refused */
            fmtcpy(last_why, sizeof(last_why), "%s", r->failure);
        }
        dlog(d, 'E', "boot", "%s app partition is not bootable", p->subtype == 0 ? "Factory" : "OTA");
        loaded_free(&app);
    }
    if (rc == 0 && chosen != NULL && ota_initial && chosen->subtype >= 0x10 && chosen->subtype < 0x20) {
        /* set_actual_ota_seq: otadata[0] gets the booted slot's sequence number, state VALID */
        const espsec_partition_t *otadata = espsec_pt_find(&d->pt, 1, 0x00);
        dev_otadata_entry_t e;
        memset(&e, 0, sizeof(e));
        memset(e.raw, 0xFF, sizeof(e.raw));
        e.seq = (uint32_t)(chosen->subtype - 0x10) + 1;
        e.state = DEV_OTA_VALID;
        if (dev_otadata_write(d->fl, d->fe, otadata->offset, 0, &e, err) != ESPSEC_OK) {
            rc = -2;
        } else {
            d->r->flash_changed = 1;
            dlog(d, 'I', "boot", "Set actual ota_seq=%u in otadata[0]", e.seq);
        }
    }
    if (rc == 0 && chosen == NULL) {
        dlog(d, 'E', "boot", "No bootable app partitions in the partition table");
        stop(d, "bootloader", r->failure_offset, "no bootable app: %s", last_why);
        rc = -1;
    }
    /* first-boot provisioning, as the bootloader built from the project does it */
    /* C2: the Secure Boot digest and the flash key share BLOCK_KEY0 and go in one batch (ESP-IDF forces
       CONFIG_SECURE_BOOT_FLASH_ENC_KEYS_BURN_TOGETHER there) */
    const int together = d->have_cfg && d->cfg.secure_boot && d->cfg.flash_encryption &&
                         (d->cfg.keys_burn_together || d->chip.ci->fe.shared_key0);
    if (rc == 0 && together && ((d->fu.sb != 0) != (d->fu.crypt_cnt != 0))) {
        dlog(d, 'E', "boot", "Secure Boot and Flash Encryption cannot be enabled separately, only together (their "
                             "keys go into one eFuse key block)");
        stop(d, "bootloader", 0, "Secure Boot and flash encryption must be enabled together on this chip, but one of "
                                 "them is already on");
        rc = -1;
    }
    d->hold_burn = rc == 0 && together && d->fu.sb == 0 && d->fu.crypt_cnt == 0 && d->o->provision;
    if (rc == 0 && d->have_cfg) {
        if (d->cfg.secure_boot && d->cfg.secure_boot_version == 2 && d->fu.sb == 0 && !d->fu.sb_rev_ignored) {
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
                rc = provision_sbv2(d, &bl, &app, chosen->offset, err);
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
    if (d->hold_burn) {
        d->hold_burn = 0;
        if (rc != 0) {
            espsec_efuse_discard(d->ef);
        } else if (burn(d, err) != ESPSEC_OK) {
            rc = -2;
        }
    }
    if (rc == 0 && !d->reset && anti_rb && chosen == active_ota && ota_state == 2 /* ESP_OTA_IMG_VALID */ &&
        app.img.has_app_desc && app.img.app_desc.secure_version > d->fu.secure_version) {
        /* update_anti_rollback: a confirmed app raises the eFuse to its secure_version */
        int changed = 0;
        espsec_error_t ue;
        if (dev_update_secure_version(d->ef, (unsigned)d->cfg.sec_ver_efuse_bits, app.img.app_desc.secure_version,
                                      &changed, &ue) != ESPSEC_OK) {
            dlog(d, 'E', "efuse", "%s", ue.msg);
        } else if (changed) {
            dlog(d, 'I', "efuse", "Anti-rollback is set. eFuse field is updated(%u).", app.img.app_desc.secure_version);
            r->efuse_changed = 1;
            r->secure_version_bumped = 1;
            r->efuse_secure_version = app.img.app_desc.secure_version;
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
    /* the chip is the eFuse file's */
    espsec_chip_t chip = espsec_efuse_chip_info(efuse)->id;
    if (d.have_cfg && d.cfg.have_target && d.cfg.chip != chip) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "the sdkconfig targets %s but the eFuses are an %s's",
                           espsec_chip_display_name(d.cfg.chip), espsec_chip_display_name(chip));
    }
    if (dev_chip(chip, &d.chip) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "the virtual device does not model the %s",
                           espsec_chip_display_name(chip));
    }
    if (d.have_cfg && d.cfg.secure_boot) {
        int need = dev_sbv2_min_rev(d.chip.ci, d.cfg.sb_scheme);
        d.chip.sbv2_min_rev = need > d.chip.sbv2_min_rev ? need : d.chip.sbv2_min_rev;
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
