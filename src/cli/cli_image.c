/* espsec image: image_info in esptool's layout, with signature details. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_image.h"
#include "espsec/chip.h"
#include "espsec/sample.h"
#include "espsec/ihex.h"
#include "espsec/image.h"
#include "espsec/image_target.h"
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

/* esptool's sanitize_string: the field without its NUL bytes. Bytes that are
 * not printable (esptool would print them raw or stop on bad UTF-8) are
 * shown as \xNN. */
static void print_field(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0) {
            continue;
        }
        if (p[i] < 0x20 || p[i] == 0x7F) {
            printf("\\x%02x", p[i]);
        } else {
            putchar(p[i]);
        }
    }
}

static void print_segments(const espsec_image_target_t *t, const espsec_image_t *img, const uint8_t *buf,
                           const uint8_t **app_desc, size_t *app_desc_len, const uint8_t **boot_desc)
{
    title("Segments Information");
    printf("%7s  %7s  %10s  %10s  %-10s\n", "Segment", "Length", "Load addr", "File offs", "Memory types");
    printf("-------  -------  ----------  ----------  ------------\n");
    *app_desc = NULL;
    *app_desc_len = 0;
    *boot_desc = NULL;
    int app_seen = 0;
    for (unsigned i = 0; i < img->segment_count; i++) {
        const espsec_image_segment_t *s = &img->segments[i];
        const char *names[16];
        size_t n = espsec_image_target_memory_types(t, s->load_addr, names, 16);
        int drom = 0, dram = 0;
        printf("%7u  0x%05x  0x%08x  0x%08zx  ", i, s->length, s->load_addr, s->header_offset);
        for (size_t k = 0; k < n; k++) {
            printf("%s%s", k ? ", " : "", names[k]);
            drom |= strcmp(names[k], "DROM") == 0;
            dram |= strcmp(names[k], "DRAM") == 0;
        }
        printf("\n");
        /* esptool: the first DROM segment holds esp_app_desc_t, the last DRAM one of 80 bytes or more
         * esp_bootloader_desc_t */
        if (drom && !app_seen) {
            app_seen = 1;
            *app_desc = buf + s->data_offset;
            *app_desc_len = s->length;
        } else if (dram && s->length >= ESPSEC_BOOTLOADER_DESC_LEN) {
            *boot_desc = buf + s->data_offset;
        }
    }
    printf("\n");
}

static void print_app_desc(const uint8_t *d)
{
    char hex[65];
    uint16_t min = get_le16(d + 176), max = get_le16(d + 178);
    printf("\n");
    title("Application Information");
    printf("Project name: ");
    print_field(d + 48, 32);
    printf("\nApp version: ");
    print_field(d + 16, 32);
    printf("\nCompile time: ");
    print_field(d + 96, 16);
    printf(" ");
    print_field(d + 80, 16);
    espsec_hex(d + 144, 32, hex, 0);
    printf("\nELF file SHA256: %s\nESP-IDF: ", hex);
    print_field(d + 112, 32);
    printf("\nMinimal eFuse block revision: %u.%u\nMaximal eFuse block revision: %u.%u\n", min / 100, min % 100,
           max / 100, max % 100);
    if (d[180] != 0) {
        printf("MMU page size: %llu KB\n", d[180] < 64 ? (unsigned long long)((1ull << d[180]) / 1024) : 0ull);
    }
    printf("Secure version: %u\n", get_le32(d + 4));
}

static void print_boot_desc(const uint8_t *d)
{
    printf("\n");
    title("Bootloader Information");
    printf("Bootloader version: %u\nESP-IDF: ", get_le32(d + 4));
    print_field(d + 8, 32);
    printf("\nCompile time: ");
    print_field(d + 40, 24);
    printf("\n");
}

