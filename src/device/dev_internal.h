/* Shared by the boot simulation and the doctor: what the ROM knows about a chip and its eFuses. */
#ifndef ESPSEC_DEV_INTERNAL_H
#define ESPSEC_DEV_INTERNAL_H

#include "espsec/device.h"
#include "espsec/flash_enc.h"
#include "espsec/partition.h"

/* Per chip: where things are and which fuses say what. */
typedef struct {
    const espsec_chip_info_t *ci; /* the chip model */
    espsec_chip_t chip;
    uint32_t boot_offset;   /* second-stage bootloader in flash */
    const char *crypt_cnt;  /* the flash encryption counter field */
    int crypt_cnt_bits;
    espsec_fe_mode_t fe_mode;
    const char *sb_enable;   /* the fuse that turns Secure Boot V2 on */
    int digest_slots;        /* Secure Boot V2 key digest slots */
    int sbv2_min_rev;        /* first chip revision whose ROM honours Secure Boot V2 (major*100+minor) */
    const char *cache_wp;    /* the cache-disable fuse the bootloader write-protects against bricking */
    const char *rd_dis_wp;   /* the field whose write protection stops further read protection */
} dev_chip_t;

/* From the chip model; -1 when the virtual device does not model the chip (no security or no eFuses). */
int dev_chip(espsec_chip_t chip, dev_chip_t *out);
/* The first revision whose ROM checks Secure Boot V2 with this scheme (0: every revision). */
int dev_sbv2_min_rev(const espsec_chip_info_t *ci, espsec_sb_scheme_t scheme);

/* The eFuse view of security (what the ROM reads). */
typedef struct {
    int fe_on;                 /* crypt counter has an odd number of bits */
    unsigned crypt_cnt, crypt_bits;
    int crypt_cnt_wp;          /* the counter is write-protected */
    uint8_t fe_key[64];
    size_t fe_key_len;         /* 0: no key known */
    int fe_key_hidden;         /* the key block is read-protected and its value unknown */
    int fe_key_blank;          /* no flash encryption key burned */
    uint8_t crypt_config;      /* ESP32 FLASH_CRYPT_CONFIG */
    int sb;                    /* 0, 1 or 2 */
    uint8_t sb_digests[3][32]; /* V2: allowed key digests (C2: the first 16 bytes) */
    unsigned sb_digest_bytes;  /* 32, or 16 where the chip keeps half a digest */
    int sb_digest_ok[3];       /* burned and not revoked */
    int n_sb_digests;
    uint8_t sbv1_key[32];      /* V1: the bootloader digest key (BLK2) */
    int sbv1_key_known;
    int jtag_disabled, dl_encrypt_disabled, dl_decrypt_disabled, dl_cache_disabled, rom_basic_disabled;
    int dl_mode_disabled;
    int secure_dl;             /* secure download mode (ENABLE_SECURITY_DOWNLOAD) */
    int sb_digest_hidden[3];   /* the slot's key block is read-protected: the ROM reads zeros */
    int sb_digest_blk[3];      /* the key block of each slot (-1: none) */
    int sb_aggressive;         /* aggressive revocation */
    int rd_dis_locked;         /* RD_DIS is write-protected: nothing more can be read-protected */
    unsigned chip_rev;         /* major*100 + minor, from the eFuses */
    int chip_rev_known;        /* the eFuses record a revision (espefuse's virtual chips record none: v0.0) */
    int sb_rev_ignored;        /* the Secure Boot V2 fuse is burned but this revision's ROM ignores it */
    unsigned secure_version;   /* anti-rollback: bits set in SECURE_VERSION */
    unsigned secure_version_max; /* bits in the field */
} dev_fuses_t;

/* Read what the ROM reads. flash_key overrides a hidden key. */
espsec_err_t dev_read_fuses(const espsec_efuse_t *e, const dev_chip_t *c, const uint8_t *flash_key, size_t flash_key_len,
                            dev_fuses_t *f, espsec_error_t *err);

/* The chip revision to use (rev_override >= 0: given by the user) and what it means for Secure Boot V2. */
void dev_set_rev(dev_fuses_t *f, const dev_chip_t *c, int rev_override);

/* "v3.1" for 301 */
void dev_rev_str(unsigned rev, char out[12]);

