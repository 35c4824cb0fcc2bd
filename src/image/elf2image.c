/* ELF to image, laid out as esptool v5.3.1's elf2image (espsec/elf2image.h). */
#include "espsec/elf2image.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/elf.h"
#include "espsec/image.h"
#include "espsec/util.h"
#include "util/bytes.h"

#define SEG_HEADER_LEN 8u
#define CHECKSUM_SEED 0xEFu
#define MAX_SEGMENT_LEN 0x1000000u /* esptool's 16 MB limit per segment */
#define APPDESC_LEN 256u
#define APPDESC_MMU_PAGE 0xB4u /* esp_app_desc_t.mmu_page_size (log2) */
#define APPDESC_SHA_OFFSET 0xB0u /* file offset of app_elf_sha256 in a flash build */
#define ESP8266_V2_MAGIC 0xEAu
#define ESP8266_V2_SEGMENTS 4u
#define ESP8266_IROM_START 0x40200000u
#define ESP8266_IROM_END 0x40300000u
#define SECTOR_SIZE 0x1000u

/* One segment being laid out: its own copy of the data, so it can grow and split. */
struct seg {
    uint32_t addr;
    uint8_t *data;
    size_t len;
    uint32_t align;
    const char *name; /* "" for padding */
};

struct seglist {
    struct seg *v;
    size_t n;
};

/* The output file, written front to back. */
struct out {
    uint8_t *p;
    size_t len, cap;
};

struct ctx {
    const espsec_elf2image_opts_t *o;
    const espsec_image_target_t *chip; /* the chip asked for (its name in messages) */
    const espsec_image_target_t *t;    /* whose layout rules apply (espsec_elf2image_rules) */
    uint32_t irom_align;
    int has_sha;
    uint32_t sha_offset;
    uint8_t elf_sha[32];
    espsec_error_t *err;
};

static void logf_(const struct ctx *c, espsec_e2i_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void logf_(const struct ctx *c, espsec_e2i_level_t level, const char *fmt, ...)
{
    if (c->o->log == NULL) {
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->o->log(c->o->log_ctx, level, msg);
}

static void elf_warn(void *ctx, const char *msg)
{
    const struct ctx *c = ctx;
    logf_(c, ESPSEC_E2I_WARNING, "%s", msg);
}

/* ---- output buffer ---- */

static int out_reserve(struct out *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len) {
        return -1;
    }
    if (b->len + extra <= b->cap) {
        return 0;
    }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + extra) {
        if (ncap > SIZE_MAX / 2) {
            return -1;
        }
        ncap *= 2;
    }
    uint8_t *np = realloc(b->p, ncap);
    if (np == NULL) {
        return -1;
    }
    b->p = np;
    b->cap = ncap;
    return 0;
}

static int out_put(struct out *b, const void *data, size_t len)
{
    if (out_reserve(b, len) != 0) {
        return -1;
    }
    if (len > 0) {
        memcpy(b->p + b->len, data, len);
    }
    b->len += len;
    return 0;
}

static int out_fill(struct out *b, uint8_t v, size_t len)
{
    if (out_reserve(b, len) != 0) {
        return -1;
    }
    memset(b->p + b->len, v, len);
    b->len += len;
    return 0;
}

static espsec_err_t oom(const struct ctx *c)
{
    return espsec_fail(c->err, ESPSEC_ERR_NO_MEM, "out of memory while building the image");
}

/* ---- segments ---- */

static void segs_free(struct seglist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].data);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Append len zero bytes to a segment. */
static int seg_grow(struct seg *s, size_t len)
{
    if (len == 0) {
        return 0;
    }
    if (len > SIZE_MAX - s->len) {
        return -1;
    }
    uint8_t *np = realloc(s->data, s->len + len);
    if (np == NULL) {
        return -1;
    }
    memset(np + s->len, 0, len);
    s->data = np;
    s->len += len;
    return 0;
}

/* A segment from an ELF section: a copy of its data, zero-padded to 4 bytes
 * (esptool pads every segment with a non-zero address). */
static int seg_from_elf(struct seg *s, const espsec_elf_section_t *e)
{
    memset(s, 0, sizeof(*s));
    s->addr = e->addr;
    s->align = e->align;
    s->name = e->name;
    size_t padded = ((size_t)e->size + 3u) & ~(size_t)3u;
    s->data = calloc(1, padded);
    if (s->data == NULL) {
        return -1;
    }
    memcpy(s->data, e->data, e->size);
    s->len = padded;
    return 0;
}

