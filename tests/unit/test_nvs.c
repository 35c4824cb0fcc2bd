/*
 * NVS store and partition images: the API's semantics (as ESP-IDF's nvs_*),
 * byte compatibility with nvs_partition_gen in both directions, encryption
 * and the nvs_keys partition, and the generator's refusals.
 */
#include "espsec/flash.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"
#include "espsec/util.h"
#include "test.h"

#include <openssl/evp.h>

static espsec_nvs_keys_t vector_keys(void)
{
    size_t len;
    uint8_t *buf = vec("nvs/input/nvs_keys.bin", &len);
    espsec_nvs_keys_t k;
    espsec_error_t err;
    CHECK_OK(espsec_nvs_keys_parse(buf, len, &k, &err));
    free(buf);
    return k;
}

static espsec_nvs_t *mount_image(const uint8_t *img, size_t len, const espsec_nvs_keys_t *keys, espsec_flash_t **f)
{
    espsec_error_t err;
    espsec_nvs_t *n = NULL;
    CHECK_OK(espsec_flash_from(img, len, f, &err));
    espsec_err_t rc = espsec_nvs_mount(*f, 0, (uint32_t)len, keys, &n, &err);
    if (rc != ESPSEC_OK) {
        fprintf(stderr, "mount: %s\n", err.msg);
        t_failures++;
    }
    return n;
}

/* The generator's reference partition, read back through the store. */
static void check_types(const char *name, const espsec_nvs_keys_t *keys)
{
    size_t len;
    uint8_t *img = vec(name, &len);
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = mount_image(img, len, keys, &f);
    if (n == NULL) {
        free(img);
        espsec_flash_free(f);
        return;
    }
    espsec_nvs_handle_t h, w;
    CHECK_OK(espsec_nvs_open(n, "cfg_pub", ESPSEC_NVS_READONLY, &h));
    CHECK_OK(espsec_nvs_open(n, "wifi", ESPSEC_NVS_READONLY, &w));
    uint8_t u8 = 1;
    int8_t i8 = 0;
    uint16_t u16 = 0;
    int16_t i16 = 0;
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    CHECK_OK(espsec_nvs_get_u8(n, h, "u8min", &u8));
    CHECK(u8 == 0);
    CHECK_OK(espsec_nvs_get_u8(n, h, "u8max", &u8));
    CHECK(u8 == 255);
    CHECK_OK(espsec_nvs_get_i8(n, h, "i8min", &i8));
    CHECK(i8 == -128);
    CHECK_OK(espsec_nvs_get_u16(n, h, "u16max", &u16));
    CHECK(u16 == 65535);
    CHECK_OK(espsec_nvs_get_i16(n, h, "i16min", &i16));
    CHECK(i16 == -32768);
    CHECK_OK(espsec_nvs_get_u32(n, h, "u32max", &u32));
    CHECK(u32 == 4294967295u);
    CHECK_OK(espsec_nvs_get_i32(n, h, "i32min", &i32));
    CHECK(i32 == INT32_MIN);
    CHECK_OK(espsec_nvs_get_u64(n, h, "u64max", &u64));
    CHECK(u64 == UINT64_MAX);
    CHECK_OK(espsec_nvs_get_i64(n, h, "i64min", &i64));
    CHECK(i64 == INT64_MIN);
    char s[64];
    size_t sl = sizeof(s);
    CHECK_OK(espsec_nvs_get_str(n, h, "str_short", s, &sl));
    CHECK(sl == 4 && strcmp(s, "pub") == 0);
    sl = sizeof(s);
    CHECK_OK(espsec_nvs_get_str(n, h, "str_empty", s, &sl));
    CHECK(sl == 1 && s[0] == '\0');
    sl = sizeof(s);
    CHECK_OK(espsec_nvs_get_str(n, w, "ssid", s, &sl));
    CHECK(strcmp(s, "ssid-pub") == 0);
    uint8_t hex[16], want[16];
    size_t hl = sizeof(hex);
    CHECK_OK(espsec_nvs_get_blob(n, h, "hex", hex, &hl));
    CHECK(hl == 16 && espsec_unhex("16548e8dc53d2ee1a2b0f8275ff39fef", want, 16) == 16 && memcmp(hex, want, 16) == 0);
    size_t bl;
    uint8_t *blob = vec("nvs/input/blob_small.bin", &bl);
    size_t got = 0;
    CHECK_OK(espsec_nvs_get_blob(n, w, "f_bin", NULL, &got));
    CHECK(got == bl);
    uint8_t *back = malloc(got);
    CHECK_OK(espsec_nvs_get_blob(n, w, "f_bin", back, &got));
    CHECK(memcmp(back, blob, bl) == 0);
    free(back);
    free(blob);
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
    free(img);
}

