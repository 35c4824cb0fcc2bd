/* The virtual eFuse engine (espsec/efuse.h). */
#include "espsec/efuse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "efuse/efuse_chip.h"
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
    return !bit_set(raw_uint(e, "RD_DIS", 0), f->rd_dis);
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
    return !bit_set(raw_uint(e, "RD_DIS", 0), e->def->blocks[blk].rd_dis);
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
        if (memcmp(sw_block_c(e, b), e->hw[b], (size_t)e->def->blocks[b].words * 4) != 0) {
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
        e->hw_known[b] = !bit_set(rd, e->def->blocks[b].rd_dis);
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
        int agrees = memcmp(h->mem, e->mem, n) == 0, later = 1;
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

void espsec_efuse_free(espsec_efuse_t *e)
{
    if (e != NULL) {
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
    case EG_BLK2_CALIB:
        return raw_uint(e, "BLK_VERSION_MAJOR", 0) >= 1;
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
        const uint8_t *d = sw_block_c(e, f->block) + field_bitpos(f) / 8;
        size_t nb = len / 8;
        uint8_t rev[32];
        reverse_copy(rev, d, nb);
        in->raw_hex[0] = '0';
        in->raw_hex[1] = 'x';
        hexbytes(d, nb, 0, in->raw_hex + 2);
        if (f->cls == EC_MAC || f->cls == EC_MAC_CRC) {
            /* the factory MAC shows most significant byte first; the custom MAC as stored */
            int factory = strcmp(f->name, "MAC") == 0;
            const uint8_t *mac = factory ? rev : d;
            char m[24];
            hexbytes(mac, 6, ':', m);
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
        /* what espefuse shows for a value software cannot read */
        for (char *p = in->value; *p; p++) {
            if (*p == '0') {
                *p = '?';
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
    if (f->word < 0 || ((f->cls == EC_MAC || f->cls == EC_MAC_CRC) && strcmp(f->name, "MAC") == 0) || f->cls == EC_VREF) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "burning %s is not supported (it is %s)", f->name,
                           f->word < 0 ? "calculated from other eFuses" : "written in the factory");
    }
    *out = f;
    return ESPSEC_OK;
}

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
    if (f->type == ESPSEC_EF_BOOL && value != 1) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "new value is not accepted for eFuse '%s' (will always burn 0->1), given value=%llu",
                           f->name, (unsigned long long)value);
    }
    if (value == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "new value should not be 0 for '%s'", f->name);
    }
    if (f->bit_len < 64 && (value >> f->bit_len) != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "value %llu does not fit the %u bits of %s",
                           (unsigned long long)value, f->bit_len, f->name);
    }
    if (f->cls == EC_KEYPURPOSE) {
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
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "%s: new value 0x%llx would need burned bits cleared (0x%llx is burned; the value would "
                           "become 0x%llx)",
                           f->name, (unsigned long long)value, (unsigned long long)old,
                           (unsigned long long)(value | old));
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
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "new value required for eFuse '%s'", f->name);
    }
    if (f->type == ESPSEC_EF_BOOL) {
        *new_value = 1;
        return espsec_efuse_stage_uint(e, f->name, 1, NULL, err);
    }
    if (f->cls != EC_BITCOUNT && strstr(f->name, "CRYPT_CNT") == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "new value required for eFuse '%s' (given None)", f->name);
    }
    uint64_t old = raw_uint(e, f->name, 0) | bits_get(e->wr[f->block], field_bitpos(f), f->bit_len);
    for (unsigned b = 0; b < f->bit_len; b++) {
        if (!(old & (1ull << b))) {
            *new_value = old | (1ull << b);
            return espsec_efuse_stage_uint(e, f->name, *new_value, NULL, err);
        }
    }
    return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "every bit of %s is already burned", f->name);
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
    unsigned nbytes = eff_len(e, f) / 8;
    if (f->type != ESPSEC_EF_BYTES) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s is not a bytes field", f->name);
    }
    if (len != nbytes) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "the length of eFuse '%s' is %u bits, the new value is %zu bits", f->name, nbytes * 8,
                           len * 8);
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
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "%s already holds other data: bits can only go from 0 to 1, a new value cannot replace it",
                           f->name);
    }
    espsec_err_t rc = check_protect(e, f, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (espsec_efuse_coding_34(e) && f->block != 0 && !is_all(burned - field_bitpos(f) / 8, 24, 0)) {
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED,
                           "BLOCK%d already holds data and the 3/4 coding scheme allows one write per block",
                           f->block);
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
        return espsec_fail(err, ESPSEC_ERR_NOT_ALLOWED, "%s cannot be %s-disabled", canon, rd ? "read" : "write");
    }
    const efuse_field_def_t *mask = def_by_name(e, rd ? "RD_DIS" : "WR_DIS");
    if (!field_writeable(e, mask)) {
        return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                           "%s cannot be %s-disabled: the %s field is already write-disabled", canon,
                           rd ? "read" : "write", mask->name);
    }
    bits_or(e->wr[mask->block], field_bitpos(mask), mask->bit_len, 1ull << bit);
    return ESPSEC_OK;
}

espsec_err_t espsec_efuse_stage_write_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err)
{
    return stage_protect(e, name, 0, err);
}

espsec_err_t espsec_efuse_stage_read_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err)
{
    return stage_protect(e, name, 1, err);
}

espsec_err_t espsec_efuse_stage_key(espsec_efuse_t *e, int blk, const uint8_t *key, size_t len, const char *purpose,
                                    int write_protect, int read_protect, espsec_error_t *err)
{
    if (blk <= 0 || blk >= e->def->nblocks) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "block %d cannot hold a key", blk);
    }
    const efuse_block_def_t *bd = &e->def->blocks[blk];
    if (!espsec_efuse_block_readable(e, blk) || !is_all(e->hw[blk], 32, 0) || !e->hw_known[blk]) {
        int same = e->hw_known[blk] && memcmp(e->hw[blk], key, len) == 0;
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
        uint64_t cur = raw_uint(e, bd->key_purpose, 0);
        const efuse_field_def_t *kp = def_by_name(e, bd->key_purpose);
        if (cur != (uint64_t)pv) {
            if (!field_writeable(e, kp)) {
                return espsec_fail(err, ESPSEC_ERR_PROTECTED,
                                   "it is not possible to change '%s' to '%s' because its write protection bit is set",
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
        rc = espsec_efuse_stage_read_protect(e, bd->name, err);
    }
    if (rc == ESPSEC_OK && write_protect) {
        rc = espsec_efuse_stage_write_protect(e, bd->name, err);
    }
    return rc;
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

espsec_err_t espsec_efuse_burn(espsec_efuse_t *e, espsec_error_t *err)
{
    (void)err;
    if (!espsec_efuse_has_staged(e)) {
        return ESPSEC_OK;
    }
    int last_rs = -1;
    /* BLOCKn down to BLOCK1, then BLOCK0 without, then with, its protection bits */
    for (int b = e->def->nblocks - 1; b >= 1; b--) {
        if (!is_all(e->wr[b], 32, 0)) {
            burn_block(e, b, e->wr[b]);
            last_rs = b;
        }
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