static size_t mem_types(const struct ctx *c, uint32_t addr, const char **names, size_t cap)
{
    return espsec_image_target_memory_types(c->t, addr, names, cap);
}

static int same_mem_types(const struct ctx *c, uint32_t a, uint32_t b)
{
    const char *na[16], *nb[16];
    size_t ka = mem_types(c, a, na, 16), kb = mem_types(c, b, nb, 16);
    if (ka != kb) {
        return 0;
    }
    for (size_t i = 0; i < ka; i++) {
        if (strcmp(na[i], nb[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Stable sort by load address (Python's sorted keeps equal keys in order). */
static void sort_by_addr(struct seg *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct seg x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].addr > x.addr) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Merge each segment into the one before when it starts where that one ends
 * and both lie in the same memory types; walked from the end, as esptool. */
static espsec_err_t merge_adjacent(const struct ctx *c, struct seglist *l)
{
    if (l->n == 0) {
        return ESPSEC_OK;
    }
    int pad_to_align = c->chip->format != ESPSEC_IMAGE_FMT_ESP8266 && c->o->ram_only_header;
    size_t kept = l->n;
    /* keep[i] == 0 when segment i was merged into i - 1 */
    unsigned char *keep = malloc(l->n);
    if (keep == NULL) {
        return oom(c);
    }
    memset(keep, 1, l->n);
    for (size_t i = l->n - 1; i >= 1; i--) {
        struct seg *elem = &l->v[i - 1], *next = &l->v[i];
        if (pad_to_align) {
            uint64_t end = (uint64_t)elem->addr + elem->len;
            uint64_t a = next->align > 1 ? next->align : 1;
            uint64_t aligned = end % a ? end + (a - end % a) : end;
            if (aligned != end && aligned == next->addr) {
                logf_(c, ESPSEC_E2I_NOTE, "Inserting %llu bytes padding between %s and %s",
                      (unsigned long long)(next->addr - end), elem->name, next->name);
                if (seg_grow(elem, (size_t)(aligned - end)) != 0) {
                    free(keep);
                    return oom(c);
                }
            }
        }
        if (same_mem_types(c, elem->addr, next->addr) && (uint64_t)elem->addr + elem->len == next->addr) {
            if (seg_grow(elem, next->len) != 0) {
                free(keep);
                return oom(c);
            }
            memcpy(elem->data + elem->len - next->len, next->data, next->len);
            free(next->data);
            next->data = NULL;
            keep[i] = 0;
            kept--;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (keep[i]) {
            l->v[w++] = l->v[i];
        }
    }
    free(keep);
    size_t merged = l->n - kept;
    l->n = w;
    if (merged > 0) {
        logf_(c, ESPSEC_E2I_INFO, "Merged %zu ELF section%s.", merged, merged > 1 ? "s" : "");
    }
    return ESPSEC_OK;
}

/* ---- writing segments ---- */

/* Write the ELF file's SHA-256 into data when the digest offset falls in
 * this segment (file_pos is where its 8-byte header goes), as esptool. */
static espsec_err_t patch_sha(const struct ctx *c, size_t file_pos, uint8_t *data, size_t len)
{
    if (!c->has_sha || c->sha_offset < file_pos || c->sha_offset - file_pos >= len) {
        return ESPSEC_OK;
    }
    size_t at = c->sha_offset - file_pos;
    if (at < SEG_HEADER_LEN || len - at < 32) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                           "Cannot place SHA256 digest on segment boundary(elf_sha256_offset=%u, file_pos=%zu, "
                           "segment_size=%zu)",
                           c->sha_offset, file_pos, len);
    }
    at -= SEG_HEADER_LEN;
    for (size_t i = 0; i < 32; i++) {
        if (data[at + i] != 0) {
            return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                               "Contents of segment at SHA256 digest offset 0x%x are not zero. Refusing to "
                               "overwrite.",
                               c->sha_offset);
        }
    }
    memcpy(data + at, c->elf_sha, 32);
    return ESPSEC_OK;
}

/* esptool's save_segment: header, data, running checksum (when checksum != NULL). */
static espsec_err_t save_segment(const struct ctx *c, struct out *f, uint32_t addr, uint8_t *data, size_t len,
                                 const char *name, uint8_t *checksum)
{
    espsec_err_t rc = patch_sha(c, f->len, data, len);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (len & 3u) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_SIZE,
                           "Invalid %s segment length 0x%zx. It has to be multiple of 4.", name ? name : "", len);
    }
    if (len >= MAX_SEGMENT_LEN) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_SIZE,
                           "Invalid %s segment length 0x%zx. The 16 MB limit has been exceeded.", name ? name : "",
                           len);
    }
    uint8_t hdr[SEG_HEADER_LEN];
    put_le32(hdr, addr);
    put_le32(hdr + 4, (uint32_t)len);
    if (out_put(f, hdr, sizeof(hdr)) != 0 || out_put(f, data, len) != 0) {
        return oom(c);
    }
    if (checksum != NULL) {
        for (size_t i = 0; i < len; i++) {
            *checksum ^= data[i];
        }
    }
    return ESPSEC_OK;
}