static void test_reads_generator_images(void)
{
    check_types("nvs/expected/types_0x3000.bin", NULL);
    check_types("nvs/expected/types_0x6000.bin", NULL);
    espsec_nvs_keys_t k = vector_keys();
    check_types("nvs/expected/enc_types_0x6000.bin", &k);
}

/* Multi-chunk (v2) and single-entry (v1) blobs from the generator. */
static void test_reads_blobs(void)
{
    const struct {
        const char *img, *key, *file;
    } cases[] = {{"nvs/expected/bigblob_v2.bin", "big", "nvs/input/blob_big.bin"},
                 {"nvs/expected/bigblob_v2.bin", "mid", "nvs/input/blob_mid.bin"},
                 {"nvs/expected/v1blob_v1.bin", "small", "nvs/input/blob_small.bin"}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t len, bl;
        uint8_t *img = vec(cases[c].img, &len), *want = vec(cases[c].file, &bl);
        espsec_flash_t *f = NULL;
        espsec_nvs_t *n = mount_image(img, len, NULL, &f);
        espsec_nvs_handle_t h;
        CHECK_OK(espsec_nvs_open(n, "store", ESPSEC_NVS_READONLY, &h));
        size_t got = bl + 10;
        uint8_t *back = malloc(got);
        CHECK_OK(espsec_nvs_get_blob(n, h, cases[c].key, back, &got));
        CHECK(got == bl && memcmp(back, want, bl) == 0);
        /* too small a buffer: INVALID_LENGTH and the needed size */
        got = bl - 1;
        CHECK_ERR(espsec_nvs_get_blob(n, h, cases[c].key, back, &got), ESP_ERR_NVS_INVALID_LENGTH);
        CHECK(got == bl);
        free(back);
        free(want);
        free(img);
        espsec_nvs_unmount(n);
        espsec_flash_free(f);
    }
}

/* Writing through the store the rows of types.csv gives the generator's bytes. */
static void test_store_writes_generator_bytes(void)
{
    size_t len;
    uint8_t *want = vec("nvs/expected/types_0x3000.bin", &len);
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_new(0x3000, &f, &err));
    CHECK_OK(espsec_nvs_mount(f, 0, 0x3000, NULL, &n, &err));
    espsec_nvs_handle_t h, w;
    CHECK_OK(espsec_nvs_open(n, "cfg_pub", ESPSEC_NVS_READWRITE, &h));
    CHECK_OK(espsec_nvs_set_u8(n, h, "u8min", 0));
    CHECK_OK(espsec_nvs_set_u8(n, h, "u8max", 255));
    CHECK_OK(espsec_nvs_set_i8(n, h, "i8min", -128));
    CHECK_OK(espsec_nvs_set_i8(n, h, "i8max", 127));
    CHECK_OK(espsec_nvs_set_u16(n, h, "u16max", 65535));
    CHECK_OK(espsec_nvs_set_i16(n, h, "i16min", -32768));
    CHECK_OK(espsec_nvs_set_u32(n, h, "u32max", 4294967295u));
    CHECK_OK(espsec_nvs_set_i32(n, h, "i32min", INT32_MIN));
    CHECK_OK(espsec_nvs_set_u64(n, h, "u64max", UINT64_MAX));
    CHECK_OK(espsec_nvs_set_i64(n, h, "i64min", INT64_MIN));
    CHECK_OK(espsec_nvs_set_i64(n, h, "i64max", INT64_MAX));
    CHECK_OK(espsec_nvs_set_str(n, h, "str_empty", ""));
    CHECK_OK(espsec_nvs_set_str(n, h, "str_short", "pub"));
    CHECK_OK(espsec_nvs_set_str(n, h, "str_long",
                                "QD5S06ZJUEW8QMPHL03S1T9TXHLGRMYN01ON8TS0378O55TP7FDB2RAAY0SYCYNSB67L6DGHBOHT1P0WRDVPHMY"
                                "N9GKLK8NIZDPAEFCAFYPISTBVHCMQ563B"));
    uint8_t hex[16];
    espsec_unhex("16548e8dc53d2ee1a2b0f8275ff39fef", hex, sizeof(hex));
    CHECK_OK(espsec_nvs_set_blob(n, h, "hex", hex, sizeof(hex)));
    uint8_t b64[40];
    const char *b64text = "xaT+V/mfU4f2qjaUxlnxlGdd3ku+xDMwTKJx15DgUEve";
    long b64len = espsec_base64_decode(b64text, strlen(b64text), b64);
    CHECK(b64len == 33);
    CHECK_OK(espsec_nvs_set_blob(n, h, "b64", b64, (size_t)b64len));
    CHECK_OK(espsec_nvs_open(n, "wifi", ESPSEC_NVS_READWRITE, &w));
    CHECK_OK(espsec_nvs_set_str(n, w, "ssid", "ssid-pub"));
    CHECK_OK(espsec_nvs_set_str(n, w, "pass", "secret-pub-password"));
    size_t tl, hl, bl, sl;
    uint8_t *text = vec("nvs/input/text.txt", &tl), *hext = vec("nvs/input/hex.txt", &hl),
            *b64t = vec("nvs/input/b64.txt", &bl), *small = vec("nvs/input/blob_small.bin", &sl);
    char *str = calloc(1, tl + 1);
    memcpy(str, text, tl);
    CHECK_OK(espsec_nvs_set_str(n, w, "f_text", str));
    char *hs = calloc(1, hl + 1);
    memcpy(hs, hext, hl);
    uint8_t hb[256];
    long hn = espsec_unhex(hs, hb, sizeof(hb));
    CHECK(hn > 0);
    CHECK_OK(espsec_nvs_set_blob(n, w, "f_hex", hb, (size_t)hn));
    uint8_t bb[256];
    long bn = espsec_base64_decode((const char *)b64t, bl, bb);
    CHECK(bn > 0);
    CHECK_OK(espsec_nvs_set_blob(n, w, "f_b64", bb, (size_t)bn));
    CHECK_OK(espsec_nvs_set_blob(n, w, "f_bin", small, sl));
    CHECK(memcmp(espsec_flash_data(f), want, len) == 0);
    for (size_t i = 0; i < len; i++) {
        if (espsec_flash_data(f)[i] != want[i]) {
            fprintf(stderr, "first difference at 0x%zx: 0x%02x, generator 0x%02x\n", i, espsec_flash_data(f)[i], want[i]);
            break;
        }
    }
    free(text);
    free(hext);
    free(b64t);
    free(small);
    free(str);
    free(hs);
    free(want);
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
}

