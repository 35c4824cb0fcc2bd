/* ESP image parsing, checking and building (espsec/image.h). */
#include "espsec/image.h"

#include <stdlib.h>
#include <string.h>

#include "espsec/image_target.h"
#include "espsec/util.h"
#include "util/bytes.h"

/* Header field offsets (esp_image_header_t). */
enum {
    H_MAGIC = 0,
    H_SEG_COUNT = 1,
    H_SPI_MODE = 2,
    H_SPI_SIZE_FREQ = 3,
    H_ENTRY = 4,
    H_WP_PIN = 8,
    H_DRV = 9,
    H_CHIP_ID = 12,
    H_MIN_REV = 14,
    H_MIN_REV_FULL = 15,
    H_MAX_REV_FULL = 17,
    H_HASH_APPENDED = 23,
};

/* esp_app_desc_t field offsets. */
enum {
    AD_MAGIC = 0,
    AD_SECURE_VERSION = 4,
    AD_VERSION = 16,
    AD_PROJECT = 48,
    AD_TIME = 80,
    AD_DATE = 96,
    AD_IDF_VER = 112,
    AD_ELF_SHA = 144,
    AD_MIN_EFUSE = 176,
    AD_MAX_EFUSE = 178,
    AD_MMU_PAGE = 180,
};

#define MMU_PAGE 0x10000u

/* Memory types and flash windows come from the chip model (espsec/image_target.h). */
size_t espsec_image_memory_types(uint16_t chip_id, uint32_t addr, const char **names, size_t cap)
{
    const espsec_image_target_t *t = espsec_image_target_by_id(chip_id);
    return t != NULL ? espsec_image_target_memory_types(t, addr, names, cap) : 0;
}

static int has_type(uint16_t chip_id, uint32_t addr, const char *type)
{
    const char *names[16];
    size_t n = espsec_image_memory_types(chip_id, addr, names, ARRAY_SIZE(names));
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], type) == 0) {
            return 1;
        }
    }
    return 0;
}

int espsec_image_is_flash_addr(uint16_t chip_id, uint32_t addr)
{
    const espsec_image_target_t *t = espsec_image_target_by_id(chip_id);
    return t != NULL && espsec_image_target_is_flash_addr(t, addr);
}

const char *espsec_image_flash_size_name(uint8_t size_freq)
{
    static const char *const sizes[] = {"1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"};
    unsigned idx = size_freq >> 4;
    return idx < ARRAY_SIZE(sizes) ? sizes[idx] : NULL;
}

const char *espsec_image_flash_freq_name(uint8_t size_freq)
{
    switch (size_freq & 0x0F) {
    case 0x0:
        return "40m";
    case 0x1:
        return "26m";
    case 0x2:
        return "20m";
    case 0xF:
        return "80m";
    default:
        return NULL;
    }
}

const char *espsec_image_flash_mode_name(uint8_t mode)
{
    static const char *const modes[] = {"QIO", "QOUT", "DIO", "DOUT"};
    return mode < ARRAY_SIZE(modes) ? modes[mode] : NULL;
}

static void copy_str(char *dst, const uint8_t *src, size_t field_len)
{
    size_t n = 0;
    while (n < field_len && src[n] != 0) {
        uint8_t c = src[n];
        dst[n] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
        n++;
    }
    dst[n] = '\0';
}

int espsec_app_desc_decode(const uint8_t *buf, size_t len, espsec_app_desc_t *d)
{
    if (len < ESPSEC_APP_DESC_LEN || get_le32(buf + AD_MAGIC) != ESPSEC_APP_DESC_MAGIC) {
        return -1;
    }
    memset(d, 0, sizeof(*d));
    d->secure_version = get_le32(buf + AD_SECURE_VERSION);
    copy_str(d->version, buf + AD_VERSION, 32);
    copy_str(d->project_name, buf + AD_PROJECT, 32);
    copy_str(d->time, buf + AD_TIME, 16);
    copy_str(d->date, buf + AD_DATE, 16);
    copy_str(d->idf_ver, buf + AD_IDF_VER, 32);
    memcpy(d->app_elf_sha256, buf + AD_ELF_SHA, 32);
    d->min_efuse_blk_rev_full = get_le16(buf + AD_MIN_EFUSE);
    d->max_efuse_blk_rev_full = get_le16(buf + AD_MAX_EFUSE);
    d->mmu_page_size = buf[AD_MMU_PAGE];
    return 0;
}

static void put_str(uint8_t *dst, const char *s, size_t field_len)
{
    size_t n = strlen(s);
    memcpy(dst, s, n < field_len ? n : field_len);
}

