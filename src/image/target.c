/* Questions about a chip's image format (espsec/image_target.h). */
#include "espsec/image_target.h"

#include "espsec/chip.h"

#include <string.h>

const espsec_image_target_t *espsec_image_target_find(const char *name)
{
    const espsec_chip_info_t *c = espsec_chip_by_name(name);
    return c != NULL ? c->memmap : NULL;
}

const espsec_image_target_t *espsec_image_target_by_id(uint16_t chip_id)
{
    const espsec_chip_info_t *c = espsec_chip_by_id((espsec_chip_t)chip_id);
    if (c == NULL || c->memmap == NULL || c->memmap->format != ESPSEC_IMAGE_FMT_ESP32) {
        return NULL;
    }
    return c->memmap;
}

size_t espsec_image_target_memory_types(const espsec_image_target_t *t, uint32_t addr, const char **names,
                                        size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < t->memory_map_len; i++) {
        const espsec_mem_region_t *r = &t->memory_map[i];
        if (r->start <= addr && addr < r->end) {
            if (count < cap) {
                names[count] = r->name;
            }
            count++;
        }
    }
    return count < cap ? count : cap;
}

int espsec_image_target_is_flash_addr(const espsec_image_target_t *t, uint32_t addr)
{
    return (t->irom_map_start <= addr && addr < t->irom_map_end) ||
           (t->drom_map_start <= addr && addr < t->drom_map_end);
}

static int code_of(const espsec_flash_code_t *tab, size_t n, const char *name, uint8_t *code)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(tab[i].name, name) == 0) {
            *code = tab[i].code;
            return 0;
        }
    }
    return -1;
}

static const char *name_of(const espsec_flash_code_t *tab, size_t n, uint8_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (tab[i].code == code) {
            return tab[i].name;
        }
    }
    return NULL;
}

int espsec_image_target_flash_size(const espsec_image_target_t *t, const char *name, uint8_t *code)
{
    return code_of(t->flash_sizes, t->flash_sizes_len, name, code);
}

int espsec_image_target_flash_freq(const espsec_image_target_t *t, const char *name, uint8_t *code)
{
    return code_of(t->flash_freqs, t->flash_freqs_len, name, code);
}

const char *espsec_image_target_flash_size_name(const espsec_image_target_t *t, uint8_t code)
{
    return name_of(t->flash_sizes, t->flash_sizes_len, code);
}

const char *espsec_image_target_flash_freq_name(const espsec_image_target_t *t, uint8_t code)
{
    return name_of(t->flash_freqs, t->flash_freqs_len, code);
}
