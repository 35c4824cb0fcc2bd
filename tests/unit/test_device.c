/*
 * The virtual device through the library: sdkconfig reading, otadata, the
 * boot of Espressif-made vectors, and reproducible provisioning.
 */
#include <unistd.h>

#include "device/dev_internal.h"
#include "espsec/device.h"
#include "espsec/flash_enc.h"
#include "espsec/util.h"
#include "test.h"
#include "util/bytes.h"

static void test_sdkconfig(void)
{
    espsec_device_config_t c;
    espsec_error_t err;
    const char *t = "# comment\n\nCONFIG_IDF_TARGET=\"esp32c3\"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n"
                    "CONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n"
                    "# CONFIG_SECURE_BOOT_ALLOW_JTAG is not set\nCONFIG_PARTITION_TABLE_OFFSET=0x10000\r\n"
                    "CONFIG_NVS_ENCRYPTION=y\nCONFIG_SOMETHING_ELSE=42\n";
    CHECK_OK(espsec_sdkconfig_parse(t, strlen(t), "sdkconfig", &c, &err));
    CHECK(c.chip == ESPSEC_CHIP_ESP32C3 && c.have_target);
    CHECK(c.secure_boot && c.secure_boot_version == 2 && c.flash_encryption && c.flash_enc_release);
    CHECK(!c.sb_allow_jtag && c.nvs_encryption && c.pt_offset == 0x10000);
    espsec_device_config_default(&c);
    CHECK(!c.secure_boot && !c.flash_encryption && c.pt_offset == 0x8000 && c.chip == ESPSEC_CHIP_ESP32);
    const char *bad = "CONFIG_A=y\nnonsense\n";
    CHECK(espsec_sdkconfig_parse(bad, strlen(bad), "p.cfg", &c, &err) == ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "p.cfg: line 2:");
    const char *off = "CONFIG_PARTITION_TABLE_OFFSET=0x8100\n";
    CHECK(espsec_sdkconfig_parse(off, strlen(off), "p.cfg", &c, &err) == ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "4 KiB-aligned");
    const char *e8266 = "CONFIG_IDF_TARGET=\"esp8266\"\n";
    CHECK(espsec_sdkconfig_parse(e8266, strlen(e8266), "p.cfg", &c, &err) == ESPSEC_ERR_CHIP);
    CHECK_MSG(err, "ESP8266 has no Secure Boot");
    const char *v1c3 = "CONFIG_IDF_TARGET=\"esp32c3\"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V1_ENABLED=y\n";
    CHECK(espsec_sdkconfig_parse(v1c3, strlen(v1c3), "p.cfg", &c, &err) != ESPSEC_OK);
}

static void put_entry(uint8_t *p, uint32_t seq, uint32_t state)
{
    memset(p, 0xFF, 32);
    put_le32(p, seq);
    put_le32(p + 24, state);
    put_le32(p + 28, espsec_crc32(0xFFFFFFFFu, p, 4));
}

static void test_otadata(void)
{
    static uint8_t od[0x2000];
    uint32_t seq = 0;
    memset(od, 0xFF, sizeof(od));
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == -1); /* blank: factory */
    put_entry(od, 1, 0xFFFFFFFFu);
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == 0 && seq == 1);
    put_entry(od + 0x1000, 2, 0xFFFFFFFFu);
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == 1 && seq == 2);
    put_entry(od + 0x1000, 5, 0xFFFFFFFFu);
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == 0); /* (5 - 1) % 2 */
    CHECK(dev_otadata_slot(od, sizeof(od), 3, &seq) == 1); /* (5 - 1) % 3 */
    od[0x1000 + 28] ^= 1; /* bad CRC: the other sector wins */
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == 0 && seq == 1);
    put_entry(od + 0x1000, 9, 3); /* ESP_OTA_IMG_INVALID */
    CHECK(dev_otadata_slot(od, sizeof(od), 2, &seq) == 0 && seq == 1);
}

static espsec_efuse_t *load_efuse(const char *rel)
{
    size_t len;
    uint8_t *b = vec(rel, &len);
    espsec_efuse_t *e = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_efuse_load(ESPSEC_CHIP_ESP32, b, len, NULL, 0, &e, &err));
    free(b);
    return e;
}

