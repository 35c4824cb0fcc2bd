/* The virtual eFuse rules: 0->1 only, protections, hidden keys, coding schemes. */
#include "espsec/efuse.h"
#include "test.h"

static espsec_efuse_t *fresh(espsec_chip_t chip)
{
    espsec_efuse_t *e = NULL;
    if (espsec_efuse_new(chip, &e, NULL) != ESPSEC_OK) {
        exit(2);
    }
    return e;
}

static void test_bits_only_set(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32);
    espsec_error_t err;
    int noop = 0;
    CHECK_OK(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0x5, &noop, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    uint64_t v = 0;
    CHECK_OK(espsec_efuse_get_uint(e, "FLASH_CRYPT_CONFIG", &v, NULL));
    CHECK(v == 5);
    /* a value that needs a burned bit cleared is refused; adding bits is fine */
    CHECK_ERR(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0x3, &noop, &err), ESPSEC_ERR_NOT_ALLOWED);
    CHECK_OK(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0xF, &noop, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    /* as espefuse: a value whose bits are all burned already is a no-op */
    CHECK_OK(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0x3, &noop, NULL));
    CHECK(noop == 1);
    /* the same value again changes nothing */
    CHECK_OK(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0xF, &noop, NULL));
    CHECK(noop == 1 && !espsec_efuse_has_staged(e));
    /* next bit of a bit counter */
    uint64_t nv = 0;
    CHECK_OK(espsec_efuse_stage_next_bit(e, "FLASH_CRYPT_CNT", &nv, NULL));
    CHECK(nv == 1);
    CHECK_OK(espsec_efuse_burn(e, NULL));
    CHECK_OK(espsec_efuse_stage_next_bit(e, "FLASH_CRYPT_CNT", &nv, NULL));
    CHECK(nv == 3);
    espsec_efuse_discard(e);
    CHECK(!espsec_efuse_has_staged(e));
    CHECK_ERR(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CONFIG", 0x1F, &noop, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK_ERR(espsec_efuse_stage_uint(e, "MAC", 1, &noop, &err), ESPSEC_ERR_NOT_ALLOWED);
    CHECK_ERR(espsec_efuse_stage_uint(e, "PKG_VERSION", 1, &noop, &err), ESPSEC_ERR_NOT_ALLOWED);
    espsec_efuse_free(e);
}

