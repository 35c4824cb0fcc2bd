/*
 * espsec/chip.h — the chip model: what each ESP chip is, as data.
 *
 * One description per chip (src/chip/<chip>.c): its names and image chip
 * id, where its second-stage bootloader sits in flash, its security
 * capabilities (Secure Boot versions and signature schemes, key digest slots
 * and their revoke fuses, flash-encryption modes and key purposes, the
 * crypt counter, the fuses that lock download mode and JTAG, the minimum
 * chip revision of each feature), its eFuse controller and its memory map.
 * The facts come from ESP-IDF's soc_caps.h and Kconfig, espefuse's chip
 * folders and esptool's targets.
 *
 * Code outside src/chip/ never names a chip: it looks one up
 * (espsec_chip_by_name, espsec_chip_by_id) and asks its description
 * ("how many digest slots", "is XTS-256 over two blocks", "which field is
 * the crypt counter"). Adding a chip is adding a file.
 */
#ifndef ESPSEC_CHIP_H
#define ESPSEC_CHIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** Chips, by the chip id stored in an image's extended header (esptool's IMAGE_CHIP_ID). */
typedef enum {
    ESPSEC_CHIP_ESP32 = 0,
    ESPSEC_CHIP_ESP32S2 = 2,
    ESPSEC_CHIP_ESP32C3 = 5,
    ESPSEC_CHIP_ESP32S3 = 9,
    ESPSEC_CHIP_ESP32C2 = 12,
    ESPSEC_CHIP_ESP32C6 = 13,
    ESPSEC_CHIP_ESP32H2 = 16,
    ESPSEC_CHIP_ESP32P4 = 18,
    ESPSEC_CHIP_ESP32C61 = 20,
    ESPSEC_CHIP_ESP32C5 = 23,
    ESPSEC_CHIP_ESP32H21 = 25,
    ESPSEC_CHIP_ESP32H4 = 28,
    ESPSEC_CHIP_ESP32E22 = 31,
    ESPSEC_CHIP_ESP32S31 = 32,
    ESPSEC_CHIP_ESP8266 = 0xFFFF, /* no extended header, no security features */
    ESPSEC_CHIP_UNKNOWN = 0xFFFE,
} espsec_chip_t;

/* Secure Boot versions (bit set in espsec_chip_sb_t.versions). */
#define ESPSEC_SBCAP_V1 0x1u /* ESP32 only: AES-256 digest of the bootloader, ECDSA-P256 app signatures */
#define ESPSEC_SBCAP_V2 0x2u

/* Secure Boot V2 signature schemes and curves (bits in espsec_chip_sb_t.schemes). */
#define ESPSEC_SBCAP_RSA3072 0x1u
#define ESPSEC_SBCAP_ECDSA_P192 0x2u
#define ESPSEC_SBCAP_ECDSA_P256 0x4u
#define ESPSEC_SBCAP_ECDSA_P384 0x8u

/* Flash-encryption modes (bits in espsec_chip_fe_t.modes). */
#define ESPSEC_FE_MODE_ESP32_AES 0x1u       /* ESP32: AES-256 with the key tweaked per 32 bytes */
#define ESPSEC_FE_MODE_XTS128 0x2u          /* XTS-AES-128, 256-bit key in one block */
#define ESPSEC_FE_MODE_XTS256 0x4u          /* XTS-AES-256, 512-bit key */
#define ESPSEC_FE_MODE_XTS128_DERIVED 0x8u  /* C2: XTS-AES-128 from a 128-bit eFuse key */

/** A feature that needs a newer chip revision than the first silicon. */
typedef struct {
    const char *feature; /* "Secure Boot V2 (RSA)" */
    uint16_t min_rev;    /* major * 100 + minor, as esptool's min_rev_full */
    const char *why;     /* short reason */
} espsec_chip_rev_req_t;

/** A key purpose (the value of a KEY_PURPOSE_n field). */
typedef struct {
    const char *name; /* "XTS_AES_128_KEY" */
    int value;        /* value burned; < 0 for a virtual purpose that splits over two blocks */
    unsigned flags;   /* ESPSEC_KP_* */
} espsec_key_purpose_t;