static espsec_err_t save_seg(const struct ctx *c, struct out *f, struct seg *s, const char *name, uint8_t *checksum)
{
    return save_segment(c, f, s->addr, s->data, s->len, name, checksum);
}

static espsec_err_t save_zero_segment(const struct ctx *c, struct out *f, size_t len, const char *name,
                                      uint8_t *checksum)
{
    uint8_t *z = calloc(1, len ? len : 1);
    if (z == NULL) {
        return oom(c);
    }
    espsec_err_t rc = save_segment(c, f, 0, z, len, name, checksum);
    free(z);
    return rc;
}

/* esptool's save_flash_segment: on the ESP32, pad a flash segment that would
 * end fewer than 0x24 bytes past an MMU page boundary. */
static espsec_err_t save_flash_segment(const struct ctx *c, struct out *f, struct seg *s, uint8_t *checksum)
{
    if (c->t->flash_segment_tail_pad) {
        size_t end = f->len + s->len + SEG_HEADER_LEN;
        size_t rem = end % c->irom_align;
        if (rem < 0x24 && seg_grow(s, 0x24 - rem) != 0) {
            return oom(c);
        }
    }
    return save_seg(c, f, s, s->name, checksum);
}

/* The checksum byte sits at the last byte of a 16-byte line. */
static int append_checksum(struct out *f, uint8_t checksum)
{
    size_t at = f->len | 15u;
    if (out_fill(f, 0, at - f->len) != 0) {
        return -1;
    }
    return out_put(f, &checksum, 1);
}

static void write_common_header(uint8_t *p, uint8_t magic, uint8_t count, const espsec_elf2image_opts_t *o,
                                uint32_t entry)
{
    p[0] = magic;
    p[1] = count;
    p[2] = o->flash_mode;
    p[3] = o->flash_size_freq;
    put_le32(p + 4, entry);
}

/* ---- the ESP32-family layout ---- */

/* Padding data needed so that after the next 8-byte header the file offset
 * is congruent to the segment's address modulo the MMU page (esptool's
 * get_alignment_data_needed, including its arithmetic). */
static size_t alignment_data_needed(const struct ctx *c, size_t pos, uint32_t addr)
{
    int64_t align = c->irom_align;
    int64_t align_past = (int64_t)(addr % c->irom_align) - SEG_HEADER_LEN;
    int64_t pad = (align - (int64_t)(pos % c->irom_align)) + align_past;
    if (pad == 0 || pad == align) {
        return 0;
    }
    pad -= SEG_HEADER_LEN;
    if (pad < 0) {
        pad += align;
    }
    return (size_t)pad;
}

static void move_to_front(struct seg *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].name, name) == 0) {
            struct seg x = v[i];
            memmove(v + 1, v, i * sizeof(*v));
            v[0] = x;
            return;
        }
    }
}

static espsec_err_t check_total(const struct ctx *c, unsigned total)
{
    if (total > ESPSEC_IMAGE_MAX_SEGMENTS) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_SIZE,
                           "the image needs %u segments once alignment padding is added, the ROM and bootloader "
                           "load at most 16 (esptool would write it anyway); merge sections in the linker script",
                           total);
    }
    return ESPSEC_OK;
}

