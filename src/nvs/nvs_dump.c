/* The NVS partition dump (espsec/nvs_part.h): what nvs_tool shows, plus decryption. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/nvs_part.h"
#include "nvs/nvs_format.h"

typedef struct {
    FILE *out;
    int json;
    int first_problem;
    size_t problems;
    int obj_open;
} dump_t;

static const char *state_name(uint32_t s)
{
    switch (s) {
    case NVS_STATE_UNINIT:
        return "EMPTY";
    case NVS_STATE_ACTIVE:
        return "ACTIVE";
    case NVS_STATE_FULL:
        return "FULL";
    case NVS_STATE_FREEING:
        return "FREEING";
    case NVS_STATE_CORRUPT:
        return "CORRUPT";
    default:
        return "INVALID";
    }
}

static const char *entry_state_name(int s)
{
    static const char *const N[4] = {"Erased", "Illegal", "Written", "Empty"};
    return N[s & 3];
}

static void jstr(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20 || c >= 0x7F) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Printable text, else escaped. */
static void text_value(FILE *f, const uint8_t *d, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (i == 64 && n > 66) {
            fprintf(f, "\"... (%zu bytes)", n);
            return;
        }
        if (d[i] >= 0x20 && d[i] < 0x7F && d[i] != '"' && d[i] != '\\') {
            fputc(d[i], f);
        } else if (d[i] == 0 && i + 1 == n) {
            break;
        } else {
            fprintf(f, "\\x%02x", d[i]);
        }
    }
    fputc('"', f);
}