/* nvs_* semantics: types, lengths, handles, namespaces, erase, stats. */
static void test_api_semantics(void)
{
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_new(0x6000, &f, &err));
    CHECK_ERR(espsec_nvs_mount(f, 0, 0x2000, NULL, &n, &err), ESPSEC_ERR_INVALID_SIZE);
    CHECK_MSG(err, "at least 0x3000");
    CHECK_ERR(espsec_nvs_mount(f, 0, 0x7000, NULL, &n, &err), ESPSEC_ERR_INVALID_SIZE);
    CHECK_OK(espsec_nvs_mount(f, 0, 0x6000, NULL, &n, &err));
    espsec_nvs_handle_t ro, rw, other;
    CHECK_ERR(espsec_nvs_open(n, "app", ESPSEC_NVS_READONLY, &ro), ESP_ERR_NVS_NOT_FOUND);
    CHECK_ERR(espsec_nvs_open(n, "a_namespace_too_long", ESPSEC_NVS_READWRITE, &rw), ESP_ERR_NVS_KEY_TOO_LONG);
    CHECK_OK(espsec_nvs_open(n, "app", ESPSEC_NVS_READWRITE, &rw));
    CHECK_OK(espsec_nvs_open(n, "app", ESPSEC_NVS_READONLY, &ro));
    CHECK_OK(espsec_nvs_open(n, "other", ESPSEC_NVS_READWRITE, &other));
    CHECK_ERR(espsec_nvs_set_u8(n, ro, "k", 1), ESP_ERR_NVS_READ_ONLY);
    CHECK_ERR(espsec_nvs_set_u8(n, rw, "sixteen_chars_ab", 1), ESP_ERR_NVS_KEY_TOO_LONG);
    CHECK_ERR(espsec_nvs_set_u8(n, rw, "", 1), ESP_ERR_NVS_INVALID_NAME);
    CHECK_ERR(espsec_nvs_set_u8(n, 99, "k", 1), ESP_ERR_NVS_INVALID_HANDLE);
    CHECK_OK(espsec_nvs_set_u8(n, rw, "fifteen_chars_a", 7));
    CHECK_OK(espsec_nvs_set_u16(n, rw, "k", 1000));
    uint8_t u8;
    uint16_t u16;
    CHECK_ERR(espsec_nvs_get_u8(n, ro, "k", &u8), ESP_ERR_NVS_TYPE_MISMATCH);
    CHECK_OK(espsec_nvs_get_u16(n, ro, "k", &u16));
    CHECK(u16 == 1000);
    espsec_nvs_type_t ityp;
    int64_t iv = 0;
    CHECK_OK(espsec_nvs_get_int(n, ro, "k", &ityp, &iv));
    CHECK(ityp == ESPSEC_NVS_TYPE_U16 && iv == 1000);
    CHECK_OK(espsec_nvs_set_i8(n, rw, "neg", -5));
    CHECK_OK(espsec_nvs_get_int(n, ro, "neg", &ityp, &iv));
    CHECK(ityp == ESPSEC_NVS_TYPE_I8 && iv == -5);
    CHECK_OK(espsec_nvs_set_u64(n, rw, "big", UINT64_MAX));
    CHECK_OK(espsec_nvs_get_int(n, ro, "big", &ityp, &iv));
    CHECK(ityp == ESPSEC_NVS_TYPE_U64 && (uint64_t)iv == UINT64_MAX);
    CHECK_OK(espsec_nvs_erase_key(n, rw, "neg"));
    CHECK_OK(espsec_nvs_erase_key(n, rw, "big"));
    /* a key is one slot: a new type replaces the old value */
    CHECK_OK(espsec_nvs_set_str(n, rw, "k", "now a string"));
    CHECK_ERR(espsec_nvs_get_u16(n, ro, "k", &u16), ESP_ERR_NVS_TYPE_MISMATCH);
    size_t len = 0;
    CHECK_OK(espsec_nvs_get_str(n, ro, "k", NULL, &len));
    CHECK(len == 13);
    char small[5];
    len = sizeof(small);
    CHECK_ERR(espsec_nvs_get_str(n, ro, "k", small, &len), ESP_ERR_NVS_INVALID_LENGTH);
    /* namespaces are separate */
    u8 = 0xA5;
    CHECK_ERR(espsec_nvs_get_u8(n, other, "fifteen_chars_a", &u8), ESP_ERR_NVS_NOT_FOUND);
    CHECK(u8 == 0xA5); /* the output is left alone on error */
    u16 = 0x1234;
    CHECK_ERR(espsec_nvs_get_u16(n, other, "fifteen_chars_a", &u16), ESP_ERR_NVS_NOT_FOUND);
    CHECK(u16 == 0x1234);
    CHECK_OK(espsec_nvs_set_u8(n, other, "fifteen_chars_a", 9));
    CHECK_OK(espsec_nvs_get_u8(n, ro, "fifteen_chars_a", &u8));
    CHECK(u8 == 7);
    /* strings over 4000 bytes are refused (ESP-IDF's limit) */
    char *big = malloc(4002);
    memset(big, 'x', 4001);
    big[4001] = '\0';
    CHECK_ERR(espsec_nvs_set_str(n, rw, "big", big), ESP_ERR_NVS_VALUE_TOO_LONG);
    big[3999] = '\0';
    CHECK_OK(espsec_nvs_set_str(n, rw, "big", big));
    free(big);
    /* a blob spanning pages, then the same value again writes nothing */
    uint8_t blob[6000];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 13 + 5);
    }
    CHECK_OK(espsec_nvs_set_blob(n, rw, "blob", blob, sizeof(blob)));
    uint64_t ops = espsec_flash_op_count(f);
    CHECK_OK(espsec_nvs_set_blob(n, rw, "blob", blob, sizeof(blob)));
    CHECK(espsec_flash_op_count(f) == ops);
    uint8_t back[6000];
    len = sizeof(back);
    CHECK_OK(espsec_nvs_get_blob(n, ro, "blob", back, &len));
    CHECK(len == sizeof(blob) && memcmp(back, blob, len) == 0);
    espsec_nvs_stats_t st;
    CHECK_OK(espsec_nvs_get_stats(n, &st));
    CHECK(st.namespace_count == 2);
    CHECK(st.total_entries == 6 * 126); /* every page, the reserve too, as ESP-IDF counts */
    CHECK(st.used_entries + st.free_entries == st.total_entries);
    size_t used = 0;
    CHECK_OK(espsec_nvs_get_used_entry_count(n, rw, &used));
    CHECK(used > 190 && used < st.used_entries);
    /* list: all, one namespace, one type */
    espsec_nvs_entry_info_t info[16];
    size_t count = 0;
    CHECK_OK(espsec_nvs_list(n, NULL, ESPSEC_NVS_TYPE_ANY, info, 16, &count));
    CHECK(count == 5);
    CHECK_OK(espsec_nvs_list(n, "other", ESPSEC_NVS_TYPE_ANY, info, 16, &count));
    CHECK(count == 1 && strcmp(info[0].key, "fifteen_chars_a") == 0 && info[0].type == ESPSEC_NVS_TYPE_U8);
    CHECK_OK(espsec_nvs_list(n, NULL, ESPSEC_NVS_TYPE_BLOB, info, 16, &count));
    CHECK(count == 1 && strcmp(info[0].key, "blob") == 0);
    /* iterators, as nvs_entry_find/next/info */
    espsec_nvs_iterator_t *it = NULL;
    size_t seen = 0;
    espsec_err_t irc = espsec_nvs_entry_find(n, "app", ESPSEC_NVS_TYPE_ANY, &it);
    CHECK(irc == ESPSEC_OK && it != NULL);
    while (irc == ESPSEC_OK) {
        espsec_nvs_entry_info_t ei;
        CHECK_OK(espsec_nvs_entry_info(it, &ei));
        CHECK(strcmp(ei.namespace_name, "app") == 0);
        seen++;
        irc = espsec_nvs_entry_next(&it);
    }
    CHECK(irc == ESP_ERR_NVS_NOT_FOUND && it == NULL && seen == 4);
    CHECK_ERR(espsec_nvs_entry_find(n, "app", ESPSEC_NVS_TYPE_I64, &it), ESP_ERR_NVS_NOT_FOUND);
    CHECK(it == NULL);
    CHECK_OK(espsec_nvs_entry_find(n, NULL, ESPSEC_NVS_TYPE_STR, &it));
    espsec_nvs_release_iterator(it);
    /* erase: a key, then a namespace; erasing a missing key is NOT_FOUND */
    CHECK_OK(espsec_nvs_erase_key(n, rw, "blob"));
    CHECK_ERR(espsec_nvs_erase_key(n, rw, "blob"), ESP_ERR_NVS_NOT_FOUND);
    len = sizeof(back);
    CHECK_ERR(espsec_nvs_get_blob(n, ro, "blob", back, &len), ESP_ERR_NVS_NOT_FOUND);
    CHECK_ERR(espsec_nvs_erase_all(n, ro), ESP_ERR_NVS_READ_ONLY);
    CHECK_OK(espsec_nvs_erase_all(n, rw));
    CHECK_ERR(espsec_nvs_list(n, "app", ESPSEC_NVS_TYPE_ANY, info, 16, &count), ESP_ERR_NVS_NOT_FOUND);
    CHECK(count == 0);
    CHECK_OK(espsec_nvs_get_u8(n, other, "fifteen_chars_a", &u8));
    CHECK(u8 == 9);
    CHECK_OK(espsec_nvs_commit(n, rw));
    espsec_nvs_close(n, rw);
    CHECK_ERR(espsec_nvs_set_u8(n, rw, "k", 1), ESP_ERR_NVS_INVALID_HANDLE);
    /* a remount sees the same, and the image dumps without problems */
    espsec_nvs_unmount(n);
    CHECK_OK(espsec_nvs_mount(f, 0, 0x6000, NULL, &n, &err));
    CHECK_OK(espsec_nvs_open(n, "other", ESPSEC_NVS_READONLY, &ro));
    CHECK_OK(espsec_nvs_get_u8(n, ro, "fifteen_chars_a", &u8));
    CHECK(u8 == 9);
    espsec_nvs_repairs_t r;
    espsec_nvs_get_repairs(n, &r);
    CHECK(r.half_written_erased == 0 && r.duplicates_erased == 0 && r.corrupt_pages == 0);
    espsec_nvs_unmount(n);
    FILE *null = fopen("/dev/null", "w");
    size_t problems = 99;
    CHECK_OK(espsec_nvs_dump(espsec_flash_data(f), 0x6000, NULL, NULL, null, &problems, &err));
    CHECK(problems == 0);
    fclose(null);
    espsec_flash_free(f);
}