static void test_vectors_boot(void)
{
    size_t fl_len, kl;
    uint8_t *flash = vec("device/expected/flash_secured.bin", &fl_len), *key = vec("device/input/flash_key.bin", &kl);
    espsec_efuse_t *e = load_efuse("device/input/efuse_secured.bin");
    espsec_flash_t *f = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_from(flash, fl_len, &f, &err));
    espsec_boot_opts_t o = {.flash_key = key, .flash_key_len = kl};
    espsec_boot_result_t r;
    CHECK_OK(espsec_device_boot(e, f, &o, &r, &err));
    CHECK(r.booted && r.secure_boot == 2 && r.flash_encryption && !r.provisioned);
    CHECK(strcmp(r.app.project_name, "hello_pub") == 0 && strcmp(r.app.version, "1.2.3") == 0);
    CHECK(memcmp(espsec_flash_data(f), flash, fl_len) == 0);
    /* a flipped bit anywhere in the signed app's image is refused */
    for (uint32_t off = 0x10020; off < 0x26000; off += 0x3001) {
        espsec_flash_t *g = NULL;
        flash[off] ^= 0x10;
        CHECK_OK(espsec_flash_from(flash, fl_len, &g, &err));
        CHECK_OK(espsec_device_boot(e, g, &o, &r, &err));
        CHECK(!r.booted);
        flash[off] ^= 0x10;
        espsec_flash_free(g);
    }
    /* without the key the simulation cannot run, and says why */
    o.flash_key = NULL;
    o.flash_key_len = 0;
    CHECK(espsec_device_boot(e, f, &o, &r, &err) == ESPSEC_ERR_KEY);
    CHECK_MSG(err, "--flash-key");
    espsec_flash_free(f);
    espsec_efuse_free(e);
    free(flash);
    free(key);
}

/* The same seed gives the same provisioned chip, byte for byte; another seed another key. */
static void provision(const uint8_t seed[32], uint8_t **flash_out, uint8_t **efuse_out)
{
    size_t fl_len;
    uint8_t *flash = vec("device/expected/flash_plain.bin", &fl_len);
    espsec_efuse_t *e = NULL;
    espsec_flash_t *f = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_efuse_new(ESPSEC_CHIP_ESP32, &e, &err));
    CHECK_OK(espsec_flash_from(flash, fl_len, &f, &err));
    espsec_device_config_t c;
    const char *t = "CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n"
                    "CONFIG_NVS_ENCRYPTION=y\n";
    CHECK_OK(espsec_sdkconfig_parse(t, strlen(t), "t", &c, &err));
    espsec_boot_opts_t o = {.config = &c, .provision = 1, .random_seed = seed};
    espsec_boot_result_t r;
    CHECK_OK(espsec_device_boot(e, f, &o, &r, &err));
    CHECK(r.booted && r.provisioned && r.efuse_changed && r.flash_changed);
    /* not allowed to provision: the device stops before burning anything */
    espsec_efuse_t *e2 = NULL;
    espsec_flash_t *f2 = NULL;
    CHECK_OK(espsec_efuse_new(ESPSEC_CHIP_ESP32, &e2, &err));
    CHECK_OK(espsec_flash_from(flash, fl_len, &f2, &err));
    o.provision = 0;
    CHECK_OK(espsec_device_boot(e2, f2, &o, &r, &err));
    CHECK(!r.booted && !r.efuse_changed && !r.flash_changed);
    CHECK(memcmp(espsec_flash_data(f2), flash, fl_len) == 0);
    espsec_efuse_free(e2);
    espsec_flash_free(f2);
    *flash_out = malloc(fl_len);
    memcpy(*flash_out, espsec_flash_data(f), fl_len);
    uint8_t *file = NULL, *hidden = NULL;
    size_t flen, hlen;
    CHECK_OK(espsec_efuse_serialize(e, &file, &flen, &hidden, &hlen, &err));
    *efuse_out = malloc(flen + hlen);
    memcpy(*efuse_out, file, flen);
    if (hidden) {
        memcpy(*efuse_out + flen, hidden, hlen);
    }
    free(file);
    free(hidden);
    espsec_efuse_free(e);
    espsec_flash_free(f);
    free(flash);
}

