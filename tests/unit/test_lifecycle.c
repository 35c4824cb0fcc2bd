/*
 * After the first boot: eFuse power-cut injection, the bootloader's otadata
 * rules with app rollback, and the provisioning power-cut sweep.
 */
#include "device/dev_internal.h"
#include "espsec/device.h"
#include "espsec/powercut.h"
#include "espsec/util.h"
#include "test.h"
#include "util/bytes.h"

/* A cut block program does not land; what was programmed before it stays; power on, and burns work again. */
static void test_efuse_cut(void)
{
    espsec_efuse_t *e = NULL;
    espsec_error_t err;
    uint8_t key[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(i + 1);
    }
    for (uint64_t cut = 0; cut < 3; cut++) {
        CHECK_OK(espsec_efuse_new(ESPSEC_CHIP_ESP32, &e, &err));
        CHECK_OK(espsec_efuse_stage_key(e, 1, key, 32, NULL, 1, 1, &err)); /* BLOCK1 + its protection in BLOCK0 */
        espsec_efuse_cut_after(e, cut);
        uint64_t before = espsec_efuse_program_count(e);
        espsec_err_t rc = espsec_efuse_burn(e, &err);
        uint8_t hw[32];
        int known = 0;
        CHECK_OK(espsec_efuse_get_block_hw(e, 1, hw, &known, &err));
        if (cut == 0) { /* BLOCK1 is the first program */
            CHECK(rc == ESPSEC_ERR_POWER_CUT && espsec_efuse_is_cut(e));
            CHECK_MSG(err, "power cut while programming eFuse BLOCK1");
            CHECK(hw[0] == 0 && espsec_efuse_block_readable(e, 1));
        } else if (cut == 1) { /* the key landed, BLOCK0 (its RD_DIS/WR_DIS) did not */
            CHECK(rc == ESPSEC_ERR_POWER_CUT);
            CHECK_MSG(err, "BLOCK0");
            CHECK(hw[0] != 0 && espsec_efuse_block_readable(e, 1) && espsec_efuse_block_writeable(e, 1));
            CHECK(!espsec_efuse_has_staged(e)); /* the controller's registers are gone */
            /* powered off: nothing burns */
            CHECK_OK(espsec_efuse_stage_uint(e, "JTAG_DISABLE", 1, &(int){0}, &err));
            CHECK(espsec_efuse_burn(e, &err) == ESPSEC_ERR_POWER_CUT);
            espsec_efuse_power_on(e);
            CHECK_OK(espsec_efuse_stage_uint(e, "JTAG_DISABLE", 1, &(int){0}, &err));
            CHECK_OK(espsec_efuse_burn(e, &err));
            uint64_t v = 0;
            CHECK_OK(espsec_efuse_get_uint(e, "JTAG_DISABLE", &v, &err));
            CHECK(v == 1);
        } else { /* two programs: a cut after them never comes */
            CHECK_OK(rc);
            CHECK(!espsec_efuse_is_cut(e) && espsec_efuse_program_count(e) == before + 2);
            CHECK(!espsec_efuse_block_readable(e, 1));
        }
        espsec_efuse_free(e);
    }
}

static void put_entry(uint8_t *p, uint32_t seq, uint32_t state)
{
    memset(p, 0xFF, 32);
    put_le32(p, seq);
    put_le32(p + 24, state);
    put_le32(p + 28, espsec_crc32(0xFFFFFFFFu, p, 4));
}

/* bootloader_utility's states with app rollback: NEW -> PENDING_VERIFY -> ABORTED, the older entry wins then. */
static void test_otadata_rollback(void)
{
    espsec_flash_t *f = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_new(0x4000, &f, &err));
    uint8_t e[32];
    put_entry(e, 1, DEV_OTA_VALID);
    CHECK_OK(espsec_flash_write(f, 0x1000, e, 32, &err));
    put_entry(e, 2, DEV_OTA_NEW);
    CHECK_OK(espsec_flash_write(f, 0x2000, e, 32, &err));
    int changed = 0;
    /* without rollback nothing is written and the newest entry boots */
    CHECK(dev_otadata_boot_select(f, NULL, 0x1000, 2, 0, &changed, &err) == 1 && !changed);
    /* first boot of the update: it boots, now pending */
    CHECK(dev_otadata_boot_select(f, NULL, 0x1000, 2, 1, &changed, &err) == 1 && changed);
    dev_otadata_entry_t two[2];
    CHECK_OK(dev_otadata_read(f, NULL, 0x1000, two, &err));
    CHECK(two[1].state == DEV_OTA_PENDING_VERIFY && two[1].seq == 2 && two[1].crc == dev_otadata_crc(&two[1]));
    /* not confirmed: aborted, the previous slot boots */
    CHECK(dev_otadata_boot_select(f, NULL, 0x1000, 2, 1, &changed, &err) == 0 && changed);
    CHECK_OK(dev_otadata_read(f, NULL, 0x1000, two, &err));
    CHECK(two[1].state == DEV_OTA_ABORTED && two[0].state == DEV_OTA_VALID);
    CHECK(dev_otadata_boot_select(f, NULL, 0x1000, 2, 1, &changed, &err) == 0 && !changed);
    CHECK(dev_otadata_active(two) == 0);
    /* a cut while rewriting an entry: the erased sector is an invalid entry, the other still selects */
    espsec_flash_cut_after(f, 0, 0, 1);
    CHECK(dev_otadata_write(f, NULL, 0x1000, 0, &two[0], &err) == ESPSEC_ERR_POWER_CUT);
    espsec_flash_power_on(f);
    CHECK(dev_otadata_boot_select(f, NULL, 0x1000, 2, 1, &changed, &err) == 0);
    espsec_flash_free(f);
}