/* Filling the partition: NOT_ENOUGH_SPACE, and the store keeps what it had. */
static void test_full_partition(void)
{
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_new(0x3000, &f, &err));
    CHECK_OK(espsec_nvs_mount(f, 0, 0x3000, NULL, &n, &err));
    espsec_nvs_handle_t h;
    CHECK_OK(espsec_nvs_open(n, "fill", ESPSEC_NVS_READWRITE, &h));
    int stored = 0;
    espsec_err_t rc = ESPSEC_OK;
    for (int i = 0; i < 400 && rc == ESPSEC_OK; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        rc = espsec_nvs_set_u32(n, h, key, (uint32_t)i);
        stored += rc == ESPSEC_OK;
    }
    CHECK(rc == ESP_ERR_NVS_NOT_ENOUGH_SPACE);
    /* two pages for data (one is the reserve), minus the namespace entry */
    CHECK(stored == 2 * 126 - 1);
    /* overwrites still work through garbage collection once something is erased */
    CHECK_OK(espsec_nvs_erase_key(n, h, "k0"));
    for (int round = 0; round < 300; round++) {
        CHECK_OK(espsec_nvs_set_u32(n, h, "k1", (uint32_t)round));
    }
    uint32_t v = 0;
    CHECK_OK(espsec_nvs_get_u32(n, h, "k1", &v));
    CHECK(v == 299);
    CHECK_OK(espsec_nvs_get_u32(n, h, "k250", &v));
    CHECK(v == 250);
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
}