void espsec_app_desc_encode(const espsec_app_desc_t *d, uint8_t out[ESPSEC_APP_DESC_LEN])
{
    memset(out, 0, ESPSEC_APP_DESC_LEN);
    put_le32(out + AD_MAGIC, ESPSEC_APP_DESC_MAGIC);
    put_le32(out + AD_SECURE_VERSION, d->secure_version);
    put_str(out + AD_VERSION, d->version, 32);
    put_str(out + AD_PROJECT, d->project_name, 32);
    put_str(out + AD_TIME, d->time, 16);
    put_str(out + AD_DATE, d->date, 16);
    put_str(out + AD_IDF_VER, d->idf_ver, 32);
    memcpy(out + AD_ELF_SHA, d->app_elf_sha256, 32);
    put_le16(out + AD_MIN_EFUSE, d->min_efuse_blk_rev_full);
    put_le16(out + AD_MAX_EFUSE, d->max_efuse_blk_rev_full);
    out[AD_MMU_PAGE] = d->mmu_page_size;
}

static void decode_bootloader_desc(const uint8_t *buf, espsec_bootloader_desc_t *d)
{
    memset(d, 0, sizeof(*d));
    d->version = get_le32(buf + 4);
    copy_str(d->idf_ver, buf + 8, 32);
    copy_str(d->date_time, buf + 40, 24);
}

espsec_err_t espsec_image_parse(const uint8_t *buf, size_t len, espsec_image_t *img,
                                espsec_error_t *err)
{
    memset(img, 0, sizeof(*img));
    if (len == 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "image is empty");
    }
    if (buf[H_MAGIC] != ESPSEC_IMAGE_MAGIC) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x0: image magic byte is 0x%02x, expected 0xe9 (not an ESP image)",
                           buf[H_MAGIC]);
    }
    if (len < ESPSEC_IMAGE_HEADER_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "image truncated: %zu bytes, the header alone needs %d", len,
                           ESPSEC_IMAGE_HEADER_LEN);
    }
    img->segment_count = buf[H_SEG_COUNT];
    img->spi_mode = buf[H_SPI_MODE];
    img->spi_size_freq = buf[H_SPI_SIZE_FREQ];
    img->entry_addr = get_le32(buf + H_ENTRY);
    img->wp_pin = buf[H_WP_PIN];
    memcpy(img->drv, buf + H_DRV, 3);
    img->chip_id = get_le16(buf + H_CHIP_ID);
    img->min_rev = buf[H_MIN_REV];
    img->min_rev_full = get_le16(buf + H_MIN_REV_FULL);
    img->max_rev_full = get_le16(buf + H_MAX_REV_FULL);
    img->hash_appended = buf[H_HASH_APPENDED];
    if (img->segment_count > ESPSEC_IMAGE_MAX_SEGMENTS) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x1: segment count %u, at most %d allowed", img->segment_count,
                           ESPSEC_IMAGE_MAX_SEGMENTS);
    }
    if (img->hash_appended > 1) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%x: hash-appended flag is 0x%02x, expected 0 or 1",
                           H_HASH_APPENDED, img->hash_appended);
    }
    size_t pos = ESPSEC_IMAGE_HEADER_LEN;
    uint8_t checksum = ESPSEC_IMAGE_CHECKSUM_SEED;
    for (unsigned i = 0; i < img->segment_count; i++) {
        espsec_image_segment_t *s = &img->segments[i];
        if (len - pos < ESPSEC_IMAGE_SEG_HEADER_LEN) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: image truncated in the header of segment %u "
                               "(file is 0x%zx bytes)",
                               pos, i, len);
        }
        s->header_offset = pos;
        s->load_addr = get_le32(buf + pos);
        s->length = get_le32(buf + pos + 4);
        s->data_offset = pos + ESPSEC_IMAGE_SEG_HEADER_LEN;
        if (s->length > len - s->data_offset) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: segment %u (load address 0x%08x) claims 0x%x bytes "
                               "but only 0x%zx remain in the file",
                               pos, i, s->load_addr, s->length, len - s->data_offset);
        }
        for (size_t k = 0; k < s->length; k++) {
            checksum ^= buf[s->data_offset + k];
        }
        pos = s->data_offset + s->length;
    }
    img->checksum_offset = pos | 15u;
    if (img->checksum_offset >= len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%zx: image truncated before its checksum byte (file is 0x%zx bytes)",
                           img->checksum_offset, len);
    }
    img->checksum_stored = buf[img->checksum_offset];
    img->checksum_calc = checksum;
    img->image_len = img->checksum_offset + 1;
    if (img->hash_appended) {
        if (len - img->image_len < 32) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: image truncated in its appended SHA-256 "
                               "(32 bytes expected, 0x%zx present)",
                               img->image_len, len - img->image_len);
        }
        memcpy(img->hash_stored, buf + img->image_len, 32);
        if (espsec_sha256(buf, img->image_len, img->hash_calc) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
        }
        img->image_len += 32;
    }
    img->trailing_len = len - img->image_len;

    /* Descriptions: the first DROM segment of an app holds esp_app_desc_t;
     * for a bootloader esptool reads the last DRAM segment of >= 80 bytes. */
    int app_seg = -1, dram_seg = -1;
    for (unsigned i = 0; i < img->segment_count; i++) {
        const espsec_image_segment_t *s = &img->segments[i];
        if (has_type(img->chip_id, s->load_addr, "DROM")) {
            if (app_seg < 0) {
                app_seg = (int)i;
            }
        } else if (has_type(img->chip_id, s->load_addr, "DRAM") && s->length >= ESPSEC_BOOTLOADER_DESC_LEN) {
            dram_seg = (int)i;
        }
    }
    if (app_seg >= 0) {
        const espsec_image_segment_t *s = &img->segments[app_seg];
        img->has_app_desc =
            espsec_app_desc_decode(buf + s->data_offset, s->length, &img->app_desc) == 0;
    } else if (dram_seg >= 0) {
        const uint8_t *d = buf + img->segments[dram_seg].data_offset;
        if (d[0] == ESPSEC_BOOTLOADER_DESC_MAGIC) {
            img->has_bootloader_desc = 1;
            decode_bootloader_desc(d, &img->bootloader_desc);
        }
    }
    return ESPSEC_OK;
}

