/* The virtual eFuse engine (espsec/efuse.h). */
#include "espsec/efuse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "efuse/efuse_chip.h"
#include "efuse/efuse_io.h"
#include "espsec/util.h"
#include "util/bytes.h"

#define MAX_BLOCKS 11
#define MAX_MEM 0x200

struct espsec_efuse {
    const efuse_chip_def_t *def;
    uint8_t mem[MAX_MEM];          /* register space, software view (the file) */
    uint8_t hw[MAX_BLOCKS][32];    /* what each block holds in silicon */
    uint8_t hw_known[MAX_BLOCKS];  /* 0: read-protected and not known to espsec */
    uint8_t wr[MAX_BLOCKS][32];    /* staged bits */
    /* power-cut injection (espsec_efuse_cut_after): block programs done, the one to cut, cut happened */
    uint64_t programs, cut_at;
    int cut_armed, cut;
    /* the chip's table with custom fields added (espsec_efuse_extend_table), and their strings */
    efuse_chip_def_t *own_def;
    void *own_strings;
};

static const efuse_chip_def_t *chip_def(espsec_chip_t chip)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(chip);
    return c != NULL ? c->efuse : NULL;
}

static espsec_err_t unsupported(espsec_chip_t chip, espsec_error_t *err)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(chip);
    char names[256];
    if (c != NULL && !c->has_security) {
        return espsec_fail(err, ESPSEC_ERR_CHIP, "%s: %s", c->name, c->no_security_reason);
    }
    return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "virtual eFuses exist for %s (not %s)",
                       espsec_chip_efuse_names(names, sizeof(names)), espsec_chip_name(chip));
}

size_t espsec_efuse_file_size(espsec_chip_t chip)
{
    const efuse_chip_def_t *d = chip_def(chip);
    return d ? d->mem_size : 0;
}

/* ---- bit access (little-endian bit numbering within a block) ---- */

static uint64_t bits_get(const uint8_t *d, unsigned pos, unsigned len)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++) {
        unsigned b = pos + i;
        if (d[b / 8] & (1u << (b % 8))) {
            v |= 1ull << i;
        }
    }
    return v;
}

static void bits_or(uint8_t *d, unsigned pos, unsigned len, uint64_t v)
{
    for (unsigned i = 0; i < len; i++) {
        if (v & (1ull << i)) {
            unsigned b = pos + i;
            d[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
}

static void bits_clear(uint8_t *d, unsigned pos, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        unsigned b = pos + i;
        d[b / 8] &= (uint8_t)~(1u << (b % 8));
    }
}

static uint8_t *sw_block(espsec_efuse_t *e, int b)
{
    return e->mem + e->def->blocks[b].rd_off;
}

static const uint8_t *sw_block_c(const espsec_efuse_t *e, int b)
{
    return e->mem + e->def->blocks[b].rd_off;
}

static unsigned field_bitpos(const efuse_field_def_t *f)
{
    return (unsigned)f->word * 32u + (unsigned)f->pos;
}

static const efuse_field_def_t *def_by_name(const espsec_efuse_t *e, const char *name)
{
    for (size_t i = 0; i < e->def->nfields; i++) {
        const efuse_field_def_t *f = &e->def->fields[i];
        if (strcasecmp(f->name, name) == 0 || (f->alt != NULL && strcasecmp(f->alt, name) == 0)) {
            return f;
        }
    }
    return NULL;
}

static uint64_t raw_uint(const espsec_efuse_t *e, const char *name, int hw)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f == NULL || f->word < 0 || f->bit_len > 64) {
        return 0;
    }
    const uint8_t *d = hw ? e->hw[f->block] : sw_block_c(e, f->block);
    return bits_get(d, field_bitpos(f), f->bit_len);
}

static uint64_t wr_dis(const espsec_efuse_t *e)
{
    return raw_uint(e, "WR_DIS", 1);
}

static int bit_set(uint64_t mask, int bit)
{
    return bit >= 0 && (mask & (1ull << bit)) != 0;
}

const char *espsec_efuse_block_coding(const espsec_efuse_t *e, int blk)
{
    if (blk <= 0) {
        return "NONE";
    }
    if (e->def->rs_coding) {
        return "RS";
    }
    return espsec_efuse_coding_34(e) ? "3/4" : "NONE";
}

int espsec_efuse_coding_34(const espsec_efuse_t *e)
{
    if (!e->def->coding_34) {
        return 0;
    }
    return raw_uint(e, "CODING_SCHEME", 0) == 1;
}

/* Bit length of a field as it is now (ESP32 key blocks shrink under 3/4 coding). */
static unsigned eff_len(const espsec_efuse_t *e, const efuse_field_def_t *f)
{
    if (f->group == EG_KEYBLOCK && espsec_efuse_coding_34(e)) {
        return 192;
    }
    return f->bit_len;
}

static int field_readable(const espsec_efuse_t *e, const efuse_field_def_t *f)
{
    uint64_t rd = raw_uint(e, "RD_DIS", 0);
    return !bit_set(rd, f->rd_dis) && (rd & f->rd_dis_more) == 0;
}

static int field_writeable(const espsec_efuse_t *e, const efuse_field_def_t *f)
{
    return !bit_set(wr_dis(e), f->wr_dis);
}

int espsec_efuse_block_count(const espsec_efuse_t *e)
{
    return e->def->nblocks;
}

int espsec_efuse_block_words(const espsec_efuse_t *e, int blk)
{
    return blk >= 0 && blk < e->def->nblocks ? e->def->blocks[blk].words : 0;
}

const char *espsec_efuse_block_name(const espsec_efuse_t *e, int blk)
{
    return blk >= 0 && blk < e->def->nblocks ? e->def->blocks[blk].name : NULL;
}

const char *espsec_efuse_block_alias(const espsec_efuse_t *e, int blk, int i)
{
    if (blk < 0 || blk >= e->def->nblocks || i < 0 || i >= 3) {
        return NULL;
    }
    return e->def->blocks[blk].alias[i];
}

int espsec_efuse_block_by_name(const espsec_efuse_t *e, const char *name)
{
    for (int b = 0; b < e->def->nblocks; b++) {
        const efuse_block_def_t *bd = &e->def->blocks[b];
        if (strcasecmp(bd->name, name) == 0) {
            return b;
        }
        for (int k = 0; k < 3 && bd->alias[k]; k++) {
            if (strcasecmp(bd->alias[k], name) == 0) {
                return b;
            }
        }
    }
    return -1;
}

int espsec_efuse_block_readable(const espsec_efuse_t *e, int blk)
{
    uint64_t rd = raw_uint(e, "RD_DIS", 0);
    return !bit_set(rd, e->def->blocks[blk].rd_dis) && !bit_set(rd, e->def->blocks[blk].rd_dis_hi);
}

int espsec_efuse_block_writeable(const espsec_efuse_t *e, int blk)
{
    return !bit_set(wr_dis(e), e->def->blocks[blk].wr_dis);
}

void espsec_efuse_get_block(const espsec_efuse_t *e, int blk, uint8_t out[32])
{
    memset(out, 0, 32);
    memcpy(out, sw_block_c(e, blk), (size_t)e->def->blocks[blk].words * 4);
}

espsec_err_t espsec_efuse_get_block_hw(const espsec_efuse_t *e, int blk, uint8_t out[32], int *known,
                                       espsec_error_t *err)
{
    if (blk < 0 || blk >= e->def->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "no eFuse block %d", blk);
    }
    memcpy(out, e->hw[blk], 32);
    if (known != NULL) {
        *known = e->hw_known[blk];
    }
    return ESPSEC_OK;
}

/* ---- the software view: the hardware view with read-protected areas zeroed ---- */

static void refresh_sw(espsec_efuse_t *e)
{
    /* BLOCK0 first: its RD_DIS decides the rest */
    for (int b = 0; b < e->def->nblocks; b++) {
        memcpy(sw_block(e, b), e->hw[b], (size_t)e->def->blocks[b].words * 4);
    }
    uint64_t rd = raw_uint(e, "RD_DIS", 1);
    for (int b = 0; b < e->def->nblocks; b++) {
        const efuse_block_def_t *bd = &e->def->blocks[b];
        size_t half = (size_t)bd->words * 2;
        if (bd->rd_dis_hi >= 0) {
            /* two read-protection bits, one per half of the block */
            if (bit_set(rd, bd->rd_dis)) {
                memset(sw_block(e, b), 0, half);
            }
            if (bit_set(rd, bd->rd_dis_hi)) {
                memset(sw_block(e, b) + half, 0, half);
            }
            continue;
        }
        if (bit_set(rd, bd->rd_dis)) {
            memset(sw_block(e, b), 0, (size_t)bd->words * 4);
            continue;
        }
        for (size_t i = 0; i < e->def->nfields; i++) {
            const efuse_field_def_t *f = &e->def->fields[i];
            if (f->block == b && f->word >= 0 && bit_set(rd, f->rd_dis)) {
                bits_clear(sw_block(e, b), field_bitpos(f), f->bit_len);
            }
        }
    }
}