/* Encrypted store: nothing in clear on flash, a wrong key refused without a write. */
static void test_encrypted_store(void)
{
    espsec_nvs_keys_t k = vector_keys(), wrong = k;
    wrong.eky[0] ^= 1;
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_error_t err;
    CHECK_OK(espsec_flash_new(0x3000, &f, &err));
    CHECK_OK(espsec_nvs_mount(f, 0, 0x3000, &k, &n, &err));
    espsec_nvs_handle_t h;
    CHECK_OK(espsec_nvs_open(n, "secret", ESPSEC_NVS_READWRITE, &h));
    CHECK_OK(espsec_nvs_set_str(n, h, "password", "hunter2-hunter2"));
    espsec_nvs_unmount(n);
    CHECK(memmem(espsec_flash_data(f), 0x3000, "hunter2", 7) == NULL);
    CHECK(memmem(espsec_flash_data(f), 0x3000, "password", 8) == NULL);
    uint8_t before[0x3000];
    memcpy(before, espsec_flash_data(f), sizeof(before));
    CHECK_ERR(espsec_nvs_mount(f, 0, 0x3000, &wrong, &n, &err), ESPSEC_ERR_VERIFY);
    CHECK_MSG(err, "wrong NVS key");
    CHECK_ERR(espsec_nvs_mount(f, 0, 0x3000, NULL, &n, &err), ESPSEC_ERR_VERIFY);
    CHECK_MSG(err, "needs its NVS keys");
    CHECK(memcmp(before, espsec_flash_data(f), sizeof(before)) == 0);
    CHECK_OK(espsec_nvs_mount(f, 0, 0x3000, &k, &n, &err));
    CHECK_OK(espsec_nvs_open(n, "secret", ESPSEC_NVS_READONLY, &h));
    char s[32];
    size_t sl = sizeof(s);
    CHECK_OK(espsec_nvs_get_str(n, h, "password", s, &sl));
    CHECK(strcmp(s, "hunter2-hunter2") == 0);
    espsec_nvs_unmount(n);
    /* decrypting the image gives one the plain store mounts */
    uint8_t img[0x3000];
    memcpy(img, espsec_flash_data(f), sizeof(img));
    CHECK_OK(espsec_nvs_image_crypt(img, sizeof(img), &k, 1, &err));
    CHECK(memmem(img, sizeof(img), "hunter2", 7) != NULL);
    espsec_flash_t *g = NULL;
    n = mount_image(img, sizeof(img), NULL, &g);
    CHECK_OK(espsec_nvs_open(n, "secret", ESPSEC_NVS_READONLY, &h));
    sl = sizeof(s);
    CHECK_OK(espsec_nvs_get_str(n, h, "password", s, &sl));
    espsec_nvs_unmount(n);
    espsec_flash_free(g);
    espsec_flash_free(f);
}