/* Burn the anti-rollback eFuse up to secure_version (as esp_efuse_update_secure_version). */
espsec_err_t dev_update_secure_version(espsec_efuse_t *e, unsigned bits_limit, unsigned secure_version, int *changed,
                                       espsec_error_t *err);

/* Read flash as the CPU sees it through the cache: decrypted when fe != NULL. */
espsec_err_t dev_read(const espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t addr, uint8_t *buf, size_t len,
                      espsec_error_t *err);

/* Usage column of the bootloader's partition listing ("factory app", "WiFi data", ...). */
const char *dev_partition_usage(const espsec_partition_t *p);

/* The active OTA slot from otadata (-1: none valid, use factory). n_ota: number of ota_N partitions. */
int dev_otadata_slot(const uint8_t *otadata, size_t len, int n_ota, uint32_t *seq);

/* ---- otadata (otadata.c): esp_ota_select_entry_t and the rules of ESP-IDF's bootloader_common ---- */

/* esp_ota_img_states_t */
enum {
    DEV_OTA_NEW = 0,
    DEV_OTA_PENDING_VERIFY = 1,
    DEV_OTA_VALID = 2,
    DEV_OTA_INVALID = 3,
    DEV_OTA_ABORTED = 4,
};
#define DEV_OTA_UNDEFINED 0xFFFFFFFFu

typedef struct {
    uint32_t seq, state, crc;
    uint8_t raw[32]; /* the entry as stored (the label bytes are kept on rewrite) */
} dev_otadata_entry_t;

const char *dev_ota_state_name(uint32_t state);
uint32_t dev_otadata_crc(const dev_otadata_entry_t *e);
/* bootloader_common_ota_select_invalid: sequence erased, or state invalid or aborted (the CRC not looked at). */
int dev_otadata_unused(const dev_otadata_entry_t *e);
/* bootloader_common_ota_select_valid: CRC matches, sequence set, state not invalid or aborted. */
int dev_otadata_valid(const dev_otadata_entry_t *e);
/* Sequence 0xFFFFFFFF or a bad CRC: the entry was never written. */
int dev_otadata_initial(const dev_otadata_entry_t *e);
/* bootloader_common_get_active_otadata: the valid entry with the highest sequence; -1 if none. */
int dev_otadata_active(const dev_otadata_entry_t two[2]);
/* Read both entries at off (through flash decryption when fe is given). */
espsec_err_t dev_otadata_read(const espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, dev_otadata_entry_t two[2],
                              espsec_error_t *err);
/* Rewrite entry e in sector 0 or 1: fresh CRC, erase the sector, program the 32 bytes (encrypted with fe). */
espsec_err_t dev_otadata_write(espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, int sector,
                               dev_otadata_entry_t *e, espsec_error_t *err);
/*
 * The bootloader's choice (bootloader_utility_get_selected_boot_partition):
 * the OTA slot of the active entry, or -1 (factory); -2 on a flash error.
 * With rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE) it first marks
 * PENDING_VERIFY entries ABORTED, then a NEW active entry PENDING_VERIFY,
 * writing otadata (*changed = 1).
 */
int dev_otadata_boot_select(espsec_flash_t *fl, espsec_fe_ctx_t *fe, uint32_t off, int n_ota, int rollback,
                            int *changed, espsec_error_t *err);

/*
 * Secure Boot V2 check of an image in buf (len bytes of its region, the
 * image proper image_len bytes): a signature block after the 4 KiB-padded
 * image whose key digest is allowed, whose image digest matches and whose
 * signature verifies. only_first: the ESP32 uses block 0 only. Returns the
 * block index, or -1 with why.
 */
int dev_sbv2_check(const uint8_t *buf, size_t len, size_t image_len, const uint8_t digests[3][32], const int ok[3],
                   int only_first, char *why, size_t cap, uint8_t key_digest_out[32]);

/*
 * Where the chip keeps only the first `bytes` of each key digest (C2: 16),
 * the ROM and the app compare that much: every allowed digest that a
 * signature block's key digest starts with is replaced by that full digest,
 * so dev_sbv2_check can compare 32 bytes. Nothing changes when the image has
 * no readable signature sector.
 */
void dev_sbv2_expand_half_digests(const uint8_t *buf, size_t len, size_t image_len, size_t bytes,
                                  uint8_t digests[3][32], const int ok[3]);

#endif