/* 1 when the software view hides something from the hardware view. */
static int has_hidden(const espsec_efuse_t *e)
{
    for (int b = 0; b < e->def->nblocks; b++) {
        if (espsec_ct_compare(sw_block_c(e, b), e->hw[b], (size_t)e->def->blocks[b].words * 4) != 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- life cycle and files ---- */

espsec_err_t espsec_efuse_new(espsec_chip_t chip, espsec_efuse_t **out, espsec_error_t *err)
{
    const efuse_chip_def_t *d = chip_def(chip);
    if (d == NULL) {
        return unsupported(chip, err);
    }
    espsec_efuse_t *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    e->def = d;
    memset(e->hw_known, 1, sizeof(e->hw_known));
    *out = e;
    return ESPSEC_OK;
}

/* The file is the register space byte-reversed. */
static void file_to_regs(const uint8_t *file, size_t n, uint8_t *regs)
{
    for (size_t i = 0; i < n; i++) {
        regs[i] = file[n - 1 - i];
    }
}

espsec_err_t espsec_efuse_load(espsec_chip_t chip, const uint8_t *file, size_t len, const uint8_t *hidden,
                               size_t hidden_len, espsec_efuse_t **out, espsec_error_t *err)
{
    espsec_efuse_t *e = NULL;
    espsec_err_t rc = espsec_efuse_new(chip, &e, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t n = e->def->mem_size;
    if (len != n) {
        espsec_efuse_free(e);
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "virtual eFuse file is %zu bytes; an %s eFuse file is %zu bytes (wrong chip?)", len,
                           espsec_chip_name(chip), n);
    }
    file_to_regs(file, n, e->mem);
    for (int b = 0; b < e->def->nblocks; b++) {
        memcpy(e->hw[b], sw_block(e, b), (size_t)e->def->blocks[b].words * 4);
    }
    /* without the companion, protected areas are unknown */
    uint64_t rd = raw_uint(e, "RD_DIS", 0);
    for (int b = 0; b < e->def->nblocks; b++) {
        e->hw_known[b] = !bit_set(rd, e->def->blocks[b].rd_dis) && !bit_set(rd, e->def->blocks[b].rd_dis_hi);
    }
    if (hidden != NULL) {
        if (hidden_len != n) {
            espsec_efuse_free(e);
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "hidden eFuse companion is %zu bytes, expected %zu",
                               hidden_len, n);
        }
        espsec_efuse_t *h = NULL;
        rc = espsec_efuse_new(chip, &h, err);
        if (rc != ESPSEC_OK) {
            espsec_efuse_free(e);
            return rc;
        }
        file_to_regs(hidden, n, h->mem);
        for (int b = 0; b < e->def->nblocks; b++) {
            memcpy(h->hw[b], sw_block(h, b), (size_t)e->def->blocks[b].words * 4);
        }
        refresh_sw(h);
        /* The companion must agree with the file everywhere software can see.
         * eFuse bits only go 0 -> 1, so a companion holding every bit of the
         * file and more is a later state whose file write was interrupted:
         * it is adopted (the next save rewrites the file). */
        int agrees = espsec_ct_compare(h->mem, e->mem, n) == 0, later = 1; /* key blocks included */
        for (size_t i = 0; i < n && !agrees; i++) {
            later &= (e->mem[i] & ~h->mem[i]) == 0;
        }
        if (agrees || later) {
            memcpy(e->hw, h->hw, sizeof(e->hw));
            memset(e->hw_known, 1, sizeof(e->hw_known));
            if (!agrees) {
                memcpy(e->mem, h->mem, n);
            }
        }
        espsec_efuse_free(h);
        if (!agrees && !later) {
            espsec_efuse_free(e);
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "the hidden eFuse companion does not match the eFuse file (was the file changed "
                               "by another tool?); remove the .hidden file to use the file alone");
        }
    }
    *out = e;
    return ESPSEC_OK;
}

size_t efuse_joint_size(const efuse_chip_def_t *d)
{
    size_t need = 0;
    for (int b = 0; b < d->nblocks; b++) {
        need += (size_t)d->blocks[b].words * 4;
    }
    return need;
}

espsec_err_t efuse_import_blocks(espsec_chip_t chip, const uint8_t *data, size_t len, int hw_view,
                                 espsec_efuse_t **out, espsec_error_t *err)
{
    espsec_efuse_t *e = NULL;
    espsec_err_t rc = espsec_efuse_new(chip, &e, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (len != efuse_joint_size(e->def)) {
        size_t need = efuse_joint_size(e->def);
        espsec_efuse_free(e);
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%zu bytes of block data given, %zu expected", len, need);
    }
    size_t off = 0;
    for (int b = 0; b < e->def->nblocks; b++) {
        size_t n = (size_t)e->def->blocks[b].words * 4;
        memcpy(sw_block(e, b), data + off, n);
        memcpy(e->hw[b], data + off, n);
        off += n;
    }
    if (hw_view) {
        /* what the silicon holds, protected blocks included: software's view is derived */
        refresh_sw(e);
    } else {
        /* what software read: protected blocks came in as zeros and are unknown */
        uint64_t rd = raw_uint(e, "RD_DIS", 0);
        for (int b = 0; b < e->def->nblocks; b++) {
            e->hw_known[b] = !bit_set(rd, e->def->blocks[b].rd_dis) && !bit_set(rd, e->def->blocks[b].rd_dis_hi);
        }
    }
    *out = e;
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_import_joint(espsec_chip_t chip, const uint8_t *data, size_t len, espsec_efuse_t **out,
                                       espsec_error_t *err)
{
    const efuse_chip_def_t *d = chip_def(chip);
    if (d == NULL) {
        return unsupported(chip, err);
    }
    if (len != efuse_joint_size(d)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "a joint dump of %s is %zu bytes (every block's registers), this one is %zu", d->chip->name,
                           efuse_joint_size(d), len);
    }
    return efuse_import_blocks(chip, data, len, 0, out, err);
}

espsec_err_t espsec_efuse_serialize(const espsec_efuse_t *e, uint8_t **file, size_t *len, uint8_t **hidden,
                                    size_t *hidden_len, espsec_error_t *err)
{
    size_t n = e->def->mem_size;
    uint8_t *f = malloc(n);
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    file_to_regs(e->mem, n, f);
    *file = f;
    *len = n;
    *hidden = NULL;
    *hidden_len = 0;
    if (has_hidden(e)) {
        uint8_t regs[MAX_MEM];
        memcpy(regs, e->mem, n);
        for (int b = 0; b < e->def->nblocks; b++) {
            memcpy(regs + e->def->blocks[b].rd_off, e->hw[b], (size_t)e->def->blocks[b].words * 4);
        }
        uint8_t *h = malloc(n);
        if (h == NULL) {
            free(f);
            return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        }
        file_to_regs(regs, n, h);
        espsec_wipe(regs, sizeof(regs));
        *hidden = h;
        *hidden_len = n;
    }
    return ESPSEC_OK;
}

espsec_err_t efuse_add_fields(espsec_efuse_t *e, efuse_field_def_t *fields, size_t n, void *strings,
                              espsec_error_t *err)
{
    if (e->own_def != NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "the eFuse table is already extended");
    }
    size_t base = e->def->nfields;
    efuse_field_def_t *all = calloc(base + n, sizeof(*all));
    efuse_chip_def_t *d = calloc(1, sizeof(*d));
    if (all == NULL || d == NULL) {
        free(all);
        free(d);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(all, e->def->fields, base * sizeof(*all));
    memcpy(all + base, fields, n * sizeof(*all));
    *d = *e->def;
    d->fields = all;
    d->nfields = base + n;
    free(fields);
    e->own_def = d;
    e->own_strings = strings;
    e->def = d;
    return ESPSEC_OK;
}

void espsec_efuse_free(espsec_efuse_t *e)
{
    if (e != NULL) {
        if (e->own_def != NULL) {
            free((void *)e->own_def->fields);
            free(e->own_def);
            free(e->own_strings);
        }
        espsec_wipe(e, sizeof(*e));
        free(e);
    }
}

espsec_chip_t espsec_efuse_chip(const espsec_efuse_t *e)
{
    return e->def->chip->id;
}

const espsec_chip_info_t *espsec_efuse_chip_info(const espsec_efuse_t *e)
{
    return e->def->chip;
}

/* ---- values ---- */

/* The name of key purpose value v on this chip, NULL if none. */
static const char *kp_name(const espsec_efuse_t *e, uint64_t v)
{
    const espsec_key_purpose_t *k = v <= 0xFF ? espsec_chip_key_purpose_by_value(e->def->chip, (int)v) : NULL;
    return k != NULL ? k->name : NULL;
}

/* The value of key purpose field name, with its fifth bit where the chip keeps it apart (KEY_PURPOSE_n_H). */
static uint64_t key_purpose_value(const espsec_efuse_t *e, const char *name)
{
    char hn[40];
    snprintf(hn, sizeof(hn), "%s_H", name);
    uint64_t v = raw_uint(e, name, 0);
    const efuse_field_def_t *f = def_by_name(e, name), *h = def_by_name(e, hn);
    if (f != NULL && h != NULL) {
        v |= raw_uint(e, hn, 0) << f->bit_len;
    }
    return v;
}

/* 1 when KEY_PURPOSE_5 cannot take purpose pn on this chip (a hardware bug). */
static int key5_forbidden(const espsec_efuse_t *e, const char *pn)
{
    for (int i = 0; i < 5 && e->def->chip->fe.key5_forbidden[i] != NULL; i++) {
        if (strcmp(e->def->chip->fe.key5_forbidden[i], pn) == 0) {
            return 1;
        }
    }
    return 0;
}

/* dict "0=Enable;1=Disable" lookup */
static int dict_lookup(const char *dict, uint64_t v, char *out, size_t cap)
{
    if (dict == NULL) {
        return 0;
    }
    for (const char *p = dict; *p;) {
        char *end = NULL;
        unsigned long k = strtoul(p, &end, 10);
        if (end == NULL || *end != '=') {
            return 0;
        }
        const char *val = end + 1, *semi = strchr(val, ';');
        size_t vl = semi ? (size_t)(semi - val) : strlen(val);
        if (k == v) {
            snprintf(out, cap, "%.*s", (int)vl, val);
            return 1;
        }
        if (semi == NULL) {
            break;
        }
        p = semi + 1;
    }
    return 0;
}

static uint8_t mac_crc8(const uint8_t mac[6])
{
    uint8_t r = 0;
    for (int i = 0; i < 6; i++) {
        r ^= mac[i];
        for (int k = 0; k < 8; k++) {
            r = (r & 1) ? (uint8_t)((r >> 1) ^ 0x8C) : (uint8_t)(r >> 1);
        }
    }
    return r;
}

static uint64_t calc_value(const espsec_efuse_t *e, const efuse_field_def_t *f);

/* A field's value by name, calculated fields included; 0 if the chip has no such field. */
static uint64_t value_of(const espsec_efuse_t *e, const char *name)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f == NULL) {
        return 0;
    }
    return f->word < 0 ? calc_value(e, f) : raw_uint(e, name, 0);
}

/* espefuse's chip version: WAFER_VERSION_MAJOR * 100 + WAFER_VERSION_MINOR. */
static uint64_t chip_version(const espsec_efuse_t *e)
{
    return value_of(e, "WAFER_VERSION_MAJOR") * 100 + value_of(e, "WAFER_VERSION_MINOR");
}