/* The nvs_keys partition: layout, CRC, blank and corrupt. */
static void test_keys_partition(void)
{
    size_t len;
    uint8_t *buf = vec("nvs/input/nvs_keys.bin", &len);
    espsec_nvs_keys_t k;
    espsec_error_t err;
    CHECK_OK(espsec_nvs_keys_parse(buf, len, &k, &err));
    uint8_t part[ESPSEC_NVS_KEYS_PART_SIZE];
    espsec_nvs_keys_encode(&k, part);
    CHECK(len == sizeof(part) && memcmp(part, buf, len) == 0);
    buf[70] ^= 0; /* beyond the CRC: ignored */
    buf[5] ^= 0x20;
    CHECK_ERR(espsec_nvs_keys_parse(buf, len, &k, &err), ESP_ERR_NVS_CORRUPT_KEY_PART);
    CHECK_MSG(err, "CRC-32");
    memset(buf, 0xFF, len);
    CHECK_ERR(espsec_nvs_keys_parse(buf, len, &k, &err), ESP_ERR_NVS_KEYS_NOT_INITIALIZED);
    CHECK_ERR(espsec_nvs_keys_parse(buf, 40, &k, &err), ESP_ERR_NVS_CORRUPT_KEY_PART);
    free(buf);
    /* the HMAC scheme (ESP-IDF's nvs_sec_provider): fixed seeds, HMAC-SHA256 */
    uint8_t hk[32];
    for (int i = 0; i < 32; i++) {
        hk[i] = (uint8_t)i;
    }
    CHECK_OK(espsec_nvs_keys_from_hmac(hk, sizeof(hk), &k));
    espsec_nvs_keys_t k2;
    CHECK_OK(espsec_nvs_keys_from_hmac(hk, sizeof(hk), &k2));
    CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
    CHECK(memcmp(k.eky, k.tky, 32) != 0);
    /* random keys differ each time */
    CHECK_OK(espsec_nvs_keys_generate(&k));
    CHECK_OK(espsec_nvs_keys_generate(&k2));
    CHECK(memcmp(&k, &k2, sizeof(k)) != 0);
}

