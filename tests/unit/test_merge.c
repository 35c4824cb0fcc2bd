/* Intel HEX and merge-bin (espsec/ihex.h, espsec/merge.h): the rules esptool and intelhex follow. */
#include "espsec/ihex.h"
#include "espsec/merge.h"
#include "espsec/util.h"
#include "test.h"
#include "util/bytes.h"

#define TXT(s) (const uint8_t *)(s), strlen(s)

static void test_ihex_read(void)
{
    espsec_ihex_run_t *r = NULL;
    size_t n = 0;
    espsec_error_t err;
    /* two records that touch make one run; lower-case hex; CRLF and a blank line */
    CHECK_OK(espsec_ihex_parse(TXT(":0200100041426b\r\n\r\n:02001200434465\n:00000001FF\n"), &r, &n, &err));
    CHECK(n == 1 && r[0].addr == 0x10 && r[0].len == 4 && memcmp(r[0].data, "ABCD", 4) == 0);
    espsec_ihex_free(r, n);
    /* extended linear (04) and segment (02) addresses; a gap makes two runs, sorted */
    CHECK_OK(espsec_ihex_parse(TXT(":020000040001F9\n:0100000041BE\n:020000021000EC\n:0100050042B8\n:00000001FF\n"), &r,
                               &n, &err));
    CHECK(n == 2 && r[0].addr == 0x10000 && r[0].data[0] == 'A' && r[1].addr == 0x10005 && r[1].data[0] == 'B');
    espsec_ihex_free(r, n);
    /* nothing after the end-of-file record is read */
    CHECK_OK(espsec_ihex_parse(TXT(":0100000041BE\n:00000001FF\nnot a record\n"), &r, &n, &err));
    CHECK(n == 1);
    espsec_ihex_free(r, n);
    /* not Intel HEX: esptool then takes the file as raw bytes */
    CHECK_ERR(espsec_ihex_parse(TXT(":"), &r, &n, &err), ESPSEC_ERR_PARSE);
    CHECK_ERR(espsec_ihex_parse(TXT(":0100000041BF\n"), &r, &n, &err), ESPSEC_ERR_PARSE); /* checksum */
    CHECK_MSG(err, "line 1");
    CHECK_ERR(espsec_ihex_parse(TXT(":0100000041BE \n"), &r, &n, &err), ESPSEC_ERR_PARSE); /* trailing space */
    CHECK_ERR(espsec_ihex_parse(TXT(":0100000641B8\n"), &r, &n, &err), ESPSEC_ERR_PARSE);  /* type 6 */
    CHECK_ERR(espsec_ihex_parse(TXT(":0100000041BE\n:0100000100FE\n"), &r, &n, &err), ESPSEC_ERR_PARSE);
    /* the same address twice is refused */
    CHECK_ERR(espsec_ihex_parse(TXT(":0100000041BE\n:0100000042BD\n"), &r, &n, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "line 2: address 0x0 is defined twice");
}

static void test_ihex_write(void)
{
    uint8_t data[40];
    for (int i = 0; i < 40; i++) {
        data[i] = (uint8_t)i;
    }
    uint8_t *out = NULL;
    size_t len = 0;
    /* 16 bytes per record, the end-of-file record last, no 04 record below 64 KiB */
    espsec_ihex_span_t low = {0x100, data, 20};
    CHECK_OK(espsec_ihex_write(&low, 1, &out, &len, NULL));
    const char *want = ":10010000000102030405060708090A0B0C0D0E0F77\n:0401100010111213A5\n:00000001FF\n";
    CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
    free(out);
    /* a record never crosses a 64 KiB boundary; 04 records open each 64 KiB */
    espsec_ihex_span_t high = {0x1FFF8, data, 12};
    CHECK_OK(espsec_ihex_write(&high, 1, &out, &len, NULL));
    want = ":020000040001F9\n:08FFF8000001020304050607E5\n:020000040002F8\n:0400000008090A0BD6\n:00000001FF\n";
    CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
    /* and it reads back */
    espsec_ihex_run_t *r = NULL;
    size_t n = 0;
    CHECK_OK(espsec_ihex_parse(out, len, &r, &n, NULL));
    CHECK(n == 1 && r[0].addr == 0x1FFF8 && r[0].len == 12 && memcmp(r[0].data, data, 12) == 0);
    espsec_ihex_free(r, n);
    free(out);
    espsec_ihex_span_t bad[2] = {{0x10, data, 8}, {0x14, data, 8}};
    CHECK_ERR(espsec_ihex_write(bad, 2, &out, &len, NULL), ESPSEC_ERR_INVALID_ARG);
}

static espsec_err_t merge(const uint64_t *addrs, const size_t *lens, size_t n, const espsec_merge_opts_t *o,
                          uint8_t **out, size_t *out_len, espsec_error_t *err)
{
    static uint8_t fill[8192];
    memset(fill, 0x5A, sizeof(fill));
    espsec_merge_t *m = espsec_merge_new();
    espsec_err_t rc = ESPSEC_OK;
    for (size_t i = 0; i < n && rc == ESPSEC_OK; i++) {
        rc = espsec_merge_add(m, addrs[i], fill, lens[i], "f", NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_merge_build(m, o, out, out_len, err);
    }
    espsec_merge_free(m);
    return rc;
}

static void test_merge_raw(void)
{
    espsec_merge_opts_t o = {0};
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    espsec_error_t err;
    /* any order gives the same bytes; gaps are 0xFF */
    uint64_t fwd[] = {0x0, 0x1000, 0x10000}, rev[] = {0x10000, 0x0, 0x1000};
    size_t lens[] = {0x400, 0x400, 0x400};
    CHECK_OK(merge(fwd, lens, 3, &o, &a, &al, NULL));
    CHECK_OK(merge(rev, lens, 3, &o, &b, &bl, NULL));
    CHECK(al == 0x10400 && bl == al && memcmp(a, b, al) == 0 && a[0x400] == 0xFF && a[0x1000] == 0x5A);
    free(a);
    free(b);
    /* two files in one 4 KiB sector overlap, in either order */
    uint64_t ov[] = {0x1000, 0x1800}, ov2[] = {0x1800, 0x1000};
    size_t ovl[] = {0x10, 0x10};
    CHECK_ERR(merge(ov, ovl, 2, &o, &a, &al, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK_MSG(err, "Detected overlap at address: 0x1800");
    CHECK_ERR(merge(ov2, ovl, 2, &o, &a, &al, &err), ESPSEC_ERR_INVALID_ARG);
    /* target offset and padding (esptool: the padding is up to the flash address) */
    o.target_offset = 0x1000;
    o.pad_to = espsec_merge_size_bytes("256KB");
    uint64_t one[] = {0x1000};
    size_t onel[] = {0x10};
    CHECK_OK(merge(one, onel, 1, &o, &a, &al, NULL));
    CHECK(al == 0x40000 - 0x1000 && a[0] == 0x5A && a[0x10] == 0xFF && a[al - 1] == 0xFF);
    free(a);
    uint64_t before[] = {0x0};
    CHECK_ERR(merge(before, onel, 1, &o, &a, &al, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK_MSG(err, "Output data target offset is 0x1000. Input data offset 0x0 is before this.");
    /* nothing past the flash address space */
    memset(&o, 0, sizeof(o));
    uint64_t top[] = {0xFFFFFFFFu};
    CHECK_ERR(merge(top, onel, 1, &o, &a, &al, &err), ESPSEC_ERR_INVALID_SIZE);
    uint64_t past[] = {0x100000000ull};
    CHECK_ERR(merge(past, onel, 1, &o, &a, &al, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK(espsec_merge_size_bytes("3MB") == 0 && espsec_merge_size_bytes("4mb") == 4u << 20);
}

static void test_merge_uf2(void)
{
    espsec_merge_opts_t o = {0};
    o.format = ESPSEC_MERGE_UF2;
    o.chip = espsec_chip_by_name("esp32c3");
    uint64_t at[] = {0x2000};
    size_t lens[] = {453}; /* one byte more than a block holds with its MD5 part */
    uint8_t *u = NULL;
    size_t ul = 0;
    CHECK_OK(merge(at, lens, 1, &o, &u, &ul, NULL));
    CHECK(ul == 2 * ESPSEC_UF2_BLOCK_SIZE);
    if (ul == 2 * ESPSEC_UF2_BLOCK_SIZE) {
        const uint8_t *b1 = u + ESPSEC_UF2_BLOCK_SIZE;
        CHECK(get_le32(u) == 0x0A324655u && get_le32(u + 4) == 0x9E5D5157u && get_le32(u + 508) == 0x0AB16F30u);
        CHECK(get_le32(u + 8) == 0x6000u && get_le32(u + 12) == 0x2000 && get_le32(u + 16) == 452);
        CHECK(get_le32(u + 20) == 0 && get_le32(u + 24) == 2 && get_le32(u + 28) == 0xD42BA06Cu);
        CHECK(get_le32(b1 + 12) == 0x2000 + 452 && get_le32(b1 + 16) == 1 && get_le32(b1 + 20) == 1);
        /* the MD5 part follows the data: address, length, MD5 of the data */
        uint8_t md5[16];
        espsec_md5(b1 + 32, 1, md5);
        CHECK(get_le32(b1 + 33) == 0x2000 + 452 && get_le32(b1 + 37) == 1 && memcmp(b1 + 41, md5, 16) == 0);
        CHECK(is_zero(b1 + 57, 508 - 57));
    }
    free(u);
    o.uf2_chunk = 254;
    espsec_error_t err;
    CHECK_ERR(merge(at, lens, 1, &o, &u, &ul, &err), ESPSEC_ERR_USAGE);
    o.uf2_chunk = 0;
    o.chip = NULL;
    CHECK_ERR(merge(at, lens, 1, &o, &u, &ul, &err), ESPSEC_ERR_USAGE);
}

int main(void)
{
    RUN(test_ihex_read);
    RUN(test_ihex_write);
    RUN(test_merge_raw);
    RUN(test_merge_uf2);
    return test_done();
}