static int group_visible(const espsec_efuse_t *e, enum efuse_group g)
{
    switch (g) {
    case EG_ALWAYS:
    case EG_KEYBLOCK:
    case EG_CALC:
    case EG_CUSTOM_MAC:
        return 1;
    case EG_ADC_CALIB:
        return raw_uint(e, "BLK3_PART_RESERVE", 0) != 0;
    case EG_BLK2_CALIB: {
        uint64_t v = raw_uint(e, "BLK_VERSION_MAJOR", 0) * 100 + raw_uint(e, "BLK_VERSION_MINOR", 0);
        return v >= (uint64_t)e->def->calib_min_blk_version;
    }
    case EG_OLDREV:
        return chip_version(e) <= (uint64_t)e->def->oldrev_max_chip_version;
    default:
        return 0;
    }
}

/* The i-th visible field definition. */
static const efuse_field_def_t *visible(const espsec_efuse_t *e, size_t idx)
{
    size_t n = 0;
    for (size_t g = 0; g < e->def->ngroups; g++) {
        enum efuse_group grp = e->def->group_order[g];
        if (!group_visible(e, grp)) {
            continue;
        }
        for (size_t i = 0; i < e->def->nfields; i++) {
            if (e->def->fields[i].group == grp && n++ == idx) {
                return &e->def->fields[i];
            }
        }
    }
    return NULL;
}

size_t espsec_efuse_field_count(const espsec_efuse_t *e)
{
    size_t n = 0;
    while (visible(e, n) != NULL) {
        n++;
    }
    return n;
}

int espsec_efuse_find(const espsec_efuse_t *e, const char *name)
{
    for (size_t i = 0;; i++) {
        const efuse_field_def_t *f = visible(e, i);
        if (f == NULL) {
            return -1;
        }
        if (strcasecmp(f->name, name) == 0 || (f->alt != NULL && strcasecmp(f->alt, name) == 0)) {
            return (int)i;
        }
    }
}

static void hexbytes(const uint8_t *b, size_t n, char sep, char *out)
{
    espsec_hex(b, n, out, sep);
}

static void set_str(espsec_efuse_field_info_t *in, const char *s)
{
    in->value_kind = ESPSEC_EFV_STR;
    snprintf(in->value, sizeof(in->value), "%s", s);
}

static void set_int(espsec_efuse_field_info_t *in, long long v)
{
    in->value_kind = ESPSEC_EFV_INT;
    in->int_value = v;
    snprintf(in->value, sizeof(in->value), "%lld", v);
}

static uint64_t calc_value(const espsec_efuse_t *e, const efuse_field_def_t *f)
{
    if (f->cls == EC_PKG) {
        return (raw_uint(e, "CHIP_PACKAGE_4BIT", 0) << 3) + raw_uint(e, "CHIP_PACKAGE", 0);
    }
    if (f->cls == EC_COMPOSE) {
        uint64_t v = 0;
        for (const efuse_part_t *p = f->parts; p != NULL && p->field != NULL; p++) {
            v |= raw_uint(e, p->field, 0) << p->shift;
        }
        return v;
    }
    if (f->cls == EC_WAFER_ESP32) {
        /* revision bits 0 and 1 from eFuse, bit 2 from APB_CTL_DATE (set on v3) */
        uint64_t combined = 4 | (raw_uint(e, "CHIP_VER_REV2", 0) << 1) | raw_uint(e, "CHIP_VER_REV1", 0);
        return combined == 7 ? 3 : 0;
    }
    return (raw_uint(e, "WAFER_VERSION_MINOR_HI", 0) << 3) + raw_uint(e, "WAFER_VERSION_MINOR_LO", 0);
}

espsec_err_t espsec_efuse_field_info(const espsec_efuse_t *e, size_t idx, espsec_efuse_field_info_t *in)
{
    const efuse_field_def_t *f = visible(e, idx);
    if (f == NULL) {
        return ESPSEC_ERR_NOT_FOUND;
    }
    memset(in, 0, sizeof(*in));
    unsigned len = eff_len(e, f);
    in->name = f->name;
    in->alt_name = f->alt;
    in->category = f->category;
    in->description = f->desc;
    in->block = f->block;
    in->word = f->word;
    in->pos = f->pos;
    in->bit_len = (int)len;
    in->type = f->type;
    if (f->type == ESPSEC_EF_BOOL) {
        snprintf(in->efuse_type, sizeof(in->efuse_type), "bool");
    } else if (f->type == ESPSEC_EF_UINT) {
        snprintf(in->efuse_type, sizeof(in->efuse_type), "uint:%u", len);
    } else {
        snprintf(in->efuse_type, sizeof(in->efuse_type), "bytes:%u", len / 8);
    }
    in->readable = field_readable(e, f);
    in->writeable = field_writeable(e, f);
    char tmp[160];

    if (f->type == ESPSEC_EF_BYTES) {
        const uint8_t *d = NULL;
        uint8_t eui[8] = {0};
        size_t nb = len / 8;
        if (f->word < 0) {
            /* MAC_EUI64: MAC's first three bytes, MAC_EXT, MAC's last three (as shown, most significant first) */
            const efuse_field_def_t *mf = def_by_name(e, "MAC"), *xf = def_by_name(e, "MAC_EXT");
            if (f->cls != EC_MAC_EUI64 || mf == NULL || xf == NULL || nb != 8) {
                return ESPSEC_ERR_NOT_SUPPORTED;
            }
            const uint8_t *m = sw_block_c(e, mf->block) + field_bitpos(mf) / 8;
            const uint8_t *x = sw_block_c(e, xf->block) + field_bitpos(xf) / 8;
            uint8_t shown[8] = {m[5], m[4], m[3], x[1], x[0], m[2], m[1], m[0]};
            reverse_copy(eui, shown, 8);
            d = eui;
        } else {
            d = sw_block_c(e, f->block) + field_bitpos(f) / 8;
        }
        uint8_t rev[32];
        reverse_copy(rev, d, nb);
        in->raw_hex[0] = '0';
        in->raw_hex[1] = 'x';
        hexbytes(d, nb, 0, in->raw_hex + 2);
        if (f->cls == EC_MAC || f->cls == EC_MAC_CRC || f->cls == EC_MAC_EUI64) {
            /* the factory MAC shows most significant byte first; the custom MAC as stored */
            int factory = f->cls == EC_MAC_CRC ? strcmp(f->name, "MAC") == 0 : strcmp(f->name, "CUSTOM_MAC") != 0;
            const uint8_t *mac = factory ? rev : d;
            char m[24];
            hexbytes(mac, nb, ':', m);
            if (f->cls == EC_MAC_CRC) {
                uint8_t stored = (uint8_t)raw_uint(e, factory ? "MAC_CRC" : "CUSTOM_MAC_CRC", 0), calc = mac_crc8(mac);
                if (stored == calc) {
                    snprintf(tmp, sizeof(tmp), "%s (CRC 0x%02x OK)", m, stored);
                } else {
                    snprintf(tmp, sizeof(tmp), "%s (CRC 0x%02x invalid - calculated 0x%02x)", m, stored, calc);
                }
            } else {
                snprintf(tmp, sizeof(tmp), "%s (OK)", m);
            }
            set_str(in, tmp);
        } else {
            hexbytes(d, nb, ' ', tmp);
            set_str(in, tmp);
        }
    } else {
        uint64_t raw = f->word < 0 ? calc_value(e, f) : bits_get(sw_block_c(e, f->block), field_bitpos(f), len);
        /* raw_value: hex of the bits padded to whole nibbles */
        unsigned digits = (len + 3) / 4;
        snprintf(in->raw_hex, sizeof(in->raw_hex), "0x%0*llx", (int)digits, (unsigned long long)raw);
        if (len % 4 == 0) {
            snprintf(in->bitstring, sizeof(in->bitstring), "0x%0*llx", (int)(len / 4), (unsigned long long)raw);
        } else {
            char *p = in->bitstring;
            *p++ = '0';
            *p++ = 'b';
            for (unsigned i = len; i-- > 0;) {
                *p++ = (raw >> i) & 1 ? '1' : '0';
            }
            *p = '\0';
        }
        if (dict_lookup(f->dict, raw, tmp, sizeof(tmp))) {
            set_str(in, tmp);
        } else if (f->cls == EC_KEYPURPOSE) {
            char hn[40];
            snprintf(hn, sizeof(hn), "%s_H", f->name);
            if (def_by_name(e, hn) != NULL) {
                raw |= raw_uint(e, hn, 0) << f->bit_len; /* a fifth bit in its own field (ESP32-P4 v3) */
            }
            const char *pn = kp_name(e, raw);
            set_str(in, pn ? pn : "FORBIDDEN_STATE");
        } else if (f->type == ESPSEC_EF_BOOL) {
            in->value_kind = ESPSEC_EFV_BOOL;
            in->int_value = (long long)raw;
            snprintf(in->value, sizeof(in->value), "%s", raw ? "True" : "False");
        } else if (f->cls == EC_VREF) {
            long long mag = (long long)(raw & 0x0F);
            set_int(in, 1100 + ((raw & 0x10) ? -mag : mag) * 7);
        } else if (f->cls == EC_SPIPIN) {
            set_int(in, (long long)(raw >= 30 ? raw + 2 : raw));
        } else if (f->cls == EC_ADC_TP_ESP32) {
            int low = strstr(f->name, "LOW") != NULL;
            long long sign = low ? 0x40 : 0x100;
            long long offset = strcmp(f->name, "ADC1_TP_LOW") == 0    ? 278
                               : strcmp(f->name, "ADC2_TP_LOW") == 0  ? 421
                               : strcmp(f->name, "ADC1_TP_HIGH") == 0 ? 3265
                                                                      : 3406;
            long long delta = ((long long)raw & (sign - 1)) - ((long long)raw & sign);
            set_int(in, offset + delta * 4);
        } else if (f->cls == EC_ADC_TP || f->cls == EC_T_SENSOR) {
            uint64_t msb = 1ull << (len - 1);
            long long mag = (long long)(raw & (msb - 1));
            long long v = (raw & msb) ? -mag : mag;
            if (f->cls == EC_T_SENSOR) {
                in->value_kind = ESPSEC_EFV_STR;
                snprintf(in->value, sizeof(in->value), "%.1f", (double)v * 0.1);
            } else {
                set_int(in, v * 4);
            }
        } else {
            set_int(in, (long long)raw);
        }
    }
    if (!in->readable) {
        /* what espefuse shows for a value software cannot read; with two read-protection bits
         * (C2's BLOCK_KEY0) only the protected half of the text */
        size_t vl = strlen(in->value), from = 0, to = vl;
        if (f->rd_dis_more != 0) {
            uint64_t rd = raw_uint(e, "RD_DIS", 0);
            int lo = bit_set(rd, f->rd_dis), hi = (rd & f->rd_dis_more) != 0;
            from = lo ? 0 : vl / 2;
            to = hi ? vl : vl / 2;
        }
        for (size_t i = from; i < to; i++) {
            if (in->value[i] == '0') {
                in->value[i] = '?';
            }
        }
        in->value_kind = ESPSEC_EFV_STR;
    }
    return ESPSEC_OK;
}

