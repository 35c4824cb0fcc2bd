/*
 * espsec/efuse.h — virtual eFuses with the real chips' fields and rules.
 *
 * An espsec_efuse_t holds the eFuse controller's register space of one chip
 * (ESP32, or ESP32-C3 with its KEY_PURPOSE layout) and enforces what the
 * silicon enforces: bits only go from 0 to 1; a field or block whose WR_DIS
 * bit is set cannot change; a field or block whose RD_DIS bit is set reads
 * back as zeros to software; the ESP32's 3/4 coding scheme limits key blocks
 * to 192 bits and forbids a second write to a block; on ESP32-C3 key blocks
 * carry Reed-Solomon check words.
 *
 * The file format is espefuse's virtual eFuse file (`--virt
 * --path-efuse-file`): the controller's register space, byte-reversed. espsec
 * reads and writes it so both tools share one file; after the same
 * operations both produce the same bytes.
 *
 * A real chip still uses a read-protected key (for flash decryption, say)
 * although software reads zeros. espefuse's file keeps only the software
 * view, so espsec keeps the hardware view of protected areas in a companion
 * file ("FILE.hidden", mode 0600) when it burns such keys itself.
 *
 * Changes are staged (espsec_efuse_stage_*), checked as espefuse checks
 * them, then applied together by espsec_efuse_burn — or discarded.
 */
#ifndef ESPSEC_EFUSE_H
#define ESPSEC_EFUSE_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/chip.h"
#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct espsec_efuse espsec_efuse_t;

typedef enum { ESPSEC_EF_BOOL, ESPSEC_EF_UINT, ESPSEC_EF_BYTES } espsec_efuse_type_t;

/** A field as the summary shows it. */
typedef struct {
    const char *name;
    const char *alt_name; /* or NULL */
    const char *category;
    const char *description;
    int block, word, pos; /* word/pos are -1 for calculated fields */
    int bit_len;
    espsec_efuse_type_t type;
    char efuse_type[16]; /* "bool", "uint:7", "bytes:32" */
    int readable, writeable;
    /* value as espefuse shows it: text, and for JSON whether it is a bool,
     * an integer or a string */
    char value[160];
    enum { ESPSEC_EFV_BOOL, ESPSEC_EFV_INT, ESPSEC_EFV_STR } value_kind;
    long long int_value;
    char raw_hex[80];   /* "0x01" / "0x7557..." as espefuse's raw_value */
    char bitstring[80]; /* "0b0000001" / "0x0180" as in espefuse's text summary; "" for bytes */
} espsec_efuse_field_info_t;

/** A new virtual eFuse of a chip, all zero (a fresh chip). */
espsec_err_t espsec_efuse_new(espsec_chip_t chip, espsec_efuse_t **out, espsec_error_t *err);

/**
 * Load from an espefuse virtual file image (and optionally espsec's hidden
 * companion). A file of the wrong size is refused (ESPSEC_ERR_INVALID_SIZE).
 */
espsec_err_t espsec_efuse_load(espsec_chip_t chip, const uint8_t *file, size_t len, const uint8_t *hidden,
                               size_t hidden_len, espsec_efuse_t **out, espsec_error_t *err);

/** Size of the virtual file of a chip (ESP32 0x120, ESP32-C3 0x200); 0 if unsupported. */
size_t espsec_efuse_file_size(espsec_chip_t chip);

/**
 * The file image (software view) and, when a read-protected area holds
 * something software cannot see, the hidden companion (else *hidden = NULL).
 * Both malloc'd.
 */
espsec_err_t espsec_efuse_serialize(const espsec_efuse_t *e, uint8_t **file, size_t *len, uint8_t **hidden,
                                    size_t *hidden_len, espsec_error_t *err);

void espsec_efuse_free(espsec_efuse_t *e);
espsec_chip_t espsec_efuse_chip(const espsec_efuse_t *e);
/** The chip model of this eFuse set. */
const espsec_chip_info_t *espsec_efuse_chip_info(const espsec_efuse_t *e);

/** Load path (and path.hidden if present); a missing file gives a fresh chip and *created = 1. */
espsec_err_t espsec_efuse_load_file(espsec_chip_t chip, const char *path, espsec_efuse_t **out, int *created,
                                    espsec_error_t *err);
/**
 * A chip's state from espefuse's `dump --format joint` output (every block's
 * read registers, BLOCK0 first, in register order), as read from hardware.
 * Read-protected blocks come in as zeros and are unknown to espsec. A file of
 * another size is refused (ESPSEC_ERR_INVALID_SIZE).
 */