/* Segments from pos on; checksum over those from first_checked on. */
static espsec_err_t parse_segments(const uint8_t *buf, size_t len, size_t pos, unsigned from, unsigned count,
                                   espsec_image_t *img, uint8_t *checksum, size_t *end, espsec_error_t *err)
{
    for (unsigned i = from; i < from + count; i++) {
        espsec_image_segment_t *s = &img->segments[i];
        if (len - pos < ESPSEC_IMAGE_SEG_HEADER_LEN) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: image truncated in the header of segment %u (file is 0x%zx bytes)", pos,
                               i, len);
        }
        s->header_offset = pos;
        s->load_addr = get_le32(buf + pos);
        s->length = get_le32(buf + pos + 4);
        s->data_offset = pos + ESPSEC_IMAGE_SEG_HEADER_LEN;
        if (s->length > len - s->data_offset) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: End of file reading segment 0x%x, length %u (actual length %zu)", pos,
                               s->load_addr, s->length, len - s->data_offset);
        }
        if (checksum != NULL) {
            for (size_t k = 0; k < s->length; k++) {
                *checksum ^= buf[s->data_offset + k];
            }
        }
        pos = s->data_offset + s->length;
    }
    *end = pos;
    return ESPSEC_OK;
}

espsec_err_t espsec_image_parse_esp8266(const uint8_t *buf, size_t len, espsec_image_t *img, espsec_error_t *err)
{
    memset(img, 0, sizeof(*img));
    if (len == 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "image is empty");
    }
    if (buf[0] != ESPSEC_IMAGE_MAGIC && buf[0] != 0xEA) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x0: Invalid image magic number: %u", buf[0]);
    }
    if (len < 8) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "image truncated: %zu bytes, the header alone needs 8", len);
    }
    size_t pos = 0;
    unsigned first = 0;
    if (buf[0] == 0xEA) {
        img->esp8266_version = 2;
        img->v2_segment_count = buf[H_SEG_COUNT];
        img->v2_spi_mode = buf[H_SPI_MODE];
        img->v2_spi_size_freq = buf[H_SPI_SIZE_FREQ];
        img->v2_entry_addr = get_le32(buf + H_ENTRY);
        espsec_err_t rc = parse_segments(buf, len, 8, 0, 1, img, NULL, &pos, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        img->segments[0].load_addr = 0; /* the IROM is mapped, not loaded: esptool shows address 0 */
        first = 1;
        if (len - pos < 8) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: image truncated in its second header", pos);
        }
        if (buf[pos] != ESPSEC_IMAGE_MAGIC) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: Invalid firmware image magic=0x%x", pos,
                               buf[pos]);
        }
    } else {
        img->esp8266_version = 1;
    }
    unsigned count = buf[pos + H_SEG_COUNT];
    img->spi_mode = buf[pos + H_SPI_MODE];
    img->spi_size_freq = buf[pos + H_SPI_SIZE_FREQ];
    img->entry_addr = get_le32(buf + pos + H_ENTRY);
    if (first + count > ESPSEC_IMAGE_MAX_SEGMENTS) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%zx: Invalid segment count %u (max 16). Usually this indicates a linker script "
                           "problem.",
                           pos + H_SEG_COUNT, first + count);
    }
    img->segment_count = (uint8_t)(first + count);
    uint8_t checksum = ESPSEC_IMAGE_CHECKSUM_SEED;
    espsec_err_t rc = parse_segments(buf, len, pos + 8, first, count, img, &checksum, &pos, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    img->checksum_offset = pos | 15u;
    if (img->checksum_offset >= len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%zx: image truncated before its checksum byte (file is 0x%zx bytes)",
                           img->checksum_offset, len);
    }
    img->checksum_stored = buf[img->checksum_offset];
    img->checksum_calc = checksum;
    img->image_len = img->checksum_offset + 1;
    img->trailing_len = len - img->image_len;
    return ESPSEC_OK;
}