static espsec_err_t get_uint(const espsec_efuse_t *e, const char *name, uint64_t *value, int hw, espsec_error_t *err)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse named %s on %s", name, e->def->chip->name);
    }
    if (f->word < 0) {
        *value = calc_value(e, f);
        return ESPSEC_OK;
    }
    if (f->bit_len > 64) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s is %u bits, not an integer", f->name, f->bit_len);
    }
    *value = raw_uint(e, f->name, hw);
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_get_uint(const espsec_efuse_t *e, const char *name, uint64_t *value, espsec_error_t *err)
{
    return get_uint(e, name, value, 0, err);
}

espsec_err_t espsec_efuse_get_uint_hw(const espsec_efuse_t *e, const char *name, uint64_t *value,
                                      espsec_error_t *err)
{
    return get_uint(e, name, value, 1, err);
}

/* ---- staging ---- */

/* A value as espefuse's bitstrings print it: 0x and hex digits when the length is whole nibbles, else 0b and bits. */
static void uint_bitstring(uint64_t v, unsigned len, char *out, size_t cap)
{
    if (len % 4 == 0) {
        snprintf(out, cap, "0x%0*llx", (int)(len / 4), (unsigned long long)v);
        return;
    }
    size_t k = 0;
    if (cap < 3) {
        return;
    }
    out[k++] = '0';
    out[k++] = 'b';
    for (unsigned i = len; i-- > 0 && k + 1 < cap;) {
        out[k++] = (v >> i) & 1 ? '1' : '0';
    }
    out[k] = '\0';
}

/* Bytes (stored order) as espefuse's bitstring: 0x and the bytes most significant first. */
static void bytes_bitstring(const uint8_t *d, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    if (cap < 3) {
        return;
    }
    out[k++] = '0';
    out[k++] = 'x';
    for (size_t i = n; i-- > 0 && k + 2 < cap;) {
        snprintf(out + k, cap - k, "%02x", d[i]);
        k += 2;
    }
    out[k] = '\0';
}

/* ESP32 3/4 coding: every 6-byte group of a block carries its own check bytes, so a group that holds
 * data takes no second write unless it writes exactly what is there (espefuse's check before a burn). */
static int coding34_forbidden(const espsec_efuse_t *e, int b, const uint8_t *wr)
{
    if (b == 0 || !espsec_efuse_coding_34(e)) {
        return 0;
    }
    const uint8_t *hw = e->hw[b];
    int all_set = 1;
    for (size_t i = 0; i < 24; i++) {
        all_set &= (hw[i] & wr[i]) == wr[i];
    }
    if (is_all(hw, 24, 0) || all_set) {
        return 0;
    }
    for (size_t c = 0; c < 24; c += 6) {
        if (!is_all(hw + c, 6, 0) && !is_all(wr + c, 6, 0) && memcmp(hw + c, wr + c, 6) != 0) {
            return 1;
        }
    }
    return 0;
}

static espsec_err_t coding34_refuse(const espsec_efuse_t *e, int b, espsec_error_t *err)
{
    return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "Burn into %s is forbidden (3/4 coding scheme does not allow this).",
                       e->def->blocks[b].name);
}

static espsec_err_t check_protect(const espsec_efuse_t *e, const efuse_field_def_t *f, espsec_error_t *err)
{
    if (!field_writeable(e, f)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED, "%s is write-protected. Burn is not possible.", f->name);
    }
    if (!field_readable(e, f)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                           "%s is read-protected: the written value cannot be read back (it looks like all 0) and a "
                           "burn could damage it",
                           f->name);
    }
    return ESPSEC_OK;
}

static espsec_err_t find_burnable(const espsec_efuse_t *e, const char *name, const efuse_field_def_t **out,
                                  espsec_error_t *err)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse named '%s' on %s (see 'summary' for the names)", name,
                           e->def->chip->name);
    }
    if (f->cls == EC_MAC_CRC && strcmp(f->name, "MAC") == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "Writing Factory MAC address is not supported");
    }
    if (f->cls == EC_VREF) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "Writing to VRef is not supported.");
    }
    if (f->word < 0 || ((f->cls == EC_MAC || f->cls == EC_MAC_CRC) && strcmp(f->name, "MAC") == 0)) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "burning %s is not supported (it is %s)", f->name,
                           f->word < 0 ? "calculated from other eFuses" : "written in the factory");
    }
    *out = f;
    return ESPSEC_OK;
}

static espsec_err_t stage_uint_bits(espsec_efuse_t *e, const efuse_field_def_t *f, uint64_t value, int part,
                                    int *noop, espsec_error_t *err);

espsec_err_t espsec_efuse_stage_uint(espsec_efuse_t *e, const char *name, uint64_t value, int *noop,
                                     espsec_error_t *err)
{
    const efuse_field_def_t *f = NULL;
    espsec_err_t rc = find_burnable(e, name, &f, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (noop != NULL) {
        *noop = 0;
    }
    if (f->type == ESPSEC_EF_BYTES) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s holds %u bytes; give it as hex bytes", f->name,
                           f->bit_len / 8);
    }
    if (f->cls == EC_SPIPIN) {
        /* ESP32: the field holds 0-31, 30 and 31 standing for GPIO32 and GPIO33 */
        if (value == 30 || value == 31) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                               "IO pins 30 & 31 cannot be set for SPI flash. 0-29, 32 & 33 only.");
        }
        if (value > 33) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                               "IO pin %llu cannot be set for SPI flash. 0-29, 32 & 33 only.",
                               (unsigned long long)value);
        }
        if (value >= 32) {
            value -= 2;
        }
    }
    return stage_uint_bits(e, f, value, 0, noop, err);
}

/* The check of a key purpose value for field f (KEY_PURPOSE_n). */
static espsec_err_t check_key_purpose(espsec_efuse_t *e, const efuse_field_def_t *f, uint64_t value,
                                      espsec_error_t *err)
{
    const char *pn = kp_name(e, value);
    if (pn == NULL || value == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "'%llu' is not a key purpose that can be set",
                           (unsigned long long)value);
    }
    if (strcmp(f->name, "KEY_PURPOSE_5") == 0 && key5_forbidden(e, pn)) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "KEY_PURPOSE_5 can not have %s key due to a hardware bug (please see TRM for more details)",
                           pn);
    }
    return ESPSEC_OK;
}

/* Stage value into field f: the value rules, then the bits. A key purpose wider than its field keeps
 * its fifth bit in KEY_PURPOSE_n_H (ESP32-P4 v3): each part is burned where it is not zero, as espefuse
 * does (part: f gets only the low bits of a purpose checked already). */
static espsec_err_t stage_uint_bits(espsec_efuse_t *e, const efuse_field_def_t *f, uint64_t value, int part,
                                    int *noop, espsec_error_t *err)
{
    espsec_err_t rc;
    if (f->cls == EC_KEYPURPOSE && !part && value != 0 && f->bit_len < 64 && (value >> f->bit_len) != 0) {
        char hn[40];
        snprintf(hn, sizeof(hn), "%s_H", f->name);
        if (def_by_name(e, hn) != NULL) {
            rc = check_key_purpose(e, f, value, err);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            rc = espsec_efuse_stage_uint(e, hn, value >> f->bit_len, noop, err);
            value &= (1ull << f->bit_len) - 1;
            if (rc != ESPSEC_OK || value == 0) {
                return rc;
            }
            return stage_uint_bits(e, f, value, 1, noop, err);
        }
    }
    if (f->type == ESPSEC_EF_BOOL && value != 1) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "New value is not accepted for eFuse '%s' (will always burn 0->1), given value=%llu",
                           f->name, (unsigned long long)value);
    }
    if (value == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "New value should not be 0 for '%s' (given value= 0)", f->name);
    }
    if (f->bit_len < 64 && (value >> f->bit_len) != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "%llu is too large an unsigned integer for a bitstring of length %u. The allowed range is "
                           "[0, %llu].",
                           (unsigned long long)value, f->bit_len, (unsigned long long)((1ull << f->bit_len) - 1));
    }
    if (f->cls == EC_KEYPURPOSE && !part) {
        rc = check_key_purpose(e, f, value, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    unsigned pos = field_bitpos(f);
    uint64_t burned = bits_get(sw_block(e, f->block), pos, f->bit_len);
    uint64_t staged = bits_get(e->wr[f->block], pos, f->bit_len);
    uint64_t old = burned | staged;
    if (value == old || (value & burned) == value) {
        if (noop != NULL) {
            *noop = 1;
        }
        return ESPSEC_OK;
    }
    int is_mask = strcmp(f->name, "WR_DIS") == 0 || strcmp(f->name, "RD_DIS") == 0;
    if (!is_mask && (value | old) != value) {
        char bs[80];
        uint_bitstring(value | old, f->bit_len, bs, sizeof(bs));
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "New value contains some bits that cannot be cleared (value will be %s) in %s", bs,
                           f->name);
    }
    rc = check_protect(e, f, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    bits_or(e->wr[f->block], pos, f->bit_len, value);
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_next_bit(espsec_efuse_t *e, const char *name, uint64_t *new_value,
                                         espsec_error_t *err)
{
    const efuse_field_def_t *f = NULL;
    espsec_err_t rc = find_burnable(e, name, &f, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (f->type == ESPSEC_EF_BYTES) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "New value required for eFuse '%s' (given None)", f->name);
    }
    if (f->type == ESPSEC_EF_BOOL) {
        *new_value = 1;
        return espsec_efuse_stage_uint(e, f->name, 1, NULL, err);
    }
    if (f->cls != EC_BITCOUNT && strstr(f->name, "CRYPT_CNT") == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "New value required for eFuse '%s' (given None)", f->name);
    }
    uint64_t old = raw_uint(e, f->name, 0) | bits_get(e->wr[f->block], field_bitpos(f), f->bit_len);
    for (unsigned b = 0; b < f->bit_len; b++) {
        if (!(old & (1ull << b))) {
            *new_value = old | (1ull << b);
            return espsec_efuse_stage_uint(e, f->name, *new_value, NULL, err);
        }
    }
    /* as espefuse: the next bit is past the field */
    return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                       "%llu is too large an unsigned integer for a bitstring of length %u. The allowed range is "
                       "[0, %llu].",
                       (unsigned long long)(old | (1ull << f->bit_len)), f->bit_len,
                       (unsigned long long)((1ull << f->bit_len) - 1));
}