/* The generator: the vectors byte for byte from memory, and its refusals. */
static void test_generator(void)
{
    espsec_nvs_keys_t k = vector_keys();
    const struct {
        const char *csv, *want;
        size_t size;
        int version, enc;
    } cases[] = {{"nvs/input/many.csv", "nvs/expected/many_0x10000.bin", 0x10000, 2, 0},
                 {"nvs/input/many.csv", "nvs/expected/enc_many.bin", 0x10000, 2, 1}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t cl, wl;
        uint8_t *csv = vec(cases[c].csv, &cl), *want = vec(cases[c].want, &wl), *out = NULL;
        espsec_nvs_csv_opts_t o = {.version = cases[c].version, .keys = cases[c].enc ? &k : NULL};
        espsec_error_t err;
        CHECK_OK(espsec_nvs_gen_csv((const char *)csv, cl, "many.csv", cases[c].size, &o, &out, &err));
        CHECK(out != NULL && wl == cases[c].size && memcmp(out, want, wl) == 0);
        free(out);
        free(csv);
        free(want);
    }
    const struct {
        const char *csv, *msg;
    } bad[] = {
        {"key,type,encoding,value\nns,namespace,,\nk,data,u8,256\n", "line 3: key k: value 256 is out of range"},
        {"key,type,encoding,value\nns,namespace,,\nk,data,i8,-129\n", "out of range for i8"},
        {"key,type,encoding,value\nns,namespace,,\nk,data,u16,12x\n", "12x"},
        {"key,type,encoding,value\nk,data,u8,1\n", "line 2: key k comes before any namespace"},
        {"key,type,encoding,value\nns,namespace,,\nk,data,hex2bin,abc\n", "line 3"},
        {"key,type,encoding,value\nns,namespace,,\nk,data,base64,Q\n", "base64"},
        {"key,type,encoding,value\nns,namespace,,\nk,table,u8,1\n", "line 3"},
        {"key,type,encoding,value\nns,namespace,,\nk,file,binary,/nonexistent/file\n", "/nonexistent/file"},
    };
    for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
        uint8_t *out = (uint8_t *)1;
        espsec_error_t err;
        espsec_nvs_csv_opts_t o = {.version = 2};
        espsec_err_t rc = espsec_nvs_gen_csv(bad[c].csv, strlen(bad[c].csv), "t.csv", 0x3000, &o, &out, &err);
        CHECK(rc != ESPSEC_OK);
        CHECK_MSG(err, bad[c].msg);
    }
    /* sizes */
    espsec_nvs_gen_t *g = NULL;
    espsec_error_t err;
    CHECK(espsec_nvs_gen_new(0, 2, NULL, &g, &err) != ESPSEC_OK);
    CHECK(espsec_nvs_gen_new(0x100000000ull, 2, NULL, &g, &err) != ESPSEC_OK);
    CHECK_MSG(err, "4 GiB");
    /* 0x1000 and 0x2000: read-only partitions holding only the pages used (nvs_partition_gen) */
    CHECK_OK(espsec_nvs_gen_new(0x2000, 2, NULL, &g, &err));
    CHECK(espsec_nvs_gen_read_only(g));
    uint8_t *ro = NULL;
    size_t rol = 0;
    CHECK_OK(espsec_nvs_gen_namespace(g, "ns", &err));
    CHECK_OK(espsec_nvs_gen_value(g, "k", ESPSEC_NVS_ENC_U8, "7", 1, &err));
    CHECK_OK(espsec_nvs_gen_finish(g, &ro, &rol, &err));
    CHECK(rol == 0x1000 && ro[0] == 0xFE && ro[1] == 0xFF && ro[2] == 0xFF && ro[3] == 0xFF); /* one page, ACTIVE */
    free(ro);
    espsec_nvs_gen_free(g);
    CHECK(espsec_nvs_gen_new(0x3001, 2, NULL, &g, &err) != ESPSEC_OK);
    CHECK(espsec_nvs_gen_new(0x3000, 3, NULL, &g, &err) != ESPSEC_OK);
    CHECK_OK(espsec_nvs_gen_new(0x3000, 1, NULL, &g, &err));
    /* version 1 cannot hold a blob over one page */
    CHECK_OK(espsec_nvs_gen_namespace(g, "ns", &err));
    char big[5000];
    memset(big, 'a', sizeof(big));
    CHECK(espsec_nvs_gen_value(g, "b", ESPSEC_NVS_ENC_BINARY, big, sizeof(big), &err) != ESPSEC_OK);
    espsec_nvs_gen_free(g);
}