espsec_err_t espsec_image_check(const espsec_image_t *img, espsec_error_t *err)
{
    if (img->checksum_stored != img->checksum_calc) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_CRC,
                           "offset 0x%zx: image checksum byte is 0x%02x, calculated 0x%02x",
                           img->checksum_offset, img->checksum_stored, img->checksum_calc);
    }
    if (img->hash_appended && espsec_ct_compare(img->hash_stored, img->hash_calc, 32) != 0) {
        char want[65], got[65];
        espsec_hex(img->hash_calc, 32, want, 0);
        espsec_hex(img->hash_stored, 32, got, 0);
        return espsec_fail(err, ESPSEC_ERR_VERIFY,
                           "offset 0x%zx: appended SHA-256 is %s, calculated %s (image corrupted)",
                           img->checksum_offset + 1, got, want);
    }
    return ESPSEC_OK;
}

/* ---- building ---- */

struct growbuf {
    uint8_t *p;
    size_t len, cap;
};

static int gb_reserve(struct growbuf *b, size_t extra)
{
    if (b->len + extra <= b->cap) {
        return 0;
    }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + extra) {
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

static int gb_segment(struct growbuf *b, uint32_t addr, const uint8_t *data, uint32_t len,
                      uint32_t zero_tail, uint8_t *checksum)
{
    if (gb_reserve(b, ESPSEC_IMAGE_SEG_HEADER_LEN + (size_t)len + zero_tail) != 0) {
        return -1;
    }
    put_le32(b->p + b->len, addr);
    put_le32(b->p + b->len + 4, len + zero_tail);
    b->len += ESPSEC_IMAGE_SEG_HEADER_LEN;
    if (data != NULL) {
        memcpy(b->p + b->len, data, len);
        for (uint32_t i = 0; i < len; i++) {
            *checksum ^= data[i];
        }
    } else {
        memset(b->p + b->len, 0, len);
    }
    memset(b->p + b->len + len, 0, zero_tail);
    b->len += (size_t)len + zero_tail;
    return 0;
}

/* Padding data needed before a flash segment so that, after its 8-byte header,
 * the file offset (plus where the image lives in flash) matches the address
 * modulo the MMU page; 0 when already aligned. */
static uint32_t alignment_needed(size_t file_pos, uint32_t flash_offset, uint32_t addr)
{
    /* The same arithmetic as esptool's elf2image, so layouts are identical. */
    int64_t pos = (int64_t)((file_pos + flash_offset) % MMU_PAGE);
    int64_t align_past = (int64_t)(addr % MMU_PAGE) - ESPSEC_IMAGE_SEG_HEADER_LEN;
    int64_t pad = ((int64_t)MMU_PAGE - pos) + align_past;
    if (pad == 0 || pad == (int64_t)MMU_PAGE) {
        return 0;
    }
    pad -= ESPSEC_IMAGE_SEG_HEADER_LEN;
    if (pad < 0) {
        pad += MMU_PAGE;
    }
    return (uint32_t)pad;
}

static int cmp_seg(const void *a, const void *b)
{
    const espsec_image_build_segment_t *x = a, *y = b;
    return x->load_addr < y->load_addr ? -1 : x->load_addr > y->load_addr;
}

espsec_err_t espsec_image_build(const espsec_image_build_params_t *params,
                                const espsec_image_build_segment_t *segs, size_t nsegs,
                                uint8_t **out, size_t *out_len, espsec_error_t *err)
{
    if (nsegs > ESPSEC_IMAGE_MAX_SEGMENTS) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%zu segments, at most 16", nsegs);
    }
    espsec_image_build_segment_t flash[ESPSEC_IMAGE_MAX_SEGMENTS], ram[ESPSEC_IMAGE_MAX_SEGMENTS];
    size_t nflash = 0, nram = 0;
    for (size_t i = 0; i < nsegs; i++) {
        if (segs[i].length % 4 != 0) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                               "segment at 0x%08x: length 0x%x is not a multiple of 4",
                               segs[i].load_addr, segs[i].length);
        }
        if (espsec_image_is_flash_addr(params->chip_id, segs[i].load_addr)) {
            flash[nflash++] = segs[i];
        } else {
            ram[nram++] = segs[i];
        }
    }
    qsort(flash, nflash, sizeof(flash[0]), cmp_seg);
    qsort(ram, nram, sizeof(ram[0]), cmp_seg);

    struct growbuf b = {0};
    if (gb_reserve(&b, ESPSEC_IMAGE_HEADER_LEN) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memset(b.p, 0, ESPSEC_IMAGE_HEADER_LEN);
    b.p[H_MAGIC] = ESPSEC_IMAGE_MAGIC;
    b.p[H_SPI_MODE] = params->spi_mode;
    b.p[H_SPI_SIZE_FREQ] = params->spi_size_freq;
    put_le32(b.p + H_ENTRY, params->entry_addr);
    b.p[H_WP_PIN] = ESPSEC_IMAGE_WP_PIN_DISABLED;
    put_le16(b.p + H_CHIP_ID, params->chip_id);
    put_le16(b.p + H_MAX_REV_FULL, 0xFFFF);
    b.p[H_HASH_APPENDED] = params->hash_appended ? 1 : 0;
    b.len = ESPSEC_IMAGE_HEADER_LEN;

    uint8_t checksum = ESPSEC_IMAGE_CHECKSUM_SEED;
    unsigned total = 0;
    size_t fi = 0, ri = 0;
    int oom = 0;
    while (fi < nflash && !oom) {
        uint32_t pad = alignment_needed(b.len, params->flash_offset, flash[fi].load_addr);
        if (pad > 0) {
            if (ri < nram && pad > ESPSEC_IMAGE_SEG_HEADER_LEN) {
                /* fill the gap with the start of the next RAM segment */
                espsec_image_build_segment_t *r = &ram[ri];
                uint32_t take = r->length < pad ? r->length : pad;
                oom = gb_segment(&b, r->load_addr, r->data, take, 0, &checksum);
                r->data += take;
                r->load_addr += take;
                r->length -= take;
                if (r->length == 0) {
                    ri++;
                }
            } else {
                oom = gb_segment(&b, 0, NULL, pad, 0, &checksum);
            }
        } else {
            /* ESP32 second-stage bootloader quirk: a flash segment must not end
             * fewer than 0x24 bytes past an MMU page boundary. */
            uint32_t tail = 0;
            const espsec_image_target_t *t = espsec_image_target_by_id(params->chip_id);
            if (t != NULL && t->flash_segment_tail_pad) {
                uint32_t end = (uint32_t)((b.len + params->flash_offset + flash[fi].length +
                                           ESPSEC_IMAGE_SEG_HEADER_LEN) %
                                          MMU_PAGE);
                if (end < 0x24) {
                    tail = 0x24 - end;
                }
            }
            oom = gb_segment(&b, flash[fi].load_addr, flash[fi].data, flash[fi].length, tail,
                             &checksum);
            fi++;
        }
        total++;
    }
    for (; ri < nram && !oom; ri++, total++) {
        oom = gb_segment(&b, ram[ri].load_addr, ram[ri].data, ram[ri].length, 0, &checksum);
    }
    if (!oom && total > ESPSEC_IMAGE_MAX_SEGMENTS) {
        free(b.p);
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG,
                           "the layout needs %u segments with padding, at most 16", total);
    }
    size_t csum_at = b.len | 15u;
    if (oom || gb_reserve(&b, csum_at + 1 - b.len + 32) != 0) {
        free(b.p);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memset(b.p + b.len, 0, csum_at - b.len);
    b.p[csum_at] = checksum;
    b.len = csum_at + 1;
    b.p[H_SEG_COUNT] = (uint8_t)total;
    if (params->hash_appended) {
        if (espsec_sha256(b.p, b.len, b.p + b.len) != ESPSEC_OK) {
            free(b.p);
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
        }
        b.len += 32;
    }
    *out = b.p;
    *out_len = b.len;
    return ESPSEC_OK;
}