espsec_err_t espsec_efuse_stage_bytes(espsec_efuse_t *e, const char *name, const uint8_t *data, size_t len,
                                      espsec_error_t *err)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    int blk = f ? f->block : espsec_efuse_block_by_name(e, name);
    if (f == NULL && blk > 0) {
        /* a whole block, by its block name */
        for (size_t i = 0; i < e->def->nfields; i++) {
            if (e->def->fields[i].block == blk && e->def->fields[i].group == EG_KEYBLOCK) {
                f = &e->def->fields[i];
            }
        }
    }
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse or block named '%s'", name);
    }
    if (f->cls == EC_MAC_CRC && strcmp(f->name, "MAC") == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "Writing Factory MAC address is not supported");
    }
    unsigned nbytes = eff_len(e, f) / 8;
    if (f->type != ESPSEC_EF_BYTES) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s is not a bytes field", f->name);
    }
    if (len != nbytes) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "The length of eFuse '%s' (%u bits) (given len of the new value= %zu bits)", f->name,
                           nbytes * 8, len * 8);
    }
    const uint8_t *burned = sw_block(e, f->block) + field_bitpos(f) / 8;
    uint8_t *staged = e->wr[f->block] + field_bitpos(f) / 8;
    int same = 1, clears = 0, all_zero = 1;
    for (size_t i = 0; i < len; i++) {
        uint8_t old = burned[i] | staged[i];
        same &= (data[i] & burned[i]) == data[i];
        clears |= (data[i] | old) != data[i];
        all_zero &= data[i] == 0;
    }
    if (all_zero || same) {
        return ESPSEC_OK;
    }
    if (clears) {
        uint8_t will[64];
        char bs[140];
        for (size_t i = 0; i < len && i < sizeof(will); i++) {
            will[i] = data[i] | burned[i] | staged[i];
        }
        bytes_bitstring(will, len < sizeof(will) ? len : sizeof(will), bs, sizeof(bs));
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "New value contains some bits that cannot be cleared (value will be %s) in %s", bs, f->name);
    }
    espsec_err_t rc = check_protect(e, f, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t next[32];
    memcpy(next, e->wr[f->block], 32);
    for (size_t i = 0; i < len; i++) {
        next[field_bitpos(f) / 8 + i] |= data[i];
    }
    int forbidden = coding34_forbidden(e, f->block, next);
    espsec_wipe(next, sizeof(next));
    if (forbidden) {
        return coding34_refuse(e, f->block, err);
    }
    for (size_t i = 0; i < len; i++) {
        staged[i] |= data[i];
    }
    return ESPSEC_OK;
}

/* A field or a block, for the protect commands: its protection bit. */
static int protect_bit(const espsec_efuse_t *e, const char *name, int want_rd, const char **canon)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f != NULL) {
        *canon = f->name;
        return want_rd ? f->rd_dis : f->wr_dis;
    }
    int b = espsec_efuse_block_by_name(e, name);
    if (b >= 0) {
        *canon = e->def->blocks[b].name;
        return want_rd ? e->def->blocks[b].rd_dis : e->def->blocks[b].wr_dis;
    }
    *canon = NULL;
    return -2;
}

static espsec_err_t stage_protect(espsec_efuse_t *e, const char *name, int rd, espsec_error_t *err)
{
    const char *canon = NULL;
    int bit = protect_bit(e, name, rd, &canon);
    if (bit == -2) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse or block named '%s'", name);
    }
    if (bit < 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "This eFuse cannot be %s-disabled (%s)", rd ? "read" : "write",
                           canon);
    }
    const efuse_field_def_t *mask = def_by_name(e, rd ? "RD_DIS" : "WR_DIS");
    if (!field_writeable(e, mask)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                           "This eFuse cannot be %s-disabled due to the %s field being already write-disabled",
                           rd ? "read" : "write", mask->name);
    }
    uint64_t bits = 1ull << bit;
    const efuse_field_def_t *f = def_by_name(e, name);
    if (rd && f != NULL) {
        bits |= f->rd_dis_more;
    }
    bits_or(e->wr[mask->block], field_bitpos(mask), mask->bit_len, bits);
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_write_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err)
{
    return stage_protect(e, name, 0, err);
}

int espsec_efuse_protect_bit(const espsec_efuse_t *e, const char *name, int rd)
{
    const char *canon = NULL;
    return protect_bit(e, name, rd, &canon);
}

size_t espsec_efuse_protect_group(const espsec_efuse_t *e, const char *name, int rd, char *out, size_t cap)
{
    const char *canon = NULL;
    int bit = protect_bit(e, name, rd, &canon);
    size_t n = 0, used = 0;
    if (cap > 0) {
        out[0] = '\0';
    }
    for (size_t i = 0; bit >= 0; i++) {
        const efuse_field_def_t *f = visible(e, i);
        if (f == NULL) {
            break;
        }
        if ((rd ? f->rd_dis : f->wr_dis) != bit) {
            continue;
        }
        int w = snprintf(out + used, used < cap ? cap - used : 0, "%s%s", n ? ", " : "", f->name);
        used += w > 0 ? (size_t)w : 0;
        n++;
    }
    if (n == 0 && canon != NULL && cap > 0) {
        snprintf(out, cap, "%s", canon);
        n = 1;
    }
    return n;
}

int espsec_efuse_is_protected(const espsec_efuse_t *e, const char *name, int rd)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (f != NULL) {
        return rd ? !field_readable(e, f) : !field_writeable(e, f);
    }
    int b = espsec_efuse_block_by_name(e, name);
    if (b < 0) {
        return -1;
    }
    return rd ? !espsec_efuse_block_readable(e, b) : !espsec_efuse_block_writeable(e, b);
}

/* espefuse's refusals: what a chip needs readable to boot. */
static espsec_err_t must_stay_readable(const espsec_efuse_t *e, const char *name, espsec_error_t *err)
{
    const espsec_chip_info_t *c = e->def->chip;
    int b = espsec_efuse_block_by_name(e, name);
    if (c->sb.enable_v1 != NULL) {
        /* ESP32 v3: BLOCK2 holds the Secure Boot V2 digest the ROM reads */
        int blk2 = c->sb.digest_block ? espsec_efuse_block_by_name(e, c->sb.digest_block) : -1;
        if (b >= 0 && b == blk2 && strcasecmp(name, e->def->blocks[b].name) == 0 && !value_of(e, c->sb.enable_v1) &&
            chip_version(e) >= 300 && value_of(e, c->sb.enable)) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                               "Secure Boot V2 is on (%s = True), %s must be readable, stop this operation!",
                               c->sb.enable, e->def->blocks[b].name);
        }
        return ESPSEC_OK;
    }
    if (c->fe.shared_key0) {
        int whole = strcasecmp(name, "BLOCK_KEY0") == 0, hi = strcasecmp(name, "BLOCK_KEY0_HI_128") == 0;
        int bad = (c->fe.xts_key_size_fuse != NULL && !value_of(e, c->fe.xts_key_size_fuse) && whole) ||
                  (value_of(e, c->sb.enable) && (whole || hi));
        if (bad) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "%s must be readable, stop this operation!", name);
        }
        return ESPSEC_OK;
    }
    if (b >= 0 && strcasecmp(name, e->def->blocks[b].name) == 0 && e->def->blocks[b].key_purpose != NULL) {
        const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(c, (int)value_of(e, e->def->blocks[b].key_purpose));
        if (kp == NULL || !(kp->flags & ESPSEC_KP_READ_PROT)) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "%s must be readable, stop this operation!", name);
        }
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_read_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err)
{
    espsec_err_t rc = must_stay_readable(e, name, err);
    return rc != ESPSEC_OK ? rc : stage_protect(e, name, 1, err);
}

espsec_err_t espsec_efuse_stage_key(espsec_efuse_t *e, int blk, const uint8_t *key, size_t len, const char *purpose,
                                    int write_protect, int read_protect, espsec_error_t *err)
{
    if (blk <= 0 || blk >= e->def->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "block %d cannot hold a key", blk);
    }
    const efuse_block_def_t *bd = &e->def->blocks[blk];
    if (!espsec_efuse_block_readable(e, blk) || !is_all(e->hw[blk], 32, 0) || !e->hw_known[blk]) {
        int same = e->hw_known[blk] && espsec_ct_compare(e->hw[blk], key, len) == 0;
        if (!same) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                               "%s already holds a key (or is read-protected); a burned key cannot be replaced",
                               bd->name);
        }
    }
    espsec_err_t rc = espsec_efuse_stage_bytes(e, bd->name, key, len, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (bd->key_purpose != NULL) {
        const espsec_key_purpose_t *kpd = espsec_chip_key_purpose(e->def->chip, purpose ? purpose : "USER");
        int pv = kpd != NULL ? kpd->value : -1;
        if (pv < 0) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "unknown key purpose '%s'", purpose);
        }
        uint64_t cur = key_purpose_value(e, bd->key_purpose);
        const efuse_field_def_t *kp = def_by_name(e, bd->key_purpose);
        if (cur != (uint64_t)pv) {
            if (!field_writeable(e, kp)) {
                return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                                   "It is not possible to change '%s' to '%s' because write protection bit is set.",
                                   bd->key_purpose, purpose);
            }
            if (pv != 0) {
                rc = espsec_efuse_stage_uint(e, bd->key_purpose, (uint64_t)pv, NULL, err);
                if (rc != ESPSEC_OK) {
                    return rc;
                }
            }
        }
        if (field_writeable(e, kp)) {
            rc = espsec_efuse_stage_write_protect(e, bd->key_purpose, err);
            if (rc != ESPSEC_OK) {
                return rc;
            }
        }
    }
    if (read_protect) {
        rc = stage_protect(e, bd->name, 1, err); /* the purpose staged with it needs it */
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(err, "%s cannot be read-disabled: ", bd->name);
        }
    }
    if (rc == ESPSEC_OK && write_protect && espsec_efuse_block_writeable(e, blk)) {
        rc = espsec_efuse_stage_write_protect(e, bd->name, err); /* (a protected block keeps its bit) */
    }
    return rc;
}

