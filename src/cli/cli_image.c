/* espsec image: image_info in esptool's layout, with signature details. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_image.h"
#include "espsec/sample.h"
#include "espsec/image.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "json.h"
#include "util/bytes.h"

static void title(const char *t)
{
    printf("%s\n", t);
    for (size_t i = 0; i < strlen(t); i++) {
        putchar('=');
    }
    putchar('\n');
}

/* Where a Secure Boot V2 signature sector would sit, and whether one does. */
static int find_sbv2_sector(const uint8_t *buf, size_t len, const espsec_image_t *img, size_t *sector)
{
    size_t s = (img->image_len + ESPSEC_SBV2_SECTOR_SIZE - 1) / ESPSEC_SBV2_SECTOR_SIZE * ESPSEC_SBV2_SECTOR_SIZE;
    *sector = s;
    return s + ESPSEC_SBV2_SECTOR_SIZE <= len && buf[s] == ESPSEC_SBV2_MAGIC;
}

static int find_sbv1_block(const uint8_t *buf, const espsec_image_t *img)
{
    return img->trailing_len == ESPSEC_SBV1_SIG_BLOCK_LEN && get_le32(buf + img->image_len) == 0;
}

static void print_text(const uint8_t *buf, size_t len, const espsec_image_t *img)
{
    char t[96];
    const char *chip = espsec_chip_display_name((espsec_chip_t)img->chip_id);
    printf("Image size: %zu bytes\n\n", len);
    snprintf(t, sizeof(t), "%s Image Header", chip);
    title(t);
    printf("Image version: 1\n");
    if (img->entry_addr) {
        printf("Entry point: %#8x\n", img->entry_addr);
    } else {
        printf("Entry point not set\n");
    }
    printf("Segments: %u\n", img->segment_count);
    const char *fs = espsec_image_flash_size_name(img->spi_size_freq), *ff = espsec_image_flash_freq_name(img->spi_size_freq),
               *fm = espsec_image_flash_mode_name(img->spi_mode);
    fs ? printf("Flash size: %s\n", fs) : printf("Warning: Invalid flash size (%#x)\n", img->spi_size_freq & 0xF0);
    ff ? printf("Flash freq: %s\n", ff) : printf("Warning: Invalid flash frequency (%#x)\n", img->spi_size_freq & 0x0F);
    fm ? printf("Flash mode: %s\n", fm) : printf("Warning: Invalid flash mode (%u)\n", img->spi_mode);
    printf("\n");
    snprintf(t, sizeof(t), "%s Extended Image Header", chip);
    title(t);
    printf("WP pin: 0x%x%s\n", img->wp_pin, img->wp_pin == ESPSEC_IMAGE_WP_PIN_DISABLED ? " (disabled)" : "");
    printf("Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, d_drv: 0x%x, cs0_drv: 0x%x, hd_drv: 0x%x, wp_drv: 0x%x\n",
           img->drv[0] & 15, img->drv[0] >> 4, img->drv[1] & 15, img->drv[1] >> 4, img->drv[2] & 15, img->drv[2] >> 4);
    printf("Chip ID: %u (%s)\n", img->chip_id, chip);
    printf("Minimal chip revision: v%u.%u, (legacy min_rev = %u)\n", img->min_rev_full / 100, img->min_rev_full % 100,
           img->min_rev);
    printf("Maximal chip revision: v%u.%u\n\n", img->max_rev_full / 100, img->max_rev_full % 100);
    title("Segments Information");
    printf("%7s  %7s  %10s  %10s  %-10s\n", "Segment", "Length", "Load addr", "File offs", "Memory types");
    printf("-------  -------  ----------  ----------  ------------\n");
    for (unsigned i = 0; i < img->segment_count; i++) {
        const espsec_image_segment_t *s = &img->segments[i];
        const char *names[8];
        size_t n = espsec_image_memory_types(img->chip_id, s->load_addr, names, 8);
        printf("%7u  0x%05x  0x%08x  0x%08zx  ", i, s->length, s->load_addr, s->header_offset);
        for (size_t k = 0; k < n; k++) {
            printf("%s%s", k ? ", " : "", names[k]);
        }
        printf("\n");
    }
    printf("\n");
    snprintf(t, sizeof(t), "%s Image Footer", chip);
    title(t);
    if (img->checksum_stored == img->checksum_calc) {
        printf("Checksum: 0x%02x (valid)\n", img->checksum_stored);
    } else {
        printf("Checksum: 0x%02x (invalid - calculated 0x%02x)\n", img->checksum_stored, img->checksum_calc);
    }
    if (img->hash_appended) {
        char hex[65];
        espsec_hex(img->hash_calc, 32, hex, 0);
        printf("Validation hash: %s (%s)\n", hex, memcmp(img->hash_calc, img->hash_stored, 32) == 0 ? "valid" : "invalid");
    }
    if (img->has_app_desc) {
        const espsec_app_desc_t *d = &img->app_desc;
        char hex[65];
        espsec_hex(d->app_elf_sha256, 32, hex, 0);
        printf("\n");
        title("Application Information");
        printf("Project name: %s\nApp version: %s\nCompile time: %s %s\nELF file SHA256: %s\nESP-IDF: %s\n",
               d->project_name, d->version, d->date, d->time, hex, d->idf_ver);
        printf("Minimal eFuse block revision: %u.%u\nMaximal eFuse block revision: %u.%u\n",
               d->min_efuse_blk_rev_full / 100, d->min_efuse_blk_rev_full % 100, d->max_efuse_blk_rev_full / 100,
               d->max_efuse_blk_rev_full % 100);
        if (d->mmu_page_size) {
            printf("MMU page size: %u KB\n", d->mmu_page_size < 32 ? (1u << d->mmu_page_size) / 1024 : 0);
        }
        printf("Secure version: %u\n", d->secure_version);
    } else if (img->has_bootloader_desc) {
        printf("\n");
        title("Bootloader Information");
        printf("Bootloader version: %u\nESP-IDF: %s\nCompile time: %s\n", img->bootloader_desc.version,
               img->bootloader_desc.idf_ver, img->bootloader_desc.date_time);
    }
    /* espsec's additions: what follows the image */
    size_t sector;
    printf("\n");
    title("Secure Boot");
    if (find_sbv2_sector(buf, len, img, &sector)) {
        espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
        if (espsec_sbv2_info(buf, sector + ESPSEC_SBV2_SECTOR_SIZE, 1, info, NULL) == ESPSEC_OK) {
            printf("Secure Boot V2 signature sector at offset %#zx\n", sector);
            for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
                if (!info[i].present) {
                    printf("  block %d: absent (%s)\n", i, info[i].problem);
                    continue;
                }
                char hex[65];
                espsec_hex(info[i].key_digest, 32, hex, 0);
                printf("  block %d: %s, image digest %s, key digest %s\n", i, espsec_sb_scheme_name(info[i].scheme),
                       info[i].digest_matches ? "matches" : "DOES NOT MATCH", hex);
            }
        }
    } else if (find_sbv1_block(buf, img)) {
        printf("Secure Boot V1 signature block at offset %#zx (verify it with 'espsec secure verify-signature -v 1')\n",
               img->image_len);
    } else {
        printf("No signature (%zu bytes follow the image at offset %#zx)\n", img->trailing_len, img->image_len);
    }
}

