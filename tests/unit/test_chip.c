/* The chip model: lookups and the facts other modules rely on. */
#include <string.h>

#include "espsec/chip.h"
#include "test.h"

static void test_lookup(void)
{
    CHECK(espsec_chip_count() >= 11);
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        const espsec_chip_info_t *c = espsec_chip_at(i);
        CHECK(c != NULL && c->name != NULL && c->display != NULL);
        CHECK(espsec_chip_by_name(c->name) == c);
        CHECK(espsec_chip_by_name(c->display) == c); /* "ESP32-C3" spelling */
        CHECK(espsec_chip_by_id(c->id) == c);        /* ids are unique */
        CHECK(c->has_security || c->no_security_reason != NULL);
        if (c->has_security) {
            CHECK(c->fe.crypt_cnt != NULL && c->sb.enable != NULL && c->sb.digest_slots >= 1);
            CHECK(c->sb.digest_slots <= 3);
            CHECK(c->lock.dis_download != NULL && c->lock.dis_pad_jtag != NULL);
        }
    }
    CHECK(espsec_chip_at(espsec_chip_count()) == NULL);
    CHECK(espsec_chip_by_name("esp32_s3") == espsec_chip_by_name("ESP32S3"));
    CHECK(espsec_chip_by_name("esp32x9") == NULL);
    CHECK(espsec_chip_by_name("esp32c3aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == NULL);
    CHECK(espsec_chip_from_name("nope") == ESPSEC_CHIP_UNKNOWN);
    CHECK(strcmp(espsec_chip_display_name((espsec_chip_t)77), "Unknown ID") == 0);
    CHECK(strcmp(espsec_chip_display_name(ESPSEC_CHIP_ESP32C5), "ESP32-C5") == 0);
}

static void test_facts(void)
{
    static const struct {
        const char *name;
        uint32_t boot;
        int slots;
    } T[] = {{"esp32", 0x1000, 1},   {"esp32s2", 0x1000, 3}, {"esp32s3", 0, 3}, {"esp32c2", 0, 1},
             {"esp32c3", 0, 3},      {"esp32c5", 0x2000, 3}, {"esp32c6", 0, 3}, {"esp32c61", 0, 3},
             {"esp32h2", 0, 3},      {"esp32p4", 0x2000, 3}};
    for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++) {
        const espsec_chip_info_t *c = espsec_chip_by_name(T[i].name);
        CHECK(c != NULL && c->has_security);
        CHECK(c->bootloader_offset == T[i].boot);
        CHECK(c->sb.digest_slots == T[i].slots);
    }
    const espsec_chip_info_t *s3 = espsec_chip_by_name("esp32s3"), *p4 = espsec_chip_by_name("esp32p4"),
                             *c2 = espsec_chip_by_name("esp32c2"), *e = espsec_chip_by_name("esp32"),
                             *c61 = espsec_chip_by_name("esp32c61");
    CHECK(s3->fe.xts256_two_blocks && p4->fe.xts256_two_blocks && !espsec_chip_by_name("esp32c3")->fe.xts256_two_blocks);
    CHECK(strcmp(s3->fe.key5_forbidden[0], "XTS_AES_128_KEY") == 0 && p4->fe.key5_forbidden[0] == NULL);
    CHECK(c2->fe.shared_key0 && c2->sb.digest_bytes == 16 && !c2->fe.key_purpose_field);
    CHECK((c2->sb.schemes & ESPSEC_SBCAP_RSA3072) == 0 && (c61->sb.schemes & ESPSEC_SBCAP_RSA3072) == 0);
    CHECK((p4->sb.schemes & ESPSEC_SBCAP_ECDSA_P384) != 0 && espsec_chip_min_rev(p4, "P384") == 300);
    CHECK(e->sb.versions == (ESPSEC_SBCAP_V1 | ESPSEC_SBCAP_V2) && espsec_chip_min_rev(e, "RSA") == 300);
    CHECK(e->key_purposes == NULL && strcmp(e->fe.crypt_cnt, "FLASH_CRYPT_CNT") == 0 && e->fe.crypt_cnt_bits == 7);
    const espsec_key_purpose_t *k = espsec_chip_key_purpose(s3, "xts_aes_256_key");
    CHECK(k != NULL && (k->flags & ESPSEC_KP_VIRTUAL));
    CHECK(espsec_chip_key_purpose(espsec_chip_by_name("esp32c3"), "XTS_AES_256_KEY") == NULL);
    CHECK(strcmp(espsec_chip_key_purpose_by_value(s3, 9)->name, "SECURE_BOOT_DIGEST0") == 0);
    const espsec_chip_info_t *x = espsec_chip_by_name("esp8266");
    CHECK(x != NULL && !x->has_security && strstr(x->no_security_reason, "no Secure Boot") != NULL);
}

/* espefuse's CUSTOM_n purposes: the values a chip leaves unassigned, by name and value, after its own list. */
static void test_custom_purposes(void)
{
    const espsec_chip_info_t *c6 = espsec_chip_by_name("esp32c6"), *c5 = espsec_chip_by_name("esp32c5"),
                             *s3 = espsec_chip_by_name("esp32s3");
    const espsec_key_purpose_t *k = espsec_chip_key_purpose(c6, "CUSTOM_MAX");
    CHECK(k != NULL && k->value == 15 && (k->flags & ESPSEC_KP_CUSTOM) && !(k->flags & ESPSEC_KP_DIGEST));
    k = espsec_chip_key_purpose(c5, "custom_digest_max");
    CHECK(k != NULL && k->value == 31 && (k->flags & ESPSEC_KP_DIGEST));
    CHECK(espsec_chip_key_purpose(c6, "CUSTOM_2") != NULL && espsec_chip_key_purpose(c6, "CUSTOM_4") == NULL);
    CHECK(espsec_chip_key_purpose(c6, "CUSTOM_16") == NULL);           /* beyond the 4-bit field */
    CHECK(espsec_chip_key_purpose(s3, "CUSTOM_MAX") == NULL);          /* no custom purposes on S3 */
    CHECK(strcmp(espsec_chip_key_purpose_by_value(c6, 2)->name, "CUSTOM_2") == 0);
    CHECK(strcmp(espsec_chip_key_purpose_by_value(c5, 31)->name, "CUSTOM_31") == 0); /* first name wins */
    CHECK(strcmp(espsec_chip_key_purpose_by_value(c6, 4)->name, "XTS_AES_128_KEY") == 0);
    /* the chip's own list first, then CUSTOM_n / CUSTOM_DIGEST_n pairs, CUSTOM_MAX and CUSTOM_DIGEST_MAX last */
    size_t n = 0;
    while (espsec_chip_key_purpose_at(c6, n) != NULL) {
        n++;
    }
    CHECK(n == 10 + 2 * 6 + 2 && strcmp(espsec_chip_key_purpose_at(c6, n - 1)->name, "CUSTOM_DIGEST_MAX") == 0);
    CHECK(strcmp(espsec_chip_key_purpose_at(c6, 10)->name, "CUSTOM_2") == 0);
    CHECK(espsec_chip_key_purpose_at(NULL, 0) == NULL && espsec_chip_key_purpose_at(espsec_chip_by_name("esp32"), 0) == NULL);
}

int main(void)
{
    RUN(test_lookup);
    RUN(test_facts);
    RUN(test_custom_purposes);
    return test_done();
}