/* A key block nothing uses yet: readable, writable, purpose USER and changeable, all zero, nothing staged. */
static int key_block_unused(const espsec_efuse_t *e, int b)
{
    const efuse_block_def_t *bd = &e->def->blocks[b];
    if (bd->key_purpose == NULL || !espsec_efuse_block_readable(e, b) || !espsec_efuse_block_writeable(e, b)) {
        return 0;
    }
    const efuse_field_def_t *kp = def_by_name(e, bd->key_purpose);
    if (kp == NULL || raw_uint(e, bd->key_purpose, 0) != 0 || !field_writeable(e, kp)) {
        return 0;
    }
    return is_all(e->hw[b], 32, 0) && is_all(e->wr[b], 32, 0) && e->hw_known[b];
}

/* The next unused key block after b (wrapping around), skipping those in exclude; -1 if none. */
static int next_free_key_block(const espsec_efuse_t *e, int b, uint32_t exclude)
{
    int n = e->def->nblocks;
    for (int k = 1; k < n; k++) {
        int c = (b + k) % n;
        if (c < 32 && (exclude & (1u << c))) {
            continue;
        }
        if (key_block_unused(e, c)) {
            return c;
        }
    }
    return -1;
}

/* The key field of a block: the 128-bit half (C2) or the whole block. */
static const efuse_field_def_t *key_field(const espsec_efuse_t *e, int blk, unsigned flags)
{
    const efuse_field_def_t *whole = NULL;
    for (size_t i = 0; i < e->def->nfields; i++) {
        const efuse_field_def_t *f = &e->def->fields[i];
        if (f->block != blk || f->type != ESPSEC_EF_BYTES || f->word < 0) {
            continue;
        }
        unsigned pos = field_bitpos(f);
        if ((flags & ESPSEC_KP_LOW_HALF) && pos == 0 && f->bit_len == 128) {
            return f;
        }
        if ((flags & ESPSEC_KP_HIGH_HALF) && pos == 128 && f->bit_len == 128) {
            return f;
        }
        if (pos == 0 && f->bit_len == 256 && f->group == EG_KEYBLOCK) {
            whole = f;
        }
    }
    return (flags & (ESPSEC_KP_LOW_HALF | ESPSEC_KP_HIGH_HALF)) ? NULL : whole;
}

/* The stage check of a key's length; fills the step's field, length and reversal first, as espefuse
 * shows them before it refuses a wrong length. */
static espsec_err_t check_key_len(const efuse_field_def_t *f, const espsec_key_purpose_t *kp, size_t *len,
                                  espsec_efuse_key_step_t *st, espsec_error_t *err)
{
    size_t need = f->bit_len / 8;
    if ((kp->flags & ESPSEC_KP_DIGEST) && need == 16 && *len != 32 && *len != need) {
        /* C2: a digest half takes the SHA-256 digest (its first 128 bits) or 128 bits */
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "Wrong length of this file for %s. Got %zu (expected 32 or %zu)", kp->name, *len, need);
    }
    memset(st, 0, sizeof(*st));
    if ((kp->flags & ESPSEC_KP_DIGEST) && *len == 32 && need == 16) {
        *len = 16; /* C2: the first 128 bits of the digest */
        st->digest_cut = 1;
    }
    st->field = f->name;
    st->purpose = kp->name;
    st->len = *len;
    st->reversed = (kp->flags & ESPSEC_KP_REVERSE) != 0;
    if (*len != need || *len > 32) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "Incorrect key file size %zu. Key file must be %zu bytes (%zu bits) of raw binary key data.",
                           *len, need, need * 8);
    }
    return ESPSEC_OK;
}

/* The field the chip burns with a key of this purpose on early revisions (H2 below v1.2:
 * ECDSA_FORCE_USE_HARDWARE_K with ECDSA_KEY), staged to 1 as espefuse does; its value before
 * is the burned one, so each key of the purpose in one command reports it as not yet set. */
static espsec_err_t stage_key_companion(espsec_efuse_t *e, const espsec_key_purpose_t *kp,
                                        espsec_efuse_key_step_t *st, espsec_error_t *err)
{
    const espsec_chip_key_companion_t *kc = &e->def->chip->key_companion;
    if (kc->purpose == NULL || strcmp(kc->purpose, kp->name) != 0 || chip_version(e) > kc->max_rev ||
        def_by_name(e, kc->field) == NULL) {
        return ESPSEC_OK;
    }
    st->companion = kc->field;
    st->companion_before = raw_uint(e, kc->field, 0) != 0;
    st->companion_staged = espsec_efuse_field_staged(e, kc->field);
    if (st->companion_before || st->companion_staged) {
        return ESPSEC_OK;
    }
    int noop = 0;
    return espsec_efuse_stage_uint(e, kc->field, 1, &noop, err);
}

static espsec_err_t stage_one_key(espsec_efuse_t *e, int blk, const uint8_t *key, size_t len,
                                  const espsec_key_purpose_t *kp, int no_wp, int no_rp, espsec_efuse_key_step_t *st,
                                  espsec_error_t *err)
{
    const efuse_field_def_t *f = key_field(e, blk, kp->flags);
    if (f == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s cannot hold a %s key", e->def->blocks[blk].name,
                           kp->name);
    }
    uint8_t data[32];
    espsec_err_t rc = check_key_len(f, kp, &len, st, err);
    st->block = blk;
    if (rc != ESPSEC_OK) {
        return rc;
    }
    memcpy(data, key, len);
    if (kp->flags & ESPSEC_KP_REVERSE) {
        reverse_copy(data, key, len);
    }
    int rp = (kp->flags & ESPSEC_KP_READ_PROT) && !no_rp;
    /* as espefuse: every bit already there, and some bit to speak of (zeros on zeros are silent) */
    const uint8_t *cur = sw_block_c(e, blk) + field_bitpos(f) / 8;
    int contained = 1, bits = 0;
    for (size_t i = 0; i < len; i++) {
        contained &= (data[i] & cur[i]) == data[i];
        bits |= data[i] | cur[i];
    }
    st->already_burned = contained && bits;
    st->read_protected = rp;
    st->write_protected = !no_wp;
    const char *kpf = e->def->blocks[blk].key_purpose;
    st->write_protect_already = st->write_protected && !espsec_efuse_block_writeable(e, blk);
    if (kpf != NULL) {
        const char *before = kp_name(e, key_purpose_value(e, kpf));
        st->purpose_field = kpf;
        st->purpose_before = before != NULL ? before : "FORBIDDEN_STATE";
        st->purpose_write_protected = field_writeable(e, def_by_name(e, kpf));
        /* espefuse compares the purpose by name: another name of the same value (C5's ECDSA_KEY_P256
         * for ECDSA_KEY) is a change, refused when the purpose is write-protected */
        if (!st->purpose_write_protected && strcmp(st->purpose_before, kp->name) != 0) {
            espsec_wipe(data, sizeof(data));
            return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                               "It is not possible to change '%s' to '%s' because write protection bit is set.", kpf,
                               kp->name);
        }
    }
    if (kpf != NULL) {
        /* blocks with a KEY_PURPOSE field: the whole-block rules of espsec_efuse_stage_key */
        rc = espsec_efuse_stage_key(e, blk, data, len, kp->name, !no_wp, rp, err);
        espsec_wipe(data, sizeof(data));
        if (rc == ESPSEC_OK) {
            rc = stage_key_companion(e, kp, st, err);
        }
        return rc;
    }
    rc = espsec_efuse_stage_bytes(e, f->name, data, len, err);
    espsec_wipe(data, sizeof(data));
    if (rc == ESPSEC_OK && strcmp(kp->name, "XTS_AES_128_KEY") == 0 && e->def->chip->fe.xts_key_size_fuse != NULL) {
        int noop = 0;
        rc = espsec_efuse_stage_uint(e, e->def->chip->fe.xts_key_size_fuse, 1, &noop, err);
        st->size_fuse = e->def->chip->fe.xts_key_size_fuse;
        st->size_fuse_was_set = noop;
    }
    if (rc == ESPSEC_OK && rp) {
        rc = stage_protect(e, f->name, 1, err);
    }
    if (rc == ESPSEC_OK && !no_wp) {
        rc = espsec_efuse_stage_write_protect(e, f->name, err);
    }
    return rc;
}