espsec_err_t espsec_efuse_import_joint(espsec_chip_t chip, const uint8_t *data, size_t len, espsec_efuse_t **out,
                                       espsec_error_t *err);
/** What a file given to espsec_efuse_import holds. */
typedef enum {
    ESPSEC_EFUSE_FMT_AUTO = 0, /* decide from the contents */
    ESPSEC_EFUSE_FMT_JOINT,    /* espefuse's `dump --format joint`: what software reads */
    ESPSEC_EFUSE_FMT_JSON,     /* espefuse's `summary --format json` (its banner lines may precede it) */
    ESPSEC_EFUSE_FMT_QEMU,     /* Espressif QEMU's eFuse file: what the silicon holds */
} espsec_efuse_format_t;

/** "joint", "json", "qemu" ("auto" for ESPSEC_EFUSE_FMT_AUTO). */
const char *espsec_efuse_format_name(espsec_efuse_format_t fmt);
/** The format of a name (as above, case-insensitive); -1 if none. */
int espsec_efuse_format_by_name(const char *name, espsec_efuse_format_t *fmt);

/**
 * A chip's state from a file in one of the formats above (ESPSEC_EFUSE_FMT_AUTO:
 * JSON when the text has a line starting with '{', else by size; a 124-byte ESP32
 * file is a joint dump unless a read-protected block holds data, which only QEMU's
 * file can show). *detected (if not NULL) gets the format used.
 *
 * What software could not read stays unknown: a joint dump or a summary shows a
 * read-protected block as zeros, and the imported set marks that block unknown
 * (espsec_efuse_get_block_hw gives known = 0), exactly as an espefuse virtual
 * file without espsec's companion does; the device model then says it cannot
 * check what the key decrypts or verifies instead of assuming zeros. QEMU's file
 * holds protected keys in clear, so everything it imports is known. A summary
 * carries only the bits of the fields it lists: reserved bits come in as zero.
 *
 * Refused with the line (JSON) or byte offset (binary) named: malformed JSON, a
 * field the chip does not have or at another position (a summary of another
 * chip), a raw_value that does not fit its field, fields that disagree on the
 * same bits, QEMU padding that is not zero, a size that is none of the formats.
 */
espsec_err_t espsec_efuse_import(espsec_chip_t chip, const uint8_t *data, size_t len, espsec_efuse_format_t fmt,
                                 espsec_efuse_format_t *detected, espsec_efuse_t **out, espsec_error_t *err);

/**
 * Espressif QEMU's eFuse file of this set (malloc'd, espsec_efuse_qemu_size bytes):
 * the hardware view, read-protected keys included. Refused (ESPSEC_ERR_NOT_SUPPORTED)
 * for a chip QEMU does not model, and (ESPSEC_ERR_INVALID_STATE) when a read-protected
 * block is unknown to espsec, naming the block.
 */
espsec_err_t espsec_efuse_export_qemu(const espsec_efuse_t *e, uint8_t **out, size_t *len, espsec_error_t *err);

/** Write path atomically (and path.hidden, mode 0600, when needed). */
espsec_err_t espsec_efuse_save_file(const espsec_efuse_t *e, const char *path, espsec_error_t *err);

/**
 * Add custom fields from an ESP-IDF esp_efuse_custom_table.csv, as espefuse's
 * --extend-efuse-table does (the rules are in src/efuse/efuse_table_csv.c): the
 * summary then shows them (category "User") and every command takes them by name
 * or alternative name. Refused with the line named: a malformed line, a field
 * outside its block or on a block the chip lacks, a name the chip or the table
 * already has. Once per set.
 */
espsec_err_t espsec_efuse_extend_table(espsec_efuse_t *e, const char *csv, size_t len, espsec_error_t *err);

/* ---- fields ---- */

/** Number of fields the summary shows now (it depends on the coding scheme and on some fields). */
size_t espsec_efuse_field_count(const espsec_efuse_t *e);
/** Describe field i (0 <= i < count). */
espsec_err_t espsec_efuse_field_info(const espsec_efuse_t *e, size_t i, espsec_efuse_field_info_t *info);
/** Index of a field by name or alternative name (case-insensitive); -1 if none. */
int espsec_efuse_find(const espsec_efuse_t *e, const char *name);

/** A field's value as software reads it (zeros when read-protected). */
espsec_err_t espsec_efuse_get_uint(const espsec_efuse_t *e, const char *name, uint64_t *value, espsec_error_t *err);
/** What the hardware holds in a field (read protection ignored). */
espsec_err_t espsec_efuse_get_uint_hw(const espsec_efuse_t *e, const char *name, uint64_t *value,
                                      espsec_error_t *err);
