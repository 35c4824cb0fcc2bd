/* Internal to src/chip: the eFuse tables of the chips (src/chip/efuse_<chip>.c). */
#ifndef ESPSEC_CHIP_EFUSE_H
#define ESPSEC_CHIP_EFUSE_H

#include "chip/kp_common.h"
#include "efuse/efuse_chip.h"

extern const efuse_chip_def_t EFUSE_ESP32, EFUSE_ESP32C2, EFUSE_ESP32C3, EFUSE_ESP32C5, EFUSE_ESP32C6, EFUSE_ESP32C61,
    EFUSE_ESP32H2, EFUSE_ESP32P4, EFUSE_ESP32S2, EFUSE_ESP32S3;

#endif
