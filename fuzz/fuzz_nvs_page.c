/*
 * Fuzz the NVS reader: an arbitrary partition image is dumped, mounted
 * (plain, then encrypted), read, written to, and remounted. The mount must
 * repair or refuse, never crash; after a successful mount the store must
 * keep working on whatever it found.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/flash.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"

static void exercise(const uint8_t *img, size_t len, const espsec_nvs_keys_t *keys)
{
    espsec_error_t err;
    FILE *null = fopen("/dev/null", "w");
    size_t problems;
    espsec_nvs_dump_opts_t oj = {ESPSEC_NVS_DUMP_JSON, ESPSEC_NVS_DUMP_ALL}, on = {ESPSEC_NVS_DUMP_TEXT, ESPSEC_NVS_DUMP_NONE};
    (void)espsec_nvs_dump(img, len, keys, &oj, null, &problems, &err);
    (void)espsec_nvs_dump(img, len, keys, &on, null, &problems, &err);
    (void)espsec_nvs_dump(img, len, keys, NULL, null, &problems, &err);
    fclose(null);
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    if (espsec_flash_from(img, len, &f, &err) != ESPSEC_OK) {
        return;
    }
    if (espsec_nvs_mount(f, 0, (uint32_t)len, keys, &n, &err) == ESPSEC_OK) {
        espsec_nvs_entry_info_t info[64];
        size_t count = 0;
        (void)espsec_nvs_list(n, NULL, ESPSEC_NVS_TYPE_ANY, info, 64, &count);
        for (size_t i = 0; i < count; i++) {
            espsec_nvs_handle_t h;
            if (espsec_nvs_open(n, info[i].namespace_name, ESPSEC_NVS_READONLY, &h) == ESPSEC_OK) {
                uint8_t buf[1024];
                size_t bl = sizeof(buf);
                (void)espsec_nvs_get_blob(n, h, info[i].key, buf, &bl);
                bl = sizeof(buf);
                (void)espsec_nvs_get_str(n, h, info[i].key, (char *)buf, &bl);
                espsec_nvs_close(n, h);
            }
        }
        espsec_nvs_handle_t w;
        if (espsec_nvs_open(n, "fuzz", ESPSEC_NVS_READWRITE, &w) == ESPSEC_OK) {
            uint8_t blob[3000];
            memset(blob, 0xA5, sizeof(blob));
            (void)espsec_nvs_set_blob(n, w, "b", blob, sizeof(blob));
            (void)espsec_nvs_set_u32(n, w, "u", 1);
            (void)espsec_nvs_erase_key(n, w, "u");
        }
        espsec_nvs_stats_t st;
        (void)espsec_nvs_get_stats(n, &st);
        espsec_nvs_unmount(n);
        n = NULL;
        if (espsec_nvs_mount(f, 0, (uint32_t)len, keys, &n, &err) == ESPSEC_OK) {
            espsec_nvs_unmount(n);
        }
    }
    espsec_flash_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* whole pages: pad the input up to 3..8 pages with erased flash */
    size_t pages = size / 4096 + 1;
    pages = pages < 3 ? 3 : pages > 8 ? 8 : pages;
    size_t len = pages * 4096;
    uint8_t *img = malloc(len);
    if (img == NULL) {
        return 0;
    }
    memset(img, 0xFF, len);
    memcpy(img, data, size < len ? size : len);
    exercise(img, len, NULL);
    espsec_nvs_keys_t k;
    for (int i = 0; i < 32; i++) {
        k.eky[i] = (uint8_t)i;
        k.tky[i] = (uint8_t)(i + 100);
    }
    exercise(img, len, &k);
    /* and any length for the dump's own checks */
    FILE *null = fopen("/dev/null", "w");
    size_t problems;
    espsec_error_t err;
    (void)espsec_nvs_dump(data, size, NULL, NULL, null, &problems, &err);
    fclose(null);
    free(img);
    return 0;
}