/** A block's data as the hardware holds it (blk 0..3 on ESP32, 0..10 on ESP32-C3); out gets 32 bytes. */
espsec_err_t espsec_efuse_get_block_hw(const espsec_efuse_t *e, int blk, uint8_t out[32], int *known,
                                       espsec_error_t *err);
/** Block number of a block name or alias ("BLOCK1", "flash_encryption", "BLOCK_KEY0"); -1 if unknown. */
int espsec_efuse_block_by_name(const espsec_efuse_t *e, const char *name);
const char *espsec_efuse_block_name(const espsec_efuse_t *e, int blk);
/** The i-th other name of a block ("flash_encryption" for the ESP32's BLOCK1); NULL past the last. */
const char *espsec_efuse_block_alias(const espsec_efuse_t *e, int blk, int i);
int espsec_efuse_block_count(const espsec_efuse_t *e);
/** Data words (32-bit) of a block as the controller reads it. */
int espsec_efuse_block_words(const espsec_efuse_t *e, int blk);
int espsec_efuse_block_readable(const espsec_efuse_t *e, int blk);
int espsec_efuse_block_writeable(const espsec_efuse_t *e, int blk);
/** The block's bytes as software reads them (zeros if read-protected). */
void espsec_efuse_get_block(const espsec_efuse_t *e, int blk, uint8_t out[32]);
/** 3/4 coding scheme in force (ESP32): key blocks hold 24 bytes. */
int espsec_efuse_coding_34(const espsec_efuse_t *e);
/** A block's coding scheme as espefuse names it: "NONE", "RS" (Reed-Solomon: one write) or "3/4". */
const char *espsec_efuse_block_coding(const espsec_efuse_t *e, int blk);

/* ---- staged changes ---- */

/**
 * Stage a field value. Booleans take 1; integers must be non-zero and fit;
 * a value equal to what is burned is accepted and changes nothing (*noop = 1).
 * Refused: write-protected, read-protected, or a value that would need a
 * burned bit cleared. The message names the field and the reason.
 */
espsec_err_t espsec_efuse_stage_uint(espsec_efuse_t *e, const char *name, uint64_t value, int *noop,
                                     espsec_error_t *err);
/** Stage a bytes field (len must equal its size). */
espsec_err_t espsec_efuse_stage_bytes(espsec_efuse_t *e, const char *name, const uint8_t *data, size_t len,
                                      espsec_error_t *err);
/** Stage the next bit of a bit-count field (FLASH_CRYPT_CNT, SPI_BOOT_CRYPT_CNT): what "burn_efuse NAME" does. */
espsec_err_t espsec_efuse_stage_next_bit(espsec_efuse_t *e, const char *name, uint64_t *new_value,
                                         espsec_error_t *err);
/** Stage the write-protection of a field or block. */
espsec_err_t espsec_efuse_stage_write_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err);
/** The RD_DIS (rd) or WR_DIS bit of a field or block: >= 0; -1 when it has none, -2 if no such name. */
int espsec_efuse_protect_bit(const espsec_efuse_t *e, const char *name, int rd);
/** The names of the fields that share that bit (", "-separated, as espefuse lists them when it sets it); their count. */
size_t espsec_efuse_protect_group(const espsec_efuse_t *e, const char *name, int rd, char *out, size_t cap);
/** 1 when the field or block is already read- (rd) or write-protected; -1 if no such name. */
int espsec_efuse_is_protected(const espsec_efuse_t *e, const char *name, int rd);
/** Stage the read-protection of a field or block. Refused, as espefuse refuses, for what
 *  must stay readable: the ESP32's BLOCK2 with Secure Boot V2 on, C2's BLOCK_KEY0 in use for
 *  the digest or a 256-bit key, a key block whose purpose needs no read protection. */
espsec_err_t espsec_efuse_stage_read_protect(espsec_efuse_t *e, const char *name, espsec_error_t *err);
/** Stage a key into a block. ESP32: block name/alias, key bytes as given (reversal is the caller's).
 *  ESP32-C3: purpose (KEY_PURPOSE name) is staged too. protect: write-protect (and read-protect when rd). */
espsec_err_t espsec_efuse_stage_key(espsec_efuse_t *e, int blk, const uint8_t *key, size_t len, const char *purpose,
                                    int write_protect, int read_protect, espsec_error_t *err);
