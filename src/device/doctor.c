/*
 * Pre-burn checks (espsec/device.h): the mistakes that brick devices or
 * leave them open, found from the eFuses, the flash and the project's
 * sdkconfig before anything irreversible happens. Nothing is changed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dev_internal.h"
#include "espsec/util.h"
#include "util/bytes.h"

typedef struct {
    espsec_doctor_finding_t *v;
    size_t n, cap;
    int oom;
} list_t;

static void add(list_t *l, espsec_doctor_severity_t sev, const char *id, const char *expl, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void add(list_t *l, espsec_doctor_severity_t sev, const char *id, const char *expl, const char *fix,
                const char *fmt, ...)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        espsec_doctor_finding_t *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->oom = 1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    espsec_doctor_finding_t *f = &l->v[l->n++];
    memset(f, 0, sizeof(*f));
    f->severity = sev;
    snprintf(f->id, sizeof(f->id), "%s", id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    snprintf(f->explanation, sizeof(f->explanation), "%s", expl);
    snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

const char *espsec_doctor_severity_name(espsec_doctor_severity_t s)
{
    return s == ESPSEC_DOCTOR_ERROR ? "error" : s == ESPSEC_DOCTOR_WARNING ? "warning" : "info";
}

/* An image read from flash, its signature blocks. */
typedef struct {
    int present;      /* a parseable image (magic, structure) */
    int valid;        /* checksum and hash good */
    int plain_under_fe; /* flash encryption is on but this region holds a plaintext image */
    espsec_image_t img;
    size_t padded;
    int nblocks;      /* valid signature blocks whose digest matches */
    uint8_t key_digests[3][32];
    char problem[200];
} dimage_t;

static void read_image(const espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t addr, size_t max, dimage_t *di)
{
    memset(di, 0, sizeof(*di));
    size_t size = espsec_flash_size(fl);
    if (addr >= size) {
        snprintf(di->problem, sizeof(di->problem), "0x%x is past the end of the flash", addr);
        return;
    }
    size_t len = max < size - addr ? max : size - addr;
    uint8_t *buf = malloc(len);
    if (buf == NULL) {
        return;
    }
    espsec_error_t e;
    if (dev_read(fl, fe, addr, buf, len, &e) == ESPSEC_OK) {
        if (buf[0] != 0xE9 && fe != NULL) {
            /* not an image once decrypted: is it a plaintext image written under flash encryption? */
            uint8_t first;
            espsec_flash_read(fl, addr, &first, 1, NULL);
            di->plain_under_fe = first == 0xE9;
        }
        if (espsec_image_parse(buf, len, &di->img, &e) == ESPSEC_OK) {
            di->present = 1;
            di->valid = espsec_image_check(&di->img, &e) == ESPSEC_OK;
            if (!di->valid) {
                snprintf(di->problem, sizeof(di->problem), "%.190s", e.msg);
            }
            di->padded = (di->img.image_len + 4095) & ~(size_t)4095;
            espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
            if (di->padded + 4096 <= len && espsec_sbv2_info(buf, di->padded + 4096, 0, info, &e) == ESPSEC_OK) {
                for (int b = 0; b < ESPSEC_SBV2_MAX_BLOCKS; b++) {
                    if (info[b].present && info[b].digest_matches &&
                        espsec_sbv2_verify_block(buf + di->padded + (size_t)b * ESPSEC_SBV2_BLOCK_SIZE,
                                                 info[b].digest, info[b].digest_len, di->key_digests[di->nblocks],
                                                 NULL) == ESPSEC_OK) {
                        di->nblocks++;
                    }
                }
            }
        } else {
            snprintf(di->problem, sizeof(di->problem), "%.190s", e.msg);
        }
    }
    free(buf);
}