static void print_header(const espsec_image_target_t *t, const espsec_image_t *img)
{
    char ttl[96];
    snprintf(ttl, sizeof(ttl), "%s Image Header", t->display);
    title(ttl);
    printf("Image version: %d\n", img->esp8266_version == 2 ? 2 : 1);
    if (img->entry_addr) {
        printf("Entry point: %#8x\n", img->entry_addr);
    } else {
        printf("Entry point not set\n");
    }
    printf("Segments: %u\n", img->segment_count);
    const char *fs = espsec_image_target_flash_size_name(t, img->spi_size_freq & 0xF0);
    const char *ff = espsec_image_target_flash_freq_name(t, img->spi_size_freq & 0x0F);
    const char *fm = espsec_image_flash_mode_name(img->spi_mode);
    fs ? printf("Flash size: %s\n", fs) : printf("Warning: Invalid flash size (0x%x)\n", img->spi_size_freq & 0xF0);
    ff ? printf("Flash freq: %s\n", ff) : printf("Warning: Invalid flash frequency (0x%x)\n", img->spi_size_freq & 0x0F);
    fm ? printf("Flash mode: %s\n", fm) : printf("Warning: Invalid flash mode (%u)\n", img->spi_mode);
    if (img->esp8266_version == 0) {
        const espsec_image_target_t *id = espsec_image_target_by_id(img->chip_id);
        printf("\n");
        snprintf(ttl, sizeof(ttl), "%s Extended Image Header", t->display);
        title(ttl);
        printf("WP pin: 0x%x%s\n", img->wp_pin, img->wp_pin == ESPSEC_IMAGE_WP_PIN_DISABLED ? " (disabled)" : "");
        printf("Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, d_drv: 0x%x, cs0_drv: 0x%x, hd_drv: 0x%x, "
               "wp_drv: 0x%x\n",
               img->drv[0] & 15, img->drv[0] >> 4, img->drv[1] & 15, img->drv[1] >> 4, img->drv[2] & 15,
               img->drv[2] >> 4);
        printf("Chip ID: %u (%s)\n", img->chip_id, id ? id->display : "Unknown ID");
        printf("Minimal chip revision: v%u.%u, (legacy min_rev = %u)\n", img->min_rev_full / 100,
               img->min_rev_full % 100, img->min_rev);
        printf("Maximal chip revision: v%u.%u\n", img->max_rev_full / 100, img->max_rev_full % 100);
    }
    printf("\n");
}

/* What esptool warns about while loading (printed before the header, as esptool). */
static void print_load_warnings(const espsec_image_target_t *t, const espsec_image_t *img)
{
    if (img->esp8266_version == 0) {
        if (img->chip_id != t->image_chip_id) {
            printf("Warning: Unexpected chip ID in image. Expected %u but value was %u. Is this image for a different "
                   "chip model?\n",
                   t->image_chip_id, img->chip_id);
        }
        return;
    }
    if (img->esp8266_version == 2) {
        if (img->v2_segment_count != 4) {
            printf("Warning: V2 header has unexpected \"segment\" count %u (usually 4)\n", img->v2_segment_count);
        }
    }
    for (unsigned i = img->esp8266_version == 2 ? 1 : 0; i < img->segment_count; i++) {
        const espsec_image_segment_t *s = &img->segments[i];
        if (s->load_addr > 0x40200000u || s->load_addr < 0x3FFE0000u || s->length > 65536) {
            printf("Warning: Suspicious segment 0x%x, length %u\n", s->load_addr, s->length);
        }
    }
    if (img->esp8266_version == 2) {
        if (img->v2_spi_mode != img->spi_mode) {
            printf("Warning: Flash mode value in first header (0x%02x) disagrees with second (0x%02x). Using second "
                   "value.\n",
                   img->v2_spi_mode, img->spi_mode);
        }
        if (img->v2_spi_size_freq != img->spi_size_freq) {
            printf("Warning: Flash size/freq value in first header (0x%02x) disagrees with second (0x%02x). Using "
                   "second value.\n",
                   img->v2_spi_size_freq, img->spi_size_freq);
        }
        if (img->v2_entry_addr != img->entry_addr) {
            printf("Warning: Entrypoint address in first header (0x%08x) disagrees with second header (0x%08x). "
                   "Using second value.\n",
                   img->v2_entry_addr, img->entry_addr);
        }
    }
}