/** What espsec_efuse_stage_key_purpose staged for one block (a 512-bit key takes two). */
typedef struct {
    int block;          /* block number */
    const char *field;  /* the key field burned ("BLOCK_KEY0", C2: "BLOCK_KEY0_LOW_128") */
    const char *purpose; /* the hardware purpose ("XTS_AES_256_KEY_1") */
    size_t len;         /* bytes burned */
    int reversed, read_protected, write_protected;
    const char *purpose_field;  /* the block's KEY_PURPOSE_n, or NULL (C2) */
    const char *purpose_before; /* the purpose it had ("USER"); the same as purpose when unchanged */
    int purpose_write_protected; /* KEY_PURPOSE_n write-protected by this burn */
    int digest_cut;     /* C2: the 128 leftmost bits of a 32-byte digest are burned */
    const char *size_fuse; /* C2: the key-size fuse the key sets (XTS_KEY_LENGTH_256), or NULL */
    int size_fuse_was_set; /* ... already set before */
    int already_burned;          /* the block already holds every bit of this key (nothing to add) */
    int write_protect_already;   /* write_protected asked of a block already write-protected */
    const char *companion;       /* the chip's field burned with this purpose (espsec_chip_key_companion_t), or NULL */
    int companion_before;        /* its value before: 1 when it was already burned */
    int companion_staged;        /* 1 when an earlier key of the same command already staged it */
} espsec_efuse_key_step_t;

/**
 * espefuse's check of the purposes one burn-key names, before it reads a key: on a
 * chip whose one key block is shared (C2), two keys are refused with its message
 * "These keypurposes are incompatible ['XTS_AES_128_KEY', 'SECURE_BOOT_DIGEST']"
 * when one is an ESPSEC_KP_ALONE purpose or the first is a half of the block and
 * the second is not. Unknown names pass (they are refused where they are used).
 */
espsec_err_t espsec_efuse_check_key_purposes(const espsec_chip_info_t *c, const char *const *purposes, size_t n,
                                            espsec_error_t *err);

/**
 * Stage a key as espefuse's burn_key does on chips with key purposes: the
 * purpose decides byte reversal and default read protection; a virtual
 * purpose (XTS_AES_256_KEY) takes a 64-byte key and splits it over this
 * block and the next free key block (not in exclude, a mask of block
 * numbers); C2's purposes burn a half of BLOCK_KEY0 (a 32-byte digest keeps
 * its first 16 bytes); the chip's key companion field is staged to 1 with its
 * purpose on the revisions it applies to. steps (up to 2) say what was staged. On a refusal, a
 * step whose key field was chosen has its field, len and reversed set at
 * steps[*nsteps] (espefuse shows that key's line before the refusal); its
 * field is NULL otherwise. A wrong length is refused with espefuse's message
 * ("Incorrect key file size 16. Key file must be 32 bytes (256 bits) of raw
 * binary key data.").
 */
espsec_err_t espsec_efuse_stage_key_purpose(espsec_efuse_t *e, const char *block, const uint8_t *key, size_t len,
                                            const char *purpose, int no_write_protect, int no_read_protect,
                                            uint32_t exclude, espsec_efuse_key_step_t steps[2], int *nsteps,
                                            espsec_error_t *err);

/**
 * The key burn-key takes from a key file for a purpose, as espefuse reads it: for
 * the chip's ECDSA purposes (ECDSA_KEY, ECDSA_KEY_P192/P256/P384; not the
 * ECDSA_KEY_P384_L/_H halves, which take raw data) a PEM private key on NIST
 * P-192, P-256 or P-384 (unencrypted), whose scalar comes out big-endian: a P-192
 * scalar after 8 zero bytes (32 in all), ECDSA_KEY_P384's after 16 (64 bytes, for
 * the two blocks). The purpose's byte reversal is espsec_efuse_stage_key_purpose's.
 * Other purposes: the file's bytes (at most 64). out gets up to 64 bytes (a secret).
 * Refused with espefuse's messages: not a PEM private key, another curve or RSA.
 */
espsec_err_t espsec_efuse_key_file_data(const espsec_chip_info_t *c, const char *purpose, const uint8_t *file,
                                        size_t len, uint8_t out[64], size_t *out_len, espsec_error_t *err);

/**
 * Stage raw data into a block (espefuse's burn-block-data): data goes at
 * byte offset; offset 0 needs exactly the block's length (24 bytes for an
 * ESP32 block under 3/4 coding), with an offset the rest stays zero.
 * Refused: write-protected or read-protected block, bits that would need
 * clearing, a second write to a 3/4-coded block.
 */
espsec_err_t espsec_efuse_stage_block_data(espsec_efuse_t *e, int blk, const uint8_t *data, size_t len, size_t offset,
                                           espsec_error_t *err);
