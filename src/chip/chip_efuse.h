/* Internal to src/chip: the eFuse tables of the chips (src/chip/efuse_<chip>.c). */
#ifndef ESPSEC_CHIP_EFUSE_H
#define ESPSEC_CHIP_EFUSE_H

#include "chip/kp_common.h"
#include "efuse/efuse_chip.h"

extern const efuse_chip_def_t EFUSE_ESP32, EFUSE_ESP32C3;

#endif
