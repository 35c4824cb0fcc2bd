/* Internal to src/chip: key purpose lists shared by several chips. */
#ifndef ESPSEC_CHIP_KP_COMMON_H
#define ESPSEC_CHIP_KP_COMMON_H

#include "espsec/chip.h"

#define KP_R (ESPSEC_KP_REVERSE | ESPSEC_KP_READ_PROT)
#define KP_P ESPSEC_KP_READ_PROT
#define KP_D ESPSEC_KP_DIGEST

/* The purposes every chip with KEY_PURPOSE_n fields shares (values 4..11). */
#define KP_HMAC_AND_DIGESTS                                                                                   \
    {"HMAC_DOWN_ALL", 5, KP_P}, {"HMAC_DOWN_JTAG", 6, KP_P}, {"HMAC_DOWN_DIGITAL_SIGNATURE", 7, KP_P},        \
        {"HMAC_UP", 8, KP_P}, {"SECURE_BOOT_DIGEST0", 9, KP_D}, {"SECURE_BOOT_DIGEST1", 10, KP_D},            \
        {"SECURE_BOOT_DIGEST2", 11, KP_D}

#define KP_DIGESTS {"SECURE_BOOT_DIGEST0", 9, KP_D}, {"SECURE_BOOT_DIGEST1", 10, KP_D}, {"SECURE_BOOT_DIGEST2", 11, KP_D}

/* Registry (chip.c) */
extern const espsec_chip_info_t CHIP_ESP32, CHIP_ESP32S2, CHIP_ESP32S3, CHIP_ESP32C2, CHIP_ESP32C3, CHIP_ESP32C5,
    CHIP_ESP32C6, CHIP_ESP32C61, CHIP_ESP32H2, CHIP_ESP32P4, CHIP_ESP32H21, CHIP_ESP32H4, CHIP_ESP32E22,
    CHIP_ESP32S31, CHIP_ESP8266;

#endif