/** Stage single bits of a block (espefuse's burn-bit). */
espsec_err_t espsec_efuse_stage_block_bits(espsec_efuse_t *e, int blk, const unsigned *bits, size_t n,
                                           espsec_error_t *err);
/** Bytes a block holds for data (words * 4; 24 under ESP32 3/4 coding). */
size_t espsec_efuse_block_len(const espsec_efuse_t *e, int blk);
/**
 * Read errors the controller reports (repeat errors of BLOCK0, error counts
 * and fail bits of the coded blocks), as a file read from a chip may carry.
 * Returns the number of blocks with errors; msg gets "BLOCK0, BLOCK_KEY1" or "".
 */
int espsec_efuse_block_errors(const espsec_efuse_t *e, char *msg, size_t cap);

/** Stage a custom MAC address (6 bytes, as written "AA:BB:..."), with what the chip keeps
 *  beside it (ESP32: MAC_VERSION = 1 and CUSTOM_MAC_CRC; C2: CUSTOM_MAC_USED). */
espsec_err_t espsec_efuse_stage_custom_mac(espsec_efuse_t *e, const uint8_t mac[6], espsec_error_t *err);
/** CRC-8 of a MAC address as the ESP32 ROM computes it (esp_crc8: reflected polynomial 0x8C, init 0). */
uint8_t espsec_efuse_mac_crc8(const uint8_t mac[6]);
/** espefuse's get-custom-mac line ("Custom MAC Address: ..."); 1 when the chip says none is set,
 *  -1 when the chip has no CUSTOM_MAC field. */
int espsec_efuse_custom_mac_text(const espsec_efuse_t *e, char *line, size_t cap);
/** Stage the flash-voltage fuses (ESP32 VDD_SDIO, S2/S3 VDD_SPI): "1.8V", "3.3V" or "OFF". */
espsec_err_t espsec_efuse_stage_flash_voltage(espsec_efuse_t *e, const char *voltage, espsec_error_t *err);

/** 1 when bits of the named field are staged. */
int espsec_efuse_field_staged(const espsec_efuse_t *e, const char *name);
/** Blocks with staged bits, one bit per block number. */
uint32_t espsec_efuse_staged_blocks(const espsec_efuse_t *e);
/** The bits staged for a block (32 bytes, zeros past its length). */
void espsec_efuse_get_staged_block(const espsec_efuse_t *e, int blk, uint8_t out[32]);
/** A field's bits as espefuse's bitstrings show them ("0b00101", "0x0f", "0x" and bytes most significant first),
 *  as burned (staged = 0) or as staged for the next burn (staged = 1); -1 if no such field. */
int espsec_efuse_field_bitstring(const espsec_efuse_t *e, const char *name, int staged, char *out, size_t cap);
/**
 * 1 when what is staged would set both fuses of one of the chip's exclusive pairs
 * (espsec_chip_info_t.exclusive_fuses: one staged while the other is set or staged),
 * with espefuse's notice in msg ("DIS_USB_JTAG and DIS_USB_SERIAL_JTAG cannot be set
 * together due to a bug in the ROM bootloader!"); 0 otherwise.
 */
int espsec_efuse_staged_conflict(const espsec_efuse_t *e, char *msg, size_t cap);
/** 1 when something is staged. */
int espsec_efuse_has_staged(const espsec_efuse_t *e);
/** Burn everything staged (blocks first, then BLOCK0, protection bits last). */
espsec_err_t espsec_efuse_burn(espsec_efuse_t *e, espsec_error_t *err);
/** Forget what is staged. */
void espsec_efuse_discard(espsec_efuse_t *e);

/* ---- power-cut injection (as espsec_flash_cut_after) ---- */

/**
 * Cut the power during the block program after the next n (n = 0: the very
 * next one). A burn programs each block with staged bits, highest first,
 * BLOCK0 last and whole; the cut program does not land, the burn returns
 * ESPSEC_ERR_POWER_CUT, the blocks programmed before it stay and every burn
 * after it fails until espsec_efuse_power_on.
 */
void espsec_efuse_cut_after(espsec_efuse_t *e, uint64_t n);
/** 1 once the cut happened. */
int espsec_efuse_is_cut(const espsec_efuse_t *e);
/** Restore power (and cancel any pending cut). */
void espsec_efuse_power_on(espsec_efuse_t *e);
/** Block programs so far (burns count one per block they change). */
uint64_t espsec_efuse_program_count(const espsec_efuse_t *e);

/* Key purposes (names, values, flags) are the chip model's: espsec_chip_key_purpose(). */

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