/* The batched XTS equals OpenSSL's XTS run one 32-byte unit at a time. */
static void test_xts_matches_evp(void)
{
    espsec_nvs_keys_t k;
    uint64_t r = 7;
    for (int i = 0; i < 32; i++) {
        k.eky[i] = (uint8_t)t_rand(&r);
        k.tky[i] = (uint8_t)t_rand(&r);
    }
    enum { N = 300 }; /* more than one batch */
    static uint8_t in[N * 32], mine[N * 32], ref[N * 32], back[N * 32];
    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (uint8_t)t_rand(&r);
    }
    const uint32_t base = 0x1040;
    CHECK_OK(espsec_nvs_xts(&k, base, in, mine, sizeof(in), 0));
    uint8_t key[64];
    memcpy(key, k.eky, 32);
    memcpy(key + 32, k.tky, 32);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    for (int u = 0; u < N; u++) {
        uint8_t tweak[16] = {0};
        uint32_t off = base + (uint32_t)u * 32;
        memcpy(tweak, &off, 4); /* little-endian host */
        int outl = 0;
        CHECK(EVP_EncryptInit_ex(c, EVP_aes_256_xts(), NULL, key, tweak) == 1);
        CHECK(EVP_EncryptUpdate(c, ref + u * 32, &outl, in + u * 32, 32) == 1 && outl == 32);
    }
    EVP_CIPHER_CTX_free(c);
    CHECK(memcmp(mine, ref, sizeof(ref)) == 0);
    CHECK_OK(espsec_nvs_xts(&k, base, mine, back, sizeof(mine), 1));
    CHECK(memcmp(back, in, sizeof(in)) == 0);
    CHECK_ERR(espsec_nvs_xts(&k, base, in, mine, 31, 0), ESPSEC_ERR_INVALID_SIZE);
}

/* Python's binascii.a2b_base64 (non-strict, what nvs_partition_gen uses) on each input, recorded with
 * Python 3.11: the hex of its result, or the error it raises. */
static void test_base64_like_python(void)
{
    static const struct {
        const char *in, *hex;
        long err;
    } cases[] = {
        {"YWJj", "616263", 0},
        {"YW=Jj", "616263", 0},
        {"YW-_", "", ESPSEC_B64_BAD_PADDING},
        {"YQ==", "61", 0},
        {"YQ=", "", ESPSEC_B64_BAD_PADDING},
        {"YQ", "", ESPSEC_B64_BAD_PADDING},
        {"Y", "", ESPSEC_B64_LONE_CHAR},
        {"YQ==YQ==", "61", 0},
        {"Y=Q==", "61", 0},
        {"YQ=a=", "6106", 0},
        {"=YQ==", "61", 0},
        {"YWJ=", "6162", 0},
        {"YWJ==", "6162", 0},
        {"YW==Jj", "61", 0},
        {"YWJjZA", "", ESPSEC_B64_BAD_PADDING},
        {"a===", "", ESPSEC_B64_LONE_CHAR},
        {"ab=c=d", "69b7", 0},
        {"Y W J j", "616263", 0},
        {"YW\nJj", "616263", 0},
        {"", "", 0},
        {"====", "", 0},
        {"YWJjZA==", "61626364", 0},
        {"YWJjZA=", "", ESPSEC_B64_BAD_PADDING},
        {"-_-_", "", 0},
        {"aGVsbG8=", "68656c6c6f", 0},
        {"aGVs bG8", "", ESPSEC_B64_BAD_PADDING},
        {"YQ==x", "61", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[64], want[64];
        long n = espsec_base64_decode(cases[i].in, strlen(cases[i].in), out);
        if (cases[i].err != 0) {
            CHECK(n == cases[i].err);
            continue;
        }
        long wl = espsec_unhex(cases[i].hex, want, sizeof(want));
        CHECK(n == wl && memcmp(out, want, (size_t)wl) == 0);
    }
}

/* XTS with equal data and tweak keys is weak: an nvs_keys partition holding such keys is refused. */
static void test_keys_equal_halves(void)
{
    uint8_t part[ESPSEC_NVS_KEYS_PART_SIZE];
    espsec_nvs_keys_t k;
    memset(k.eky, 0x5A, 32);
    memset(k.tky, 0x5A, 32);
    espsec_nvs_keys_encode(&k, part); /* valid CRC */
    espsec_error_t err;
    CHECK_ERR(espsec_nvs_keys_parse(part, sizeof(part), &k, &err), ESPSEC_ERR_KEY);
    CHECK_MSG(err, "are equal");
    k.tky[31] = 0x5B;
    espsec_nvs_keys_encode(&k, part);
    CHECK_OK(espsec_nvs_keys_parse(part, sizeof(part), &k, &err));
}

int main(void)
{
    RUN(test_reads_generator_images);
    RUN(test_reads_blobs);
    RUN(test_store_writes_generator_bytes);
    RUN(test_api_semantics);
    RUN(test_full_partition);
    RUN(test_encrypted_store);
    RUN(test_keys_partition);
    RUN(test_generator);
    RUN(test_xts_matches_evp);
    RUN(test_base64_like_python);
    RUN(test_keys_equal_halves);
    return test_done();
}
