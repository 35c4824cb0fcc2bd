/* ESP8266: no Secure Boot, no flash encryption, no eFuse key blocks; espsec refuses security operations for it. */
#include "chip/kp_common.h"
#include "chip/chip_image.h"

const espsec_chip_info_t CHIP_ESP8266 = {
    .id = ESPSEC_CHIP_ESP8266,
    .name = "esp8266",
    .display = "ESP8266",
    .bootloader_offset = 0x0,
    .no_security_reason = "the ESP8266 has no Secure Boot, no flash encryption and no eFuse key blocks: there is "
                          "nothing to sign for it, encrypt on it, burn or protect",
    .memmap = &IMAGE_ESP8266,
};