static espsec_err_t layout_flash_first(const struct ctx *c, struct out *f, struct seg *flash, size_t nflash,
                                       struct seg *ram, size_t nram, size_t *ri, uint8_t *checksum, unsigned *total)
{
    size_t fi = 0;
    espsec_err_t rc = ESPSEC_OK;
    while (fi < nflash && rc == ESPSEC_OK) {
        struct seg *s = &flash[fi];
        size_t pad = alignment_data_needed(c, f->len, s->addr);
        if (pad > 0) {
            if (*ri < nram && pad > SEG_HEADER_LEN) {
                /* use the start of the next RAM segment as the padding */
                struct seg *r = &ram[*ri];
                size_t take = r->len < pad ? r->len : pad;
                rc = save_segment(c, f, r->addr, r->data, take, s->name, checksum);
                memmove(r->data, r->data + take, r->len - take);
                r->len -= take;
                r->addr += (uint32_t)pad;
                if (r->len == 0) {
                    (*ri)++;
                }
            } else {
                rc = save_zero_segment(c, f, pad, s->name, checksum);
            }
        } else {
            if ((f->len + SEG_HEADER_LEN) % c->irom_align != s->addr % c->irom_align) {
                return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                                   "segment %s at 0x%08x cannot be aligned to its %u KB flash page: it would need "
                                   "a padding segment with no data at file offset 0x%zx (esptool fails here too)",
                                   s->name, s->addr, c->irom_align / 1024, f->len);
            }
            rc = save_flash_segment(c, f, s, checksum);
            fi++;
        }
        (*total)++;
    }
    return rc;
}

static espsec_err_t layout_ram_only(const struct ctx *c, struct out *f, struct seg *flash, size_t nflash,
                                    struct seg *ram, size_t nram, uint8_t *checksum, unsigned *total)
{
    espsec_err_t rc = ESPSEC_OK;
    for (size_t i = 0; i < nram && rc == ESPSEC_OK; i++, (*total)++) {
        rc = save_seg(c, f, &ram[i], ram[i].name, checksum);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (append_checksum(f, *checksum) != 0) {
        return oom(c);
    }
    /* flash segments in reverse order, each behind a zero pad segment that the ROM does not count */
    int64_t align = c->irom_align, boff = c->t->bootloader_flash_offset;
    for (size_t k = nflash; k-- > 0 && rc == ESPSEC_OK;) {
        struct seg *s = &flash[k];
        int64_t pad = ((int64_t)s->addr - (int64_t)f->len - 2 * (int64_t)SEG_HEADER_LEN) % align;
        if (pad < 0) {
            pad += align;
        }
        if (pad < boff) {
            pad += align;
        }
        pad -= boff;
        rc = save_zero_segment(c, f, (size_t)pad, s->name, NULL);
        (*total)++;
        if (rc == ESPSEC_OK) {
            rc = save_flash_segment(c, f, s, NULL);
            (*total)++;
        }
    }
    return rc;
}

static espsec_err_t save_esp32(const struct ctx *c, struct seglist *l, uint32_t entry, struct out *f)
{
    const espsec_elf2image_opts_t *o = c->o;
    uint8_t hdr[ESPSEC_IMAGE_HEADER_LEN] = {0};
    write_common_header(hdr, ESPSEC_IMAGE_MAGIC, (uint8_t)l->n, o, entry);
    hdr[8] = ESPSEC_IMAGE_WP_PIN_DISABLED;
    put_le16(hdr + 12, c->t->image_chip_id);
    hdr[14] = o->min_rev;
    put_le16(hdr + 15, o->min_rev_full);
    put_le16(hdr + 17, o->max_rev_full);
    hdr[23] = o->append_digest ? 1 : 0;
    if (out_put(f, hdr, sizeof(hdr)) != 0) {
        return oom(c);
    }

    /* flash-mapped and RAM segments, each sorted by address; the lists own the segments now */
    struct seg *flash = calloc(l->n + 1, sizeof(*flash)), *ram = calloc(l->n + 1, sizeof(*ram));
    size_t nflash = 0, nram = 0;
    if (flash == NULL || ram == NULL) {
        free(flash);
        free(ram);
        return oom(c);
    }
    for (size_t i = 0; i < l->n; i++) {
        if (espsec_image_target_is_flash_addr(c->t, l->v[i].addr)) {
            flash[nflash++] = l->v[i];
        } else {
            ram[nram++] = l->v[i];
        }
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
    sort_by_addr(flash, nflash);
    sort_by_addr(ram, nram);
    move_to_front(flash, nflash, ".flash.appdesc");
    move_to_front(ram, nram, ".dram0.bootdesc");

    espsec_err_t rc = ESPSEC_OK;
    for (size_t i = 1; i < nflash; i++) {
        if (flash[i].addr / c->irom_align == flash[i - 1].addr / c->irom_align) {
            rc = espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                             "Segment loaded at 0x%08x lands in same %u KB flash mapping as segment loaded at "
                             "0x%08x. Can't generate binary. Suggest changing linker script or ELF to merge "
                             "sections.",
                             flash[i].addr, c->irom_align / 1024, flash[i - 1].addr);
            break;
        }
    }

    uint8_t checksum = CHECKSUM_SEED;
    unsigned total = 0;
    size_t ri = 0;
    if (rc == ESPSEC_OK) {
        if (o->ram_only_header) {
            rc = layout_ram_only(c, f, flash, nflash, ram, nram, &checksum, &total);
        } else {
            rc = layout_flash_first(c, f, flash, nflash, ram, nram, &ri, &checksum, &total);
            for (; ri < nram && rc == ESPSEC_OK; ri++, total++) {
                rc = save_seg(c, f, &ram[ri], ram[ri].name, &checksum);
            }
        }
    }
    for (size_t i = 0; i < nflash; i++) {
        free(flash[i].data);
    }
    for (size_t i = 0; i < nram; i++) {
        free(ram[i].data);
    }
    free(flash);
    free(ram);
    if (rc != ESPSEC_OK) {
        return rc;
    }

    size_t space_after_checksum = 0;
    if (o->secure_pad) {
        if (!o->append_digest) {
            return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                               "secure_pad only applies if a SHA-256 digest is also appended to the image");
        }
        int64_t align = c->irom_align;
        int64_t align_past = (int64_t)((f->len + SEG_HEADER_LEN) % c->irom_align);
        const int64_t checksum_space = 16;
        /* after the checksum: the digest, then for V1 the version word, the signature
         * and 12 bytes of alignment; V2 puts its signature sector past the page */
        space_after_checksum = o->secure_pad == 1 ? 32 + 4 + 64 + 12 : 32;
        int64_t pad = (align - align_past - checksum_space - (int64_t)space_after_checksum) % align;
        if (pad < 0) {
            pad += align;
        }
        rc = save_zero_segment(c, f, (size_t)pad, "", &checksum);
        total++;
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    if (!o->ram_only_header && append_checksum(f, checksum) != 0) {
        return oom(c);
    }
    rc = o->ram_only_header ? ESPSEC_OK : check_total(c, total);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t image_len = f->len;
    f->p[1] = o->ram_only_header ? (uint8_t)nram : (uint8_t)total;
    if (o->append_digest) {
        if (out_reserve(f, 32) != 0) {
            return oom(c);
        }
        if (espsec_sha256(f->p, image_len, f->p + f->len) != ESPSEC_OK) {
            return espsec_fail(c->err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
        }
        f->len += 32;
    }
    if (o->pad_to_size && f->len % o->pad_to_size != 0 &&
        out_fill(f, 0xFF, o->pad_to_size - f->len % o->pad_to_size) != 0) {
        return oom(c);
    }
    return ESPSEC_OK;
}

/* ---- ESP8266 ---- */

static int is_esp8266_irom(uint32_t addr)
{
    return addr >= ESP8266_IROM_START && addr < ESP8266_IROM_END;
}

/* The single IROM segment (index into l), -1 when none; fails on several. */
static espsec_err_t find_irom(const struct ctx *c, const struct seglist *l, long *idx)
{
    size_t count = 0;
    *idx = -1;
    for (size_t i = 0; i < l->n; i++) {
        if (is_esp8266_irom(l->v[i].addr)) {
            if (count == 0) {
                *idx = (long)i;
            }
            count++;
        }
    }
    if (count > 1) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG, "Found %zu segments that could be irom0. Bad ELF file?",
                           count);
    }
    return ESPSEC_OK;
}

