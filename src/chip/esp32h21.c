/* ESP32-H21: esptool v5.3.1 knows its images; espsec does not model its security (yet). */
#include "chip/kp_common.h"
#include "chip/chip_image.h"

const espsec_chip_info_t CHIP_ESP32H21 = {.id = ESPSEC_CHIP_ESP32H21, .name = "esp32h21", .display = "ESP32-H21",
                                          .bootloader_offset = 0x0, .no_security_reason = "espsec knows this chip's image format only; its Secure Boot, flash encryption and eFuses are not modelled",
    .memmap = &IMAGE_ESP32H21};
