/* espsec nvs: nvs_partition_gen's commands, a dump, and offline editing of partition images. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "espsec/io.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"
#include "espsec/util.h"
#include "json.h"

/* nvs_partition_gen places outputs under --outdir (default: the current directory).
 * A path that does not fit is an error, never a truncated (other) file name. */
static int out_path(const char *outdir, const char *file, char *buf, size_t cap)
{
    int n;
    if (outdir == NULL || file[0] == '/' || strcmp(file, "-") == 0) {
        n = snprintf(buf, cap, "%s", file);
    } else {
        n = snprintf(buf, cap, "%s/%s", outdir, file);
    }
    if (n < 0 || (size_t)n >= cap) {
        return cli_error("%s: output path too long (at most %zu bytes)", file, cap - 1);
    }
    return 0;
}

static int mkdirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return cli_error("%s: cannot create folder: %s", dir, strerror(errno));
    }
    return 0;
}

static int parent_dir(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    char *slash = strrchr(tmp, '/');
    if (slash == NULL || slash == tmp) {
        return 0;
    }
    *slash = '\0';
    return mkdirs(tmp);
}

static int parse_size(const char *s, size_t *size)
{
    uint64_t v;
    if (espsec_parse_u64(s, &v) != 0) {
        return cli_error("partition size '%s' is not a number (decimal or 0x hex)", s);
    }
    if (v > ESPSEC_NVS_GEN_MAX_SIZE) {
        return cli_error("partition size %s: past the 4 GiB flash address space (at most 0x%x)", s,
                         ESPSEC_NVS_GEN_MAX_SIZE);
    }
    *size = (size_t)v;
    return 0;
}

static int load_keys(const char *path, espsec_nvs_keys_t *keys)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &buf, &len, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = espsec_nvs_keys_parse(buf, len, keys, &err);
    espsec_free_secret(buf, len);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

/* HMAC-protected keys or random ones, written as an nvs_keys partition file. */
static int make_keys(cli_args_t *a, const char *outdir, espsec_nvs_keys_t *keys, char *written, size_t cap)
{
    espsec_error_t err = {0}; /* mkdirs() reports its own error and leaves err unset */
    const char *keyfile = cli_str(a, "keyfile");
    char name[256], dir[4096];
    if (keyfile == NULL) {
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        (void)strftime(name, sizeof(name), "keys-%m-%d_%H-%M.bin", &tm);
        keyfile = name;
    }
    if (cli_flag(a, "key-protect-hmac")) {
        uint8_t hk[32];
        const char *in = cli_str(a, "kp-hmac-inputkey");
        if (cli_flag(a, "kp-hmac-keygen")) {
            if (espsec_random(hk, sizeof(hk)) != ESPSEC_OK) {
                return cli_error("random number generator failed");
            }
            char hname[300], hpath[4096];
            snprintf(hname, sizeof(hname), "%s", cli_str(a, "kp-hmac-keyfile") ? cli_str(a, "kp-hmac-keyfile") : "");
            if (hname[0] == '\0') {
                snprintf(hname, sizeof(hname), "hmac-%s", keyfile);
            }
            snprintf(dir, sizeof(dir), "%s/keys", outdir ? outdir : ".");
            if (out_path(dir, hname, hpath, sizeof(hpath)) != 0) {
                espsec_wipe(hk, sizeof(hk));
                return 2;
            }
            if (mkdirs(dir) != 0 || espsec_write_secret_file(hpath, hk, sizeof(hk), 0, &err) != ESPSEC_OK) {
                espsec_wipe(hk, sizeof(hk));
                return err.msg[0] ? cli_fail(&err) : 2;
            }
            printf("Created HMAC key: ===> %s\n", hpath);
        } else if (in != NULL) {
            uint8_t *buf = NULL;
            size_t len = 0;
            if (espsec_read_file(in, &buf, &len, 4096, &err) != ESPSEC_OK) {
                return cli_fail(&err);
            }
            if (len != 32) {
                espsec_free_secret(buf, len);
                return cli_error("%s: HMAC key is %zu bytes; 32 expected", in, len);
            }
            memcpy(hk, buf, 32);
            espsec_free_secret(buf, len);
        } else {
            return cli_error("--key-protect-hmac needs --kp-hmac-keygen or --kp-hmac-inputkey FILE");
        }
        espsec_err_t rc = espsec_nvs_keys_from_hmac(hk, sizeof(hk), keys);
        espsec_wipe(hk, sizeof(hk));
        if (rc != ESPSEC_OK) {
            return cli_error("HMAC key derivation failed");
        }
    } else if (espsec_nvs_keys_generate(keys) != ESPSEC_OK) {
        return cli_error("random number generator failed");
    }
    snprintf(dir, sizeof(dir), "%s/keys", outdir ? outdir : ".");
    if (out_path(dir, keyfile, written, cap) != 0) {
        espsec_wipe(keys, sizeof(*keys));
        return 2;
    }
    uint8_t part[ESPSEC_NVS_KEYS_PART_SIZE];
    espsec_nvs_keys_encode(keys, part);
    espsec_err_t rc = mkdirs(dir) != 0 ? ESPSEC_ERR_IO : espsec_write_secret_file(written, part, sizeof(part), 0, &err);
    espsec_wipe(part, sizeof(part));
    if (rc != ESPSEC_OK) {
        return err.msg[0] ? cli_fail(&err) : 2;
    }
    printf("Created encryption keys: ===> %s\n", written);
    return 0;
}