static espsec_err_t save_normal_segments(const struct ctx *c, struct out *f, struct seglist *l, long irom,
                                         uint32_t entry)
{
    uint8_t hdr[8];
    write_common_header(hdr, ESPSEC_IMAGE_MAGIC, (uint8_t)(l->n - (irom >= 0 ? 1 : 0)), c->o, entry);
    if (out_put(f, hdr, sizeof(hdr)) != 0) {
        return oom(c);
    }
    uint8_t checksum = CHECKSUM_SEED;
    for (size_t i = 0; i < l->n; i++) {
        if ((long)i == irom) {
            continue;
        }
        espsec_err_t rc = save_seg(c, f, &l->v[i], "", &checksum);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return append_checksum(f, checksum) != 0 ? oom(c) : ESPSEC_OK;
}

/* The CRC-32 the ESP8266 SDK bootloader checks (esptool's esp8266_crc32). */
static uint32_t esp8266_crc32(const uint8_t *p, size_t len)
{
    uint32_t crc = espsec_crc32(0, p, len);
    return (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1u;
}

static espsec_err_t save_esp8266_v1_v2(const struct ctx *c, struct seglist *l, uint32_t entry, struct out *f,
                                       espsec_elf2image_result_t *res)
{
    long irom;
    espsec_err_t rc = find_irom(c, l, &irom);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (irom >= 0) {
        res->irom_offset = l->v[irom].addr - ESP8266_IROM_START;
    }
    if (l->n - (irom >= 0 ? 1 : 0) > 255) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_SIZE, "%zu segments do not fit the header's count byte", l->n);
    }
    if (c->o->esp8266_version == 1) {
        if (irom >= 0) {
            struct seg *s = &l->v[irom];
            res->irom = malloc(s->len ? s->len : 1);
            if (res->irom == NULL) {
                return oom(c);
            }
            memcpy(res->irom, s->data, s->len);
            res->irom_len = s->len;
            res->has_irom = 1;
        }
        return save_normal_segments(c, f, l, irom, entry);
    }
    /* version 2: a first header, the IROM segment at address 0 padded to 16, then a version-1 image and a CRC */
    uint8_t hdr[8];
    write_common_header(hdr, ESP8266_V2_MAGIC, ESP8266_V2_SEGMENTS, c->o, entry);
    if (out_put(f, hdr, sizeof(hdr)) != 0) {
        return oom(c);
    }
    if (irom >= 0) {
        struct seg *s = &l->v[irom];
        if (seg_grow(s, (16 - s->len % 16) % 16) != 0) {
            return oom(c);
        }
        rc = save_segment(c, f, 0, s->data, s->len, "", NULL);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    rc = save_normal_segments(c, f, l, irom, entry);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t crc[4];
    put_le32(crc, esp8266_crc32(f->p, f->len));
    return out_put(f, crc, 4) != 0 ? oom(c) : ESPSEC_OK;
}

/* version 3: an ESP32-like layout without the extended header */
static espsec_err_t save_esp8266_v3(const struct ctx *c, struct seglist *l, uint32_t entry, struct out *f)
{
    uint8_t hdr[8];
    write_common_header(hdr, ESPSEC_IMAGE_MAGIC, (uint8_t)l->n, c->o, entry);
    if (out_put(f, hdr, sizeof(hdr)) != 0) {
        return oom(c);
    }
    sort_by_addr(l->v, l->n);
    /* flash segments are those past the start of the IROM window */
    uint32_t last = 0;
    int have_last = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct seg *s = &l->v[i];
        if (s->addr > ESP8266_IROM_START && s->len > 0) {
            if (have_last && s->addr / c->irom_align == last / c->irom_align) {
                return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG,
                                   "Segment loaded at 0x%08x lands in same %u KB flash mapping as segment loaded "
                                   "at 0x%08x. Can't generate binary. Suggest changing linker script or ELF to "
                                   "merge sections.",
                                   s->addr, c->irom_align / 1024, last);
            }
            last = s->addr;
            have_last = 1;
        }
    }
    uint8_t checksum = CHECKSUM_SEED;
    unsigned total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < l->n; i++) {
            struct seg *s = &l->v[i];
            int is_flash = s->addr > ESP8266_IROM_START;
            if (s->len == 0 || is_flash != (pass == 0)) {
                continue;
            }
            uint8_t *data = s->data;
            size_t len = s->len;
            if (is_flash && strcmp(s->name, ".flash.rodata") == 0) {
                /* the first 8 bytes are room left for the segment header */
                size_t skip = len < 8 ? len : 8;
                data += skip;
                len -= skip;
            }
            espsec_err_t rc = save_segment(c, f, s->addr, data, len, "", &checksum);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            total++;
        }
    }
    if (append_checksum(f, checksum) != 0) {
        return oom(c);
    }
    espsec_err_t rc = check_total(c, total);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    f->p[1] = (uint8_t)total;
    size_t image_len = f->len;
    if (out_reserve(f, 32) != 0) {
        return oom(c);
    }
    if (espsec_sha256(f->p, image_len, f->p + f->len) != ESPSEC_OK) {
        return espsec_fail(c->err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
    }
    f->len += 32;
    return ESPSEC_OK;
}