static void test_protection_and_hidden(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32);
    uint8_t key[32], hw[32], sw[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(0xA0 + i);
    }
    int blk = espsec_efuse_block_by_name(e, "flash_encryption");
    CHECK(blk == 1);
    CHECK_OK(espsec_efuse_stage_key(e, blk, key, 32, NULL, 1, 1, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    espsec_efuse_get_block(e, 1, sw);
    CHECK(is_zero(sw, 32));
    int known = 0;
    CHECK_OK(espsec_efuse_get_block_hw(e, 1, hw, &known, NULL));
    CHECK(known && memcmp(hw, key, 32) == 0);
    CHECK(!espsec_efuse_block_readable(e, 1) && !espsec_efuse_block_writeable(e, 1));
    /* the file keeps zeros, the companion the key; both load back to the same */
    uint8_t *file = NULL, *hid = NULL;
    size_t len = 0, hlen = 0;
    CHECK_OK(espsec_efuse_serialize(e, &file, &len, &hid, &hlen, NULL));
    CHECK(hid != NULL && len == 0x120 && hlen == 0x120);
    espsec_efuse_t *a = NULL, *b = NULL;
    CHECK_OK(espsec_efuse_load(ESPSEC_CHIP_ESP32, file, len, hid, hlen, &a, NULL));
    CHECK_OK(espsec_efuse_get_block_hw(a, 1, hw, &known, NULL));
    CHECK(known && memcmp(hw, key, 32) == 0);
    CHECK_OK(espsec_efuse_load(ESPSEC_CHIP_ESP32, file, len, NULL, 0, &b, NULL));
    CHECK_OK(espsec_efuse_get_block_hw(b, 1, hw, &known, NULL));
    CHECK(!known);
    /* a companion that contradicts the file is refused */
    espsec_error_t err;
    espsec_efuse_t *c = NULL;
    hid[0x120 - 1 - 0x00] |= 0; /* BLOCK0 word 0 low byte: fine */
    file[0x120 - 1 - 0x14] ^= 0x01; /* a BLOCK0 bit the companion lacks */
    CHECK_ERR(espsec_efuse_load(ESPSEC_CHIP_ESP32, file, len, hid, hlen, &c, &err), ESPSEC_ERR_FORMAT);
    /* writing a protected block is refused */
    CHECK_ERR(espsec_efuse_stage_bytes(e, "BLOCK1", key, 32, &err), ESPSEC_ERR_PROTECTED);
    free(file);
    free(hid);
    espsec_efuse_free(a);
    espsec_efuse_free(b);
    espsec_efuse_free(e);
}

static void test_write_protect_field(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32);
    espsec_error_t err;
    int noop;
    CHECK_OK(espsec_efuse_stage_write_protect(e, "FLASH_CRYPT_CNT", NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    CHECK_ERR(espsec_efuse_stage_uint(e, "FLASH_CRYPT_CNT", 1, &noop, &err), ESPSEC_ERR_PROTECTED);
    CHECK_MSG(err, "write-protected");
    /* fields sharing the protection bit are protected too */
    CHECK_ERR(espsec_efuse_stage_uint(e, "UART_DOWNLOAD_DIS", 1, &noop, &err), ESPSEC_ERR_PROTECTED);
    /* a field without a protection bit cannot be protected */
    CHECK_ERR(espsec_efuse_stage_write_protect(e, "CHIP_PACKAGE", &err), ESPSEC_ERR_NOT_ALLOWED);
    espsec_efuse_free(e);
}

static void test_c3_purposes(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32C3);
    espsec_error_t err;
    uint8_t key[32] = {1, 2, 3};
    CHECK_OK(espsec_efuse_stage_key(e, 4, key, 32, "XTS_AES_128_KEY", 1, 1, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    uint64_t v = 0;
    CHECK_OK(espsec_efuse_get_uint(e, "KEY_PURPOSE_0", &v, NULL));
    CHECK(v == 4);
    int i = espsec_efuse_find(e, "KEY_PURPOSE_0");
    espsec_efuse_field_info_t fi;
    CHECK_OK(espsec_efuse_field_info(e, (size_t)i, &fi));
    CHECK(strcmp(fi.value, "XTS_AES_128_KEY") == 0 && !fi.writeable);
    int noop;
    CHECK_ERR(espsec_efuse_stage_uint(e, "KEY_PURPOSE_5", 4, &noop, &err), ESPSEC_ERR_NOT_ALLOWED);
    CHECK_ERR(espsec_efuse_stage_uint(e, "KEY_PURPOSE_1", 2, &noop, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK(espsec_chip_key_purpose(espsec_efuse_chip_info(e), "SECURE_BOOT_DIGEST1")->value == 10);
    espsec_efuse_free(e);
}

/* ESP32-P4 v3: a 5-bit purpose keeps its fifth bit in KEY_PURPOSE_n_H; each part burned where not zero. */
static void test_p4_wide_purpose(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32P4);
    int noop = 0;
    CHECK_OK(espsec_efuse_stage_uint(e, "KEY_PURPOSE_0", 16, &noop, NULL)); /* ECDSA_KEY_P192: low part 0 */
    CHECK(espsec_efuse_field_staged(e, "KEY_PURPOSE_0_H") && !espsec_efuse_field_staged(e, "KEY_PURPOSE_0"));
    CHECK_OK(espsec_efuse_stage_uint(e, "KEY_PURPOSE_1", 31, &noop, NULL)); /* CUSTOM_31 */
    CHECK_OK(espsec_efuse_burn(e, NULL));
    espsec_efuse_field_info_t fi;
    CHECK_OK(espsec_efuse_field_info(e, (size_t)espsec_efuse_find(e, "KEY_PURPOSE_0"), &fi));
    CHECK(strcmp(fi.value, "ECDSA_KEY_P192") == 0);
    CHECK_OK(espsec_efuse_field_info(e, (size_t)espsec_efuse_find(e, "KEY_PURPOSE_1"), &fi));
    CHECK(strcmp(fi.value, "CUSTOM_31") == 0);
    uint64_t lo = 0, hi = 0;
    CHECK_OK(espsec_efuse_get_uint(e, "KEY_PURPOSE_1", &lo, NULL));
    CHECK_OK(espsec_efuse_get_uint(e, "KEY_PURPOSE_1_H", &hi, NULL));
    CHECK(lo == 15 && hi == 1);
    /* a key staged over a purpose reports the field, what it was, and its write protection */
    uint8_t key[32] = {1};
    espsec_efuse_key_step_t st[2];
    int n = 0;
    CHECK_OK(espsec_efuse_stage_key_purpose(e, "BLOCK_KEY2", key, 32, "HMAC_UP", 0, 0, 0, st, &n, NULL));
    CHECK(n == 1 && strcmp(st[0].purpose_field, "KEY_PURPOSE_2") == 0 && strcmp(st[0].purpose_before, "USER") == 0 &&
          st[0].purpose_write_protected);
    espsec_efuse_free(e);
}

static void test_coding_34(void)
{
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32);
    espsec_error_t err;
    int noop;
    uint8_t key[32] = {9};
    CHECK_OK(espsec_efuse_stage_uint(e, "CODING_SCHEME", 1, &noop, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    CHECK(espsec_efuse_coding_34(e));
    CHECK_ERR(espsec_efuse_stage_key(e, 3, key, 32, NULL, 0, 0, &err), ESPSEC_ERR_INVALID_SIZE);
    CHECK_OK(espsec_efuse_stage_key(e, 3, key, 24, NULL, 0, 0, NULL));
    CHECK_OK(espsec_efuse_burn(e, NULL));
    uint8_t more[24] = {9, 1};
    CHECK(espsec_efuse_stage_bytes(e, "BLOCK3", more, 24, &err) != ESPSEC_OK);
    espsec_efuse_free(e);
}

static void test_unsupported(void)
{
    espsec_efuse_t *e = NULL;
    espsec_error_t err;
    CHECK_ERR(espsec_efuse_new(ESPSEC_CHIP_ESP8266, &e, &err), ESPSEC_ERR_CHIP);
    CHECK_MSG(err, "ESP8266");
    uint8_t junk[10] = {0};
    CHECK_ERR(espsec_efuse_load(ESPSEC_CHIP_ESP32, junk, sizeof(junk), NULL, 0, &e, &err), ESPSEC_ERR_INVALID_SIZE);
}

/* Fuses a chip must not have set together: one staged while the other is set or staged (S3's
 * DIS_USB_JTAG, DIS_USB_SERIAL_JTAG); every pair of the chip model names fields of its chip. */
static void test_exclusive_fuses(void)
{
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        const espsec_chip_info_t *c = espsec_chip_at(i);
        for (const espsec_chip_fuse_pair_t *p = c->exclusive_fuses; p != NULL && p->a != NULL; p++) {
            espsec_efuse_t *e = fresh(c->id);
            CHECK(espsec_efuse_find(e, p->a) >= 0 && espsec_efuse_find(e, p->b) >= 0 && p->why != NULL);
            espsec_efuse_free(e);
        }
    }
    static const struct {
        const char *burned, *staged[2];
        int conflict;
    } cases[] = {
        {NULL, {"DIS_USB_JTAG", "DIS_USB_SERIAL_JTAG"}, 1},
        {NULL, {"DIS_USB_SERIAL_JTAG", NULL}, 0},
        {"DIS_USB_JTAG", {"DIS_USB_SERIAL_JTAG", NULL}, 1},
        {"DIS_USB_SERIAL_JTAG", {"DIS_USB_JTAG", NULL}, 1},
        {"DIS_USB_JTAG", {"DIS_USB_OTG", NULL}, 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32S3);
        int noop = 0;
        char msg[160] = "";
        if (cases[k].burned != NULL) {
            CHECK_OK(espsec_efuse_stage_uint(e, cases[k].burned, 1, &noop, NULL));
            CHECK_OK(espsec_efuse_burn(e, NULL));
        }
        for (int j = 0; j < 2 && cases[k].staged[j] != NULL; j++) {
            CHECK_OK(espsec_efuse_stage_uint(e, cases[k].staged[j], 1, &noop, NULL));
        }
        CHECK(espsec_efuse_staged_conflict(e, msg, sizeof(msg)) == cases[k].conflict);
        CHECK(!cases[k].conflict || strcmp(msg, "DIS_USB_JTAG and DIS_USB_SERIAL_JTAG cannot be set together due to "
                                                 "a bug in the ROM bootloader!") == 0);
        espsec_efuse_free(e);
    }
    /* the C3 has both fuses and no such rule */
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32C3);
    int noop = 0;
    CHECK_OK(espsec_efuse_stage_uint(e, "DIS_USB_JTAG", 1, &noop, NULL));
    CHECK_OK(espsec_efuse_stage_uint(e, "DIS_USB_SERIAL_JTAG", 1, &noop, NULL));
    CHECK(espsec_efuse_staged_conflict(e, NULL, 0) == 0);
    espsec_efuse_free(e);
}

/* C2's one key block: the purposes one burn-key may name together, and a wrong key length. */
static void test_c2_key_purposes(void)
{
    const espsec_chip_info_t *c2 = espsec_chip_by_id(ESPSEC_CHIP_ESP32C2);
    static const struct {
        const char *p[2];
        int ok;
    } cases[] = {
        {{"XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS", "SECURE_BOOT_DIGEST"}, 1},
        {{"SECURE_BOOT_DIGEST", "XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS"}, 1},
        {{"XTS_AES_128_KEY", "SECURE_BOOT_DIGEST"}, 0},
        {{"USER", "XTS_AES_128_KEY"}, 0},
        {{"SECURE_BOOT_DIGEST", "USER"}, 0},
        {{"USER", "SECURE_BOOT_DIGEST"}, 1}, /* as espefuse: left to the staging (the bits clash there) */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        espsec_error_t err;
        espsec_err_t rc = espsec_efuse_check_key_purposes(c2, cases[k].p, 2, &err);
        CHECK((rc == ESPSEC_OK) == cases[k].ok);
    }
    espsec_error_t err;
    const char *two[2] = {"XTS_AES_128_KEY", "SECURE_BOOT_DIGEST"};
    CHECK_ERR(espsec_efuse_check_key_purposes(c2, two, 2, &err), ESPSEC_ERR_NOT_ALLOWED);
    CHECK_MSG(err, "These keypurposes are incompatible ['XTS_AES_128_KEY', 'SECURE_BOOT_DIGEST']");
    CHECK_OK(espsec_efuse_check_key_purposes(c2, two, 1, NULL));
    /* a chip with a key purpose per block has no such rule */
    CHECK_OK(espsec_efuse_check_key_purposes(espsec_chip_by_id(ESPSEC_CHIP_ESP32C3), two, 2, NULL));
    /* a wrong length names the field it was meant for (espefuse shows that line first) */
    espsec_efuse_t *e = fresh(ESPSEC_CHIP_ESP32C2);
    uint8_t key[32] = {1};
    espsec_efuse_key_step_t st[2];
    int n = 0;
    CHECK_ERR(espsec_efuse_stage_key_purpose(e, "BLOCK_KEY0", key, 16, "XTS_AES_128_KEY", 0, 0, 0, st, &n, &err),
              ESPSEC_ERR_INVALID_SIZE);
    CHECK_MSG(err, "Incorrect key file size 16. Key file must be 32 bytes (256 bits) of raw binary key data.");
    CHECK(n == 0 && st[0].field != NULL && strcmp(st[0].field, "BLOCK_KEY0") == 0 && st[0].len == 16 && st[0].reversed);
    CHECK_ERR(espsec_efuse_stage_key_purpose(e, "BLOCK_KEY0", key, 24, "SECURE_BOOT_DIGEST", 0, 0, 0, st, &n, &err),
              ESPSEC_ERR_INVALID_SIZE);
    CHECK_MSG(err, "Wrong length of this file for SECURE_BOOT_DIGEST. Got 24 (expected 32 or 16)");
    CHECK(n == 0 && st[0].field == NULL);
    CHECK(!espsec_efuse_has_staged(e));
    /* a 32-byte digest keeps its first 128 bits */
    CHECK_OK(espsec_efuse_stage_key_purpose(e, "BLOCK_KEY0", key, 32, "SECURE_BOOT_DIGEST", 0, 0, 0, st, &n, NULL));
    CHECK(n == 1 && st[0].digest_cut && st[0].len == 16 && strcmp(st[0].field, "BLOCK_KEY0_HI_128") == 0);
    espsec_efuse_free(e);
}

int main(void)
{
    RUN(test_bits_only_set);
    RUN(test_protection_and_hidden);
    RUN(test_write_protect_field);
    RUN(test_c3_purposes);
    RUN(test_p4_wide_purpose);
    RUN(test_coding_34);
    RUN(test_unsupported);
    RUN(test_exclusive_fuses);
    RUN(test_c2_key_purposes);
    return test_done();
}
