/* ESP image parsing and building against esptool's images. */
#include "espsec/image.h"
#include "espsec/util.h"
#include "test.h"

/* Rebuild an image from its segments (padding dropped, split RAM pieces
 * joined): the layout must come out byte-identical to esptool's. */
static void rebuild_same(const char *rel)
{
    size_t len;
    uint8_t *buf = vec(rel, &len);
    espsec_image_t img;
    CHECK_OK(espsec_image_parse(buf, len, &img, NULL));
    CHECK_OK(espsec_image_check(&img, NULL));
    espsec_image_build_segment_t segs[16];
    uint8_t *joined[16] = {0};
    size_t n = 0;
    for (unsigned i = 0; i < img.segment_count; i++) {
        const espsec_image_segment_t *s = &img.segments[i];
        if (s->load_addr == 0) {
            continue; /* padding */
        }
        if (n > 0 && segs[n - 1].load_addr + segs[n - 1].length == s->load_addr &&
            !espsec_image_is_flash_addr(img.chip_id, s->load_addr)) {
            uint8_t *j = malloc(segs[n - 1].length + s->length);
            memcpy(j, segs[n - 1].data, segs[n - 1].length);
            memcpy(j + segs[n - 1].length, buf + s->data_offset, s->length);
            free(joined[n - 1]);
            joined[n - 1] = j;
            segs[n - 1].data = j;
            segs[n - 1].length += s->length;
            continue;
        }
        segs[n].load_addr = s->load_addr;
        segs[n].data = buf + s->data_offset;
        segs[n].length = s->length;
        n++;
    }
    espsec_image_build_params_t p = {
        .chip_id = img.chip_id,
        .entry_addr = img.entry_addr,
        .spi_mode = img.spi_mode,
        .spi_size_freq = img.spi_size_freq,
        .hash_appended = img.hash_appended,
    };
    uint8_t *out = NULL;
    size_t olen = 0;
    CHECK_OK(espsec_image_build(&p, segs, n, &out, &olen, NULL));
    CHECK(olen == len);
    CHECK(out != NULL && olen == len && memcmp(out, buf, len) == 0);
    for (size_t i = 0; i < 16; i++) {
        free(joined[i]);
    }
    free(out);
    free(buf);
}

static void test_rebuild_vectors(void)
{
    rebuild_same("image/expected/app_hello.bin");
    rebuild_same("image/expected/app_big.bin");
    rebuild_same("image/expected/bootloader.bin");
}

static void test_parse_app(void)
{
    size_t len;
    uint8_t *buf = vec("image/expected/app_hello.bin", &len);
    espsec_image_t img;
    CHECK_OK(espsec_image_parse(buf, len, &img, NULL));
    CHECK(img.segment_count == 4 && img.chip_id == 0 && img.entry_addr == 0x40080400);
    CHECK(img.has_app_desc);
    CHECK(strcmp(img.app_desc.project_name, "hello_pub") == 0);
    CHECK(strcmp(img.app_desc.version, "1.2.3") == 0);
    CHECK(img.app_desc.secure_version == 1);
    CHECK(img.image_len == len && img.trailing_len == 0);
    CHECK(img.checksum_calc == 0xd4 && img.checksum_stored == 0xd4);
    free(buf);
}

static void test_defects(void)
{
    size_t len;
    uint8_t *buf = vec("image/expected/app_hello.bin", &len);
    espsec_image_t img;
    espsec_error_t err;
    for (size_t cut = 0; cut < len; cut += 997) {
        espsec_err_t rc = espsec_image_parse(buf, cut, &img, &err);
        CHECK(rc == ESPSEC_ERR_FORMAT);
    }
    CHECK_ERR(espsec_image_parse(buf, len - 1, &img, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "appended SHA-256");
    buf[0] = 0xE8;
    CHECK_ERR(espsec_image_parse(buf, len, &img, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "offset 0x0");
    buf[0] = 0xE9;
    buf[1] = 17;
    CHECK_ERR(espsec_image_parse(buf, len, &img, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "segment count 17");
    buf[1] = 4;
    buf[23] = 2;
    CHECK_ERR(espsec_image_parse(buf, len, &img, &err), ESPSEC_ERR_FORMAT);
    buf[23] = 1;
    /* a segment length that overflows */
    uint8_t save[4];
    memcpy(save, buf + 28, 4);
    memset(buf + 28, 0xFF, 4);
    CHECK_ERR(espsec_image_parse(buf, len, &img, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "offset 0x18");
    memcpy(buf + 28, save, 4);
    /* every single-bit flip in the image is caught by the checksum or hash
     * (or makes the structure invalid) */
    int caught = 0, total = 0;
    uint64_t rng = 42;
    for (int i = 0; i < 400; i++) {
        size_t pos = t_rand(&rng) % len;
        int bit = (int)(t_rand(&rng) % 8);
        buf[pos] ^= (uint8_t)(1u << bit);
        total++;
        if (espsec_image_parse(buf, len, &img, NULL) != ESPSEC_OK || espsec_image_check(&img, NULL) != ESPSEC_OK) {
            caught++;
        }
        buf[pos] ^= (uint8_t)(1u << bit);
    }
    CHECK(caught == total);
    free(buf);
}

static void test_app_desc_roundtrip(void)
{
    espsec_app_desc_t d = {0}, back;
    d.secure_version = 7;
    snprintf(d.version, sizeof(d.version), "2.0.1");
    snprintf(d.project_name, sizeof(d.project_name), "espsec_demo");
    snprintf(d.idf_ver, sizeof(d.idf_ver), "v5.3");
    uint8_t raw[ESPSEC_APP_DESC_LEN];
    espsec_app_desc_encode(&d, raw);
    CHECK(espsec_app_desc_decode(raw, sizeof(raw), &back) == 0);
    CHECK(back.secure_version == 7 && strcmp(back.project_name, "espsec_demo") == 0);
    raw[0] ^= 1;
    CHECK(espsec_app_desc_decode(raw, sizeof(raw), &back) != 0);
}

static void test_chip_names(void)
{
    CHECK(espsec_chip_from_name("esp32") == ESPSEC_CHIP_ESP32);
    CHECK(espsec_chip_from_name("ESP32-C3") == ESPSEC_CHIP_ESP32C3);
    CHECK(espsec_chip_from_name("esp8266") == ESPSEC_CHIP_ESP8266);
    CHECK(espsec_chip_from_name("z80") == ESPSEC_CHIP_UNKNOWN);
    CHECK(strcmp(espsec_chip_display_name(ESPSEC_CHIP_ESP32S3), "ESP32-S3") == 0);
}

int main(void)
{
    RUN(test_rebuild_vectors);
    RUN(test_parse_app);
    RUN(test_defects);
    RUN(test_app_desc_roundtrip);
    RUN(test_chip_names);
    return test_done();
}
