/* Fuzz the ELF reader and elf2image: the first two bytes pick the chip and
 * the options, the rest is the ELF file. Every image made must parse and
 * pass its own checksum and digest checks. */
#include <stdint.h>
#include <stdlib.h>

#include "espsec/chip.h"
#include "espsec/elf2image.h"
#include "espsec/image.h"
#include "espsec/image_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    uint8_t sel = data[0], opt = data[1];
    const espsec_chip_info_t *chip = espsec_chip_at(sel % espsec_chip_count());
    if (chip == NULL || chip->memmap == NULL) {
        return 0;
    }
    espsec_elf2image_opts_t o = {
        .target = chip->memmap,
        .esp8266_version = 1 + (sel / 16) % 3,
        .secure_pad = (opt & 3) == 3 ? 0 : (opt & 3),
        .append_digest = !(opt & 4),
        .use_segments = (opt >> 3) & 1,
        .ram_only_header = (opt >> 4) & 1,
        .pad_to_size = (opt & 0x20) ? 4096 : 0,
        .has_elf_sha256_offset = (opt >> 6) & 1,
        .elf_sha256_offset = 0xB0,
        .mmu_page_size = (opt & 0x80) ? 0x8000 : 0,
    };
    espsec_elf2image_result_t r;
    espsec_error_t err;
    if (espsec_elf2image(data + 2, size - 2, &o, &r, &err) == ESPSEC_OK) {
        if (o.target->format == ESPSEC_IMAGE_FMT_ESP32 && !o.ram_only_header) {
            espsec_image_t img;
            if (espsec_image_parse(r.image, r.image_len, &img, &err) != ESPSEC_OK ||
                espsec_image_check(&img, &err) != ESPSEC_OK) {
                abort();
            }
        }
        espsec_elf2image_result_free(&r);
    }
    return 0;
}