static void print_json(const uint8_t *buf, size_t len, const espsec_image_t *img, const char *path)
{
    json_t j;
    json_init(&j, stdout);
    json_obj(&j, NULL);
    json_str(&j, "file", path);
    json_uint(&j, "size", len);
    json_str(&j, "chip", espsec_chip_name((espsec_chip_t)img->chip_id));
    json_uint(&j, "chip_id", img->chip_id);
    json_uint(&j, "entry_point", img->entry_addr);
    json_str(&j, "flash_size", espsec_image_flash_size_name(img->spi_size_freq));
    json_str(&j, "flash_freq", espsec_image_flash_freq_name(img->spi_size_freq));
    json_str(&j, "flash_mode", espsec_image_flash_mode_name(img->spi_mode));
    json_uint(&j, "wp_pin", img->wp_pin);
    json_uint(&j, "min_rev_full", img->min_rev_full);
    json_uint(&j, "max_rev_full", img->max_rev_full);
    json_arr(&j, "segments");
    for (unsigned i = 0; i < img->segment_count; i++) {
        const espsec_image_segment_t *s = &img->segments[i];
        const char *names[8];
        size_t n = espsec_image_memory_types(img->chip_id, s->load_addr, names, 8);
        json_obj(&j, NULL);
        json_uint(&j, "index", i);
        json_uint(&j, "load_addr", s->load_addr);
        json_uint(&j, "length", s->length);
        json_uint(&j, "file_offset", s->header_offset);
        json_arr(&j, "memory_types");
        for (size_t k = 0; k < n; k++) {
            json_str(&j, NULL, names[k]);
        }
        json_arr_end(&j);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj(&j, "checksum");
    json_uint(&j, "offset", img->checksum_offset);
    json_uint(&j, "stored", img->checksum_stored);
    json_uint(&j, "calculated", img->checksum_calc);
    json_bool(&j, "valid", img->checksum_stored == img->checksum_calc);
    json_obj_end(&j);
    if (img->hash_appended) {
        json_obj(&j, "sha256");
        json_hex(&j, "stored", img->hash_stored, 32);
        json_hex(&j, "calculated", img->hash_calc, 32);
        json_bool(&j, "valid", memcmp(img->hash_calc, img->hash_stored, 32) == 0);
        json_obj_end(&j);
    } else {
        json_null(&j, "sha256");
    }
    json_uint(&j, "image_len", img->image_len);
    if (img->has_app_desc) {
        const espsec_app_desc_t *d = &img->app_desc;
        json_obj(&j, "app_desc");
        json_str(&j, "project_name", d->project_name);
        json_str(&j, "version", d->version);
        json_str(&j, "date", d->date);
        json_str(&j, "time", d->time);
        json_str(&j, "idf_ver", d->idf_ver);
        json_hex(&j, "app_elf_sha256", d->app_elf_sha256, 32);
        json_uint(&j, "secure_version", d->secure_version);
        json_obj_end(&j);
    } else {
        json_null(&j, "app_desc");
    }
    size_t sector;
    json_obj(&j, "secure_boot");
    if (find_sbv2_sector(buf, len, img, &sector)) {
        espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
        json_str(&j, "scheme", "v2");
        json_uint(&j, "sector_offset", sector);
        json_arr(&j, "blocks");
        if (espsec_sbv2_info(buf, sector + ESPSEC_SBV2_SECTOR_SIZE, 1, info, NULL) == ESPSEC_OK) {
            for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
                json_obj(&j, NULL);
                json_bool(&j, "present", info[i].present);
                if (info[i].present) {
                    json_str(&j, "algorithm", espsec_sb_scheme_name(info[i].scheme));
                    json_bool(&j, "digest_matches", info[i].digest_matches);
                    json_hex(&j, "key_digest", info[i].key_digest, 32);
                } else {
                    json_str(&j, "problem", info[i].problem);
                }
                json_obj_end(&j);
            }
        }
        json_arr_end(&j);
    } else if (find_sbv1_block(buf, img)) {
        json_str(&j, "scheme", "v1");
        json_uint(&j, "block_offset", img->image_len);
    } else {
        json_null(&j, "scheme");
    }
    json_obj_end(&j);
    json_obj_end(&j);
    json_end(&j);
}