#define ESPSEC_KP_REVERSE 0x1u    /* espefuse stores the key byte-reversed */
#define ESPSEC_KP_READ_PROT 0x2u  /* read-protected by default when burned */
#define ESPSEC_KP_DIGEST 0x4u     /* holds a Secure Boot key digest */
#define ESPSEC_KP_VIRTUAL 0x8u    /* splits a 512-bit key over two blocks */
#define ESPSEC_KP_LOW_HALF 0x10u  /* C2: burns the low 128 bits of the shared key block */
#define ESPSEC_KP_HIGH_HALF 0x20u /* C2: burns the high 128 bits of the shared key block */
#define ESPSEC_KP_CUSTOM 0x40u    /* espefuse's CUSTOM_n / CUSTOM_DIGEST_n: a value the chip leaves unassigned */
/* C2: the only key of its burn-key (it takes all of the shared key block): burn-key refuses it
 * beside another key (espsec_efuse_check_key_purposes) */
#define ESPSEC_KP_ALONE 0x80u

/**
 * Two fuses the chip must not have set together: burn-efuse refuses (unless forced) a
 * burn that would set one while the other is set or staged (espsec_efuse_staged_conflict).
 */
typedef struct {
    const char *a, *b; /* field names */
    const char *why;   /* the reason, as espefuse gives it: "a bug in the ROM bootloader" */
} espsec_chip_fuse_pair_t;

/** A field espefuse burns to 1 together with a key of one purpose, on revisions up to max_rev
 *  (ESP32-H2 below v1.2: ECDSA_FORCE_USE_HARDWARE_K with an ECDSA_KEY). */
typedef struct {
    const char *purpose; /* the key purpose ("ECDSA_KEY"); NULL: the chip has no such field */
    const char *field;   /* the field burned to 1 */
    uint16_t max_rev;    /* highest chip revision it applies to, major * 100 + minor */
} espsec_chip_key_companion_t;

/** Secure Boot capabilities. */
typedef struct {
    unsigned versions;        /* ESPSEC_SBCAP_V1 | ESPSEC_SBCAP_V2 */
    unsigned schemes;         /* ESPSEC_SBCAP_RSA3072 | ESPSEC_SB_ECDSA_* (V2) */
    int digest_slots;         /* key digests the ROM checks (1 on ESP32 and C2, else 3) */
    const char *revoke[3];    /* revoke fuse per slot, NULL when not revocable */
    const char *enable;       /* fuse that turns Secure Boot V2 on ("ABS_DONE_1", "SECURE_BOOT_EN") */
    const char *enable_v1;    /* ESP32: "ABS_DONE_0", else NULL */
    const char *aggressive_revoke; /* or NULL */
    const char *digest_block; /* chips without key purposes: block holding the digest */
    unsigned digest_bytes;    /* 32, or 16 where only 128 digest bits are stored (C2) */
    /* ESP-IDF's SECURE_BOOT_V2_ECDSA_INSECURE: the ROM's ECDSA verification fails for some inputs (errata), so
       ESP-IDF offers ECDSA hardware Secure Boot only with SECURE_BOOT_V2_FORCE_ENABLE_ECDSA */
    int ecdsa_insecure;
} espsec_chip_sb_t;

/** Flash-encryption capabilities. */
typedef struct {
    unsigned modes;           /* ESPSEC_FE_MODE_* */
    int key_purpose_field;    /* 1 when blocks have KEY_PURPOSE_n fields (not ESP32, not C2) */
    int xts256_two_blocks;    /* XTS-AES-256 key split over two key blocks (XTS_AES_256_KEY_1/_2) */
    const char *crypt_cnt;    /* the crypt counter: "FLASH_CRYPT_CNT" / "SPI_BOOT_CRYPT_CNT" */
    int crypt_cnt_bits;       /* its width: on when an odd number of bits is set */
    const char *key_block;    /* chips without key purposes: the flash-encryption key block */
    /* purposes KEY_PURPOSE_5 (BLOCK_KEY5) cannot take because of a hardware bug; NULL-terminated */
    const char *key5_forbidden[5];
    int shared_key0;          /* C2: BLOCK_KEY0 holds the flash key (low 128 bits) and the SB digest (high) */
    const char *xts_key_size_fuse; /* ESP32-S2 style XTS_KEY_LENGTH_256 or NULL */
} espsec_chip_fe_t;