/* ---- options that depend on the ELF ---- */

static espsec_err_t set_mmu_page_size(struct ctx *c, uint64_t size)
{
    const espsec_image_target_t *t = c->t;
    if (t->mmu_page_sizes_len == 0) {
        if (size != c->irom_align) {
            if (c->irom_align != 0) {
                logf_(c, ESPSEC_E2I_WARNING, "Changing MMU page size is not supported on %s! Defaulting to %uKB.",
                      t->display, c->irom_align / 1024);
            } else {
                logf_(c, ESPSEC_E2I_WARNING, "%s", "");
            }
        } else {
            c->irom_align = (uint32_t)size;
        }
        return ESPSEC_OK;
    }
    for (size_t i = 0; i < t->mmu_page_sizes_len; i++) {
        if (t->mmu_page_sizes[i] == size) {
            c->irom_align = (uint32_t)size;
            return ESPSEC_OK;
        }
    }
    char valid[128] = "";
    for (size_t i = 0; i < t->mmu_page_sizes_len; i++) {
        size_t n = strlen(valid);
        snprintf(valid + n, sizeof(valid) - n, "%s%uKB", i ? ", " : "", t->mmu_page_sizes[i] / 1024);
    }
    return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG, "%llu bytes is not a valid %s page size, select from %s.",
                       (unsigned long long)size, t->display, valid);
}