/* Build the partition from every CSV of the command line. */
static int build_image(cli_args_t *a, size_t size, const espsec_nvs_csv_opts_t *o, uint8_t **img, size_t *ilen)
{
    espsec_error_t err;
    espsec_nvs_gen_t *g = NULL;
    if (espsec_nvs_gen_new(size, o->version, o->keys, &g, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    int st = 0;
    for (size_t i = 0; i + 2 < a->npos && st == 0; i++) {
        uint8_t *csv = NULL;
        size_t len = 0;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", a->pos[i]);
        char *slash = strrchr(dir, '/');
        if (slash != NULL) {
            *slash = '\0';
        } else {
            snprintf(dir, sizeof(dir), ".");
        }
        espsec_nvs_csv_opts_t oo = *o;
        oo.csv_dir = dir;
        if (espsec_read_file(a->pos[i], &csv, &len, 64u << 20, &err) != ESPSEC_OK ||
            espsec_nvs_gen_add_csv(g, (const char *)csv, len, a->pos[i], &oo, &err) != ESPSEC_OK) {
            st = cli_fail(&err);
        }
        free(csv);
    }
    if (st == 0 && espsec_nvs_gen_finish(g, img, ilen, &err) != ESPSEC_OK) {
        st = cli_fail(&err);
    }
    if (st == 0 && espsec_nvs_gen_read_only(g)) {
        fprintf(stderr, "Warning: partition size 0x%zx is under 0x3000: a read-only NVS partition (flag it \"readonly\" "
                        "in the partition table CSV); only the %zu page(s) used are written\n",
                size, *ilen / 4096);
    }
    espsec_nvs_gen_free(g);
    return st;
}

/* generate / encrypt: INPUT... OUTPUT SIZE */
static int gen_common(cli_args_t *a, int encrypt)
{
    if (a->npos < 3) {
        return cli_error("%s: expected INPUT.csv [INPUT2.csv ...] OUTPUT.bin SIZE", a->prog);
    }
    const char *outdir = cli_str(a, "outdir");
    const char *output = a->pos[a->npos - 2];
    size_t size = 0;
    if (parse_size(a->pos[a->npos - 1], &size) != 0) {
        return 2;
    }
    unsigned long long version;
    if (cli_u64(a, "version", 2, &version) != 0) {
        return 2;
    }
    if (version != 1 && version != 2) {
        return cli_error("--version %llu: 1 or 2 expected", version);
    }
    espsec_nvs_keys_t keys;
    memset(&keys, 0, sizeof(keys));
    espsec_nvs_csv_opts_t o = {.version = (int)version};
    uint8_t *img = NULL;
    size_t ilen = 0;
    int st = 0;
    if (encrypt) {
        const char *inputkey = cli_str(a, "inputkey");
        int keygen = cli_flag(a, "keygen");
        if (keygen == (inputkey != NULL)) {
            return cli_error(keygen ? "--keygen and --inputkey both are not allowed" : "--keygen or --inputkey is needed");
        }
        if (inputkey != NULL && load_keys(inputkey, &keys) != 0) {
            return 2;
        }
        o.keys = &keys;
        if (keygen) {
            /* check every CSV (with throw-away keys) before any key file is written */
            if (espsec_nvs_keys_generate(&keys) != ESPSEC_OK) {
                return cli_error("random number generator failed");
            }
            st = build_image(a, size, &o, &img, &ilen);
            free(img);
            img = NULL;
            char written[4096];
            if (st == 0) {
                st = make_keys(a, outdir, &keys, written, sizeof(written));
            }
        }
    }
    if (st == 0) {
        st = build_image(a, size, &o, &img, &ilen);
    }
    espsec_wipe(&keys, sizeof(keys));
    espsec_error_t err = {0};
    char path[4096];
    if (st == 0 && out_path(outdir, output, path, sizeof(path)) != 0) {
        st = 2;
    }
    if (st == 0 && (parent_dir(path) != 0 || espsec_write_file(path, img, ilen, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK)) {
        st = err.msg[0] ? cli_fail(&err) : 2;
    }
    if (st == 0) {
        printf("Created NVS binary: ===> %s\n", path);
    }
    free(img);
    return st;
}

static int cmd_generate(cli_args_t *a)
{
    return gen_common(a, 0);
}

static int cmd_encrypt(cli_args_t *a)
{
    return gen_common(a, 1);
}

int cli_nvs_generate_key(cli_args_t *a)
{
    espsec_nvs_keys_t keys;
    char written[4096];
    int st = make_keys(a, cli_str(a, "outdir"), &keys, written, sizeof(written));
    espsec_wipe(&keys, sizeof(keys));
    return st;
}

static int cmd_decrypt(cli_args_t *a)
{
    const char *in = cli_pos(a, 0), *kf = cli_pos(a, 1), *outname = cli_pos(a, 2);
    espsec_nvs_keys_t keys;
    if (load_keys(kf, &keys) != 0) {
        return 2;
    }
    uint8_t *img = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(in, &img, &len, 256u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    char path[4096];
    if (out_path(cli_str(a, "outdir"), outname, path, sizeof(path)) != 0) {
        espsec_free_secret(img, len);
        espsec_wipe(&keys, sizeof(keys));
        return 2;
    }
    espsec_err_t rc = espsec_nvs_image_crypt(img, len, &keys, 1, &err);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in);
    } else if (parent_dir(path) != 0) {
        rc = ESPSEC_ERR_IO;
    } else {
        rc = espsec_write_file(path, img, len, ESPSEC_MODE_SECRET, &err);
    }
    espsec_free_secret(img, len);
    espsec_wipe(&keys, sizeof(keys));
    if (rc != ESPSEC_OK) {
        return err.msg[0] ? cli_fail(&err) : 2;
    }
    printf("Created NVS decrypted binary: ===> %s\n", path);
    return 0;
}

/* ---- offline editing through the store ---- */

typedef struct {
    uint8_t *file;
    size_t len;
    uint32_t off, size;
    espsec_flash_t *flash;
    espsec_nvs_t *nvs;
    espsec_nvs_keys_t keys;
} image_t;

static int image_open(cli_args_t *a, image_t *im)
{
    memset(im, 0, sizeof(*im));
    const char *path = cli_pos(a, 0), *kf = cli_str(a, "keyfile");
    espsec_error_t err;
    if (kf != NULL && load_keys(kf, &im->keys) != 0) {
        return 2;
    }
    if (espsec_read_file(path, &im->file, &im->len, 256u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    unsigned long long off, size;
    if (cli_u64(a, "offset", 0, &off) != 0 || cli_u64(a, "size", im->len > off ? im->len - off : 0, &size) != 0) {
        return 2;
    }
    if (im->len % 4096 != 0) {
        return cli_error("%s: %zu bytes is not a whole number of 4096-byte flash sectors", path, im->len);
    }
    if (off > im->len || size > im->len - off) {
        return cli_error("%s: --offset 0x%llx --size 0x%llx runs past the end of the file (0x%zx bytes)", path, off,
                         size, im->len);
    }
    im->off = (uint32_t)off;
    im->size = (uint32_t)size;
    if (espsec_flash_from(im->file, im->len, &im->flash, &err) != ESPSEC_OK ||
        (im->size < 0x3000 ? espsec_nvs_mount_read_only(im->flash, im->off, im->size, kf ? &im->keys : NULL, &im->nvs,
                                                        &err)
                           : espsec_nvs_mount(im->flash, im->off, im->size, kf ? &im->keys : NULL, &im->nvs, &err)) !=
            ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

static int image_save(cli_args_t *a, image_t *im)
{
    espsec_error_t err;
    if (espsec_write_file(cli_pos(a, 0), espsec_flash_data(im->flash), im->len, ESPSEC_MODE_PUBLIC, &err) !=
        ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

static void image_close(image_t *im)
{
    espsec_nvs_unmount(im->nvs);
    espsec_flash_free(im->flash);
    free(im->file);
    espsec_wipe(&im->keys, sizeof(im->keys));
}

static int nvs_fail(const char *image, const char *what, espsec_err_t rc)
{
    return cli_error("%s: %s: %s (%s)", image, what, espsec_strerror(rc), espsec_err_to_name(rc));
}

/* NAMESPACE and KEY arguments: at most 15 characters each (NVS_KEY_NAME_MAX_SIZE - 1). */
static int check_names(const char *image, const char *ns, const char *key)
{
    if (ns != NULL && strlen(ns) > 15) {
        return cli_error("%s: length of namespace `%s` should be <= 15 characters (it has %zu)", image, ns,
                         strlen(ns));
    }
    if (key != NULL && strlen(key) > 15) {
        return cli_error("%s: length of key `%s` should be <= 15 characters (it has %zu)", image, key, strlen(key));
    }
    return 0;
}

static int print_value(const char *image, espsec_nvs_t *n, espsec_nvs_handle_t h, const char *ns, const char *key,
                       json_t *j)
{
    espsec_nvs_entry_info_t info[1];
    size_t count = 0;
    /* find the key's type among the namespace's values */
    espsec_nvs_entry_info_t *all = NULL;
    espsec_nvs_stats_t st;
    espsec_nvs_get_stats(n, &st);
    all = calloc(st.used_entries + 1, sizeof(*all));
    espsec_nvs_list(n, ns, ESPSEC_NVS_TYPE_ANY, all, st.used_entries + 1, &count);
    int found = -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(all[i].key, key) == 0) {
            found = (int)i;
        }
    }
    if (found < 0) {
        free(all);
        return cli_error("%s: %s/%s: no such key (%s)", image, ns, key, espsec_err_to_name(ESP_ERR_NVS_NOT_FOUND));
    }
    info[0] = all[found];
    free(all);
    char out[128];
    espsec_err_t rc = ESPSEC_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    switch (info[0].type) {
    case ESPSEC_NVS_TYPE_STR:
        rc = espsec_nvs_get_str(n, h, key, NULL, &len);
        buf = malloc(len + 1);
        if (rc == ESPSEC_OK && buf != NULL) {
            rc = espsec_nvs_get_str(n, h, key, (char *)buf, &len);
        }
        break;
    case ESPSEC_NVS_TYPE_BLOB:
        rc = espsec_nvs_get_blob(n, h, key, NULL, &len);
        buf = malloc(len + 1);
        if (rc == ESPSEC_OK && buf != NULL) {
            rc = espsec_nvs_get_blob(n, h, key, buf, &len);
        }
        break;
    default: {
        espsec_nvs_type_t it;
        int64_t v = 0;
        rc = espsec_nvs_get_int(n, h, key, &it, &v);
        if (((unsigned)it & 0x10) != 0) {
            snprintf(out, sizeof(out), "%lld", (long long)v);
        } else {
            snprintf(out, sizeof(out), "%llu", (unsigned long long)(uint64_t)v);
        }
        break;
    }
    }
    if (rc != ESPSEC_OK) {
        free(buf);
        return nvs_fail(image, key, rc);
    }
    const char *tn = espsec_nvs_type_name((uint8_t)info[0].type);
    if (j != NULL) {
        json_obj(j, NULL);
        json_str(j, "namespace", ns);
        json_str(j, "key", key);
        json_str(j, "type", tn);
        if (info[0].type == ESPSEC_NVS_TYPE_STR) {
            json_strn(j, "value", (const char *)buf, len ? len - 1 : 0);
        } else if (info[0].type == ESPSEC_NVS_TYPE_BLOB) {
            json_hex(j, "value", buf, len);
        } else {
            json_str(j, "value", out);
        }
        json_obj_end(j);
    } else if (info[0].type == ESPSEC_NVS_TYPE_STR) {
        (void)fwrite(buf, 1, len ? len - 1 : 0, stdout);
        putchar('\n');
    } else if (info[0].type == ESPSEC_NVS_TYPE_BLOB) {
        char *hex = malloc(2 * len + 1);
        if (hex != NULL) {
            espsec_hex(buf, len, hex, 0);
            printf("%s\n", hex);
            free(hex);
        }
    } else {
        printf("%s\n", out);
    }
    free(buf);
    return 0;
}

static int cmd_get(cli_args_t *a)
{
    image_t im;
    int st = image_open(a, &im);
    if (st == 0) {
        espsec_nvs_handle_t h;
        const char *img = cli_pos(a, 0), *ns = cli_pos(a, 1);
        st = check_names(img, ns, cli_pos(a, 2));
        espsec_err_t rc = st == 0 ? espsec_nvs_open(im.nvs, ns, ESPSEC_NVS_READONLY, &h) : ESPSEC_OK;
        if (st == 0 && rc == ESP_ERR_NVS_NOT_FOUND) {
            st = cli_error("%s: namespace '%s' not found (%s)", img, ns, espsec_err_to_name(rc));
        } else if (st == 0) {
            st = rc != ESPSEC_OK ? nvs_fail(img, ns, rc) : print_value(img, im.nvs, h, ns, cli_pos(a, 2), NULL);
        }
    }
    image_close(&im);
    return st;
}

static int cmd_list(cli_args_t *a)
{
    image_t im;
    int st = image_open(a, &im);
    if (st != 0) {
        image_close(&im);
        return st;
    }
    espsec_nvs_stats_t stats;
    espsec_nvs_get_stats(im.nvs, &stats);
    espsec_nvs_entry_info_t *all = calloc(stats.used_entries + 1, sizeof(*all));
    size_t count = 0;
    const char *ns = cli_str(a, "namespace");
    espsec_err_t rc = espsec_nvs_list(im.nvs, ns, ESPSEC_NVS_TYPE_ANY, all, stats.used_entries + 1, &count);
    if (rc != ESPSEC_OK && rc != ESP_ERR_NVS_NOT_FOUND) {
        st = nvs_fail(cli_pos(a, 0), "list", rc);
    }
    json_t j;
    int as_json = cli_flag(a, "json");
    if (as_json) {
        json_init(&j, stdout);
        json_obj(&j, NULL);
        json_uint(&j, "used_entries", stats.used_entries);
        json_uint(&j, "free_entries", stats.free_entries);
        json_uint(&j, "total_entries", stats.total_entries);
        json_uint(&j, "namespace_count", stats.namespace_count);
        json_arr(&j, "values");
    }
    for (size_t i = 0; st == 0 && i < count; i++) {
        espsec_nvs_handle_t h;
        if (espsec_nvs_open(im.nvs, all[i].namespace_name, ESPSEC_NVS_READONLY, &h) != ESPSEC_OK) {
            continue;
        }
        if (!as_json) {
            printf("%s/%s (%s) = ", all[i].namespace_name, all[i].key, espsec_nvs_type_name((uint8_t)all[i].type));
            (void)fflush(stdout);
        }
        st = print_value(cli_pos(a, 0), im.nvs, h, all[i].namespace_name, all[i].key, as_json ? &j : NULL);
        espsec_nvs_close(im.nvs, h);
    }
    if (as_json) {
        json_arr_end(&j);
        json_obj_end(&j);
        json_end(&j);
    } else if (st == 0) {
        printf("%zu values; %zu of %zu entries used, %zu namespaces\n", count, stats.used_entries, stats.total_entries,
               stats.namespace_count);
    }
    free(all);
    image_close(&im);
    return st;
}

/* minimal / blobs / storage_info: what nvs_tool shows, read through the store */
static int dump_through_store(cli_args_t *a, const char *what, int as_json)
{
    image_t im;
    int st = image_open(a, &im);
    if (st != 0) {
        image_close(&im);
        return st;
    }
    espsec_nvs_stats_t stats;
    espsec_nvs_get_stats(im.nvs, &stats);
    if (strcmp(what, "storage_info") == 0) {
        if (as_json) {
            printf("{\"used_entries\": %zu, \"free_entries\": %zu, \"available_entries\": %zu, \"total_entries\": %zu, "
                   "\"namespace_count\": %zu}\n",
                   stats.used_entries, stats.free_entries, stats.available_entries, stats.total_entries,
                   stats.namespace_count);
        } else {
            printf("Storage statistics:\n  used entries:      %zu\n  free entries:      %zu\n  available entries: %zu "
                   "(one page is kept for reclaiming)\n  total entries:     %zu\n  namespaces:        %zu\n",
                   stats.used_entries, stats.free_entries, stats.available_entries, stats.total_entries,
                   stats.namespace_count);
        }
        image_close(&im);
        return 0;
    }
    espsec_nvs_type_t type = strcmp(what, "blobs") == 0 ? ESPSEC_NVS_TYPE_BLOB : ESPSEC_NVS_TYPE_ANY;
    espsec_nvs_entry_info_t *all = calloc(stats.used_entries + 1, sizeof(*all));
    size_t count = 0;
    espsec_err_t rc = espsec_nvs_list(im.nvs, NULL, type, all, stats.used_entries + 1, &count);
    if (rc != ESPSEC_OK && rc != ESP_ERR_NVS_NOT_FOUND) {
        st = nvs_fail(cli_pos(a, 0), "list", rc);
    }
    json_t j;
    if (as_json) {
        json_init(&j, stdout);
        json_arr(&j, NULL);
    }
    for (size_t i = 0; st == 0 && i < count; i++) {
        espsec_nvs_handle_t h;
        if (espsec_nvs_open(im.nvs, all[i].namespace_name, ESPSEC_NVS_READONLY, &h) != ESPSEC_OK) {
            continue;
        }
        if (!as_json) {
            printf("%s:%s = ", all[i].namespace_name, all[i].key);
            (void)fflush(stdout);
        }
        st = print_value(cli_pos(a, 0), im.nvs, h, all[i].namespace_name, all[i].key, as_json ? &j : NULL);
        espsec_nvs_close(im.nvs, h);
    }
    if (as_json) {
        json_arr_end(&j);
        json_end(&j);
    }
    free(all);
    image_close(&im);
    return st;
}

/* dump: nvs_tool's -f/--format, -d/--dump, -i/--integrity-check, plus decryption */
static int cmd_dump(cli_args_t *a)
{
    const char *in = cli_pos(a, 0), *kf = cli_str(a, "keyfile"), *fmt = cli_str(a, "format");
    const char *what = cli_str(a, "dump") ? cli_str(a, "dump") : "all";
    const char *color = cli_str(a, "color");
    int integrity = cli_flag(a, "integrity-check");
    if (fmt != NULL && strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0) {
        return cli_error("--format '%s': text or json expected", fmt);
    }
    if (color != NULL && strcmp(color, "never") != 0 && strcmp(color, "auto") != 0 && strcmp(color, "always") != 0) {
        return cli_error("--color '%s': never, auto or always expected", color);
    }
    int as_json = fmt != NULL && strcmp(fmt, "json") == 0;
    espsec_nvs_dump_opts_t o = {as_json ? ESPSEC_NVS_DUMP_JSON : ESPSEC_NVS_DUMP_TEXT, ESPSEC_NVS_DUMP_ALL};
    if (strcmp(what, "all") == 0) {
        o.select = ESPSEC_NVS_DUMP_ALL;
    } else if (strcmp(what, "written") == 0) {
        o.select = ESPSEC_NVS_DUMP_WRITTEN;
    } else if (strcmp(what, "namespaces") == 0) {
        o.select = ESPSEC_NVS_DUMP_NAMESPACES;
    } else if (strcmp(what, "none") == 0) {
        o.select = ESPSEC_NVS_DUMP_NONE;
    } else if (strcmp(what, "minimal") == 0 || strcmp(what, "blobs") == 0 || strcmp(what, "storage_info") == 0) {
        int st = dump_through_store(a, what, as_json);
        if (st != 0 || !integrity) {
            return st;
        }
        o.select = ESPSEC_NVS_DUMP_NONE; /* then the integrity check */
    } else {
        return cli_error("--dump '%s': all, written, minimal, namespaces, blobs, storage_info or none expected", what);
    }
    espsec_nvs_keys_t keys;
    if (kf != NULL && load_keys(kf, &keys) != 0) {
        return 2;
    }
    uint8_t *img = NULL;
    size_t len = 0, problems = 0;
    espsec_error_t err;
    unsigned long long off, size;
    if (espsec_read_file(in, &img, &len, 256u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (cli_u64(a, "offset", 0, &off) != 0 || cli_u64(a, "size", len - (off < len ? off : len), &size) != 0) {
        free(img);
        return 2;
    }
    if (off > len || size > len - off) {
        free(img);
        return cli_error("%s: --offset 0x%llx --size 0x%llx runs past the end of the file (0x%zx bytes)", in, off, size,
                         len);
    }
    espsec_err_t rc = espsec_nvs_dump(img + off, (size_t)size, kf ? &keys : NULL, &o, stdout, &problems, &err);
    free(img);
    espsec_wipe(&keys, sizeof(keys));
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in);
        return cli_fail(&err);
    }
    if (integrity && problems > 0) {
        (void)fflush(stdout);
        return cli_error("%s: integrity check: %zu problem%s found", in, problems, problems == 1 ? "" : "s");
    }
    return 0;
}

static int set_value(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, const char *type, const char *value,
                     espsec_err_t *rc)
{
    espsec_nvs_encoding_t enc;
    if (espsec_nvs_encoding_from_name(type, &enc) != 0) {
        return cli_error("type '%s': u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64 or binary (a file) "
                         "expected",
                         type);
    }
    /* parse with the generator's rules by building a one-value partition */
    espsec_nvs_gen_t *g = NULL;
    espsec_error_t err;
    if (espsec_nvs_gen_new(0x3000, 2, NULL, &g, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    uint8_t *fdata = NULL;
    size_t vlen = strlen(value);
    const char *v = value;
    if (enc == ESPSEC_NVS_ENC_BINARY) {
        if (espsec_read_file(value, &fdata, &vlen, 16u << 20, &err) != ESPSEC_OK) {
            espsec_nvs_gen_free(g);
            return cli_fail(&err);
        }
        v = (const char *)fdata;
    }
    if (espsec_nvs_gen_namespace(g, "x", &err) != ESPSEC_OK ||
        (enc != ESPSEC_NVS_ENC_BINARY && enc != ESPSEC_NVS_ENC_HEX2BIN && enc != ESPSEC_NVS_ENC_BASE64 &&
         espsec_nvs_gen_value(g, key, enc, v, vlen, &err) != ESPSEC_OK)) {
        espsec_nvs_gen_free(g);
        free(fdata);
        return cli_fail(&err);
    }
    espsec_nvs_gen_free(g);
    uint64_t u = 0;
    int64_t s = 0;
    if (enc <= ESPSEC_NVS_ENC_I64) {
        int neg = value[strspn(value, " \t")] == '-';
        if (neg) {
            s = strtoll(value, NULL, 10);
            u = (uint64_t)s;
        } else {
            u = strtoull(value, NULL, 10);
        }
    }
    switch (enc) {
    case ESPSEC_NVS_ENC_U8:
        *rc = espsec_nvs_set_u8(n, h, key, (uint8_t)u);
        break;
    case ESPSEC_NVS_ENC_I8:
        *rc = espsec_nvs_set_i8(n, h, key, (int8_t)u);
        break;
    case ESPSEC_NVS_ENC_U16:
        *rc = espsec_nvs_set_u16(n, h, key, (uint16_t)u);
        break;
    case ESPSEC_NVS_ENC_I16:
        *rc = espsec_nvs_set_i16(n, h, key, (int16_t)u);
        break;
    case ESPSEC_NVS_ENC_U32:
        *rc = espsec_nvs_set_u32(n, h, key, (uint32_t)u);
        break;
    case ESPSEC_NVS_ENC_I32:
        *rc = espsec_nvs_set_i32(n, h, key, (int32_t)u);
        break;
    case ESPSEC_NVS_ENC_U64:
        *rc = espsec_nvs_set_u64(n, h, key, u);
        break;
    case ESPSEC_NVS_ENC_I64:
        *rc = espsec_nvs_set_i64(n, h, key, (int64_t)u);
        break;
    case ESPSEC_NVS_ENC_STRING:
        *rc = espsec_nvs_set_str(n, h, key, value);
        break;
    default: {
        uint8_t *bin = malloc(vlen + 4);
        if (bin == NULL) {
            free(fdata);
            return cli_error("out of memory");
        }
        long bl = (long)vlen;
        if (enc == ESPSEC_NVS_ENC_HEX2BIN) {
            bl = espsec_unhex(value, bin, vlen + 1);
        } else if (enc == ESPSEC_NVS_ENC_BASE64) {
            bl = espsec_base64_decode(value, vlen, bin);
        } else {
            memcpy(bin, v, vlen);
        }
        if (bl < 0) {
            free(bin);
            free(fdata);
            return cli_error("%s: value is not valid %s", key, type);
        }
        *rc = espsec_nvs_set_blob(n, h, key, bin, (size_t)bl);
        free(bin);
    }
    }
    free(fdata);
    return 0;
}

/*
 * An edit of an image: open it, open NS read-write, apply the change,
 * save the image back atomically. apply returns a CLI status (its own
 * message printed) or 0 with *rc the store's result.
 */
typedef int (*edit_fn)(cli_args_t *a, espsec_nvs_t *n, espsec_nvs_handle_t h, espsec_err_t *rc);

static int edit_image(cli_args_t *a, edit_fn apply)
{
    image_t im;
    int st = image_open(a, &im);
    const char *ns = cli_pos(a, 1), *key = cli_pos(a, 2);
    espsec_nvs_handle_t h;
    espsec_err_t rc = ESPSEC_OK;
    if (st == 0) {
        st = check_names(cli_pos(a, 0), ns, key);
    }
    if (st == 0) {
        rc = espsec_nvs_open(im.nvs, ns, ESPSEC_NVS_READWRITE, &h);
        if (rc == ESPSEC_OK) {
            st = apply(a, im.nvs, h, &rc);
        }
        if (st == 0 && rc != ESPSEC_OK) {
            char what[64];
            snprintf(what, sizeof(what), "%s%s%s", ns, key ? "/" : "", key ? key : "");
            st = nvs_fail(cli_pos(a, 0), what, rc);
        }
    }
    if (st == 0) {
        st = image_save(a, &im);
    }
    image_close(&im);
    return st;
}

static int apply_set(cli_args_t *a, espsec_nvs_t *n, espsec_nvs_handle_t h, espsec_err_t *rc)
{
    return set_value(n, h, cli_pos(a, 2), cli_pos(a, 3), cli_pos(a, 4), rc);
}

static int apply_erase(cli_args_t *a, espsec_nvs_t *n, espsec_nvs_handle_t h, espsec_err_t *rc)
{
    const char *key = cli_pos(a, 2);
    *rc = key != NULL ? espsec_nvs_erase_key(n, h, key) : espsec_nvs_erase_all(n, h);
    return 0;
}

static int cmd_set(cli_args_t *a)
{
    return edit_image(a, apply_set);
}

static int cmd_erase(cli_args_t *a)
{
    return edit_image(a, apply_erase);
}

static const cli_opt_t OPT_GEN[] = {
    {"version", 0, CLI_VALUE, "N", "Format version: 1 (multipage blobs not supported) or 2 (default)."},
    {"outdir", 0, CLI_VALUE, "DIR", "Output folder (default: the current folder)."},
    {0}};
static const cli_pos_t POS_GEN[] = {{"INPUT", "CSV file(s), then OUTPUT (.bin) and SIZE (a multiple of 4096).", 0, 1},
                                    {0}};
const cli_opt_t CLI_NVS_KEYGEN_OPTS[] = {
    {"keyfile", 0, CLI_VALUE, "FILE", "Name of the key file (default keys-<timestamp>.bin), written under OUTDIR/keys/."},
    {"outdir", 0, CLI_VALUE, "DIR", "Output folder (default: the current folder)."},
    {"key-protect-hmac", 0, CLI_FLAG, NULL, "Derive the keys from an HMAC key (the HMAC-based NVS key scheme)."},
    {"kp-hmac-keygen", 0, CLI_FLAG, NULL, "Generate the HMAC key (written as hmac-<keyfile>)."},
    {"kp-hmac-keyfile", 0, CLI_VALUE, "FILE", "Name of the generated HMAC key file."},
    {"kp-hmac-inputkey", 0, CLI_VALUE, "FILE", "Use this 32-byte HMAC key."},
    {0}};
static const cli_opt_t OPT_ENC[] = {
    {"version", 0, CLI_VALUE, "N", "Format version: 1 or 2 (default)."},
    {"keygen", 0, CLI_FLAG, NULL, "Generate the NVS keys (written under OUTDIR/keys/)."},
    {"inputkey", 0, CLI_VALUE, "FILE", "Use these NVS keys (an nvs_keys partition file)."},
    {"keyfile", 0, CLI_VALUE, "FILE", "Name of the generated key file."},
    {"outdir", 0, CLI_VALUE, "DIR", "Output folder (default: the current folder)."},
    {"key-protect-hmac", 0, CLI_FLAG, NULL, "With --keygen: derive the keys from an HMAC key."},
    {"kp-hmac-keygen", 0, CLI_FLAG, NULL, "Generate the HMAC key."},
    {"kp-hmac-keyfile", 0, CLI_VALUE, "FILE", "Name of the generated HMAC key file."},
    {"kp-hmac-inputkey", 0, CLI_VALUE, "FILE", "Use this 32-byte HMAC key."},
    {0}};
static const cli_opt_t OPT_DEC[] = {{"outdir", 0, CLI_VALUE, "DIR", "Output folder."}, {0}};
static const cli_pos_t POS_DEC[] = {{"INPUT", "Encrypted partition image.", 0, 0},
                                   {"KEYS", "nvs_keys partition file.", 0, 0},
                                   {"OUTPUT", "Decrypted image to write.", 0, 0},
                                   {0}};
static const cli_opt_t OPT_DUMP[] = {
    {"keyfile", 0, CLI_VALUE, "FILE", "Decrypt with these NVS keys."},
    {"format", 'f', CLI_VALUE, "FMT", "text (default) or json."},
    {"dump", 'd', CLI_VALUE, "WHAT",
     "all (default), written, minimal (namespace:key = value), namespaces, blobs, storage_info or none."},
    {"integrity-check", 'i', CLI_FLAG, NULL, "List the problems found and exit non-zero when there are any."},
    {"color", 0, CLI_VALUE, "WHEN", "never, auto or always (accepted for nvs_tool compatibility; output is plain)."},
    {"offset", 0, CLI_VALUE, "ADDR", "Where the partition starts in the file (a whole flash image)."},
    {"size", 0, CLI_VALUE, "SIZE", "Partition size (default: the rest of the file)."},
    {0}};
static const cli_pos_t POS_IMG[] = {{"IMAGE", "NVS partition image (or flash image with --offset/--size).", 0, 0},
                                    {0}};
static const cli_opt_t OPT_EDIT[] = {
    {"keyfile", 0, CLI_VALUE, "FILE", "NVS keys of an encrypted partition."},
    {"offset", 0, CLI_VALUE, "ADDR", "Where the partition starts in the file."},
    {"size", 0, CLI_VALUE, "SIZE", "Partition size (default: the rest of the file)."},
    {0}};
static const cli_opt_t OPT_LIST[] = {
    {"keyfile", 0, CLI_VALUE, "FILE", "NVS keys of an encrypted partition."},
    {"offset", 0, CLI_VALUE, "ADDR", "Where the partition starts in the file."},
    {"size", 0, CLI_VALUE, "SIZE", "Partition size (default: the rest of the file)."},
    {"namespace", 'n', CLI_VALUE, "NS", "Only this namespace."},
    {"json", 0, CLI_FLAG, NULL, "Machine-readable output."},
    {0}};
static const cli_pos_t POS_GET[] = {{"IMAGE", "NVS partition image.", 0, 0},
                                    {"NAMESPACE", "Namespace.", 0, 0},
                                    {"KEY", "Key.", 0, 0},
                                    {0}};
static const cli_pos_t POS_SET[] = {
    {"IMAGE", "NVS partition image (changed in place, atomically).", 0, 0},
    {"NAMESPACE", "Namespace (created if missing).", 0, 0},
    {"KEY", "Key (at most 15 characters).", 0, 0},
    {"TYPE", "u8 i8 u16 i16 u32 i32 u64 i64 string hex2bin base64, or binary (VALUE is a file).", 0, 0},
    {"VALUE", "The value.", 0, 0},
    {0}};
static const cli_pos_t POS_ERASE[] = {{"IMAGE", "NVS partition image (changed in place, atomically).", 0, 0},
                                      {"NAMESPACE", "Namespace.", 0, 0},
                                      {"KEY", "Key (default: every key of the namespace).", 1, 0},
                                      {0}};

static const cli_cmd_t NVS_CMDS[] = {
    {"generate", NULL, "Generate an NVS partition from CSV (nvs_partition_gen generate).", NULL, OPT_GEN, POS_GEN,
     cmd_generate},
    {"generate-key", NULL, "Generate NVS encryption keys as an nvs_keys partition file.", NULL, CLI_NVS_KEYGEN_OPTS, NULL,
     cli_nvs_generate_key},
    {"encrypt", NULL, "Generate an encrypted NVS partition from CSV.", NULL, OPT_ENC, POS_GEN, cmd_encrypt},
    {"decrypt", NULL, "Decrypt an encrypted NVS partition image.", NULL, OPT_DEC, POS_DEC, cmd_decrypt},
    {"dump", NULL, "Show pages, entries and problems of a partition image (--format json).", NULL, OPT_DUMP, POS_IMG,
     cmd_dump},
    {"list", NULL, "List every value of a partition image, read through the NVS store.", NULL, OPT_LIST, POS_IMG,
     cmd_list},
    {"get", NULL, "Print one value.", NULL, OPT_EDIT, POS_GET, cmd_get},
    {"set", NULL, "Set one value in a partition image, as nvs_set_* on the device would.", NULL, OPT_EDIT, POS_SET,
     cmd_set},
    {"erase", NULL, "Erase one key, or every key of a namespace.", NULL, OPT_EDIT, POS_ERASE, cmd_erase},
    {0}};

const cli_group_t CLI_NVS = {
    "nvs",
    "NVS partitions: nvs_partition_gen's commands, plus dump, list, get, set, erase.",
    "Example: espsec nvs generate nvs.csv nvs.bin 0x6000\n"
    "         espsec nvs encrypt nvs.csv nvs_enc.bin 0x6000 --keygen --keyfile nvs_keys.bin",
    NULL,
    NVS_CMDS,
};
