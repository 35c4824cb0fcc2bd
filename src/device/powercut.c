/*
 * Power cuts during first-boot provisioning (espsec/powercut.h): the same
 * boot simulation, cut at each eFuse block program and each flash operation,
 * rebooted, and re-flashed over download mode as espsec flash write allows
 * when it does not boot.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/chip.h"
#include "espsec/powercut.h"
#include "espsec/reflash.h"
#include "espsec/util.h"

const char *espsec_pc_outcome_name(espsec_pc_outcome_t o)
{
    switch (o) {
    case ESPSEC_PC_RECOVERS:
        return "recovers";
    case ESPSEC_PC_STAYS_PLAINTEXT:
        return "stays plaintext";
    case ESPSEC_PC_REFLASH:
        return "recovers after re-flash";
    default:
        return "bricked";
    }
}

typedef struct {
    const espsec_efuse_t *ef0;
    const espsec_flash_t *fl0;
    const espsec_pc_opts_t *o;
    espsec_partition_table_t pt; /* the plaintext table, to name regions */
    int have_pt;
    size_t plain_end;            /* the original flash up to its last written sector */
} sweep_t;

static void fmtcpy(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fmtcpy(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static espsec_err_t clone(const sweep_t *s, espsec_efuse_t **e, espsec_flash_t **f, espsec_error_t *err)
{
    uint8_t *file = NULL, *hidden = NULL;
    size_t len = 0, hlen = 0;
    *e = NULL;
    *f = NULL;
    espsec_err_t rc = espsec_efuse_serialize(s->ef0, &file, &len, &hidden, &hlen, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_load(espsec_efuse_chip(s->ef0), file, len, hidden, hlen, e, err);
    }
    free(file);
    espsec_free_secret(hidden, hlen);
    if (rc == ESPSEC_OK) {
        rc = espsec_flash_from(espsec_flash_data(s->fl0), espsec_flash_size(s->fl0), f, err);
    }
    if (rc != ESPSEC_OK) {
        espsec_efuse_free(*e);
        *e = NULL;
    }
    return rc;
}

static espsec_err_t boot(const sweep_t *s, espsec_efuse_t *e, espsec_flash_t *f, espsec_boot_result_t *r,
                         espsec_error_t *err)
{
    espsec_boot_opts_t bo = {.config = s->o->config, .provision = 1, .random_seed = s->o->random_seed};
    return espsec_device_boot(e, f, &bo, r, err);
}

static const char *region(const sweep_t *s, uint32_t addr, char *buf, size_t cap)
{
    uint32_t pt_off = s->o->config->pt_offset;
    if (addr < pt_off) {
        return "the bootloader";
    }
    if (addr < pt_off + 0x1000) {
        return "the partition table";
    }
    for (size_t i = 0; s->have_pt && i < s->pt.count; i++) {
        const espsec_partition_t *p = &s->pt.entries[i];
        if (addr >= p->offset && addr - p->offset < p->size) {
            fmtcpy(buf, cap, "partition '%s'", p->name);
            return buf;
        }
    }
    return "unpartitioned flash";
}

/* "power cut during a flash erase at 0x1000" -> "flash erase 0x1000 (the bootloader)" */
static void label_flash(const sweep_t *s, const char *msg, char *what, size_t cap)
{
    const char *at = strstr(msg, " at 0x");
    unsigned long addr = at ? strtoul(at + 4, NULL, 16) : 0;
    const char *kind = strstr(msg, "erase") ? "erase" : "program";
    char buf[40];
    fmtcpy(what, cap, "flash %s 0x%lx (%s)", kind, addr, region(s, (uint32_t)addr, buf, sizeof(buf)));
}

/* The security the project asked for, missing from a device that boots: NULL if none. */
static const char *missing_security(const sweep_t *s, const espsec_boot_result_t *r)
{
    const espsec_device_config_t *c = s->o->config;
    if (c->flash_encryption && !r->flash_encryption) {
        return "flash encryption is off";
    }
    if (c->secure_boot && r->secure_boot == 0) {
        return "Secure Boot is off";
    }
    return NULL;
}

/* Key blocks holding data without the protection ESP-IDF requires of a pre-loaded key: protect them. */
static int protect_half_written_keys(espsec_efuse_t *e, const espsec_chip_info_t *c, char *done, size_t cap)
{
    int n = 0;
    done[0] = '\0';
    for (int b = 1; b < espsec_efuse_block_count(e); b++) {
        const char *name = espsec_efuse_block_name(e, b);
        int is_fe_key = c->fe.key_block != NULL && strcmp(name, c->fe.key_block) == 0;
        if (!is_fe_key && c->fe.key_purpose_field) {
            char kp[24];
            uint64_t v = 0;
            int k = b - espsec_efuse_block_by_name(e, "BLOCK_KEY0");
            fmtcpy(kp, sizeof(kp), "KEY_PURPOSE_%d", k);
            const espsec_key_purpose_t *p = NULL;
            if (k >= 0 && espsec_efuse_get_uint_hw(e, kp, &v, NULL) == ESPSEC_OK) {
                p = espsec_chip_key_purpose_by_value(c, (int)v);
            }
            is_fe_key = v != 0 && p != NULL && strncmp(p->name, "XTS_AES", 7) == 0;
        }
        if (!is_fe_key) {
            continue;
        }
        uint8_t hw[32];
        int known = 0;
        if (espsec_efuse_get_block_hw(e, b, hw, &known, NULL) != ESPSEC_OK) {
            continue;
        }
        uint8_t acc = 0;
        for (size_t i = 0; i < sizeof(hw); i++) {
            acc |= hw[i];
        }
        if (acc == 0 || (!espsec_efuse_block_readable(e, b) && !espsec_efuse_block_writeable(e, b))) {
            continue;
        }
        int ok = 1;
        if (espsec_efuse_block_readable(e, b)) {
            ok &= espsec_efuse_stage_read_protect(e, name, NULL) == ESPSEC_OK;
        }
        if (espsec_efuse_block_writeable(e, b)) {
            ok &= espsec_efuse_stage_write_protect(e, name, NULL) == ESPSEC_OK;
        }
        if (ok && espsec_efuse_burn(e, NULL) == ESPSEC_OK) {
            fmtcpy(done + strlen(done), cap - strlen(done), "%sespefuse read/write-protect %s", n ? ", " : "", name);
            n++;
        } else {
            espsec_efuse_discard(e);
        }
    }
    return n;
}

/*
 * The device does not boot: re-flash it as a user would over download mode
 * (the original images; first turning flash encryption off in development
 * mode when the chip would decrypt them) and boot again. 0 recovered.
 */
static int try_reflash(const sweep_t *s, espsec_efuse_t *e, espsec_flash_t *f, char *how, size_t cap,
                       espsec_error_t *err)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(espsec_efuse_chip(e));
    char steps[200] = "";
    if (c == NULL) {
        fmtcpy(how, cap, "chip not modelled");
        return -1;
    }
    if (protect_half_written_keys(e, c, steps, sizeof(steps)) > 0) {
        espsec_boot_result_t r0;
        espsec_error_t e0;
        if (boot(s, e, f, &r0, &e0) == ESPSEC_OK && r0.booted) {
            fmtcpy(how, cap, "%s", steps);
            return 0;
        }
    }
    dev_chip_t dc;
    dev_fuses_t fu;
    if (dev_chip(c->id, &dc) != 0 || dev_read_fuses(e, &dc, NULL, 0, &fu, err) != ESPSEC_OK) {
        fmtcpy(how, cap, "the eFuses cannot be read");
        return -1;
    }
    espsec_dl_file_t file = {0, espsec_flash_data(s->fl0), s->plain_end, "the original images"};
    espsec_dl_opts_t dlo = {.pt_offset = s->o->config->pt_offset};
    espsec_dl_result_t dr;
    if (fu.fe_on) {
        /* development mode: manual encryption may be allowed; else the counter's next bit turns encryption off */
        dlo.encrypt = 1;
        if (espsec_download_write(e, f, &dlo, &file, 1, &dr, NULL) == ESPSEC_OK && dr.written) {
            fmtcpy(steps + strlen(steps), sizeof(steps) - strlen(steps), "%sesptool write-flash --encrypt",
                   steps[0] ? ", " : "");
        } else {
            uint64_t nv = 0;
            dlo.encrypt = 0;
            if (fu.crypt_cnt_wp || espsec_efuse_stage_next_bit(e, c->fe.crypt_cnt, &nv, NULL) != ESPSEC_OK ||
                espsec_efuse_burn(e, NULL) != ESPSEC_OK) {
                espsec_efuse_discard(e);
                fmtcpy(how, cap, "flash encryption is on for good (%s full or write-protected) and %s", c->fe.crypt_cnt,
                       dr.connected ? "the chip takes no key-encrypted write" : "download mode is off");
                return -1;
            }
            fmtcpy(steps + strlen(steps), sizeof(steps) - strlen(steps), "%sespefuse burn-efuse %s", steps[0] ? ", " : "",
                   c->fe.crypt_cnt);
        }
    }
    if (!dlo.encrypt) {
        if (espsec_download_write(e, f, &dlo, &file, 1, &dr, err) != ESPSEC_OK) {
            fmtcpy(how, cap, "%s", err->msg);
            return -1;
        }
        if (!dr.written) {
            fmtcpy(how, cap, "re-flash refused: %s", dr.answer);
            return -1;
        }
        fmtcpy(steps + strlen(steps), sizeof(steps) - strlen(steps), "%sesptool write-flash", steps[0] ? ", " : "");
    }
    espsec_boot_result_t r;
    if (boot(s, e, f, &r, err) != ESPSEC_OK || !r.booted) {
        fmtcpy(how, cap, "after %s: %s", steps, r.booted ? err->msg : r.failure);
        return -1;
    }
    fmtcpy(how, cap, "%s", steps);
    return 0;
}

static void judge(const sweep_t *s, espsec_efuse_t *e, espsec_flash_t *f, espsec_pc_point_t *p)
{
    espsec_efuse_power_on(e);
    espsec_flash_power_on(f);
    espsec_boot_result_t r;
    espsec_error_t err = {0};
    espsec_err_t rc = boot(s, e, f, &r, &err);
    if (rc == ESPSEC_OK && r.booted) {
        const char *miss = missing_security(s, &r);
        p->outcome = miss ? ESPSEC_PC_STAYS_PLAINTEXT : ESPSEC_PC_RECOVERS;
        fmtcpy(p->detail, sizeof(p->detail), "boots%s%s%s", miss ? " but " : "", miss ? miss : "",
               r.provisioned ? "; this boot finishes the provisioning" : "");
        return;
    }
    char why[200], how[200];
    fmtcpy(why, sizeof(why), "%s", rc == ESPSEC_OK ? r.failure : err.msg);
    if (try_reflash(s, e, f, how, sizeof(how), &err) == 0) {
        p->outcome = ESPSEC_PC_REFLASH;
        fmtcpy(p->detail, sizeof(p->detail), "does not boot (%s); boots after %s", why, how);
    } else {
        p->outcome = ESPSEC_PC_BRICKED;
        fmtcpy(p->detail, sizeof(p->detail), "does not boot (%s); no way back: %s", why, how);
    }
}

static int cmp_points(const void *a, const void *b)
{
    const espsec_pc_point_t *x = a, *y = b;
    uint64_t tx = x->flash_before + x->efuse_before, ty = y->flash_before + y->efuse_before;
    if (tx != ty) {
        return tx < ty ? -1 : 1;
    }
    return x->efuse - y->efuse;
}

espsec_err_t espsec_powercut_sweep(const espsec_efuse_t *efuse, const espsec_flash_t *flash,
                                   const espsec_pc_opts_t *opts, espsec_pc_point_t **points,
                                   espsec_pc_summary_t *summary, espsec_error_t *err)
{
    if (efuse == NULL || flash == NULL || opts == NULL || opts->config == NULL || points == NULL || summary == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "espsec_powercut_sweep: missing argument (the sdkconfig too)");
    }
    *points = NULL;
    memset(summary, 0, sizeof(*summary));
    sweep_t s = {.ef0 = efuse, .fl0 = flash, .o = opts};
    const uint8_t *d = espsec_flash_data(flash);
    for (size_t off = espsec_flash_size(flash); off > 0; off -= ESPSEC_FLASH_SECTOR) {
        size_t i = 0;
        while (i < ESPSEC_FLASH_SECTOR && d[off - ESPSEC_FLASH_SECTOR + i] == 0xFF) {
            i++;
        }
        if (i < ESPSEC_FLASH_SECTOR) {
            s.plain_end = off;
            break;
        }
    }
    uint32_t pt_off = opts->config->pt_offset;
    if ((size_t)pt_off + 0xC00 <= espsec_flash_size(flash)) {
        espsec_pt_opts_t po;
        espsec_pt_opts_default(&po);
        po.table_offset = pt_off;
        s.have_pt = espsec_pt_from_binary(d + pt_off, 0xC00, &po, &s.pt, NULL) == ESPSEC_OK;
    }
    /* the uncut first boot: how many operations of each kind */
    espsec_efuse_t *e = NULL;
    espsec_flash_t *f = NULL;
    espsec_boot_result_t r;
    espsec_err_t rc = clone(&s, &e, &f, err);
    if (rc == ESPSEC_OK) {
        rc = boot(&s, e, f, &r, err);
    }
    uint64_t n_flash = f ? espsec_flash_op_count(f) : 0, n_efuse = e ? espsec_efuse_program_count(e) : 0;
    espsec_efuse_free(e);
    espsec_flash_free(f);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (!r.booted) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "the first boot without a power cut does not boot (%s): %s",
                           r.stage, r.failure);
    }
    size_t total = (size_t)(n_flash + n_efuse);
    espsec_pc_point_t *pts = calloc(total ? total : 1, sizeof(*pts));
    if (pts == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for %zu cut points", total);
    }
    for (size_t i = 0; i < total; i++) {
        espsec_pc_point_t *p = &pts[i];
        p->efuse = i >= n_flash;
        p->index = p->efuse ? i - n_flash : i;
        rc = clone(&s, &e, &f, err);
        if (rc != ESPSEC_OK) {
            break;
        }
        if (p->efuse) {
            espsec_efuse_cut_after(e, p->index);
        } else {
            espsec_flash_cut_after(f, p->index, opts->tear, opts->tear_seed + i);
        }
        espsec_error_t ce = {0};
        espsec_err_t brc = boot(&s, e, f, &r, &ce);
        int was_cut = p->efuse ? espsec_efuse_is_cut(e) : espsec_flash_is_cut(f);
        if (!was_cut) {
            int is_efuse = p->efuse;
            unsigned long long index = (unsigned long long)p->index;
            espsec_efuse_free(e);
            espsec_flash_free(f);
            free(pts);
            return espsec_fail(err, ESPSEC_ERR_INVALID_STATE,
                               "cut point %zu (%s operation %llu) was never reached: the first boot is not "
                               "deterministic (give a random seed)",
                               i, is_efuse ? "eFuse" : "flash", index);
        }
        p->flash_before = p->efuse ? espsec_flash_op_count(f) : p->index;
        p->efuse_before = p->efuse ? p->index : espsec_efuse_program_count(e);
        if (p->efuse) {
            const char *blk = strstr(ce.msg, "eFuse ");
            fmtcpy(p->what, sizeof(p->what), "eFuse %s program", blk ? blk + 6 : "block");
            char *sp = strchr(p->what + 6, ' ');
            if (sp != NULL && blk != NULL) {
                fmtcpy(sp, sizeof(p->what) - (size_t)(sp - p->what), " program");
            }
        } else {
            label_flash(&s, brc == ESPSEC_ERR_POWER_CUT ? ce.msg : "", p->what, sizeof(p->what));
        }
        judge(&s, e, f, p);
        summary->count[p->outcome]++;
        espsec_efuse_free(e);
        espsec_flash_free(f);
    }
    if (rc != ESPSEC_OK) {
        free(pts);
        return rc;
    }
    qsort(pts, total, sizeof(*pts), cmp_points);
    summary->points = total;
    summary->flash_ops = (size_t)n_flash;
    summary->efuse_programs = (size_t)n_efuse;
    *points = pts;
    return ESPSEC_OK;
}