/** Fuses that lock a device down (NULL where the chip has none). */
typedef struct {
    const char *dis_download;        /* all ROM download modes */
    const char *secure_download;     /* secure download mode */
    const char *dis_dl_encrypt;      /* manual encryption in download mode */
    const char *dis_dl_decrypt;      /* ESP32: decryption in download mode */
    const char *dis_dl_cache;        /* ICACHE/cache in download mode */
    const char *dis_pad_jtag;        /* JTAG on pads, for good */
    const char *soft_dis_jtag;       /* JTAG off until re-enabled by HMAC */
    const char *dis_usb_jtag;        /* USB-Serial-JTAG's JTAG */
    const char *dis_usb_download;    /* download mode over USB-Serial-JTAG / USB-OTG */
    const char *dis_direct_boot;     /* legacy SPI / direct boot */
    const char *console_debug_disable; /* ESP32 */
    /* flash voltage by eFuse (ESP32 VDD_SDIO, S2/S3 VDD_SPI): force, regulator on, 3.3V; NULL if none */
    const char *vdd_force, *vdd_reg, *vdd_tieh;
    const char *vdd_name; /* the flash supply those fuses set: "VDD_SDIO" (ESP32), "VDD_SPI" */
} espsec_chip_lock_t;

/** The Digital Signature (DS) and ECDSA peripherals that hold a device's TLS key (esp_secure_cert). */
typedef struct {
    unsigned rsa_max_bits;   /* largest RSA key of the DS peripheral (its parameter width); 0: no DS */
    unsigned rsa_sizes;      /* RSA sizes it takes, bit k = (k + 1) * 1024 bits */
    unsigned ecdsa_bits;     /* ECDSA peripheral curves: bit 0 P-192, bit 1 P-256, bit 2 P-384; 0: none */
} espsec_chip_ds_t;

/**
 * Where ESP-IDF links a second-stage bootloader and an app on the chip (the
 * origins of its linker scripts' memory regions, ESP-IDF v5.x defaults). The
 * sample images (espsec/sample.h) are laid out at these addresses; all zero
 * on chips espsec makes no samples for.
 */
typedef struct {
    uint32_t app_drom;         /* the app's first rodata (esp_app_desc_t): its first flash segment */
    uint32_t app_irom;         /* the app's code in flash, above app_drom */
    uint32_t app_iram;         /* iram0_0_seg: IRAM code, and the app's entry point */
    uint32_t boot_dram;        /* bootloader dram_seg (esp_bootloader_desc_t) */
    uint32_t boot_iram_loader; /* bootloader iram_loader_seg */
    uint32_t boot_iram;        /* bootloader iram_seg, and its entry point */
} espsec_chip_link_t;

struct efuse_chip_def;   /* the eFuse controller (src/efuse/efuse_chip.h), opaque here */
struct espsec_chip_memmap; /* address ranges for image info (src/image), opaque here */

/** One chip. */
typedef struct espsec_chip_info {
    espsec_chip_t id;
    const char *name;          /* "esp32s3": --chip spelling */
    const char *display;       /* "ESP32-S3": as esptool prints it */
    uint32_t bootloader_offset; /* where the second-stage bootloader sits in flash */
    /* 1: espsec models this chip's Secure Boot, flash encryption and eFuses;
     * 0: only its image format is known (no_security_reason says why) */
    int has_security;
    const char *no_security_reason;
    espsec_chip_sb_t sb;
    espsec_chip_fe_t fe;
    espsec_chip_lock_t lock;
    espsec_chip_ds_t ds;
    espsec_chip_link_t link;                  /* ESP-IDF's link addresses (sample images) */
    const espsec_key_purpose_t *key_purposes; /* NULL-name terminated; NULL when no key purposes */
    /* bits of KEY_PURPOSE_n where espefuse offers its unassigned values as CUSTOM_n and
     * CUSTOM_DIGEST_n (plus CUSTOM_MAX, CUSTOM_DIGEST_MAX for the highest); 0: none */
    int custom_purpose_bits;
    /* espefuse's burn-key notice when it reverses a key names the purpose ("Reversing byte order for
     * ECDSA_KEY hardware peripheral..."); 0: it names AES-XTS whatever the purpose */
    int reverse_notice_names_purpose;
    espsec_chip_key_companion_t key_companion; /* burned with a key of its purpose; purpose NULL: none */
    const espsec_chip_rev_req_t *rev_reqs;    /* NULL-feature terminated, or NULL */
    const espsec_chip_fuse_pair_t *exclusive_fuses; /* pairs never set together; NULL-a terminated, or NULL */
    const struct efuse_chip_def *efuse;       /* NULL: no virtual eFuses */
    /* BLOCK0 fields espefuse burns after the rest of BLOCK0 (protection bits, what ends its access,
     * the crypt counter, Secure Boot), in its order; NULL-terminated */
    const char *burn_last[8];
    const struct espsec_chip_memmap *memmap;  /* NULL until image info knows the chip */
    /* Espressif QEMU's eFuse file of the chip (-drive file=...,if=none,id=efuse): its size in
     * bytes, every block's data words from offset 0, zero-padded; 0 where QEMU has no model */
    uint32_t qemu_efuse_bytes;
} espsec_chip_info_t;

