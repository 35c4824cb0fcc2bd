/* Internal to the efuse module: chip descriptions. */
#ifndef ESPSEC_EFUSE_CHIP_H
#define ESPSEC_EFUSE_CHIP_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/chip.h"
#include "espsec/efuse.h"

/* How a field's value is shown (espefuse's field classes). */
enum efuse_class {
    EC_PLAIN,
    EC_MAC,        /* MAC address */
    EC_MAC_CRC,    /* ESP32: MAC address with its CRC-8 check */
    EC_KEYBLOCK,   /* key block (C3: with its purpose) */
    EC_KEYPURPOSE, /* KEY_PURPOSE_n */
    EC_BITCOUNT,   /* FLASH_CRYPT_CNT & co: burn sets the next bit */
    EC_VREF,       /* ESP32 ADC_VREF, sign-magnitude in 7 mV steps */
    EC_ADC_TP,     /* calibration value, sign-magnitude, 4 units per step */
    EC_ADC_TP_ESP32, /* ESP32 ADC two-point calibration: offset plus two's-complement steps */
    EC_T_SENSOR,   /* temperature sensor calibration, 0.1 steps */
    EC_WAFER,      /* calculated wafer minor revision (HI << 3 | LO) */
    EC_WAFER_ESP32, /* ESP32: wafer major revision from CHIP_VER_REV1/REV2 */
    EC_PKG,        /* calculated package */
    EC_SPIPIN,     /* ESP32 SPI pad GPIO: 30, 31 stand for 32, 33 */
    EC_COMPOSE,    /* calculated from parts (wafer revision, PSRAM capacity, recovery sector...) */
    EC_MAC_EUI64,  /* calculated: MAC with MAC_EXT inserted after its third byte */
};

/* When a field is part of the summary. */
enum efuse_group {
    EG_ALWAYS,
    EG_KEYBLOCK,
    EG_CALC,
    EG_CUSTOM_MAC,  /* ESP32 */
    EG_ADC_CALIB,   /* ESP32: when BLK3_PART_RESERVE */
    EG_BLK2_CALIB,  /* ESP32-C3: when BLK_VERSION_MAJOR >= 1 */
    EG_OLDREV,      /* fields of early revisions, shown while the chip version is at most oldrev_max_chip_version */
    EG_HIDDEN,      /* never shown */
};

/* One part of a calculated field: its bits go to value bits shift.. */
typedef struct {
    const char *field;
    uint8_t shift;
} efuse_part_t;

typedef struct {
    const char *name;
    const char *alt;
    uint8_t block;
    int8_t word, pos; /* -1 for calculated fields */
    uint16_t bit_len;
    espsec_efuse_type_t type;
    int8_t wr_dis, rd_dis; /* -1: none */
    const char *category;
    enum efuse_class cls;
    const char *dict; /* "0=Enable;1=Disable" or NULL */
    enum efuse_group group;
    const char *desc;
    const efuse_part_t *parts; /* EC_COMPOSE: NULL-field terminated */
    uint32_t rd_dis_more;      /* further RD_DIS bits that also hide this field (C2's BLOCK_KEY0 halves) */
} efuse_field_def_t;

typedef struct {
    const char *name;
    const char *alias[3];
    uint16_t rd_off, wr_off; /* byte offsets in the register space */
    uint8_t words;           /* data words of the block */
    int8_t wr_dis, rd_dis;
    const char *key_purpose; /* C3 key blocks: "KEY_PURPOSE_n" */
    int8_t rd_dis_hi;        /* >= 0: rd_dis hides the low half only, this bit the high half (C2 BLOCK_KEY0) */
} efuse_block_def_t;

/* Where the controller reports read errors of a block (count and fail bit). */
typedef struct {
    uint8_t block;
    uint16_t reg;
    uint16_t mask; /* the count bits (ESP32: its 12-bit decoder status) */
    uint8_t shift;
    int8_t fail_bit; /* -1: none */
} efuse_err_def_t;

typedef struct efuse_chip_def {
    const espsec_chip_info_t *chip;
    size_t mem_size;
    const efuse_block_def_t *blocks;
    int nblocks;
    const efuse_field_def_t *fields;
    size_t nfields;
    const enum efuse_group *group_order;
    size_t ngroups;
    /* registers the controller leaves set after a burn: (offset, bits ORed in) */
    const uint32_t (*after_burn)[2];
    size_t nafter_burn;
    int rs_coding;          /* C3: key blocks carry Reed-Solomon check words */
    uint16_t rs_check_off;  /* where the last block's 12 check bytes stay */
    int coding_34;          /* ESP32: CODING_SCHEME = 1 shrinks key blocks to 192 bits, one write per block */
    int calib_min_blk_version;   /* EG_BLK2_CALIB shown when BLK_VERSION (major*100+minor) >= this */
    int oldrev_max_chip_version; /* EG_OLDREV shown when the chip version (major*100+minor) <= this */
    const uint16_t *repeat_err;  /* BLOCK0 repeat-error registers */
    size_t nrepeat_err;
    const efuse_err_def_t *block_err;
    size_t nblock_err;
} efuse_chip_def_t;


/* Reed-Solomon RS(44,32) over GF(2^8) (poly 0x11d, roots 2^0..2^11): 12 check bytes. */
void efuse_rs_encode(const uint8_t data[32], uint8_t check[12]);

#endif