/* esptool reads the MMU page size from the app description in the ELF (or
 * guesses it from where that description is linked). */
static espsec_err_t mmu_from_appdesc(struct ctx *c, const espsec_elf_t *elf)
{
    const espsec_elf_section_t *ad = NULL;
    for (size_t i = 0; i < elf->nsections; i++) {
        if (strstr(elf->sections[i].name, ".flash.appdesc") != NULL) {
            ad = &elf->sections[i];
            break;
        }
    }
    if (ad == NULL || !espsec_image_target_is_flash_addr(c->t, ad->addr) || c->t->mmu_page_sizes_len == 0) {
        return ESPSEC_OK;
    }
    size_t padded = ((size_t)ad->size + 3u) & ~(size_t)3u;
    if (padded < APPDESC_LEN) {
        return espsec_fail(c->err, ESPSEC_ERR_FORMAT,
                           "section %s is 0x%zx bytes, an esp_app_desc_t is 0x%x (esptool fails here too)", ad->name,
                           padded, APPDESC_LEN);
    }
    if (get_le32(ad->data) != ESPSEC_APP_DESC_MAGIC) {
        return ESPSEC_OK;
    }
    uint8_t log2 = ad->data[APPDESC_MMU_PAGE];
    if (log2 != 0) {
        /* esptool goes through "N KB": sizes under 1 KB become 0 */
        uint64_t size = log2 < 63 ? ((1ull << log2) / 1024) * 1024 : UINT64_MAX;
        return set_mmu_page_size(c, size);
    }
    for (size_t k = c->t->mmu_page_sizes_len; k-- > 0;) {
        uint32_t size = c->t->mmu_page_sizes[k];
        if (((int64_t)ad->addr - 24 - 8) % size == 0) {
            espsec_err_t rc = set_mmu_page_size(c, size);
            if (rc == ESPSEC_OK) {
                logf_(c, ESPSEC_E2I_INFO, "MMU page size not specified, set to %u KB", c->irom_align / 1024);
            }
            return rc;
        }
    }
    logf_(c, ESPSEC_E2I_WARNING, "%s",
          "App description segment is not aligned to MMU page size, probably linker script issue or wrong MMU "
          "page size. Try to set MMU page size parameter manually.");
    return ESPSEC_OK;
}