static void test_reproducible_provisioning(void)
{
    uint8_t s1[32], s2[32];
    memset(s1, 1, sizeof(s1));
    memset(s2, 2, sizeof(s2));
    uint8_t *fa, *ea, *fb, *eb, *fc, *ec;
    provision(s1, &fa, &ea);
    provision(s1, &fb, &eb);
    provision(s2, &fc, &ec);
    CHECK(memcmp(fa, fb, 4u << 20) == 0 && memcmp(ea, eb, 2 * 288) == 0);
    CHECK(memcmp(fa, fc, 4u << 20) != 0);
    free(fa);
    free(fb);
    free(fc);
    free(ea);
    free(eb);
    free(ec);
}

/* Flash encryption as a layer over the NOR flash; flash images as files. */
static void test_flash_crypt_layer(void)
{
    static const uint8_t key32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    for (int mode = 0; mode < 2; mode++) {
        espsec_flash_enc_params_t p = {mode ? ESPSEC_FE_XTS : ESPSEC_FE_ESP32, 0xF};
        espsec_fe_ctx_t *fe = NULL;
        espsec_flash_t *f = NULL;
        espsec_error_t err;
        CHECK_OK(espsec_fe_new(&p, key32, 32, &fe, &err));
        CHECK_OK(espsec_flash_new(0x10000, &f, &err));
        uint8_t plain[4096], back[4096];
        for (size_t i = 0; i < sizeof(plain); i++) {
            plain[i] = (uint8_t)(i * 7 + mode);
        }
        CHECK_OK(espsec_flash_write_crypt(f, fe, 0x3000, plain, sizeof(plain), &err));
        CHECK(memcmp(espsec_flash_data(f) + 0x3000, plain, 64) != 0); /* ciphertext on flash */
        CHECK_OK(espsec_flash_read_crypt(f, fe, 0x3000, back, sizeof(back), &err));
        CHECK(memcmp(back, plain, sizeof(plain)) == 0);
        CHECK_OK(espsec_flash_read_crypt(f, fe, 0x3000 + 77, back, 301, &err)); /* any slice */
        CHECK(memcmp(back, plain + 77, 301) == 0);
        /* the same through the file functions of the flash_enc module */
        uint8_t direct[4096];
        CHECK_OK(espsec_fe_crypt(fe, 0x3000, plain, direct, sizeof(direct), 0, &err));
        CHECK(memcmp(direct, espsec_flash_data(f) + 0x3000, sizeof(direct)) == 0);
        /* NOR rules hold for the ciphertext: no second write without an erase; alignment enforced */
        CHECK(espsec_flash_write_crypt(f, fe, 0x3000, plain + 1, 16, &err) == ESPSEC_ERR_FLASH_PROGRAM);
        CHECK(espsec_flash_write_crypt(f, fe, 0x5008, plain, 16, &err) == ESPSEC_ERR_INVALID_ARG);
        CHECK(espsec_flash_read_crypt(f, fe, 0xFFF0, back, 32, &err) != ESPSEC_OK);
        /* a file round trip */
        char path[] = "/tmp/espsec-flash-XXXXXX";
        int fd = mkstemp(path);
        close(fd);
        CHECK_OK(espsec_flash_save(f, path, &err));
        espsec_flash_t *g = NULL;
        CHECK_OK(espsec_flash_load(path, &g, &err));
        CHECK(g != NULL && espsec_flash_size(g) == 0x10000 &&
              memcmp(espsec_flash_data(g), espsec_flash_data(f), 0x10000) == 0);
        espsec_flash_free(g);
        FILE *t = fopen(path, "w");
        fputs("not a flash", t);
        fclose(t);
        CHECK(espsec_flash_load(path, &g, &err) == ESPSEC_ERR_INVALID_SIZE);
        CHECK_MSG(err, "not a flash image");
        unlink(path);
        espsec_flash_free(f);
        espsec_fe_free(fe);
    }
}

int main(void)
{
    RUN(test_flash_crypt_layer);
    RUN(test_sdkconfig);
    RUN(test_otadata);
    RUN(test_vectors_boot);
    RUN(test_reproducible_provisioning);
    return test_done();
}