static void problem(dump_t *d, uint32_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(dump_t *d, uint32_t off, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    d->problems++;
    if (d->json) {
        fprintf(d->out, "%s\n    {\"offset\": %u, \"problem\": ", d->first_problem ? "" : ",", off);
        jstr(d->out, msg, strlen(msg));
        fputc('}', d->out);
        d->first_problem = 0;
    } else {
        fprintf(d->out, "  PROBLEM at 0x%05x: %s\n", off, msg);
    }
}

/* Entries of the image as plain text: copy, decrypted when keys are given. */
static int plain_entry(const uint8_t *img, uint32_t off, nvs_xts_t *xts, uint8_t *out, size_t n)
{
    memcpy(out, img + off, n);
    if (xts != NULL) {
        for (size_t k = 0; k < n; k += NVS_ENT) {
            if (!is_all(img + off + k, NVS_ENT, 0xFF) &&
                nvs_xts_run(xts, off + (uint32_t)k, out + k, out + k, NVS_ENT, 1) != ESPSEC_OK) {
                return -1;
            }
        }
    }
    return 0;
}

static void ns_names(const uint8_t *img, size_t len, nvs_xts_t *xts, char names[256][16])
{
    memset(names, 0, 256 * 16);
    for (size_t p = 0; p < len; p += NVS_PAGE) {
        const uint8_t *pg = img + p;
        for (int i = 0; i < NVS_NENT; i++) {
            uint8_t e[NVS_ENT];
            uint32_t off = (uint32_t)(p + NVS_ENTRY_OFF + (size_t)i * NVS_ENT);
            if (nvs_bitmap_get(pg + NVS_BITMAP_OFF, i) != NVS_ES_WRITTEN || plain_entry(img, off, xts, e, NVS_ENT) != 0) {
                continue;
            }
            if (e[NVS_E_NS] == 0 && e[NVS_E_TYPE] == ESPSEC_NVS_TYPE_U8 && get_le32(e + NVS_E_CRC) == nvs_entry_crc(e)) {
                memcpy(names[e[NVS_E_DATA]], e + NVS_E_KEY, 15);
            }
        }
    }
}

static void print_value(dump_t *d, const uint8_t *e, const uint8_t *data, size_t avail)
{
    uint8_t t = e[NVS_E_TYPE];
    FILE *f = d->out;
    if (nvs_is_prim_type(t)) {
        uint64_t v = 0;
        for (unsigned b = 0; b < nvs_prim_size(t); b++) {
            v |= (uint64_t)e[NVS_E_DATA + b] << (8 * b);
        }
        if (t & 0x10) {
            int bits = (int)nvs_prim_size(t) * 8;
            int64_t sv = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
            fprintf(f, "%lld", (long long)sv);
        } else {
            fprintf(f, "%llu", (unsigned long long)v);
        }
    } else if (t == ESPSEC_NVS_TYPE_BLOB_IDX) {
        fprintf(f, d->json ? "{\"size\": %u, \"chunks\": %u, \"chunk_start\": %u}" : "blob index: %u bytes in %u chunks from %u",
                get_le32(e + NVS_I_SIZE), e[NVS_I_COUNT], e[NVS_I_START]);
    } else if (nvs_is_var_type(t)) {
        size_t size = get_le16(e + NVS_V_SIZE);
        size_t n = size < avail ? size : avail;
        if (t == ESPSEC_NVS_TYPE_STR) {
            if (d->json) {
                jstr(f, (const char *)data, n && data[n - 1] == 0 ? n - 1 : n);
            } else {
                text_value(f, data, n);
            }
        } else {
            /* the whole value in JSON, its first 32 bytes in text */
            size_t shown = d->json || n <= 32 ? n : 32;
            char *hex = malloc(2 * shown + 1);
            if (hex != NULL) {
                espsec_hex(data, shown, hex, 0);
                fprintf(f, d->json ? "\"%s\"" : "%s", hex);
                free(hex);
            }
            if (shown < n) {
                fprintf(f, "... (%zu bytes)", n);
            }
        }
    } else {
        fprintf(f, d->json ? "null" : "?");
    }
}

espsec_err_t espsec_nvs_dump(const uint8_t *img, size_t len, const espsec_nvs_keys_t *keys,
                             const espsec_nvs_dump_opts_t *opts, FILE *out, size_t *problems, espsec_error_t *err)
{
    espsec_nvs_dump_opts_t o = {ESPSEC_NVS_DUMP_TEXT, ESPSEC_NVS_DUMP_ALL};
    if (opts != NULL) {
        o = *opts;
    }
    const espsec_nvs_dump_select_t sel = o.select;
    if (len == 0 || len % NVS_PAGE != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "NVS partition image is %zu bytes; a whole number of 4096-byte pages expected", len);
    }
    dump_t d = {out, o.format == ESPSEC_NVS_DUMP_JSON, 1, 0, 0};
    char names[256][16];
    nvs_xts_t *xts = NULL;
    if (keys != NULL && (xts = nvs_xts_new(keys)) == NULL) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "XTS-AES setup failed");
    }
    ns_names(img, len, xts, names);
    uint8_t *data = malloc(NVS_PAGE);
    if (data == NULL) {
        nvs_xts_free(xts);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (d.json) {
        fprintf(out, "{\n  \"size\": %zu,\n  \"encrypted\": %s,\n  \"pages\": [", len, keys ? "true" : "false");
    } else if (sel != ESPSEC_NVS_DUMP_NONE) {
        fprintf(out, "NVS partition: %zu bytes, %zu pages%s\n", len, len / NVS_PAGE, keys ? ", decrypted with the given keys" : "");
    }
    int first_page = 1;
    /* problems are collected per page and printed at the end in JSON */
    char *pbuf = NULL;
    size_t plen = 0;
    FILE *pout = d.json ? open_memstream(&pbuf, &plen) : out;
    dump_t pd = d;
    pd.out = pout;
    if (len < (size_t)ESPSEC_NVS_MIN_PAGES * NVS_PAGE) {
        /* nvs_tool reports this too: such a partition mounts only read-only */
        problem(&pd, 0, "partition of 0x%zx bytes is under 0x3000: ESP-IDF mounts it only read-only (the partition "
                        "table must flag it \"readonly\")", len);
    }
    for (size_t p = 0; p < len; p += NVS_PAGE) {
        const uint8_t *pg = img + p;
        uint32_t state = get_le32(pg + NVS_H_STATE);
        int blank = is_all(pg, NVS_PAGE, 0xFF);
        int crc_ok = get_le32(pg + NVS_H_CRC) == nvs_header_crc(pg);
        const char *sname = blank ? "EMPTY" : state_name(state);
        int counts[4] = {0};
        for (int i = 0; i < NVS_NENT; i++) {
            counts[nvs_bitmap_get(pg + NVS_BITMAP_OFF, i)]++;
        }
        const int show_page = sel != ESPSEC_NVS_DUMP_NONE;
        if (!show_page) {
            /* problems only */
        } else if (d.json) {
            fprintf(out, "%s\n    {\"index\": %zu, \"offset\": %zu, \"state\": \"%s\", \"seq\": %u, \"version\": %u, "
                         "\"header_crc_ok\": %s, \"written\": %d, \"erased\": %d, \"empty\": %d, \"entries\": [",
                    first_page ? "" : ",", p / NVS_PAGE, p, sname, get_le32(pg + NVS_H_SEQ), pg[NVS_H_VERSION],
                    blank || crc_ok ? "true" : "false", counts[2], counts[0], counts[3]);
        } else {
            fprintf(out, "\nPage %zu at 0x%05zx: %s", p / NVS_PAGE, p, sname);
            if (!blank) {
                fprintf(out, ", seq %u, version 0x%02x (%s), header CRC %s, %d written / %d erased / %d empty entries",
                        get_le32(pg + NVS_H_SEQ), pg[NVS_H_VERSION], pg[NVS_H_VERSION] == NVS_VERSION_2 ? "v2" : "v1",
                        crc_ok ? "ok" : "BAD", counts[2], counts[0], counts[3]);
            }
            fprintf(out, "\n");
        }
        first_page = 0;
        if (blank) {
            if (d.json && show_page) {
                fprintf(out, "]}");
            }
            continue;
        }
        if (!crc_ok) {
            problem(&pd, (uint32_t)p, "page %zu: header CRC 0x%08x stored, 0x%08x calculated", p / NVS_PAGE,
                    get_le32(pg + NVS_H_CRC), nvs_header_crc(pg));
        }
        if (state != NVS_STATE_ACTIVE && state != NVS_STATE_FULL && state != NVS_STATE_FREEING) {
            problem(&pd, (uint32_t)p, "page %zu: state 0x%08x (%s)", p / NVS_PAGE, state, state_name(state));
        }
        int first_entry = 1;
        for (int i = 0; i < NVS_NENT;) {
            int es = nvs_bitmap_get(pg + NVS_BITMAP_OFF, i);
            uint32_t off = (uint32_t)(p + NVS_ENTRY_OFF + (size_t)i * NVS_ENT);
            if (es == NVS_ES_EMPTY) {
                if (!is_all(img + off, NVS_ENT, 0xFF)) {
                    problem(&pd, off, "entry %d is marked empty but holds data (an interrupted write)", i);
                }
                i++;
                continue;
            }
            uint8_t e[NVS_ENT];
            plain_entry(img, off, xts, e, NVS_ENT);
            int crc_e = get_le32(e + NVS_E_CRC) == nvs_entry_crc(e);
            uint8_t t = e[NVS_E_TYPE];
            int span = (nvs_is_var_type(t) && crc_e && e[NVS_E_SPAN] >= 1 && i + e[NVS_E_SPAN] <= NVS_NENT) ? e[NVS_E_SPAN] : 1;
            size_t avail = (size_t)(span - 1) * NVS_ENT;
            int data_ok = 1;
            if (span > 1) {
                plain_entry(img, off + NVS_ENT, xts, data, avail);
                size_t size = get_le16(e + NVS_V_SIZE);
                data_ok = size <= avail && nvs_data_crc(data, size) == get_le32(e + NVS_V_CRC);
            }
            char key[17];
            memcpy(key, e + NVS_E_KEY, 16);
            key[16] = '\0';
            const char *nsn = e[NVS_E_NS] == 0 ? "(namespaces)" : names[e[NVS_E_NS]][0] ? names[e[NVS_E_NS]] : "?";
            const int show = sel == ESPSEC_NVS_DUMP_ALL || (sel == ESPSEC_NVS_DUMP_WRITTEN && es == NVS_ES_WRITTEN) ||
                             (sel == ESPSEC_NVS_DUMP_NAMESPACES && es == NVS_ES_WRITTEN && crc_e && e[NVS_E_NS] == 0);
            if (!show) {
                /* checked below, not shown */
            } else if (d.json) {
                fprintf(out, "%s\n        {\"index\": %d, \"state\": \"%s\", \"ns\": %u, \"namespace\": ", first_entry ? "" : ",",
                        i, entry_state_name(es), e[NVS_E_NS]);
                jstr(out, nsn, strlen(nsn));
                fprintf(out, ", \"type\": \"%s\", \"span\": %d, \"chunk\": %u, \"key\": ", espsec_nvs_type_name(t), span,
                        e[NVS_E_CHUNK]);
                jstr(out, key, strlen(key));
                fprintf(out, ", \"crc_ok\": %s, \"data_crc_ok\": %s, \"value\": ", crc_e ? "true" : "false",
                        data_ok ? "true" : "false");
                if (crc_e) {
                    print_value(&d, e, data, avail);
                } else {
                    fprintf(out, "null");
                }
                fputc('}', out);
                first_entry = 0;
            } else {
                /* a damaged entry still shows its key bytes (as nvs_tool does), unprintable ones as '?' */
                char kshow[17];
                for (int k = 0; k < 17; k++) {
                    kshow[k] = key[k] == '\0' || isprint((unsigned char)key[k]) ? key[k] : '?';
                }
                fprintf(out, "  %3d %-7s %-12s %-15s %-10s", i, entry_state_name(es), nsn, kshow[0] ? kshow : "?",
                        crc_e ? espsec_nvs_type_name(t) : "?");
                if (crc_e) {
                    fprintf(out, " span %d chunk 0x%02x: ", span, e[NVS_E_CHUNK]);
                    print_value(&d, e, data, avail);
                } else {
                    fprintf(out, " (entry CRC does not match%s)", keys ? "; wrong key?" : "");
                }
                if (!data_ok) {
                    fprintf(out, " [data CRC BAD]");
                }
                fprintf(out, "\n");
            }
            if (es == NVS_ES_WRITTEN) {
                if (!crc_e) {
                    problem(&pd, off, "entry %d is written but its CRC does not match%s", i,
                            keys ? "" : " (an encrypted partition? give --keyfile)");
                } else if (!data_ok) {
                    problem(&pd, off, "entry %d (%s): data CRC does not match", i, key);
                } else if (!nvs_is_known_type(t)) {
                    problem(&pd, off, "entry %d (%s): unknown type 0x%02x", i, key, t);
                }
                for (int k = i + 1; k < i + span; k++) {
                    if (nvs_bitmap_get(pg + NVS_BITMAP_OFF, k) != NVS_ES_WRITTEN) {
                        problem(&pd, off, "entry %d (%s) spans %d entries but entry %d is %s", i, key, span, k,
                                entry_state_name(nvs_bitmap_get(pg + NVS_BITMAP_OFF, k)));
                        break;
                    }
                }
            } else if (es == NVS_ES_ILLEGAL) {
                problem(&pd, off, "entry %d has the illegal state 0b01", i);
            }
            i += span;
        }
        if (d.json && show_page) {
            fprintf(out, "]}");
        }
    }
    if (d.json) {
        (void)fclose(pout);
        fprintf(out, "\n  ],\n  \"problems\": [%s\n  ]\n}\n", pbuf ? pbuf : "");
        free(pbuf);
    } else {
        fprintf(out, "\n%zu problem%s found\n", pd.problems, pd.problems == 1 ? "" : "s");
    }
    free(data);
    nvs_xts_free(xts);
    *problems = pd.problems;
    return ESPSEC_OK;
}