static int cmd_info(cli_args_t *a)
{
    const char *path = cli_pos(a, 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &buf, &len, 64u * 1024 * 1024, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    const char *chip = cli_str(a, "chip");
    if (chip != NULL && espsec_chip_from_name(chip) == ESPSEC_CHIP_ESP8266) {
        free(buf);
        return cli_error("ESP8266 images have no extended header, secure boot or flash encryption; espsec reads ESP32 "
                         "family images only");
    }
    espsec_image_t img;
    if (espsec_image_parse(buf, len, &img, &err) != ESPSEC_OK) {
        free(buf);
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    if (cli_flag(a, "json")) {
        print_json(buf, len, &img, path);
    } else {
        print_text(buf, len, &img);
    }
    free(buf);
    if (espsec_image_check(&img, &err) != ESPSEC_OK) {
        fflush(stdout);
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

/* sample images for rehearsals: a bootloader or an app with an app description */
static int cmd_sample(cli_args_t *a)
{
    const char *kind = cli_str(a, "kind") ? cli_str(a, "kind") : "app", *out = cli_str(a, "output");
    const char *chip_s = cli_str(a, "chip");
    espsec_chip_t chip = chip_s ? espsec_chip_from_name(chip_s) : ESPSEC_CHIP_ESP32;
    if (chip == ESPSEC_CHIP_ESP8266) {
        return cli_error("the ESP8266 has no secure boot or flash encryption; sample images are for esp32 and esp32c3");
    }
    if (chip != ESPSEC_CHIP_ESP32 && chip != ESPSEC_CHIP_ESP32C3) {
        return cli_error("--chip '%s': esp32 or esp32c3 expected", chip_s ? chip_s : "");
    }
    if (out == NULL) {
        return cli_error("-o/--output FILE is required");
    }
    unsigned long long seed, secver, size;
    if (cli_u64(a, "seed", 1, &seed) != 0 || cli_u64(a, "secure-version", 0, &secver) != 0 ||
        cli_u64(a, "code-size", 0x8000, &size) != 0) {
        return 2;
    }
    uint8_t *img = NULL;
    size_t len = 0;
    espsec_error_t err;
    espsec_err_t rc;
    if (strcmp(kind, "bootloader") == 0) {
        unsigned long long extra;
        if (cli_u64(a, "extra", 0, &extra) != 0) {
            return 2;
        }
        rc = espsec_sample_bootloader_sized(chip, (uint32_t)seed, (uint32_t)(extra > 0x10000 ? 0x10001 : extra), &img,
                                            &len, &err);
    } else if (strcmp(kind, "app") == 0) {
        espsec_sample_app_t p = {chip, cli_str(a, "project") ? cli_str(a, "project") : "espsec_sample",
                                 cli_str(a, "app-version") ? cli_str(a, "app-version") : "1.0.0", (uint32_t)secver,
                                 (uint32_t)size, (uint32_t)seed};
        if (size > (16u << 20)) {
            return cli_error("--code-size 0x%llx: at most 16 MiB", size);
        }
        rc = espsec_sample_app(&p, &img, &len, &err);
    } else {
        return cli_error("--kind '%s': app or bootloader expected", kind);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_write_file(out, img, len, ESPSEC_MODE_PUBLIC, &err);
    }
    free(img);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("Wrote %s sample %s (%zu bytes) to %s\n", espsec_chip_display_name(chip), kind, len, out);
    return 0;
}

static const cli_opt_t OPT_INFO[] = {
    {"json", 0, CLI_FLAG, NULL, "Print the same information as JSON."},
    {"chip", 'c', CLI_VALUE, "CHIP", "Accepted for esptool compatibility; the chip is read from the image."},
    {0}};
static const cli_pos_t POS_INFO[] = {{"FILE", "An ESP app or bootloader image (signed or not).", 0, 0}, {0}};

static const cli_opt_t OPT_SAMPLE[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "esp32 (default) or esp32c3."},
    {"kind", 0, CLI_VALUE, "KIND", "app (default) or bootloader."},
    {"project", 0, CLI_VALUE, "NAME", "esp_app_desc_t project name (app)."},
    {"app-version", 0, CLI_VALUE, "VER", "esp_app_desc_t version (app)."},
    {"secure-version", 0, CLI_VALUE, "N", "Anti-rollback secure version (app)."},
    {"code-size", 0, CLI_VALUE, "BYTES", "Size of the app's code segment (default 0x8000)."},
    {"seed", 0, CLI_VALUE, "N", "Seed of the deterministic contents."},
    {"extra", 0, CLI_VALUE, "BYTES", "Bootloader: this many bytes larger than usual (up to 0x10000)."},
    {"output", 'o', CLI_VALUE, "FILE", "Where to write the image."},
    {0}};

static const cli_cmd_t IMAGE_CMDS[] = {
    {"elf2image", NULL, "Convert an ELF file to a flashable image, byte for byte as esptool elf2image.",
     "Chips: every target of esptool v5.3.1. Messages as esptool prints them; the output is written atomically.",
     CLI_ELF2IMAGE_OPTS, CLI_ELF2IMAGE_POS, cli_image_elf2image},
    {"merge-bin", "merge_bin", "Merge files at flash addresses into one flash image (esptool merge-bin).", NULL,
     CLI_MERGE_OPTS, CLI_MERGE_POS, cli_cmd_merge_bin},
    {"sample", NULL, "Write a valid sample bootloader or app image (for rehearsals on the virtual device).", NULL,
     OPT_SAMPLE, NULL, cmd_sample},
    {"info", "image-info", "Show an image's headers, segments, checksum, hash, app description and signatures.",
     "Exit status 0 only when the checksum (and the appended SHA-256, when present) are valid.", OPT_INFO, POS_INFO,
     cmd_info},
    {0}};

const cli_group_t CLI_IMAGE = {"image", "ESP images: info (esptool image-info), merge-bin, sample images.", NULL,
                               NULL, IMAGE_CMDS};