/** Number of chips in the model (espsec_chip_at(0 .. n-1)). */
size_t espsec_chip_count(void);
/** The i-th chip, in esptool's order; NULL past the end. */
const espsec_chip_info_t *espsec_chip_at(size_t i);
/** A chip by name: "esp32c3", "ESP32-C3", "esp32_c3" (case, '-' and '_' ignored); NULL if none. */
const espsec_chip_info_t *espsec_chip_by_name(const char *name);
/** A chip by image chip id; NULL if none. */
const espsec_chip_info_t *espsec_chip_by_id(espsec_chip_t id);

/** "ESP32-C3" for ESPSEC_CHIP_ESP32C3, "Unknown ID" otherwise. */
const char *espsec_chip_display_name(espsec_chip_t chip);
/** Parse "esp32", "esp32c3", "ESP32-C3"...; ESPSEC_CHIP_UNKNOWN if not a chip. */
espsec_chip_t espsec_chip_from_name(const char *name);
/** "esp32c3" style name; "unknown" if not a chip. */
const char *espsec_chip_name(espsec_chip_t chip);
/** The chip espsec assumes when --chip is not given (esptool's default for espefuse: ESP32). */
const espsec_chip_info_t *espsec_chip_default(void);

/** The i-th key purpose of a chip: its own list, then the CUSTOM ones; NULL past the end. */
const espsec_key_purpose_t *espsec_chip_key_purpose_at(const espsec_chip_info_t *c, size_t i);
/** A key purpose of a chip by name (case-insensitive), or NULL. */
const espsec_key_purpose_t *espsec_chip_key_purpose(const espsec_chip_info_t *c, const char *name);
/** A key purpose of a chip by value (the first name with that value), or NULL. */
const espsec_key_purpose_t *espsec_chip_key_purpose_by_value(const espsec_chip_info_t *c, int value);
/** Minimum revision needed for a feature (substring match on its name), 0 if none. */
uint16_t espsec_chip_min_rev(const espsec_chip_info_t *c, const char *feature);
/** The names of the chips with virtual eFuses, ", "-separated, into buf. */
const char *espsec_chip_efuse_names(char *buf, size_t cap);

/** A named code in an image header (a flash size or frequency). */
typedef struct {
    const char *name; /* "4MB", "40m" */
    uint8_t code;     /* the nibble as stored: sizes in bits 7..4, frequencies in bits 3..0 */
} espsec_chip_code_t;

/** What the image header's flash fields mean on a chip, and its UF2 family (esptool's targets). */
typedef struct {
    uint32_t uf2_family_id;           /* UF2 familyID of the chip's images */
    const espsec_chip_code_t *sizes;  /* byte 3, high nibble; NULL-name terminated, esptool's order */
    const espsec_chip_code_t *freqs;  /* byte 3, low nibble; NULL-name terminated */
    uint64_t max_flash;               /* the largest flash size in sizes, in bytes */
    int ext_header;                   /* 1: the 16-byte extended header follows (its byte 15: hash appended) */
} espsec_chip_flash_t;

/** The flash facts of a chip (never NULL for a chip of the model). */
const espsec_chip_flash_t *espsec_chip_flash(const espsec_chip_info_t *c);
/** The code of a flash size / frequency name on a chip (case-insensitive); 0 when found, -1 otherwise. */
int espsec_chip_flash_size_code(const espsec_chip_info_t *c, const char *name, uint8_t *code);
int espsec_chip_flash_freq_code(const espsec_chip_info_t *c, const char *name, uint8_t *code);
/** The names of a list of codes, ", "-separated, into buf (for error messages). */
const char *espsec_chip_code_names(const espsec_chip_code_t *codes, char *buf, size_t cap);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