static espsec_err_t build(struct ctx *c, const uint8_t *elf_buf, size_t elf_len, const espsec_elf_t *elf,
                          espsec_elf2image_result_t *res)
{
    const espsec_elf2image_opts_t *o = c->o;
    const espsec_image_target_t *t = c->t;
    int is8266 = c->chip->format == ESPSEC_IMAGE_FMT_ESP8266;
    int v3 = is8266 && o->esp8266_version == 3;
    if (is8266 && o->esp8266_version != 1 && o->esp8266_version != 2 && !v3) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG, "ESP8266 image version %d: 1, 2 or 3 expected",
                           o->esp8266_version);
    }
    if (!is8266 && o->secure_pad == 1 && !t->secure_pad_v1) {
        return espsec_fail(c->err, ESPSEC_ERR_INVALID_ARG, "--secure-pad (Secure Boot V1) applies to %s images only",
                           "ESP32");
    }
    c->irom_align = (is8266 && !v3) ? 0 : t->mmu_page_size;
    espsec_err_t rc = ESPSEC_OK;
    if (o->mmu_page_size) {
        rc = set_mmu_page_size(c, o->mmu_page_size);
    } else if (!is8266) {
        rc = mmu_from_appdesc(c, elf);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }

    const espsec_elf_section_t *src = o->use_segments ? elf->segments : elf->sections;
    size_t nsrc = o->use_segments ? elf->nsegments : elf->nsections;
    struct seglist l = {calloc(nsrc + 1, sizeof(struct seg)), 0};
    if (l.v == NULL) {
        return oom(c);
    }
    for (size_t i = 0; i < nsrc; i++) {
        if (seg_from_elf(&l.v[l.n], &src[i]) != 0) {
            segs_free(&l);
            return oom(c);
        }
        l.n++;
    }

    if (o->has_elf_sha256_offset && o->elf_sha256_offset != 0) {
        c->has_sha = 1;
        c->sha_offset = o->elf_sha256_offset;
    } else if (!is8266 || v3) {
        for (size_t i = 0; i < l.n; i++) {
            if (strstr(l.v[i].name, ".flash.appdesc") != NULL) {
                int in_flash = v3 ? l.v[i].addr > ESP8266_IROM_START
                                  : espsec_image_target_is_flash_addr(t, l.v[i].addr);
                if (in_flash) {
                    c->has_sha = 1;
                    c->sha_offset = APPDESC_SHA_OFFSET;
                }
                break;
            }
        }
    }
    if (c->has_sha && espsec_sha256(elf_buf, elf_len, c->elf_sha) != ESPSEC_OK) {
        segs_free(&l);
        return espsec_fail(c->err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
    }

    if (o->ram_only_header) {
        logf_(c, ESPSEC_E2I_INFO,
              "Image has only RAM segments visible. ROM segments are hidden and SHA256 digest is not appended.");
        sort_by_addr(l.v, l.n);
    }
    rc = merge_adjacent(c, &l);
    if (rc == ESPSEC_OK && l.n > ESPSEC_IMAGE_MAX_SEGMENTS) {
        rc = espsec_fail(c->err, ESPSEC_ERR_INVALID_SIZE,
                         "Invalid segment count %zu (max 16). Usually this indicates a linker script problem.", l.n);
    }
    if (rc != ESPSEC_OK) {
        segs_free(&l);
        return rc;
    }
    logf_(c, ESPSEC_E2I_INFO, "Successfully created %s image.", c->chip->display);

    struct out f = {0};
    if (!is8266) {
        rc = save_esp32(c, &l, elf->entry, &f);
    } else if (v3) {
        rc = save_esp8266_v3(c, &l, elf->entry, &f);
    } else {
        rc = save_esp8266_v1_v2(c, &l, elf->entry, &f, res);
    }
    segs_free(&l);
    if (rc != ESPSEC_OK) {
        free(f.p);
        return rc;
    }
    res->image = f.p;
    res->image_len = f.len;
    return ESPSEC_OK;
}

espsec_err_t espsec_elf2image(const uint8_t *elf_buf, size_t elf_len, const espsec_elf2image_opts_t *opts,
                              espsec_elf2image_result_t *res, espsec_error_t *err)
{
    memset(res, 0, sizeof(*res));
    if (opts == NULL || opts->target == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "no chip given");
    }
    espsec_elf2image_opts_t o = *opts;
    if (o.ram_only_header) {
        o.append_digest = 0;
    }
    struct ctx c = {.o = &o, .chip = opts->target, .t = espsec_elf2image_rules(opts->target, opts->esp8266_version),
                    .err = err};
    espsec_elf_t elf;
    espsec_err_t rc = espsec_elf_parse(elf_buf, elf_len, &elf, elf_warn, &c, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    logf_(&c, ESPSEC_E2I_INFO, "Creating %s image...", c.chip->display);
    rc = build(&c, elf_buf, elf_len, &elf, res);
    espsec_elf_free(&elf);
    if (rc != ESPSEC_OK) {
        espsec_elf2image_result_free(res);
    }
    return rc;
}

const espsec_image_target_t *espsec_elf2image_rules(const espsec_image_target_t *t, int esp8266_version)
{
    if (t->format == ESPSEC_IMAGE_FMT_ESP8266 && esp8266_version == 3 && t->v3_rules != NULL) {
        return t->v3_rules;
    }
    return t;
}

void espsec_elf2image_result_free(espsec_elf2image_result_t *res)
{
    if (res == NULL) {
        return;
    }
    free(res->image);
    free(res->irom);
    memset(res, 0, sizeof(*res));
}