espsec_err_t espsec_efuse_check_key_purposes(const espsec_chip_info_t *c, const char *const *purposes, size_t n,
                                            espsec_error_t *err)
{
    if (!c->fe.shared_key0 || n != 2) {
        return ESPSEC_OK;
    }
    const espsec_key_purpose_t *k[2] = {espsec_chip_key_purpose(c, purposes[0]), espsec_chip_key_purpose(c, purposes[1])};
    if (k[0] == NULL || k[1] == NULL) {
        return ESPSEC_OK; /* the unknown name is refused where it is used */
    }
    const unsigned half = ESPSEC_KP_LOW_HALF | ESPSEC_KP_HIGH_HALF;
    /* as espefuse: a purpose that takes the whole block beside any other, or a half first and then
     * something that is not a half (a whole-block key second is left to the staging checks) */
    int alone = ((k[0]->flags | k[1]->flags) & ESPSEC_KP_ALONE) != 0;
    if (alone || ((k[0]->flags & half) && !(k[1]->flags & half))) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "These keypurposes are incompatible ['%s', '%s']", k[0]->name,
                           k[1]->name);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_key_purpose(espsec_efuse_t *e, const char *block, const uint8_t *key, size_t len,
                                            const char *purpose, int no_write_protect, int no_read_protect,
                                            uint32_t exclude, espsec_efuse_key_step_t steps[2], int *nsteps,
                                            espsec_error_t *err)
{
    *nsteps = 0;
    memset(steps, 0, 2 * sizeof(*steps));
    const espsec_key_purpose_t *kp = espsec_chip_key_purpose(e->def->chip, purpose);
    if (kp == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "'%s' is not a key purpose of %s", purpose,
                           e->def->chip->name);
    }
    int blk = espsec_efuse_block_by_name(e, block);
    if (blk <= 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "Unknown block name - %s.", block);
    }
    if (!(kp->flags & ESPSEC_KP_VIRTUAL)) {
        espsec_err_t rc = stage_one_key(e, blk, key, len, kp, no_write_protect, no_read_protect, &steps[0], err);
        *nsteps = rc == ESPSEC_OK;
        return rc;
    }
    if (len != 64) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "Incorrect key file size %zu, %s should be 64 bytes", len,
                           kp->name);
    }
    int blk2 = next_free_key_block(e, blk, exclude | (blk < 32 ? 1u << blk : 0));
    if (blk2 < 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "%s requires two free keyblocks", kp->name);
    }
    /* XTS_AES_256_KEY -> _1 and _2 (ECDSA_KEY_P384 -> _H and _L) */
    char n1[48], n2[48];
    int xts = strncmp(kp->name, "XTS_AES_256", 11) == 0;
    snprintf(n1, sizeof(n1), "%s%s", kp->name, xts ? "_1" : "_H");
    snprintf(n2, sizeof(n2), "%s%s", kp->name, xts ? "_2" : "_L");
    const espsec_key_purpose_t *k1 = espsec_chip_key_purpose(e->def->chip, n1),
                               *k2 = espsec_chip_key_purpose(e->def->chip, n2);
    if (k1 == NULL || k2 == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "%s: the chip lacks %s or %s", kp->name, n1, n2);
    }
    espsec_err_t rc = stage_one_key(e, blk, key, 32, k1, no_write_protect, no_read_protect, &steps[0], err);
    if (rc == ESPSEC_OK) {
        *nsteps = 1;
        rc = stage_one_key(e, blk2, key + 32, 32, k2, no_write_protect, no_read_protect, &steps[1], err);
        *nsteps += rc == ESPSEC_OK;
    }
    return rc;
}

size_t espsec_efuse_block_len(const espsec_efuse_t *e, int blk)
{
    if (blk < 0 || blk >= e->def->nblocks) {
        return 0;
    }
    if (blk > 0 && espsec_efuse_coding_34(e)) {
        return 24;
    }
    return (size_t)e->def->blocks[blk].words * 4;
}

static void writable_mask(const espsec_efuse_t *e, int b, uint8_t mask[32]);

/* Stage bits into a block with the checks a burn of that block gets. */
static espsec_err_t stage_block_bits(espsec_efuse_t *e, int blk, const uint8_t *bits, espsec_error_t *err)
{
    const efuse_block_def_t *bd = &e->def->blocks[blk];
    size_t n = espsec_efuse_block_len(e, blk);
    if (!espsec_efuse_block_writeable(e, blk)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED, "%s is write-protected. Burn is not possible.", bd->name);
    }
    if (!espsec_efuse_block_readable(e, blk)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                           "%s is read-protected: the written value cannot be read back and a burn could damage it",
                           bd->name);
    }
    if (is_all(bits, n, 0)) {
        return ESPSEC_OK;
    }
    const uint8_t *cur = sw_block_c(e, blk);
    uint8_t next[32];
    for (size_t i = 0; i < 32; i++) {
        next[i] = e->wr[blk][i] | (i < n ? bits[i] : 0);
    }
    int forbidden = coding34_forbidden(e, blk, next);
    espsec_wipe(next, sizeof(next));
    if (forbidden) {
        return coding34_refuse(e, blk, err);
    }
    uint8_t mask[32];
    writable_mask(e, blk, mask);
    for (size_t i = 0; i < n; i++) {
        if (bits[i] & ~cur[i] & ~mask[i]) {
            return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                               "%s: byte %zu holds write-protected fields that the new data would change", bd->name, i);
        }
    }
    for (size_t i = 0; i < n; i++) {
        e->wr[blk][i] |= bits[i];
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_block_data(espsec_efuse_t *e, int blk, const uint8_t *data, size_t len, size_t offset,
                                           espsec_error_t *err)
{
    if (blk < 0 || blk >= e->def->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse block %d", blk);
    }
    size_t n = espsec_efuse_block_len(e, blk);
    if (offset != 0 && offset >= n) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "Invalid offset: the block%d only holds %zu bytes.", blk, n);
    }
    if (len > n - offset || (offset == 0 && len != n)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "Data does not fit: the block%d size is %zu bytes, data file is %zu bytes, offset %zu.", blk,
                           n, offset == 0 ? len : len + offset, offset);
    }
    uint8_t bits[32] = {0};
    memcpy(bits + offset, data, len);
    espsec_err_t rc = stage_block_bits(e, blk, bits, err);
    espsec_wipe(bits, sizeof(bits));
    return rc;
}

espsec_err_t espsec_efuse_stage_block_bits(espsec_efuse_t *e, int blk, const unsigned *bitnums, size_t nbits,
                                           espsec_error_t *err)
{
    if (blk < 0 || blk >= e->def->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "no eFuse block %d", blk);
    }
    size_t n = espsec_efuse_block_len(e, blk);
    uint8_t bits[32] = {0};
    for (size_t i = 0; i < nbits; i++) {
        if (bitnums[i] >= n * 8) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "bit %u is beyond %s (%zu bits)", bitnums[i],
                               e->def->blocks[blk].name, n * 8);
        }
        bits[bitnums[i] / 8] |= (uint8_t)(1u << (bitnums[i] % 8));
    }
    return stage_block_bits(e, blk, bits, err);
}

int espsec_efuse_block_errors(const espsec_efuse_t *e, char *msg, size_t cap)
{
    int nerr = 0;
    size_t used = 0;
    if (cap > 0) {
        msg[0] = '\0';
    }
    int bad0 = 0;
    for (size_t i = 0; i < e->def->nrepeat_err; i++) {
        bad0 |= get_le32(e->mem + e->def->repeat_err[i]) != 0;
    }
    for (int b = 0; b < e->def->nblocks; b++) {
        int bad = b == 0 ? bad0 : 0;
        for (size_t i = 0; b > 0 && i < e->def->nblock_err; i++) {
            const efuse_err_def_t *d = &e->def->block_err[i];
            if (d->block != b) {
                continue;
            }
            uint32_t r = get_le32(e->mem + d->reg);
            bad |= ((r >> d->shift) & d->mask) != 0 || (d->fail_bit >= 0 && (r >> d->fail_bit) & 1);
        }
        if (bad) {
            nerr++;
            if (used < cap) {
                int w = snprintf(msg + used, cap - used, "%s%s", used ? ", " : "", e->def->blocks[b].name);
                used += w > 0 ? (size_t)w : 0;
            }
        }
    }
    return nerr;
}

uint8_t espsec_efuse_mac_crc8(const uint8_t mac[6])
{
    return mac_crc8(mac);
}

espsec_err_t espsec_efuse_stage_custom_mac(espsec_efuse_t *e, const uint8_t mac[6], espsec_error_t *err)
{
    if (def_by_name(e, "CUSTOM_MAC") == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "%s has no CUSTOM_MAC eFuse", e->def->chip->name);
    }
    if (mac[0] & 1) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "Custom MAC must be a unicast MAC!");
    }
    espsec_err_t rc = ESPSEC_OK;
    int noop = 0;
    if (def_by_name(e, "MAC_VERSION") != NULL) {
        uint64_t v = raw_uint(e, "MAC_VERSION", 0);
        if (v > 1) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "MAC_VERSION = %llu, should be 0 or 1.",
                               (unsigned long long)v);
        }
        rc = espsec_efuse_stage_uint(e, "MAC_VERSION", 1, &noop, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_stage_bytes(e, "CUSTOM_MAC", mac, 6, err);
    }
    uint8_t crc = mac_crc8(mac);
    if (rc == ESPSEC_OK && def_by_name(e, "CUSTOM_MAC_CRC") != NULL && crc != 0) {
        rc = espsec_efuse_stage_uint(e, "CUSTOM_MAC_CRC", crc, &noop, err);
    }
    if (rc == ESPSEC_OK && def_by_name(e, "CUSTOM_MAC_USED") != NULL) {
        rc = espsec_efuse_stage_uint(e, "CUSTOM_MAC_USED", 1, &noop, err);
    }
    return rc;
}

int espsec_efuse_custom_mac_text(const espsec_efuse_t *e, char *line, size_t cap)
{
    int i = espsec_efuse_find(e, "CUSTOM_MAC");
    espsec_efuse_field_info_t fi;
    if (i < 0 || espsec_efuse_field_info(e, (size_t)i, &fi) != ESPSEC_OK) {
        return -1;
    }
    if (def_by_name(e, "MAC_VERSION") != NULL) {
        uint64_t v = raw_uint(e, "MAC_VERSION", 0);
        if (v == 0) {
            return 1;
        }
        snprintf(line, cap, "Custom MAC Address version %llu: %s", (unsigned long long)v, fi.value);
        return 0;
    }
    snprintf(line, cap, "Custom MAC Address: %s", fi.value);
    return 0;
}