static int sweep(const char *sdk, int tear, espsec_pc_point_t **pts, espsec_pc_summary_t *s)
{
    size_t fl_len;
    uint8_t *flash = vec("device/expected/flash_plain.bin", &fl_len);
    espsec_efuse_t *e = NULL;
    espsec_flash_t *f = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_efuse_new(ESPSEC_CHIP_ESP32, &e, &err));
    CHECK_OK(espsec_flash_from(flash, fl_len, &f, &err));
    espsec_device_config_t c;
    CHECK_OK(espsec_sdkconfig_parse(sdk, strlen(sdk), "t", &c, &err));
    static const uint8_t seed[32] = {7};
    espsec_pc_opts_t o = {.config = &c, .random_seed = seed, .tear = tear, .tear_seed = 3};
    espsec_err_t rc = espsec_powercut_sweep(e, f, &o, pts, s, &err);
    CHECK_OK(rc);
    if (rc != ESPSEC_OK) {
        fprintf(stderr, "sweep: %s\n", err.msg);
    }
    /* the inputs are not touched */
    CHECK(memcmp(espsec_flash_data(f), flash, fl_len) == 0 && espsec_efuse_program_count(e) == 0);
    espsec_efuse_free(e);
    espsec_flash_free(f);
    free(flash);
    return rc == ESPSEC_OK;
}

static void test_sweep(void)
{
    const char *dev = "CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n"
                      "CONFIG_SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y\nCONFIG_NVS_ENCRYPTION=y\n";
    for (int tear = 0; tear < 2; tear++) {
        espsec_pc_point_t *p = NULL;
        espsec_pc_summary_t s;
        if (!sweep(dev, tear, &p, &s)) {
            continue;
        }
        CHECK(s.points == s.efuse_programs + s.flash_ops && s.points > 60 && s.efuse_programs >= 5);
        CHECK(s.count[0] + s.count[1] + s.count[2] + s.count[3] == s.points);
        CHECK(s.count[ESPSEC_PC_BRICKED] == 0); /* download mode stays open: every cut can be re-flashed */
        uint64_t last = 0;
        for (size_t i = 0; i < s.points; i++) {
            uint64_t t = p[i].flash_before + p[i].efuse_before;
            CHECK(t >= last); /* in the order they happen */
            last = t;
        }
        /* the Secure Boot digest's block program: cut, nothing burned, the next boot starts over */
        CHECK(p[0].efuse && strstr(p[0].what, "BLOCK2") != NULL && p[0].outcome == ESPSEC_PC_RECOVERS);
        /* the flash key without its protection: the bootloader refuses it, espefuse's protection fixes it */
        int key_half = 0, counter_last = 0;
        for (size_t i = 1; i < s.points; i++) {
            key_half |= p[i].efuse && p[i - 1].efuse && strstr(p[i - 1].what, "BLOCK1") != NULL &&
                        p[i].outcome == ESPSEC_PC_REFLASH && strstr(p[i].detail, "ESP_ERR_INVALID_STATE") != NULL;
        }
        /* the last cut is the crypt counter: all encrypted, the ROM still reads plaintext */
        counter_last = p[s.points - 1].efuse && p[s.points - 1].outcome == ESPSEC_PC_REFLASH;
        CHECK(key_half && counter_last);
        /* every cut while the flash is rewritten in place needs a re-flash (none tears its way to a boot) */
        size_t inplace = 0;
        for (size_t i = 0; i < s.points; i++) {
            if (!p[i].efuse && strstr(p[i].what, "program") != NULL) {
                inplace++;
                CHECK(p[i].outcome == ESPSEC_PC_REFLASH);
            }
        }
        CHECK(inplace > 20);
        free(p);
    }
    /* ROM download mode disabled with Secure Boot, before the flash is encrypted: those cuts brick */
    const char *locked = "CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n"
                         "CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_SECURE_DISABLE_ROM_DL_MODE=y\nCONFIG_NVS_ENCRYPTION=y\n";
    espsec_pc_point_t *p = NULL;
    espsec_pc_summary_t s;
    if (sweep(locked, 0, &p, &s)) {
        CHECK(s.count[ESPSEC_PC_BRICKED] > 20);
        for (size_t i = 0; i < s.points; i++) {
            if (p[i].outcome == ESPSEC_PC_BRICKED) {
                CHECK(strstr(p[i].detail, "Failed to connect") != NULL || strstr(p[i].detail, "download mode") != NULL);
            }
        }
        free(p);
    }
}

int main(void)
{
    RUN(test_efuse_cut);
    RUN(test_otadata_rollback);
    RUN(test_sweep);
    return test_done();
}
