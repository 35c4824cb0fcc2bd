/* Partition tables: CSV and binary against gen_esp32part.py's outputs. */
#include "espsec/partition.h"
#include "espsec/util.h"
#include "test.h"

static void roundtrip(const char *name)
{
    char rel[128];
    size_t clen, blen, elen;
    snprintf(rel, sizeof(rel), "partition/input/%s.csv", name);
    char *csv = (char *)vec(rel, &clen);
    snprintf(rel, sizeof(rel), "partition/expected/%s.bin", name);
    uint8_t *bin = vec(rel, &blen);
    snprintf(rel, sizeof(rel), "partition/expected/%s.csv", name);
    char *ecsv = (char *)vec(rel, &elen);
    espsec_pt_opts_t o;
    espsec_pt_opts_default(&o);
    espsec_partition_table_t *t = calloc(1, sizeof(*t));
    CHECK_OK(espsec_pt_from_csv(csv, clen, &o, t, NULL));
    CHECK_OK(espsec_pt_verify(t, &o, NULL));
    uint8_t out[ESPSEC_PT_MAX_LEN];
    CHECK_OK(espsec_pt_to_binary(t, &o, out, NULL));
    CHECK(blen == sizeof(out) && memcmp(out, bin, blen) == 0);
    CHECK_OK(espsec_pt_from_binary(bin, blen, &o, t, NULL));
    CHECK(t->has_md5);
    char *back = espsec_pt_to_csv(t);
    CHECK(back != NULL && strlen(back) == elen && memcmp(back, ecsv, elen) == 0);
    free(back);
    free(t);
    free(csv);
    free(bin);
    free(ecsv);
}

/* espsec_py_int is Python's int(v, 0): what gen_esp32part and espefuse's CSV reader accept. */
static void test_py_int(void)
{
    static const struct {
        const char *text;
        int ok;
        int64_t value;
    } cases[] = {
        {"0", 1, 0},          {"00", 1, 0},      {"0_0", 1, 0},           {"10", 1, 10},
        {" 42 ", 1, 42},      {"-7", 1, -7},     {"+7", 1, 7},            {"0x1F", 1, 31},
        {"0X_ff", 1, 255},    {"0o17", 1, 15},   {"0b101", 1, 5},         {"1_000", 1, 1000},
        {"-0x10", 1, -16},    {"9223372036854775807", 1, INT64_MAX},
        {"-9223372036854775808", 1, INT64_MIN},
        {"9223372036854775808", 0, 0},            {"0x10000000000000000", 0, 0},
        {"", 0, 0},           {" ", 0, 0},       {"-", 0, 0},             {"0x", 0, 0},
        {"010", 0, 0},        {"1__0", 0, 0},    {"_1", 0, 0},            {"1_", 0, 0},
        {"0x_", 0, 0},        {"0b2", 0, 0},     {"12a", 0, 0},           {"1 2", 0, 0},
        {"--1", 0, 0},        {"0_x1", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 12345;
        int rc = espsec_py_int(cases[i].text, &v);
        CHECK((rc == 0) == cases[i].ok);
        CHECK(cases[i].ok ? v == cases[i].value : v == 12345);
        if ((rc == 0) != cases[i].ok) {
            fprintf(stderr, "  espsec_py_int(\"%s\")\n", cases[i].text);
        }
    }
}

static void test_vectors(void)
{
    roundtrip("secure");
    roundtrip("ota");
    roundtrip("numeric");
}

static void test_lookup(void)
{
    size_t blen;
    uint8_t *bin = vec("partition/expected/ota.bin", &blen);
    espsec_pt_opts_t o;
    espsec_pt_opts_default(&o);
    espsec_partition_table_t *t = calloc(1, sizeof(*t));
    CHECK_OK(espsec_pt_from_binary(bin, blen, &o, t, NULL));
    const espsec_partition_t *p = espsec_pt_find(t, ESPSEC_PT_TYPE_APP, 0x11);
    CHECK(p != NULL && strcmp(p->name, "ota_1") == 0 && p->offset == 0x110000);
    p = espsec_pt_find_name(t, "storage");
    CHECK(p != NULL && p->flags == (ESPSEC_PT_FLAG_ENCRYPTED | ESPSEC_PT_FLAG_READONLY));
    CHECK(espsec_pt_find(t, ESPSEC_PT_TYPE_DATA, ESPSEC_PT_SUBTYPE_DATA_NVS_KEYS) == NULL);
    free(t);
    free(bin);
}

static void test_errors(void)
{
    espsec_pt_opts_t o;
    espsec_pt_opts_default(&o);
    espsec_partition_table_t *t = calloc(1, sizeof(*t));
    espsec_error_t err;
    const char *long_name = "averyveryverylongname,data,nvs,0x9000,0x6000\n";
    CHECK_ERR(espsec_pt_from_csv(long_name, strlen(long_name), &o, t, &err), ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "line 1");
    const char *empty_size = "\n\nnvs,data,nvs,0x9000,\n";
    CHECK_ERR(espsec_pt_from_csv(empty_size, strlen(empty_size), &o, t, &err), ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "line 3: Size field can't be empty");
    const char *app_no_sub = "factory,app,,0x10000,1M\n";
    CHECK_ERR(espsec_pt_from_csv(app_no_sub, strlen(app_no_sub), &o, t, &err), ESPSEC_ERR_PARSE);
    const char *two_ota = "otadata,data,ota,,0x2000\nota2,data,ota,,0x2000\n";
    CHECK_OK(espsec_pt_from_csv(two_ota, strlen(two_ota), &o, t, NULL));
    CHECK_ERR(espsec_pt_verify(t, &o, &err), ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "multiple otadata");
    const char *ota_size = "otadata,data,ota,,0x3000\n";
    CHECK_OK(espsec_pt_from_csv(ota_size, strlen(ota_size), &o, t, NULL));
    CHECK_ERR(espsec_pt_verify(t, &o, &err), ESPSEC_ERR_PARSE);
    const char *v1 = "factory,app,factory,0x10000,0x11000\n";
    CHECK_OK(espsec_pt_from_csv(v1, strlen(v1), &o, t, NULL));
    CHECK_OK(espsec_pt_verify(t, &o, NULL));
    o.secure = 1;
    CHECK_ERR(espsec_pt_verify(t, &o, &err), ESPSEC_ERR_PARSE);
    CHECK_MSG(err, "not aligned to 0x10000");
    /* 95 partitions do not fit with the MD5 entry */
    espsec_pt_opts_default(&o);
    char *big = malloc(95 * 40 + 1);
    size_t n = 0;
    for (int i = 0; i < 95; i++) {
        n += (size_t)sprintf(big + n, "p%d,data,fat,,0x1000\n", i);
    }
    CHECK_OK(espsec_pt_from_csv(big, n, &o, t, NULL));
    uint8_t out[ESPSEC_PT_MAX_LEN];
    CHECK_ERR(espsec_pt_to_binary(t, &o, out, &err), ESPSEC_ERR_INVALID_SIZE);
    free(big);
    /* binary: every truncation is an error, never a crash */
    size_t blen;
    uint8_t *bin = vec("partition/expected/ota.bin", &blen);
    for (size_t cut = 0; cut < 0x140; cut += 7) {
        espsec_err_t rc = espsec_pt_from_binary(bin, cut, &o, t, &err);
        CHECK(rc != ESPSEC_OK || cut == 0);
    }
    free(bin);
    free(t);
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_py_int);
    RUN(test_lookup);
    RUN(test_errors);
    return test_done();
}