espsec_err_t espsec_efuse_stage_flash_voltage(espsec_efuse_t *e, const char *voltage, espsec_error_t *err)
{
    const espsec_chip_lock_t *l = &e->def->chip->lock;
    if (l->vdd_force == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "set_flash_voltage is not supported for this chip");
    }
    int off = strcmp(voltage, "OFF") == 0, v18 = strcmp(voltage, "1.8V") == 0, v33 = strcmp(voltage, "3.3V") == 0;
    if (!off && !v18 && !v33) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "voltage '%s': 1.8V, 3.3V or OFF expected", voltage);
    }
    if (off && value_of(e, l->vdd_reg) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "Can't set flash regulator to OFF as %s eFuse is already burned.", l->vdd_reg);
    }
    if (v18 && value_of(e, l->vdd_tieh) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "Can't set regulator to 1.8V is %s eFuse is already burned.",
                           l->vdd_tieh);
    }
    int noop = 0;
    espsec_err_t rc = espsec_efuse_stage_uint(e, l->vdd_force, 1, &noop, err);
    if (rc == ESPSEC_OK && !off) {
        rc = espsec_efuse_stage_uint(e, l->vdd_reg, 1, &noop, err);
    }
    if (rc == ESPSEC_OK && v33) {
        rc = espsec_efuse_stage_uint(e, l->vdd_tieh, 1, &noop, err);
    }
    return rc;
}

int espsec_efuse_field_staged(const espsec_efuse_t *e, const char *name)
{
    const efuse_field_def_t *f = name != NULL ? def_by_name(e, name) : NULL;
    if (f == NULL || f->word < 0) {
        return 0;
    }
    for (unsigned i = 0; i < f->bit_len; i++) {
        unsigned b = field_bitpos(f) + i;
        if (e->wr[f->block][b / 8] & (1u << (b % 8))) {
            return 1;
        }
    }
    return 0;
}

int espsec_efuse_staged_conflict(const espsec_efuse_t *e, char *msg, size_t cap)
{
    const espsec_chip_fuse_pair_t *p = e->def->chip->exclusive_fuses;
    for (; p != NULL && p->a != NULL; p++) {
        int wa = espsec_efuse_field_staged(e, p->a), wb = espsec_efuse_field_staged(e, p->b);
        int ra = raw_uint(e, p->a, 0) != 0, rb = raw_uint(e, p->b, 0) != 0;
        if ((wa && (rb || wb)) || (wb && ra)) {
            if (cap > 0) {
                snprintf(msg, cap, "%s and %s cannot be set together due to %s!", p->a, p->b, p->why);
            }
            return 1;
        }
    }
    return 0;
}

uint32_t espsec_efuse_staged_blocks(const espsec_efuse_t *e)
{
    uint32_t m = 0;
    for (int b = 0; b < e->def->nblocks && b < 32; b++) {
        if (!is_all(e->wr[b], 32, 0)) {
            m |= 1u << b;
        }
    }
    return m;
}

void espsec_efuse_get_staged_block(const espsec_efuse_t *e, int blk, uint8_t out[32])
{
    memset(out, 0, 32);
    if (blk >= 0 && blk < e->def->nblocks) {
        memcpy(out, e->wr[blk], 32);
    }
}

int espsec_efuse_field_bitstring(const espsec_efuse_t *e, const char *name, int staged, char *out, size_t cap)
{
    const efuse_field_def_t *f = def_by_name(e, name);
    if (cap > 0) {
        out[0] = '\0';
    }
    if (f == NULL || f->word < 0) {
        return -1;
    }
    unsigned len = eff_len(e, f);
    const uint8_t *d = staged ? e->wr[f->block] : sw_block_c(e, f->block);
    if (f->type == ESPSEC_EF_BYTES) {
        bytes_bitstring(d + field_bitpos(f) / 8, len / 8, out, cap);
    } else {
        uint_bitstring(bits_get(d, field_bitpos(f), len), len, out, cap);
    }
    return 0;
}

int espsec_efuse_has_staged(const espsec_efuse_t *e)
{
    for (int b = 0; b < e->def->nblocks; b++) {
        if (!is_all(e->wr[b], 32, 0)) {
            return 1;
        }
    }
    return 0;
}

void espsec_efuse_discard(espsec_efuse_t *e)
{
    espsec_wipe(e->wr, sizeof(e->wr));
}

/* Bits of block b that the current WR_DIS leaves writable. */
static void writable_mask(const espsec_efuse_t *e, int b, uint8_t mask[32])
{
    uint64_t wd = wr_dis(e);
    memset(mask, 0xFF, 32);
    if (bit_set(wd, e->def->blocks[b].wr_dis)) {
        memset(mask, 0, 32);
        return;
    }
    for (size_t i = 0; i < e->def->nfields; i++) {
        const efuse_field_def_t *f = &e->def->fields[i];
        if (f->block == b && f->word >= 0 && bit_set(wd, f->wr_dis)) {
            bits_clear(mask, field_bitpos(f), f->bit_len);
        }
    }
}

static void burn_block(espsec_efuse_t *e, int b, const uint8_t *bits)
{
    uint8_t mask[32];
    writable_mask(e, b, mask);
    size_t n = (size_t)e->def->blocks[b].words * 4;
    for (size_t i = 0; i < n; i++) {
        e->hw[b][i] |= bits[i] & mask[i];
    }
}

/* The coding scheme's rule for a block that already holds data (checked for every block before
 * anything is burned, as espefuse does): RS-coded blocks take no second write; 3/4-coded ESP32
 * blocks no second write into a 6-byte group that holds data. */
static espsec_err_t check_coding(const espsec_efuse_t *e, espsec_error_t *err)
{
    for (int b = 1; b < e->def->nblocks; b++) {
        size_t n = (size_t)e->def->blocks[b].words * 4;
        const uint8_t *hw = e->hw[b], *wr = e->wr[b];
        if (is_all(wr, 32, 0) || is_all(hw, n, 0)) {
            continue;
        }
        int adds = 0;
        for (size_t i = 0; i < n; i++) {
            adds |= (wr[i] & ~hw[i]) != 0;
        }
        if (!adds) {
            continue;
        }
        if (e->def->rs_coding) {
            return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                               "Burn into %s is forbidden (RS coding scheme does not allow this).",
                               e->def->blocks[b].name);
        }
        if (coding34_forbidden(e, b, wr)) {
            return coding34_refuse(e, b, err);
        }
    }
    return ESPSEC_OK;
}

/*
 * One block program of a burn: 0, or -1 when the power is cut before it
 * lands (what was programmed before stays, the staged rest is lost with the
 * controller's registers).
 */
static int program_step(espsec_efuse_t *e, int b, espsec_error_t *err)
{
    if (e->cut || (e->cut_armed && e->programs == e->cut_at)) {
        int now = !e->cut;
        e->cut = 1;
        if (now) {
            e->programs++;
        }
        refresh_sw(e);
        for (int k = 0; k < e->def->nblocks; k++) {
            memset(e->mem + e->def->blocks[k].wr_off, 0, e->def->rs_coding ? 32 : (size_t)e->def->blocks[k].words * 4);
        }
        espsec_efuse_discard(e);
        espsec_fail(err, ESPSEC_ERR_POWER_CUT,
                    now ? "power cut while programming eFuse %s (emulated)" : "power is off (emulated cut, %s not burned)",
                    e->def->blocks[b].name);
        return -1;
    }
    e->programs++;
    return 0;
}

void espsec_efuse_cut_after(espsec_efuse_t *e, uint64_t n)
{
    e->cut_armed = 1;
    e->cut_at = e->programs + n;
}

int espsec_efuse_is_cut(const espsec_efuse_t *e)
{
    return e->cut;
}

void espsec_efuse_power_on(espsec_efuse_t *e)
{
    e->cut = 0;
    e->cut_armed = 0;
}

uint64_t espsec_efuse_program_count(const espsec_efuse_t *e)
{
    return e->programs;
}

espsec_err_t espsec_efuse_burn(espsec_efuse_t *e, espsec_error_t *err)
{
    if (!espsec_efuse_has_staged(e)) {
        return ESPSEC_OK;
    }
    espsec_err_t crc = check_coding(e, err);
    if (crc != ESPSEC_OK) {
        espsec_efuse_discard(e);
        return crc;
    }
    int last_rs = -1;
    /* BLOCKn down to BLOCK1, then BLOCK0 without, then with, its protection bits (one program: as ESP-IDF's
       esp_efuse_utility_burn_chip, a cut lands all of BLOCK0 or none of it) */
    for (int b = e->def->nblocks - 1; b >= 1; b--) {
        if (!is_all(e->wr[b], 32, 0)) {
            if (program_step(e, b, err) != 0) {
                return ESPSEC_ERR_POWER_CUT;
            }
            burn_block(e, b, e->wr[b]);
            last_rs = b;
        }
    }
    if (!is_all(e->wr[0], 32, 0) && program_step(e, 0, err) != 0) {
        return ESPSEC_ERR_POWER_CUT;
    }
    uint8_t prot[32] = {0}, rest[32];
    memcpy(rest, e->wr[0], 32);
    const char *masks[2] = {"WR_DIS", "RD_DIS"};
    for (int k = 0; k < 2; k++) {
        const efuse_field_def_t *m = def_by_name(e, masks[k]);
        uint64_t v = bits_get(rest, field_bitpos(m), m->bit_len);
        bits_clear(rest, field_bitpos(m), m->bit_len);
        bits_or(prot, field_bitpos(m), m->bit_len, v);
    }
    burn_block(e, 0, rest);
    burn_block(e, 0, prot);
    refresh_sw(e);
    /* what the controller leaves in its registers after a burn, as espefuse's emulation */
    for (int b = 0; b < e->def->nblocks; b++) {
        memset(e->mem + e->def->blocks[b].wr_off, 0, e->def->rs_coding ? 32 : (size_t)e->def->blocks[b].words * 4);
    }
    if (e->def->rs_coding && last_rs >= 1) {
        uint8_t data[32], check[12];
        memcpy(data, e->wr[last_rs], 32);
        efuse_rs_encode(data, check);
        memcpy(e->mem + e->def->rs_check_off, check, 12);
        espsec_wipe(data, sizeof(data));
    }
    for (size_t i = 0; i < e->def->nafter_burn; i++) {
        uint8_t *r = e->mem + e->def->after_burn[i][0];
        put_le32(r, get_le32(r) | e->def->after_burn[i][1]);
    }
    espsec_efuse_discard(e);
    return ESPSEC_OK;
}