static int digest_in_n(const uint8_t d[32], const uint8_t set[][32], int n, size_t len)
{
    for (int i = 0; i < n; i++) {
        if (espsec_ct_compare(d, set[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Is purpose (by name) one that BLOCK_KEY5 cannot hold on this chip (SOC_EFUSE_BLOCK9_KEY_PURPOSE_QUIRK)? */
static int key5_forbidden(const espsec_chip_info_t *ci, const char *purpose)
{
    for (size_t i = 0; i < sizeof(ci->fe.key5_forbidden) / sizeof(ci->fe.key5_forbidden[0]); i++) {
        if (ci->fe.key5_forbidden[i] != NULL && strcmp(ci->fe.key5_forbidden[i], purpose) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A key block the bootloader can still take: no purpose, all zeros, readable (esp_efuse_key_block_unused). */
static int key_block_free(const espsec_efuse_t *ef, int k)
{
    char name[32], bname[32];
    uint64_t p = 0;
    uint8_t b[32];
    snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
    snprintf(bname, sizeof(bname), "BLOCK_KEY%d", k);
    int bn = espsec_efuse_block_by_name(ef, bname);
    if (bn < 0 || espsec_efuse_get_uint_hw(ef, name, &p, NULL) != ESPSEC_OK || p != 0 ||
        !espsec_efuse_block_readable(ef, bn)) {
        return 0;
    }
    espsec_efuse_get_block(ef, bn, b);
    uint8_t acc = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        acc |= b[i];
    }
    return acc == 0;
}

/*
 * Key purposes the chip cannot use: a value the chip does not define, a purpose BLOCK_KEY5 cannot hold, and a
 * plan whose first boot needs more usable key blocks than are left (the bootloader takes the Secure Boot digest
 * first, then the flash key, each in the lowest free block that may hold it).
 */
static void key_block_rules(list_t *L, const espsec_efuse_t *ef, const espsec_chip_info_t *ci, const dev_fuses_t *fu,
                            const espsec_device_config_t *cfg)
{
    if (!ci->fe.key_purpose_field) {
        return;
    }
    for (int k = 0; k < 6; k++) {
        char name[32];
        uint64_t p = 0;
        snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
        if (espsec_efuse_get_uint_hw(ef, name, &p, NULL) != ESPSEC_OK || p == 0) {
            continue;
        }
        const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(ci, (int)p);
        if (kp == NULL) {
            add(L, ESPSEC_DOCTOR_ERROR, "key-purpose-unknown",
                "The ROM and ESP-IDF match key blocks by purpose: a value the chip does not define is a block no "
                "peripheral will ever use, and its key is lost (the purpose is write-protected with the key).",
                "Burn keys with a purpose name the chip lists (espsec efuse burn-key --help), never KEY_PURPOSE_n "
                "by number.",
                "%s is %u, which the %s does not define", name, (unsigned)p, ci->display);
        } else if (k == 5 && key5_forbidden(ci, kp->name)) {
            add(L, ESPSEC_DOCTOR_ERROR, "key5-purpose-unusable",
                "A hardware bug keeps BLOCK_KEY5 (BLOCK9) from feeding this purpose to its peripheral (ESP-IDF's "
                "SOC_EFUSE_BLOCK9_KEY_PURPOSE_QUIRK, refused by espefuse): the key there is never used, so flash "
                "encryption (or the ECDSA key) does not work with it.",
                "Use BLOCK_KEY0..4 for this purpose; BLOCK_KEY5 can hold HMAC keys and Secure Boot digests.",
                "BLOCK_KEY5 has the purpose %s, which the %s cannot use in that block", kp->name, ci->display);
        }
    }
    if (cfg == NULL || ci->fe.shared_key0) {
        return;
    }
    const int sb_new = cfg->secure_boot && cfg->secure_boot_version == 2 && fu->sb == 0 &&
                       fu->sb_digest_blk[0] < 0 && fu->sb_digest_blk[1] < 0 && fu->sb_digest_blk[2] < 0;
    const int fe_new = cfg->flash_encryption && !fu->fe_on && fu->crypt_cnt == 0 && fu->fe_key_blank;
    if (!sb_new && !fe_new) {
        return;
    }
    const int fe_two = cfg->fe_aes256 && !cfg->fe_aes128_derived && (ci->fe.modes & ESPSEC_FE_MODE_XTS256);
    const char *fe_purpose = fe_two ? "XTS_AES_256_KEY_1" : "XTS_AES_128_KEY";
    unsigned used = 0;
    int missing = 0;
    const char *what = NULL;
    for (int need = 0; need < (sb_new ? 1 : 0) + (fe_new ? (fe_two ? 2 : 1) : 0); need++) {
        const int is_sb = sb_new && need == 0;
        const char *purpose = is_sb ? "SECURE_BOOT_DIGEST0" : fe_purpose;
        int got = 0;
        for (int k = 0; k < 6 && !got; k++) {
            if (!(used & (1u << k)) && key_block_free(ef, k) && !(k == 5 && key5_forbidden(ci, purpose))) {
                used |= 1u << k;
                got = 1;
            }
        }
        if (!got) {
            missing++;
            what = what != NULL ? what : is_sb ? "the Secure Boot digest" : "the flash encryption key";
        }
    }
    if (missing > 0) {
        char blocks[64] = "";
        for (int k = 0; k < 6; k++) {
            if (key_block_free(ef, k)) {
                size_t n = strlen(blocks);
                snprintf(blocks + n, sizeof(blocks) - n, "%sBLOCK_KEY%d", n ? ", " : "", k);
            }
        }
        add(L, ESPSEC_DOCTOR_ERROR, "key-blocks-exhausted",
            "On first boot the bootloader puts the Secure Boot digest and the flash encryption key in free key "
            "blocks; with too few left (BLOCK_KEY5 cannot take a flash key on some chips) it stops ('Not enough "
            "free efuse key blocks') and the app never starts (with Secure Boot, after its digest is burned).",
            "Keep enough key blocks free for the plan (one digest, one flash key, two for XTS-AES-256), or burn the "
            "keys yourself into the blocks that can hold them before the first boot.",
            "the first boot needs a key block for %s but none is left that can hold it (free: %s)", what,
            blocks[0] ? blocks : "none");
    }
}

/* What the eFuses alone (and the plan) say, before any image is read. */
/*
 * NVS encryption with the HMAC scheme: nvs_flash_init derives the NVS keys from the HMAC_UP key in
 * BLOCK_KEY<CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID>, and burns one there (read-protected) on the first start if the block
 * is free. Secure Boot V2's first boot write-protects RD_DIS unless CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS: then
 * the key burns but cannot be read-protected, esp_efuse_write_key fails and the key stays readable (esp-idf#13909).
 */
static void nvs_hmac_rules(list_t *L, const espsec_efuse_t *ef, const dev_chip_t *chip, const dev_fuses_t *fu,
                           const espsec_device_config_t *cfg)
{
    if (!cfg->nvs_encryption || !cfg->nvs_hmac) {
        return;
    }
    const espsec_key_purpose_t *hp = espsec_chip_key_purpose(chip->ci, "HMAC_UP");
    if (hp == NULL) {
        add(L, ESPSEC_DOCTOR_ERROR, "nvs-hmac-unsupported", "The HMAC NVS key scheme needs the HMAC peripheral.",
            "Use the flash-encryption scheme (CONFIG_NVS_SEC_KEY_PROTECT_USING_FLASH_ENC) and an nvs_keys partition.",
            "NVS encryption with the HMAC scheme on the %s, which has no HMAC peripheral", chip->ci->display);
        return;
    }
    const int id = cfg->nvs_hmac_key_id;
    if (id < 0 || id > 5) {
        add(L, ESPSEC_DOCTOR_ERROR, "nvs-hmac-key-id",
            "nvs_flash_init takes the HMAC key from the eFuse key block CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID names; with "
            "none named it fails ('Invalid HMAC key ID received!').",
            "Set CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID to a free key block (0..5) or to the block holding the HMAC_UP key.",
            "NVS encryption with the HMAC scheme but CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID is %d", id);
        return;
    }
    char bname[16], pname[16];
    snprintf(bname, sizeof(bname), "BLOCK_KEY%d", id);
    snprintf(pname, sizeof(pname), "KEY_PURPOSE_%d", id);
    const int bn = espsec_efuse_block_by_name(ef, bname);
    uint64_t pv = 0;
    if (bn < 0 || espsec_efuse_get_uint_hw(ef, pname, &pv, NULL) != ESPSEC_OK) {
        return;
    }
    if (pv == (uint64_t)hp->value) {
        if (espsec_efuse_block_readable(ef, bn)) {
            add(L, ESPSEC_DOCTOR_ERROR, "nvs-hmac-key-readable",
                "The NVS encryption keys are HMACs of fixed seeds with this key: anyone who reads the eFuses "
                "(software, espefuse) can compute them and decrypt NVS.",
                fu->rd_dis_locked ? "RD_DIS is write-protected, so the key can no longer be hidden: treat NVS on this "
                                    "chip as unencrypted, and on new chips burn the key read-protected before "
                                    "Secure Boot's first boot."
                                  : "Read-protect the key block (espsec efuse read-protect-efuse BLOCK_KEYn).",
                "%s holds the NVS HMAC key (HMAC_UP) but is not read-protected", bname);
        }
        return;
    }
    if (!key_block_free(ef, id)) {
        add(L, ESPSEC_DOCTOR_ERROR, "nvs-hmac-key-block-used",
            "nvs_flash_init burns its HMAC key only into a free key block; esp_efuse_write_key refuses a used one "
            "(ESP_ERR_INVALID_STATE) and NVS does not start.",
            "Point CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID at a free key block, or burn the HMAC key there (HMAC_UP).",
            "CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=%d but %s is already used (purpose %u)", id, bname, (unsigned)pv);
        return;
    }
    const int sb_locks = !fu->rd_dis_locked && fu->sb == 0 && cfg->secure_boot && cfg->secure_boot_version == 2 &&
                         !cfg->sb_allow_efuse_rd_dis;
    if (fu->rd_dis_locked || sb_locks) {
        add(L, ESPSEC_DOCTOR_ERROR, "nvs-hmac-rd-dis-locked",
            "The app burns the NVS HMAC key on its first start, read-protected; with RD_DIS write-protected (Secure "
            "Boot V2's first boot does it before the app starts) the read protection does not take: "
            "esp_efuse_write_key fails (BURN BLOCK0 - ERROR), nvs_flash_init fails, and the key is burned readable "
            "for good (esp-idf#13909).",
            "Burn the HMAC key first (espsec efuse burn-key BLOCK_KEYn key.bin HMAC_UP, read-protected by default), "
            "or set CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS before Secure Boot's first boot.",
            fu->rd_dis_locked ? "the app will burn its NVS HMAC key into %s, but %s is already write-protected"
                              : "the app will burn its NVS HMAC key into %s after Secure Boot V2's first boot "
                                "write-protects %s",
            bname, chip->rd_dis_wp);
    }
}

static void efuse_rules(list_t *L, const espsec_efuse_t *ef, const dev_chip_t *chip, const dev_fuses_t *fu,
                        const espsec_device_config_t *cfg, const espsec_doctor_opts_t *o)
{
    /* chips with one digest block (ESP32): before the Secure Boot fuse the block is not a digest slot yet, but a
       Secure Boot V2 plan will make it one (Secure Boot V1 keeps its key there read-protected, as it should) */
    dev_fuses_t planned = *fu;
    const int v2_plan = cfg != NULL && cfg->secure_boot && cfg->secure_boot_version == 2;
    int db = chip->ci->sb.digest_block != NULL && !chip->ci->fe.key_purpose_field
                 ? espsec_efuse_block_by_name(ef, chip->ci->sb.digest_block)
                 : -1;
    if (fu->sb == 0 && v2_plan && db >= 0 && !espsec_efuse_block_readable(ef, db)) {
        planned.sb_digest_hidden[0] = 1;
        planned.sb_digest_blk[0] = db;
    }
    for (int i = 0; i < 3; i++) {
        if (planned.sb_digest_hidden[i]) {
            add(L, ESPSEC_DOCTOR_ERROR, "sb-digest-read-protected",
                "The ROM and the bootloader read the Secure Boot key digests through the eFuse read registers: a "
                "read-protected digest reads as zeros, no signature can match it, and the app aborts on start "
                "('eFuse BLOCKn should be readable'). With Secure Boot on the chip never boots again.",
                "Nothing undoes a read protection. Before burning: never read-protect a digest block "
                "(espefuse refuses it once Secure Boot is on) and keep CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS off.",
                "the Secure Boot digest in BLOCK%d (slot %d) is read-protected", planned.sb_digest_blk[i], i);
        }
    }
    if (fu->sb == 2 && !fu->sb_digest_ok[0] && !fu->sb_digest_ok[1] && !fu->sb_digest_ok[2] &&
        !fu->sb_digest_hidden[0] && !fu->sb_digest_hidden[1] && !fu->sb_digest_hidden[2]) {
        add(L, ESPSEC_DOCTOR_ERROR, "sb-no-digest",
            "Secure Boot V2 is burned but no key digest is (all zeros, or every slot revoked): the ROM can match no "
            "signature and the chip never boots again.",
            "Nothing can be done for this chip. Burn the digest before (or with) the Secure Boot fuse, and check "
            "it (espsec efuse summary) before the enable fuse goes.",
            "%s is burned but no Secure Boot key digest is usable", chip->sb_enable);
    }
    /* key purposes: duplicates, and the halves of a 512-bit XTS key burned one without the other */
    const espsec_chip_info_t *ci = chip->ci;
    if (ci->fe.key_purpose_field) {
        int count[64] = {0};
        for (int k = 0; k < 6; k++) {
            char name[32];
            uint64_t p = 0;
            snprintf(name, sizeof(name), "KEY_PURPOSE_%d", k);
            if (espsec_efuse_get_uint_hw(ef, name, &p, NULL) == ESPSEC_OK && p > 0 && p < 64) {
                count[p]++;
            }
        }
        for (int v = 1; v < 64; v++) {
            const espsec_key_purpose_t *kp = espsec_chip_key_purpose_by_value(ci, v);
            if (kp != NULL && count[v] > 1 && strncmp(kp->name, "HMAC", 4) != 0) {
                add(L, ESPSEC_DOCTOR_ERROR, "duplicate-key-purpose",
                    "ESP-IDF and the ROM use the first block with a purpose: a second block with the same purpose is "
                    "a key that is never used (and, for digests and flash keys, a sign the plan was run twice).",
                    "Burn each flash-encryption and Secure Boot digest purpose once; use the next digest slot for a "
                    "second key.",
                    "%d key blocks have the purpose %s", count[v], kp->name);
            }
        }
        const espsec_key_purpose_t *k1 = espsec_chip_key_purpose(ci, "XTS_AES_256_KEY_1");
        const espsec_key_purpose_t *k2 = espsec_chip_key_purpose(ci, "XTS_AES_256_KEY_2");
        if (k1 != NULL && k2 != NULL && k1->value > 0 && k2->value > 0 && k1->value < 64 && k2->value < 64 &&
            (count[k1->value] > 0) != (count[k2->value] > 0)) {
            add(L, ESPSEC_DOCTOR_ERROR, "xts256-half-key",
                "An XTS-AES-256 key is 512 bits in two key blocks (XTS_AES_256_KEY_1 and _2): with one half burned "
                "the bootloader stops ('Both AES-256 key blocks must be set') and the ROM cannot decrypt.",
                "Burn the 64-byte key in one command with the virtual purpose XTS_AES_256_KEY (espsec efuse burn-key "
                "BLOCK_KEYn key512.bin XTS_AES_256_KEY), which splits it correctly.",
                "only %s is burned", count[k1->value] ? "XTS_AES_256_KEY_1" : "XTS_AES_256_KEY_2");
        }
    }
    key_block_rules(L, ef, ci, fu, cfg);
    if (fu->sb_rev_ignored) {
        char rev[12], need[12];
        dev_rev_str(fu->chip_rev, rev);
        dev_rev_str((unsigned)chip->sbv2_min_rev, need);
        add(L, ESPSEC_DOCTOR_ERROR, "sb-rev-ignored",
            "The ROM of this chip revision does not implement Secure Boot V2: the fuse is burned but the bootloader "
            "is never verified, so the device is not protected.",
            "Use Secure Boot V2 only on chips of the revision that supports it (CONFIG_*_REV_MIN_FULL), or V1 on an "
            "older ESP32.",
            "%s is burned but the chip is %s; Secure Boot V2 needs %s or later", chip->sb_enable, rev, need);
    }
    const int sb_v2_cfg = cfg != NULL && cfg->secure_boot && cfg->secure_boot_version == 2;
    const int scheme_rev = sb_v2_cfg ? dev_sbv2_min_rev(ci, cfg->sb_scheme) : 0;
    if (sb_v2_cfg && fu->chip_rev_known && fu->chip_rev < (unsigned)scheme_rev) {
        char rev[12], need[12];
        dev_rev_str(fu->chip_rev, rev);
        dev_rev_str((unsigned)scheme_rev, need);
        add(L, ESPSEC_DOCTOR_ERROR, "sb-rev-too-old",
            "A bootloader built with Secure Boot V2 requires a chip revision whose ROM verifies its signature scheme; "
            "on this chip the bootloader refuses to start or the ROM ignores the fuse.",
            "Check the chip revision (espsec efuse summary) before planning Secure Boot V2, or pick a scheme this "
            "revision verifies.",
            "Secure Boot V2 with %s is configured but the chip is %s (%s or later needed)",
            espsec_sb_scheme_name(cfg->sb_scheme), rev, need);
    } else if (sb_v2_cfg && !fu->chip_rev_known && cfg->rev_min_full >= 0 && cfg->rev_min_full < scheme_rev) {
        char rev[12], need[12];
        dev_rev_str((unsigned)cfg->rev_min_full, rev);
        dev_rev_str((unsigned)scheme_rev, need);
        add(L, ESPSEC_DOCTOR_ERROR, "sb-rev-too-old",
            "ESP-IDF offers this Secure Boot V2 scheme only to builds whose minimum chip revision has a ROM that "
            "verifies it: chips of the older revisions the build allows never verify the bootloader.",
            "Raise the minimum chip revision (CONFIG_<chip>_REV_MIN_FULL) to what the scheme needs, or pick another "
            "scheme.",
            "Secure Boot V2 with %s but the build allows chips from %s (%s or later needed)",
            espsec_sb_scheme_name(cfg->sb_scheme), rev, need);
    }
    if (sb_v2_cfg && cfg->sb_scheme != ESPSEC_SB_RSA3072 && ci->sb.ecdsa_insecure) {
        add(L, cfg->sb_force_ecdsa ? ESPSEC_DOCTOR_WARNING : ESPSEC_DOCTOR_ERROR, "sb-ecdsa-errata",
            "The ROM's ECDSA Secure Boot V2 verification on this chip is not functional for some inputs (hardware "
            "errata): ESP-IDF offers ECDSA hardware Secure Boot here only with "
            "CONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA under the insecure options.",
            ci->sb.schemes & ESPSEC_SBCAP_RSA3072
                ? "Use RSA-3072 (CONFIG_SECURE_BOOT_V2_RSA_ENABLED), ESP-IDF's recommended scheme on this chip."
                : "This chip has no other Secure Boot V2 scheme: read the errata before relying on Secure Boot.",
            "Secure Boot V2 with %s on the %s%s", espsec_sb_scheme_name(cfg->sb_scheme), ci->display,
            cfg->sb_force_ecdsa ? " (forced with SECURE_BOOT_V2_FORCE_ENABLE_ECDSA)" : ", which ESP-IDF refuses");
    }
    if (fu->fe_on && fu->fe_key_blank) {
        add(L, ESPSEC_DOCTOR_ERROR, "fe-on-without-key",
            "The crypt counter has an odd number of bits, so the ROM decrypts every read, but no flash encryption key "
            "is burned: the chip decrypts with an all-zero key and nothing written normally boots.",
            "Burn the next crypt counter bit only after the key (or let the bootloader do both on first boot).",
            "%s has %u bits set (flash encryption on) but no flash encryption key is burned", chip->crypt_cnt,
            fu->crypt_bits);
    }
    if (cfg != NULL && cfg->flash_encryption && !fu->fe_on && fu->fe_key_blank && fu->rd_dis_locked) {
        add(L, ESPSEC_DOCTOR_ERROR, "rd-dis-locked",
            "RD_DIS is write-protected (Secure Boot V2 does this when flash encryption is not enabled with it): the "
            "flash encryption key the first boot generates can no longer be read-protected, so the bootloader "
            "stops with 'Failed to write efuse block with purpose'.",
            "Enable flash encryption together with Secure Boot on the first boot, or burn and read-protect the key "
            "before RD_DIS is locked.",
            "flash encryption is planned but %s is already write-protected", chip->rd_dis_wp);
    }
    if (cfg != NULL && cfg->app_anti_rollback && fu->secure_version_max > 0 && cfg->sec_ver_efuse_bits > 0 &&
        (unsigned)cfg->sec_ver_efuse_bits > fu->secure_version_max) {
        add(L, ESPSEC_DOCTOR_ERROR, "anti-rollback-field-size",
            "The bootloader can raise the anti-rollback eFuse only as far as the field has bits.",
            "Set CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD to the SECURE_VERSION field size or less.",
            "CONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD=%d but SECURE_VERSION has %u bits",
            cfg->sec_ver_efuse_bits, fu->secure_version_max);
    }
    if (cfg != NULL && !cfg->secure_boot && cfg->signed_apps_no_sb && cfg->signed_on_update_no_sb &&
        !cfg->signed_on_boot_no_sb) {
        add(L, ESPSEC_DOCTOR_WARNING, "signed-on-update-only",
            "Without hardware Secure Boot and without the check on boot, only OTA updates are verified: anything "
            "written over the serial port or by hand runs unchecked.",
            "Enable CONFIG_SECURE_SIGNED_ON_BOOT_NO_SECURE_BOOT too, or hardware Secure Boot V2.",
            "app signatures are checked on update only");
    }
    if (cfg != NULL && cfg->secure_boot && cfg->sb_scheme == ESPSEC_SB_ECDSA192) {
        add(L, ESPSEC_DOCTOR_WARNING, "sb-ecdsa-p192",
            "ECDSA P-192 gives about 80 bits of security; ESP-IDF warns against it and newer releases drop it.",
            "Use ECDSA P-256 (or P-384 where the chip has it) or RSA-3072.", "Secure Boot V2 with ECDSA P-192");
    }
    if (o->planned_download && (fu->dl_mode_disabled || fu->secure_dl ||
                                (cfg != NULL && (cfg->disable_rom_dl_mode || cfg->secure_rom_dl_mode)))) {
        int secure = fu->secure_dl || (cfg != NULL && cfg->secure_rom_dl_mode && !cfg->disable_rom_dl_mode);
        add(L, ESPSEC_DOCTOR_ERROR, "download-mode-blocks-plan",
            secure ? "Secure download mode allows only a few commands (no flash reads, no RAM loads, no esptool "
                     "stub): esptool's usual write-flash with the stub fails."
                   : "With the ROM download mode disabled nothing can be flashed over the serial port again.",
            secure ? "Flash everything before the first boot burns it, or flash with esptool --no-stub."
                   : "Flash everything first; keep OTA as the update path.",
            "the plan flashes over the serial ROM loader but download mode %s", secure ? "becomes secure" : "is off");
    }
    if (o->planned_download && fu->fe_on && fu->dl_encrypt_disabled && !fu->dl_mode_disabled) {
        add(L, ESPSEC_DOCTOR_ERROR, "serial-flash-plaintext",
            "Flash encryption is on and the ROM loader can no longer encrypt what it writes (the bootloader burned "
            "the download-mode encryption disable): anything written over the serial port lands in plaintext, the "
            "chip decrypts it to garbage and the ROM loops on 'invalid header'.",
            "Update through OTA (the app encrypts), or write images encrypted with the device's key yourself "
            "(espsec secure encrypt-flash-data) only if you hold that key; never esptool write-flash plain builds.",
            "the plan writes flash over the serial loader but %s is burned and flash encryption is on",
            chip->ci->lock.dis_dl_encrypt ? chip->ci->lock.dis_dl_encrypt : "download-mode encryption");
    }
    (void)ef;
}

/*
 * The key given with --flash-key against the key the eFuses hold, when the eFuse file shows it (espsec keeps
 * FILE.hidden): encrypting with another key is the mistake behind a flash that decrypts to garbage, and a
 * 512-bit key split by hand into XTS_AES_256_KEY_1 and _2 the other way round is the usual way to get there.
 */
static void flash_key_rule(list_t *L, const espsec_efuse_t *ef, const dev_chip_t *chip, const uint8_t *key,
                           size_t key_len)
{
    dev_fuses_t burned;
    if (dev_read_fuses(ef, chip, NULL, 0, &burned, NULL) != ESPSEC_OK || burned.fe_key_hidden ||
        burned.fe_key_blank || burned.fe_key_len == 0) {
        espsec_wipe(&burned, sizeof(burned));
        return;
    }
    const size_t n = burned.fe_key_len;
    int same = n == key_len && espsec_ct_compare(key, burned.fe_key, n) == 0;
    int swapped = !same && n == 64 && key_len == 64 && espsec_ct_compare(key, burned.fe_key + 32, 32) == 0 &&
                  espsec_ct_compare(key + 32, burned.fe_key, 32) == 0;
    espsec_wipe(&burned, sizeof(burned));
    if (same) {
        return;
    }
    if (swapped) {
        add(L, ESPSEC_DOCTOR_ERROR, "xts256-halves-swapped",
            "An XTS-AES-256 key is used as XTS_AES_256_KEY_1 = its first 32 bytes and XTS_AES_256_KEY_2 = the last "
            "32: burned the other way round, the chip decrypts with another key than the one the images were "
            "encrypted with, and nothing it reads from flash makes sense.",
            "Burn the 64-byte key in one command with the virtual purpose XTS_AES_256_KEY (espsec efuse burn-key "
            "BLOCK_KEYn key512.bin XTS_AES_256_KEY), which splits it as the chip uses it.",
            "the flash key's halves are burned in the wrong order (its first 32 bytes are XTS_AES_256_KEY_2)");
        return;
    }
    add(L, ESPSEC_DOCTOR_ERROR, "fe-key-not-burned",
        "Images encrypted with a key other than the burned one decrypt to garbage on the chip: the ROM loops on "
        "'invalid header'.",
        "Encrypt with the key that is burned (or burn this one, before the first boot).",
        "the flash key given (%zu bytes) is not the key burned in eFuse (%zu bytes)", key_len, n);
}

static int digest_in(const uint8_t d[32], const uint8_t set[][32], int n)
{
    return digest_in_n(d, set, n, 32);
}

espsec_err_t espsec_doctor(const espsec_efuse_t *ef, const espsec_flash_t *fl, const espsec_doctor_opts_t *o,
                           espsec_doctor_finding_t **findings, size_t *n, espsec_error_t *err)
{
    list_t L = {0};
    *findings = NULL;
    *n = 0;
    espsec_device_config_t cfg;
    const int have_cfg = o->config != NULL;
    if (have_cfg) {
        cfg = *o->config;
    } else {
        espsec_device_config_default(&cfg);
    }
    dev_chip_t chip;
    espsec_chip_t cid = espsec_efuse_chip_info(ef)->id;
    if (dev_chip(cid, &chip) != 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "the virtual device does not model the %s",
                           espsec_chip_display_name(cid));
    }
    dev_fuses_t fu;
    if (dev_read_fuses(ef, &chip, o->flash_key, o->flash_key_len, &fu, err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_INVALID_STATE;
    }
    dev_set_rev(&fu, &chip, o->have_chip_rev ? (int)o->chip_rev_full : -1);
    efuse_rules(&L, ef, &chip, &fu, have_cfg ? &cfg : NULL, o);
    if (have_cfg) {
        nvs_hmac_rules(&L, ef, &chip, &fu, &cfg);
    }
    if (o->flash_key != NULL && o->flash_key_len > 0) {
        flash_key_rule(&L, ef, &chip, o->flash_key, o->flash_key_len);
    }
    const int one_slot = chip.digest_slots == 1;
    const espsec_chip_info_t *ci = chip.ci;
    const int sb_planned = fu.sb == 2 || (have_cfg && cfg.secure_boot && cfg.secure_boot_version == 2);
    const int fe_planned = fu.fe_on || (have_cfg && cfg.flash_encryption);
    const int release = (have_cfg && cfg.flash_encryption && cfg.flash_enc_release) ||
                        (fu.fe_on && (fu.crypt_cnt_wp || fu.crypt_bits == (unsigned)chip.crypt_cnt_bits));
    espsec_fe_ctx_t *fe = NULL;
    if (fu.fe_on && fu.fe_key_len > 0 && !fu.fe_key_hidden) {
        espsec_flash_enc_params_t p = {chip.fe_mode, fu.crypt_config};
        espsec_fe_new(&p, fu.fe_key, fu.fe_key_len, &fe, NULL);
    }
    if (fu.fe_on && fe == NULL) {
        add(&L, ESPSEC_DOCTOR_INFO, "fe-key-unknown",
            "The flash is encrypted with a key the eFuse file does not show (espefuse hides read-protected keys), "
            "so the flash contents cannot be checked.",
            "Give the key with --flash-key, or use an eFuse file espsec burned (it keeps FILE.hidden).",
            "flash encryption is on but its key is not known: the flash contents were not checked");
    }
    uint32_t pt_off = cfg.pt_offset;
    /* ---- the bootloader ---- */
    dimage_t bl;
    read_image(fl, fe, chip.boot_offset, 0x20000, &bl); /* past the table: an overlap shows */
    if (!bl.present && (fe != NULL || !fu.fe_on)) {
        if (bl.plain_under_fe) {
            add(&L, ESPSEC_DOCTOR_ERROR, "plaintext-under-fe",
                "Flash encryption is on, so the ROM decrypts everything it reads: a plaintext bootloader decrypts to "
                "garbage and the chip never boots.",
                "Write the bootloader encrypted (espsec secure encrypt-flash-data, or esptool write-flash --encrypt in "
                "development mode).",
                "the bootloader at 0x%x is plaintext but flash encryption is on", chip.boot_offset);
        } else {
            add(&L, ESPSEC_DOCTOR_ERROR, "no-bootloader",
                "The ROM finds no valid second-stage bootloader and loops forever printing 'invalid header'.",
                "Flash a bootloader built for this chip at its offset.", "no valid bootloader at 0x%x: %s",
                chip.boot_offset, bl.problem[0] ? bl.problem : "no image");
        }
    } else if (bl.present && !bl.valid) {
        add(&L, ESPSEC_DOCTOR_ERROR, "bootloader-corrupt", "The ROM checks the bootloader's checksum and refuses it.",
            "Rebuild and reflash the bootloader.", "bootloader at 0x%x: %s", chip.boot_offset, bl.problem);
    }
    if (bl.present) {
        size_t end = chip.boot_offset + (sb_planned ? bl.padded + 4096 : bl.img.image_len);
        if (end > pt_off) {
            add(&L, ESPSEC_DOCTOR_ERROR, "bootloader-overlaps-pt",
                "The bootloader (with its 4 KiB-aligned Secure Boot signature sector) would run into the partition "
                "table: writing one destroys the other and the device stops booting.",
                "Move the partition table (CONFIG_PARTITION_TABLE_OFFSET, e.g. 0x10000) or shrink the bootloader "
                "(lower its log level, disable unused features).",
                "the bootloader ends at 0x%zx%s, past the partition table at 0x%x", end,
                sb_planned ? " with its signature sector" : "", pt_off);
        }
        if (bl.img.chip_id != (uint16_t)cid) {
            add(&L, ESPSEC_DOCTOR_ERROR, "bootloader-wrong-chip", "The ROM refuses an image built for another chip.",
                "Build the bootloader for the chip the eFuses belong to.", "the bootloader is for chip id %u, the eFuses "
                                                                           "are an %s's",
                bl.img.chip_id, espsec_chip_display_name(cid));
        }
    }
    /* ---- Secure Boot V2: the bootloader's and the app's keys against eFuse and the plan ---- */
    uint8_t burned[3][32];
    int nburned = 0;
    for (int i = 0; i < fu.n_sb_digests; i++) {
        if (fu.sb_digest_ok[i]) {
            memcpy(burned[nburned++], fu.sb_digests[i], 32);
        }
    }
    uint8_t planned[32];
    int have_planned = o->planned_key != NULL && espsec_sbv2_key_digest(o->planned_key, planned, NULL) == ESPSEC_OK;
    if (sb_planned && bl.present) {
        if (bl.nblocks == 0) {
            add(&L, ESPSEC_DOCTOR_ERROR, "sb-bootloader-unsigned",
                fu.sb == 2 ? "Secure Boot V2 is burned: the ROM refuses a bootloader without a valid signature block."
                           : "With Secure Boot V2 configured, the first boot refuses to enable it for an unsigned "
                             "bootloader and the device stops there.",
                "Sign the bootloader: espsec secure sign-data --version 2 --keyfile KEY.pem -o bootloader-signed.bin "
                "bootloader.bin.",
                "the bootloader at 0x%x has no valid Secure Boot V2 signature block", chip.boot_offset);
        } else {
            if (nburned > 0 && !digest_in_n(bl.key_digests[0], burned, nburned, fu.sb_digest_bytes) &&
                !(bl.nblocks > 1 && !one_slot && digest_in_n(bl.key_digests[1], burned, nburned, fu.sb_digest_bytes))) {
                add(&L, ESPSEC_DOCTOR_ERROR, "sb-key-mismatch",
                    "The ROM accepts a bootloader only when the key in its signature block has a digest burned in "
                    "eFuse: this bootloader is signed with another key, and the device will not boot.",
                    "Sign the bootloader with the key whose digest is burned (espsec secure digest-sbv2-public-key "
                    "shows a key's digest).",
                    "the bootloader is signed by a key whose digest is not burned in eFuse");
            }
            if (have_planned && !digest_in(planned, bl.key_digests, bl.nblocks)) {
                add(&L, ESPSEC_DOCTOR_ERROR, "sb-key-not-planned",
                    "The digest that will be burned is the planned key's, but the bootloader is signed with another "
                    "key: after burning, the ROM refuses it.",
                    "Sign the bootloader with the planned key, or burn the digest of the key it is signed with.",
                    "the bootloader is not signed by the planned Secure Boot key");
            }
        }
    }
    /* ---- the partition table ---- */
    espsec_partition_table_t pt;
    int have_pt = 0;
    {
        uint8_t buf[0xC00];
        espsec_pt_opts_t po;
        espsec_pt_opts_default(&po);
        po.table_offset = pt_off;
        espsec_error_t e;
        if ((fe != NULL || !fu.fe_on) && dev_read(fl, fe, pt_off, buf, sizeof(buf), &e) == ESPSEC_OK) {
            espsec_err_t prc = espsec_pt_from_binary(buf, sizeof(buf), &po, &pt, &e);
            if (prc == ESPSEC_OK && pt.count > 0) {
                have_pt = 1;
            } else if (prc == ESPSEC_OK) {
                add(&L, ESPSEC_DOCTOR_ERROR, "no-partition-table",
                    "The bootloader cannot start anything without a valid partition table.",
                    "Flash the partition table at its offset (or set CONFIG_PARTITION_TABLE_OFFSET to where it is).",
                    "no partition table at 0x%x (erased flash)", pt_off);
            } else {
                uint8_t raw2[2];
                espsec_flash_read(fl, pt_off, raw2, 2, NULL);
                int plain = fe != NULL && raw2[0] == 0xAA && raw2[1] == 0x50;
                add(&L, ESPSEC_DOCTOR_ERROR, plain ? "plaintext-under-fe" : "no-partition-table",
                    plain ? "Flash encryption is on: a plaintext partition table decrypts to garbage."
                          : "The bootloader cannot start anything without a valid partition table.",
                    plain ? "Write the partition table encrypted." : "Flash the partition table at its offset.",
                    "partition table at 0x%x: %s", pt_off, plain ? "plaintext under flash encryption" : e.msg);
            }
        }
    }
    if (have_pt) {
        int n_ota = 0, has_otadata = 0, has_factory = 0;
        const espsec_partition_t *nvs_keys = NULL;
        for (size_t i = 0; i < pt.count; i++) {
            const espsec_partition_t *p = &pt.entries[i];
            n_ota += p->type == 0 && p->subtype >= 0x10 && p->subtype < 0x20;
            has_otadata |= p->type == 1 && p->subtype == 0x00;
            has_factory |= p->type == 0 && p->subtype == 0x00;
            if (p->type == 1 && p->subtype == 0x04 && nvs_keys == NULL) {
                nvs_keys = p;
            }
            if ((p->flags & ESPSEC_PT_FLAG_ENCRYPTED) && (p->offset % 0x1000 || p->size % 0x1000)) {
                add(&L, ESPSEC_DOCTOR_ERROR, "encrypted-partition-unaligned",
                    "Flash encryption works on whole 4 KiB sectors: a partition that shares a sector with its "
                    "neighbour is encrypted together with it, and erasing one destroys the other.",
                    "Align encrypted partitions (offset and size) to 0x1000.",
                    "partition '%s' (0x%x, 0x%x bytes) is flagged encrypted but not 4 KiB aligned", p->name, p->offset,
                    p->size);
            }
            if (p->type == 0 && p->offset % 0x10000) {
                add(&L, ESPSEC_DOCTOR_ERROR, "app-unaligned", "The MMU maps apps in 64 KiB pages.",
                    "Place app partitions at 0x10000 boundaries.", "app partition '%s' at 0x%x is not 64 KiB aligned",
                    p->name, p->offset);
            }
            if (p->offset < pt_off + 0x1000 && p->offset + p->size > pt_off) {
                add(&L, ESPSEC_DOCTOR_ERROR, "partition-overlaps-pt", "Writing this partition destroys the table.",
                    "Start partitions after the partition table sector.",
                    "partition '%s' (0x%x..0x%x) overlaps the partition table at 0x%x", p->name, p->offset,
                    p->offset + p->size, pt_off);
            }
            if ((uint64_t)p->offset + p->size > espsec_flash_size(fl)) {
                add(&L, ESPSEC_DOCTOR_ERROR, "partition-past-flash", "The partition table describes flash the chip "
                                                                     "does not have.",
                    "Fix the table or the flash size.", "partition '%s' ends at 0x%x, past the flash (0x%zx)", p->name,
                    p->offset + p->size, espsec_flash_size(fl));
            }
            /* apps: present, signed by the bootloader's key, fitting */
            if (p->type == 0) {
                dimage_t ap;
                /* read past the partition's end so an app too big for it shows as such */
                size_t window = p->size + 0x100000;
                read_image(fl, fe, p->offset, window, &ap);
                if (!ap.present && ap.plain_under_fe) {
                    add(&L, ESPSEC_DOCTOR_ERROR, "plaintext-under-fe",
                        "Flash encryption is on: a plaintext app decrypts to garbage and the bootloader refuses it.",
                        "Write the app encrypted (espsec secure encrypt-flash-data --address of the partition, or OTA, which "
                        "encrypts).",
                        "app partition '%s' at 0x%x holds a plaintext image under flash encryption", p->name,
                        p->offset);
                    continue;
                }
                if (!ap.present) {
                    continue; /* an empty OTA slot is normal */
                }
                size_t need = sb_planned ? ap.padded + 4096 : ap.img.image_len;
                if (need > p->size) {
                    add(&L, ESPSEC_DOCTOR_ERROR, "app-too-big", "The image does not fit its partition.",
                        "Grow the partition or shrink the app.", "app in '%s' needs 0x%zx bytes, the partition has 0x%x",
                        p->name, need, p->size);
                }
                if (sb_planned && ap.nblocks == 0) {
                    add(&L, ESPSEC_DOCTOR_ERROR, "sb-app-unsigned",
                        "With Secure Boot V2 the bootloader verifies the app's signature and refuses an unsigned app.",
                        "Sign the app with the bootloader's key: espsec secure sign-data --version 2 --keyfile "
                        "KEY.pem.",
                        "app in '%s' at 0x%x has no valid Secure Boot V2 signature", p->name, p->offset);
                } else if (sb_planned && bl.nblocks > 0) {
                    int match = 0;
                    for (int b = 0; b < ap.nblocks; b++) {
                        match |= digest_in(ap.key_digests[b], bl.key_digests, bl.nblocks) ||
                                 (nburned > 0 && digest_in_n(ap.key_digests[b], burned, nburned, fu.sb_digest_bytes));
                    }
                    if (!match) {
                        add(&L, ESPSEC_DOCTOR_ERROR, "sb-app-other-key",
                            "The bootloader accepts only apps signed by one of its own keys.",
                            "Sign the app with the same key as the bootloader.",
                            "app in '%s' at 0x%x is signed by a key the bootloader does not carry", p->name,
                            p->offset);
                    }
                }
            }
        }
        if (!has_factory && n_ota == 0) {
            add(&L, ESPSEC_DOCTOR_ERROR, "no-app-partition", "The bootloader has nothing to start.",
                "Add a factory or OTA app partition to the table.", "the partition table has no app partition");
        }
        if (n_ota > 0 && !has_otadata) {
            add(&L, ESPSEC_DOCTOR_WARNING, "ota-without-otadata", "Without otadata the bootloader can never switch to "
                                                                  "an updated app.",
                "Add an 'otadata' partition (data, ota, 0x2000 bytes).", "%d OTA app partition(s) but no otadata",
                n_ota);
        }
        if (release && n_ota == 0) {
            add(&L, ESPSEC_DOCTOR_ERROR, "release-no-reflash",
                "In release mode the serial port can no longer write encrypted flash: without OTA partitions the "
                "firmware can never be updated again.",
                "Add otadata and two OTA app partitions (and an update path in the app), or stay in development mode "
                "until the firmware is final.",
                "flash encryption release mode with no OTA app partition: no way to reflash");
        }
        if (have_cfg && cfg.nvs_encryption && !cfg.nvs_hmac) {
            if (nvs_keys == NULL) {
                add(&L, ESPSEC_DOCTOR_ERROR, "nvs-enc-no-keys-partition",
                    "nvs_flash_secure_init reads the NVS keys from an nvs_keys partition; without one, NVS fails to "
                    "initialise and apps that check it abort.",
                    "Add 'nvs_key, data, nvs_keys, , 0x1000, encrypted' to the partition table.",
                    "NVS encryption is on but the partition table has no nvs_keys partition");
            } else if (!(nvs_keys->flags & ESPSEC_PT_FLAG_ENCRYPTED)) {
                add(&L, ESPSEC_DOCTOR_ERROR, "nvs-keys-not-encrypted",
                    "The NVS keys are only protected by flash encryption: an nvs_keys partition not flagged "
                    "'encrypted' stores them in clear (and ESP-IDF refuses it).",
                    "Flag the nvs_keys partition 'encrypted'.", "nvs_keys partition '%s' is not flagged encrypted",
                    nvs_keys->name);
            }
            if (!fe_planned) {
                add(&L, ESPSEC_DOCTOR_ERROR, "nvs-enc-without-fe",
                    "The flash-encryption NVS key scheme stores the keys in an encrypted partition: without flash "
                    "encryption they are in clear.",
                    "Enable flash encryption, or use the HMAC scheme (CONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC).",
                    "NVS encryption is on but flash encryption is off");
            }
        }
    }
    /* ---- the eFuses themselves ---- */
    int key_blk = ci->fe.key_block != NULL && !ci->fe.shared_key0 ? espsec_efuse_block_by_name(ef, ci->fe.key_block)
                                                                     : -1;
    if (fu.fe_on && key_blk >= 0 && espsec_efuse_block_readable(ef, key_blk)) {
        add(&L, ESPSEC_DOCTOR_ERROR, "fe-key-readable",
            "The flash encryption key block is readable by software (and over JTAG): anyone can decrypt the flash.",
            "Read-protect the key block: espsec efuse read-protect-efuse BLOCKn (it stays usable by the hardware).",
            "flash encryption is on but %s is not read-protected", ci->fe.key_block);
    }
    if (fu.fe_on && !release && fu.crypt_bits + 2 == (unsigned)chip.crypt_cnt_bits) {
        add(&L, ESPSEC_DOCTOR_WARNING, "fe-last-plaintext-flash",
            "Development mode counts each disable/re-enable of flash encryption in the crypt counter; one cycle is "
            "left, after which flash encryption can never be turned off.",
            "Do not disable flash encryption again unless you must; when the firmware is final, move to release "
            "mode.",
            "%s has %u of %d bits set: one plaintext reflash cycle left", chip.crypt_cnt, fu.crypt_bits,
            chip.crypt_cnt_bits);
    }
    if (fe_planned && !sb_planned && !(fu.sb == 1 || (have_cfg && cfg.secure_boot && cfg.secure_boot_version == 1))) {
        add(&L, ESPSEC_DOCTOR_WARNING, "fe-without-sb",
            "Flash encryption alone keeps the flash secret but lets anyone with physical access flash other code "
            "(encrypted via the serial bootloader in development mode, or by glitching).",
            "Enable Secure Boot V2 together with flash encryption.", "flash encryption without secure boot");
    }
    if (sb_planned && !fe_planned) {
        add(&L, ESPSEC_DOCTOR_WARNING, "sb-without-fe",
            "Secure Boot alone verifies what runs but leaves the flash (firmware, NVS, keys in it) readable.",
            "Enable flash encryption too.", "Secure Boot without flash encryption");
    }
    if ((fu.fe_on || fu.sb) && !fu.jtag_disabled && (release || fu.sb)) {
        char jfix[160];
        snprintf(jfix, sizeof(jfix), "espsec efuse burn-efuse %s%s%s", ci->lock.dis_pad_jtag ? ci->lock.dis_pad_jtag : "",
                 ci->lock.dis_usb_jtag ? " " : "", ci->lock.dis_usb_jtag ? ci->lock.dis_usb_jtag : "");
        add(&L, ESPSEC_DOCTOR_WARNING, "jtag-open",
            "JTAG gives full access to the running chip, bypassing both protections.", jfix,
            "JTAG is still enabled on a secured chip");
    }
    if (fu.fe_on && ci->lock.dis_dl_decrypt != NULL && (!fu.dl_decrypt_disabled || !fu.dl_cache_disabled) && release) {
        add(&L, ESPSEC_DOCTOR_WARNING, "dl-decrypt-open",
            "In release mode the serial bootloader must not be able to read decrypted flash.",
            "espsec efuse burn-efuse DISABLE_DL_DECRYPT 1 DISABLE_DL_CACHE 1",
            "release mode but UART download mode can still decrypt flash");
    }
    unsigned bit = cfg.sb_scheme == ESPSEC_SB_RSA3072    ? ESPSEC_SBCAP_RSA3072
                   : cfg.sb_scheme == ESPSEC_SB_ECDSA192 ? ESPSEC_SBCAP_ECDSA_P192
                   : cfg.sb_scheme == ESPSEC_SB_ECDSA384 ? ESPSEC_SBCAP_ECDSA_P384
                                                         : ESPSEC_SBCAP_ECDSA_P256;
    if (have_cfg && cfg.secure_boot && cfg.secure_boot_version == 2 && !(ci->sb.schemes & bit)) {
        add(&L, ESPSEC_DOCTOR_ERROR, "sb-scheme-unsupported",
            "The ROM verifies only the signature schemes the chip implements: a bootloader signed otherwise never "
            "boots once Secure Boot is burned.",
            "Pick a scheme the chip has (CONFIG_SECURE_BOOT_V2_RSA_ENABLED or _ECC_ENABLED with a supported curve).",
            "Secure Boot V2 with %s on the %s, which does not verify it", espsec_sb_scheme_name(cfg.sb_scheme),
            ci->display);
    }
    espsec_fe_free(fe);
    if (L.oom) {
        free(L.v);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    *findings = L.v;
    *n = L.n;
    return ESPSEC_OK;
}