static void print_text(const espsec_image_target_t *t, const uint8_t *buf, size_t len, const espsec_image_t *img)
{
    char ttl[96];
    printf("\n");
    print_header(t, img);
    const uint8_t *app = NULL, *boot = NULL;
    size_t app_len = 0;
    print_segments(t, img, buf, &app, &app_len, &boot);
    snprintf(ttl, sizeof(ttl), "%s Image Footer", t->display);
    title(ttl);
    if (img->checksum_stored == img->checksum_calc) {
        printf("Checksum: 0x%02x (valid)\n", img->checksum_stored);
    } else {
        printf("Checksum: 0x%02x (invalid - calculated 0x%02x)\n", img->checksum_stored, img->checksum_calc);
    }
    if (img->esp8266_version == 0 && img->hash_appended) {
        char hex[65];
        espsec_hex(img->hash_calc, 32, hex, 0);
        printf("Validation hash: %s (%s)\n", hex,
               espsec_ct_compare(img->hash_calc, img->hash_stored, 32) == 0 ? "valid" : "invalid");
    }
    if (app_len > 0) {
        if (app_len >= ESPSEC_APP_DESC_LEN && get_le32(app) == ESPSEC_APP_DESC_MAGIC) {
            print_app_desc(app);
        }
    } else if (boot != NULL && boot[0] == ESPSEC_BOOTLOADER_DESC_MAGIC) {
        print_boot_desc(boot);
    }
    if (img->esp8266_version != 0) {
        return;
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

static void print_json(const espsec_image_target_t *t, const uint8_t *buf, size_t len, const espsec_image_t *img,
                       const char *path)
{
    json_t j;
    json_init(&j, stdout);
    json_obj(&j, NULL);
    json_str(&j, "file", path);
    json_uint(&j, "size", len);
    json_str(&j, "chip", t->chip);
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
        size_t n = espsec_image_target_memory_types(t, s->load_addr, names, 8);
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

/* esptool's _parse_image_info_header: the chip an image is for. With no
 * --chip (or "auto"), a valid extended header's chip id decides; anything
 * else is taken as an ESP8266 image. */
static const espsec_image_target_t *detect(const uint8_t *buf, size_t len, const char *chip, espsec_error_t *err)
{
    if (len == 0) {
        espsec_fail(err, ESPSEC_ERR_FORMAT, "Image is empty.");
        return NULL;
    }
    if (buf[0] != ESPSEC_IMAGE_MAGIC && buf[0] != 0xEA) {
        espsec_fail(err, ESPSEC_ERR_FORMAT, "This is not a valid image (invalid magic number: 0x%x).", buf[0]);
        return NULL;
    }
    if (chip != NULL) {
        const espsec_image_target_t *t = espsec_image_target_find(chip);
        if (t == NULL) {
            espsec_fail(err, ESPSEC_ERR_USAGE, "--chip '%s' is not a chip esptool v5.3.1 knows", chip);
        }
        return t;
    }
    const espsec_image_target_t *t = NULL;
    if (len >= ESPSEC_IMAGE_HEADER_LEN && buf[23] <= 1) {
        t = espsec_image_target_by_id(buf[12]); /* esptool reads one byte of the chip id here */
    }
    return t != NULL ? t : espsec_image_target_find("esp8266");
}

/* Parse and print one image; 0, or the exit status of a failure. */
static int info_one(const espsec_image_target_t *t, const uint8_t *buf, size_t len, const char *path, int json,
                    int check)
{
    espsec_image_t img;
    espsec_error_t err;
    espsec_err_t rc = t->format == ESPSEC_IMAGE_FMT_ESP8266 ? espsec_image_parse_esp8266(buf, len, &img, &err)
                                                            : espsec_image_parse(buf, len, &img, &err);
    if (rc != ESPSEC_OK) {
        (void)fflush(stdout);
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    if (json) {
        print_json(t, buf, len, &img, path);
    } else {
        print_load_warnings(t, &img);
        print_text(t, buf, len, &img);
    }
    /* esptool reports a bad checksum or digest in the output and exits 0; --check makes it an error */
    if (check && espsec_image_check(&img, &err) != ESPSEC_OK) {
        (void)fflush(stdout);
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

static void rule(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putchar('=');
    }
    putchar('\n');
}

/* An Intel HEX file with several runs: esptool's "merged binary image" report. */
static int info_merged(const espsec_ihex_run_t *runs, size_t n, const char *chip, const char *path, int json,
                       int check)
{
    int status = 0;
    printf("Merged binary image detected. Processing each file individually.\n");
    for (size_t i = 0; i < n; i++) {
        char line[160];
        snprintf(line, sizeof(line), "Processing file %zu/%zu, offset: 0x%llx, size: %zu bytes", i + 1, n,
                 (unsigned long long)runs[i].addr, runs[i].len);
        printf("\n");
        rule(strlen(line));
        printf("%s\n", line);
        rule(strlen(line));
        espsec_error_t err;
        const espsec_image_target_t *t = detect(runs[i].data, runs[i].len, chip, &err);
        if (t == NULL) {
            (void)fflush(stdout);
            fprintf(stderr, "Error processing file %zu/%zu: %s\nProbably not a valid firmware image (e.g. partition "
                            "table).\n",
                    i + 1, n, err.msg);
            (void)fflush(stderr);
            continue;
        }
        if (i == 0 && chip == NULL) {
            printf("Detected image type: %s\n", t->display);
            chip = t->chip;
        }
        char name[4096];
        snprintf(name, sizeof(name), "%s@0x%llx", path, (unsigned long long)runs[i].addr);
        int rc = info_one(t, runs[i].data, runs[i].len, name, json, check);
        if (rc != 0) {
            status = rc;
        }
    }
    return status;
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
    if (chip != NULL && strcmp(chip, "auto") == 0) {
        chip = NULL;
    }
    int json = cli_flag(a, "json"), check = cli_flag(a, "check");
    int status;
    espsec_ihex_run_t *runs = NULL;
    size_t nruns = 0;
    /* esptool takes a file that starts with ':' and reads as Intel HEX as the images it holds */
    if (len > 0 && buf[0] == ':' && espsec_ihex_parse(buf, len, &runs, &nruns, &err) == ESPSEC_OK && nruns > 1) {
        status = info_merged(runs, nruns, chip, path, json, check);
    } else {
        const uint8_t *img = buf;
        size_t img_len = len;
        if (nruns == 1) {
            img = runs[0].data;
            img_len = runs[0].len;
        }
        const espsec_image_target_t *t = detect(img, img_len, chip, &err);
        if (t == NULL) {
            espsec_error_prefix(&err, "%s: ", path);
            status = cli_fail(&err);
        } else {
            if (!json) {
                printf("Image size: %zu bytes\n", img_len);
                if (chip == NULL) {
                    printf("Detected image type: %s\n", t->display);
                }
            }
            status = info_one(t, img, img_len, path, json, check);
        }
    }
    espsec_ihex_free(runs, nruns);
    free(buf);
    return status;
}

/* sample images for rehearsals: a bootloader or an app with an app description */
static int cmd_sample(cli_args_t *a)
{
    const char *kind = cli_str(a, "kind") ? cli_str(a, "kind") : "app", *out = cli_str(a, "output");
    const char *chip_s = cli_str(a, "chip");
    const espsec_chip_info_t *ci = chip_s ? espsec_chip_by_name(chip_s) : espsec_chip_default();
    if (ci == NULL) {
        char names[256];
        return cli_error("--chip '%s': one of %s expected", chip_s, espsec_chip_efuse_names(names, sizeof(names)));
    }
    if (!ci->has_security || ci->link.app_iram == 0) {
        return cli_error("--chip %s: no sample images: %s", ci->name,
                         ci->no_security_reason ? ci->no_security_reason
                                                : "espsec does not know where ESP-IDF links images on it");
    }
    espsec_chip_t chip = ci->id;
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
    {"check", 0, CLI_FLAG, NULL, "Exit non-zero when the checksum or the appended SHA-256 is wrong (esptool exits 0)."},
    {"chip", 'c', CLI_VALUE, "CHIP",
     "Read the image as this chip's (esptool's --chip); default auto: from the image's chip id."},
    {0}};
static const cli_pos_t POS_INFO[] = {
    {"FILE", "An ESP app or bootloader image (signed or not), ESP8266 images, or Intel HEX.", 0, 0}, {0}};

static const cli_opt_t OPT_SAMPLE[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "esp32 (default), esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61, esp32h2 or esp32p4."},
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
     "As esptool, a wrong checksum or SHA-256 is reported in the output with exit status 0; with --check it is an error naming the offset.", OPT_INFO, POS_INFO,
     cmd_info},
    {0}};

const cli_group_t CLI_IMAGE = {"image", "ESP images: info (esptool image-info), merge-bin, sample images.", NULL,
                               NULL, IMAGE_CMDS};
