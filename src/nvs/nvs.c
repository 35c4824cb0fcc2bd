/* The NVS store (espsec/nvs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "espsec/nvs.h"
#include "nvs/nvs_format.h"

#define MAX_HANDLES 64
#define MAX_NS 254

typedef struct {
    uint32_t state;
    uint32_t seq;
    uint8_t version;
    uint8_t es[NVS_NENT]; /* entry states as on flash */
    int next_free;        /* first EMPTY entry at or after the written run */
    int invalid;          /* a flash operation on it failed: its items are unreachable until the next mount */
    uint32_t free_order;  /* place in the free-page list (ESP-IDF's mFreePageList): lowest is taken first */
} page_t;

typedef struct {
    int page, entry;
    uint8_t ns, type, span, chunk;
    char key[16];
    uint8_t data[8];
} item_t;

struct espsec_nvs {
    int read_only; /* mounted with espsec_nvs_mount_read_only: every write is refused */
    int own_flash; /* flash is a private copy, freed at unmount */
    espsec_flash_t *flash;
    uint32_t base;
    int npages;
    int encrypted;
    nvs_xts_t *xts;
    espsec_nvs_keys_t keys;
    page_t *pages;
    int active; /* page index, -1: none yet */
    uint32_t max_seq;
    int seq_seen; /* a page with a sequence number exists (else the first page gets 0, as ESP-IDF) */
    item_t *items;
    size_t nitems, cap;
    struct {
        int used;
        uint8_t ns;
        int rw;
    } h[MAX_HANDLES];
    int broken; /* a flash operation failed: the in-memory view may be wrong */
    int purge;  /* erased entries are overwritten with zeros (NVS_READWRITE_PURGE) */
    uint32_t free_clock; /* the last free_order given */
    espsec_nvs_repairs_t repairs;
};

/* ---- types and keys ---- */

const char *espsec_nvs_type_name(uint8_t t)
{
    switch (t) {
    case 0x01:
        return "u8";
    case 0x11:
        return "i8";
    case 0x02:
        return "u16";
    case 0x12:
        return "i16";
    case 0x04:
        return "u32";
    case 0x14:
        return "i32";
    case 0x08:
        return "u64";
    case 0x18:
        return "i64";
    case 0x21:
        return "string";
    case 0x41:
        return "blob (v1)";
    case 0x42:
        return "blob";
    case 0x48:
        return "blob index";
    default:
        return "unknown";
    }
}

espsec_err_t espsec_nvs_keys_parse(const uint8_t *buf, size_t len, espsec_nvs_keys_t *keys, espsec_error_t *err)
{
    if (len < 68) {
        return espsec_fail(err, ESP_ERR_NVS_CORRUPT_KEY_PART,
                           "nvs_keys partition is %zu bytes; 64 key bytes and a CRC-32 expected", len);
    }
    if (is_all(buf, 68, 0xFF)) {
        return espsec_fail(err, ESP_ERR_NVS_KEYS_NOT_INITIALIZED, "nvs_keys partition is blank (no keys generated yet)");
    }
    uint32_t stored = get_le32(buf + 64), calc = espsec_crc32(0xFFFFFFFFu, buf, 64);
    if (stored != calc) {
        return espsec_fail(err, ESP_ERR_NVS_CORRUPT_KEY_PART,
                           "nvs_keys partition: offset 0x40: CRC-32 0x%08x stored, 0x%08x calculated (corrupt or "
                           "flash-encrypted)",
                           stored, calc);
    }
    /* XTS with data key == tweak key is weak; nvs_partition_gen's XTS refuses it */
    if (CRYPTO_memcmp(buf, buf + 32, 32) == 0) {
        return espsec_fail(err, ESPSEC_ERR_KEY,
                           "nvs_keys partition: the XTS data key (offset 0x0) and tweak key (offset 0x20) are "
                           "equal; such a key is weak and refused");
    }
    memcpy(keys->eky, buf, 32);
    memcpy(keys->tky, buf + 32, 32);
    return ESPSEC_OK;
}

void espsec_nvs_keys_encode(const espsec_nvs_keys_t *keys, uint8_t out[ESPSEC_NVS_KEYS_PART_SIZE])
{
    memset(out, 0xFF, ESPSEC_NVS_KEYS_PART_SIZE);
    memcpy(out, keys->eky, 32);
    memcpy(out + 32, keys->tky, 32);
    put_le32(out + 64, espsec_crc32(0xFFFFFFFFu, out, 64));
}

espsec_err_t espsec_nvs_keys_generate(espsec_nvs_keys_t *keys)
{
    do {
        if (espsec_random(keys, sizeof(*keys)) != ESPSEC_OK) {
            return ESPSEC_ERR_CRYPTO;
        }
    } while (memcmp(keys->eky, keys->tky, 32) == 0);
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_keys_from_hmac(const uint8_t *hmac_key, size_t len, espsec_nvs_keys_t *keys)
{
    /* seeds: 0x5A5ABEAE (data key) and 0xA5A5DECE (tweak key), each repeated 8 times */
    static const uint8_t E_SEED[4] = {0x5A, 0x5A, 0xBE, 0xAE}, T_SEED[4] = {0xA5, 0xA5, 0xDE, 0xCE};
    uint8_t es[32], ts[32];
    for (int i = 0; i < 8; i++) {
        memcpy(es + 4 * i, E_SEED, 4);
        memcpy(ts + 4 * i, T_SEED, 4);
    }
    size_t l1 = 32, l2 = 32;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    int ok = c != NULL && EVP_MAC_init(c, hmac_key, len, params) == 1 && EVP_MAC_update(c, es, 32) == 1 &&
             EVP_MAC_final(c, keys->eky, &l1, 32) == 1 && EVP_MAC_init(c, hmac_key, len, params) == 1 &&
             EVP_MAC_update(c, ts, 32) == 1 && EVP_MAC_final(c, keys->tky, &l2, 32) == 1;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    return ok ? ESPSEC_OK : ESPSEC_ERR_CRYPTO;
}

/*
 * AES-256-XTS with 32-byte data units, the tweak of each unit its offset.
 * A unit is two AES blocks, so every call into EVP's XTS would carry two
 * blocks of work and a re-initialisation; instead all the tweaks of the
 * buffer go through AES-ECB in one call, the data through another, and the
 * XORs are done here (the unit test checks this against EVP's XTS).
 */
static void gf_double(uint8_t t[16])
{
    uint8_t carry = 0;
    for (int i = 0; i < 16; i++) {
        uint8_t next = t[i] >> 7;
        t[i] = (uint8_t)(t[i] << 1 | carry);
        carry = next;
    }
    if (carry) {
        t[0] ^= 0x87;
    }
}

#define XTS_BATCH 128 /* entries per ECB call */

struct nvs_xts {
    EVP_CIPHER_CTX *tweak, *enc, *dec;
};

void nvs_xts_free(nvs_xts_t *x)
{
    if (x != NULL) {
        EVP_CIPHER_CTX_free(x->tweak); /* frees and wipes the key schedules */
        EVP_CIPHER_CTX_free(x->enc);
        EVP_CIPHER_CTX_free(x->dec);
        free(x);
    }
}

nvs_xts_t *nvs_xts_new(const espsec_nvs_keys_t *keys)
{
    nvs_xts_t *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return NULL;
    }
    x->tweak = EVP_CIPHER_CTX_new();
    x->enc = EVP_CIPHER_CTX_new();
    x->dec = EVP_CIPHER_CTX_new();
    if (x->tweak == NULL || x->enc == NULL || x->dec == NULL ||
        EVP_CipherInit_ex(x->tweak, EVP_aes_256_ecb(), NULL, keys->tky, NULL, 1) != 1 ||
        EVP_CipherInit_ex(x->enc, EVP_aes_256_ecb(), NULL, keys->eky, NULL, 1) != 1 ||
        EVP_CipherInit_ex(x->dec, EVP_aes_256_ecb(), NULL, keys->eky, NULL, 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(x->tweak, 0) != 1 || EVP_CIPHER_CTX_set_padding(x->enc, 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(x->dec, 0) != 1) {
        nvs_xts_free(x);
        return NULL;
    }
    return x;
}

espsec_err_t nvs_xts_run(nvs_xts_t *x, uint32_t offset, const uint8_t *in, uint8_t *out, size_t len, int decrypt)
{
    if (len % NVS_ENT != 0) {
        return ESPSEC_ERR_INVALID_SIZE;
    }
    uint8_t tw[XTS_BATCH * 32], buf[XTS_BATCH * 32], ctr[XTS_BATCH * 16];
    espsec_err_t rc = ESPSEC_OK;
    size_t used = 0;
    for (size_t done = 0; done < len && rc == ESPSEC_OK;) {
        size_t n = (len - done) / NVS_ENT;
        n = n > XTS_BATCH ? XTS_BATCH : n;
        used = used > n ? used : n;
        /* the tweak T of each unit at tw[32 i], T * alpha at tw[32 i + 16] */
        memset(ctr, 0, n * 16);
        for (size_t i = 0; i < n; i++) {
            put_le32(ctr + 16 * i, offset + (uint32_t)(done + i * NVS_ENT));
        }
        int outl = 0;
        if (EVP_CipherUpdate(x->tweak, buf, &outl, ctr, (int)(n * 16)) != 1 || outl != (int)(n * 16)) {
            rc = ESPSEC_ERR_CRYPTO;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(tw + 32 * i, buf + 16 * i, 16);
            memcpy(tw + 32 * i + 16, buf + 16 * i, 16);
            gf_double(tw + 32 * i + 16);
        }
        for (size_t k = 0; k < n * 32; k++) {
            buf[k] = in[done + k] ^ tw[k];
        }
        if (EVP_CipherUpdate(decrypt ? x->dec : x->enc, buf, &outl, buf, (int)(n * 32)) != 1 ||
            outl != (int)(n * 32)) {
            rc = ESPSEC_ERR_CRYPTO;
            break;
        }
        for (size_t k = 0; k < n * 32; k++) {
            out[done + k] = buf[k] ^ tw[k];
        }
        done += n * NVS_ENT;
    }
    espsec_wipe(buf, used * 32);
    return rc;
}

espsec_err_t espsec_nvs_xts(const espsec_nvs_keys_t *keys, uint32_t offset, const uint8_t *in, uint8_t *out,
                            size_t len, int decrypt)
{
    nvs_xts_t *x = nvs_xts_new(keys);
    if (x == NULL) {
        return ESPSEC_ERR_CRYPTO;
    }
    espsec_err_t rc = nvs_xts_run(x, offset, in, out, len, decrypt);
    nvs_xts_free(x);
    return rc;
}

/* ---- flash access ---- */

static uint32_t page_addr(const espsec_nvs_t *n, int p)
{
    return n->base + (uint32_t)p * NVS_PAGE;
}

static uint32_t entry_addr(const espsec_nvs_t *n, int p, int e)
{
    return page_addr(n, p) + NVS_ENTRY_OFF + (uint32_t)e * NVS_ENT;
}

/*
 * A flash operation on page p failed. As ESP-IDF's Page does, that page becomes INVALID: its items
 * cannot be found and nothing more is written to it until the next mount; the other pages keep
 * working.
 */
static espsec_err_t flash_fail(espsec_nvs_t *n, int p, espsec_err_t rc)
{
    n->broken = 1;
    if (p >= 0 && p < n->npages) {
        n->pages[p].invalid = 1;
    }
    return rc == ESPSEC_ERR_POWER_CUT ? rc : ESP_ERR_NVS_INVALID_STATE;
}

static espsec_err_t raw_write(espsec_nvs_t *n, uint32_t addr, const void *buf, size_t len)
{
    if (n->read_only) {
        return ESP_ERR_NVS_READ_ONLY;
    }
    espsec_err_t rc = espsec_flash_write(n->flash, addr, buf, len, NULL);
    return rc == ESPSEC_OK ? rc : flash_fail(n, (int)((addr - n->base) / NVS_PAGE), rc);
}

/* Entries as plain text (decrypted when the partition is encrypted). */
static espsec_err_t read_entries(const espsec_nvs_t *n, int p, int e, uint8_t *out, int count)
{
    uint32_t a = entry_addr(n, p, e);
    espsec_err_t rc = espsec_flash_read(n->flash, a, out, (size_t)count * NVS_ENT, NULL);
    if (rc == ESPSEC_OK && n->encrypted) {
        rc = nvs_xts_run(n->xts, a - n->base, out, out, (size_t)count * NVS_ENT, 1);
    }
    return rc;
}

static espsec_err_t write_entries(espsec_nvs_t *n, int p, int e, const uint8_t *in, int count)
{
    uint32_t a = entry_addr(n, p, e);
    size_t len = (size_t)count * NVS_ENT;
    uint8_t *buf = malloc(len);
    if (buf == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    espsec_err_t rc = ESPSEC_OK;
    if (n->encrypted) {
        rc = nvs_xts_run(n->xts, a - n->base, in, buf, len, 0);
    } else {
        memcpy(buf, in, len);
    }
    if (rc == ESPSEC_OK) {
        rc = raw_write(n, a, buf, len);
    }
    espsec_wipe(buf, len);
    free(buf);
    return rc;
}

static espsec_err_t set_states(espsec_nvs_t *n, int p, int from, int to, int st)
{
    page_t *pg = &n->pages[p];
    /* one 32-bit word of the state table holds 16 entries; the last word first, as ESP-IDF's
     * alterEntryRangeState writes them */
    for (int w = (to - 1) / 16; w >= from / 16 && from < to; w--) {
        uint32_t word = 0;
        for (int k = 0; k < 16; k++) {
            int i = w * 16 + k;
            int s = i < NVS_NENT ? pg->es[i] : NVS_ES_EMPTY;
            if (i >= from && i < to) {
                s &= st; /* states only lose bits */
            }
            word |= (uint32_t)s << (2 * k);
        }
        uint8_t b[4];
        put_le32(b, word);
        int was_invalid = pg->invalid;
        espsec_err_t rc = raw_write(n, page_addr(n, p) + NVS_BITMAP_OFF + (uint32_t)w * 4, b, 4);
        if (rc != ESPSEC_OK) {
            if (to - from > 1) {
                pg->invalid = was_invalid; /* ESP-IDF's alterEntryRangeState leaves the page valid */
            }
            return rc;
        }
        for (int i = w * 16; i < w * 16 + 16 && i < NVS_NENT; i++) {
            if (i >= from && i < to) {
                pg->es[i] &= (uint8_t)st;
            }
        }
    }
    return ESPSEC_OK;
}

static espsec_err_t set_page_state(espsec_nvs_t *n, int p, uint32_t state)
{
    uint8_t b[4];
    put_le32(b, state);
    espsec_err_t rc = raw_write(n, page_addr(n, p) + NVS_H_STATE, b, 4);
    if (rc == ESPSEC_OK) {
        n->pages[p].state = state;
    }
    return rc;
}

static espsec_err_t erase_page(espsec_nvs_t *n, int p)
{
    if (n->read_only) {
        return ESP_ERR_NVS_READ_ONLY;
    }
    espsec_err_t rc = espsec_flash_erase(n->flash, page_addr(n, p), NULL);
    if (rc != ESPSEC_OK) {
        return flash_fail(n, p, rc);
    }
    page_t *pg = &n->pages[p];
    memset(pg, 0, sizeof(*pg));
    pg->free_order = ++n->free_clock; /* an erased page joins the end of the free list */
    pg->state = NVS_STATE_UNINIT;
    memset(pg->es, NVS_ES_EMPTY, sizeof(pg->es));
    return ESPSEC_OK;
}

static espsec_err_t init_page(espsec_nvs_t *n, int p)
{
    uint8_t h[32];
    uint32_t seq = n->seq_seen ? n->max_seq + 1 : 0;
    nvs_header_make(h, NVS_STATE_ACTIVE, seq, NVS_VERSION_2);
    espsec_err_t rc = raw_write(n, page_addr(n, p), h, sizeof(h));
    if (rc != ESPSEC_OK) {
        return rc;
    }
    page_t *pg = &n->pages[p];
    pg->state = NVS_STATE_ACTIVE;
    pg->seq = seq;
    n->max_seq = seq;
    n->seq_seen = 1;
    pg->version = NVS_VERSION_2;
    memset(pg->es, NVS_ES_EMPTY, sizeof(pg->es));
    pg->next_free = 0;
    return ESPSEC_OK;
}

/* ---- the item list ---- */

static espsec_err_t add_item(espsec_nvs_t *n, const item_t *it)
{
    if (n->nitems == n->cap) {
        size_t ncap = n->cap ? n->cap * 2 : 64;
        item_t *ni = realloc(n->items, ncap * sizeof(*ni));
        if (ni == NULL) {
            return ESPSEC_ERR_NO_MEM;
        }
        n->items = ni;
        n->cap = ncap;
    }
    n->items[n->nitems++] = *it;
    return ESPSEC_OK;
}

static void drop_item(espsec_nvs_t *n, size_t i)
{
    n->items[i] = n->items[--n->nitems];
}

static void item_from_entry(item_t *it, const uint8_t *e, int p, int i)
{
    memset(it, 0, sizeof(*it));
    it->page = p;
    it->entry = i;
    it->ns = e[NVS_E_NS];
    it->type = e[NVS_E_TYPE];
    it->span = e[NVS_E_SPAN];
    it->chunk = e[NVS_E_CHUNK];
    memcpy(it->key, e + NVS_E_KEY, 16);
    it->key[15] = '\0';
    memcpy(it->data, e + NVS_E_DATA, 8);
}

/* Order of writing: newer pages have higher sequence numbers; within a page, later entries. */
static int newer(const espsec_nvs_t *n, const item_t *a, const item_t *b)
{
    uint32_t sa = n->pages[a->page].seq, sb = n->pages[b->page].seq;
    if (a->page != b->page) {
        /* a FREEING page is always older than the page its items move to */
        int fa = n->pages[a->page].state == NVS_STATE_FREEING, fb = n->pages[b->page].state == NVS_STATE_FREEING;
        if (fa != fb) {
            return fb;
        }
        return sa > sb;
    }
    return a->entry > b->entry;
}

/* Two items for the same place: the value of (ns, key) whatever its type
 * (a blob index included), or the same chunk of a blob. */
static int same_slot(const item_t *a, const item_t *b)
{
    if (a->ns != b->ns || strncmp(a->key, b->key, 16) != 0) {
        return 0;
    }
    int ablob = a->type == ESPSEC_NVS_TYPE_BLOB, bblob = b->type == ESPSEC_NVS_TYPE_BLOB;
    if (ablob || bblob) {
        return ablob && bblob && a->chunk == b->chunk;
    }
    return 1;
}

/* Zeros over erased entries, one program per entry (NVS_READWRITE_PURGE). */
static espsec_err_t purge_entries(espsec_nvs_t *n, int p, int from, int to)
{
    static const uint8_t zero[NVS_ENT];
    for (int e = from; e < to; e++) {
        espsec_err_t rc = raw_write(n, entry_addr(n, p, e), zero, sizeof(zero));
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return ESPSEC_OK;
}

/* An erase the mount's repairs make: marked erased and zeroed (ESP-IDF's DEFAULT_PURGE_AFTER_ERASE). */
static espsec_err_t repair_erase(espsec_nvs_t *n, int p, int from, int to)
{
    espsec_err_t rc = set_states(n, p, from, to, NVS_ES_ERASED);
    if (rc == ESPSEC_OK) {
        rc = purge_entries(n, p, from, to);
    }
    return rc;
}

static espsec_err_t repair_erase_item(espsec_nvs_t *n, const item_t *it)
{
    int span = nvs_is_var_type(it->type) ? it->span : 1;
    return repair_erase(n, it->page, it->entry, it->entry + span);
}

static espsec_err_t erase_item_entries(espsec_nvs_t *n, const item_t *it)
{
    int span = nvs_is_var_type(it->type) ? it->span : 1;
    espsec_err_t rc = set_states(n, it->page, it->entry, it->entry + span, NVS_ES_ERASED);
    if (rc == ESPSEC_OK && n->purge) {
        rc = purge_entries(n, it->page, it->entry, it->entry + span);
    }
    return rc;
}

/* ---- mount ---- */

/* Check an item whose header CRC is good: span, states, data CRC. */
static int item_valid(const espsec_nvs_t *n, const page_t *pg, int p, int i, const uint8_t *e)
{
    uint8_t t = e[NVS_E_TYPE];
    if (!nvs_is_known_type(t) || e[NVS_E_KEY + 15] != 0 || e[NVS_E_KEY] == 0) {
        return 0;
    }
    if (!nvs_is_var_type(t)) {
        return e[NVS_E_SPAN] == 1;
    }
    int span = e[NVS_E_SPAN];
    uint16_t size = get_le16(e + NVS_V_SIZE);
    if (span < 1 || i + span > NVS_NENT || span != 1 + (size + NVS_ENT - 1) / NVS_ENT) {
        return 0;
    }
    for (int k = i; k < i + span; k++) {
        if (pg->es[k] != NVS_ES_WRITTEN) {
            return 0;
        }
    }
    if (size == 0) {
        return nvs_data_crc(NULL, 0) == get_le32(e + NVS_V_CRC);
    }
    uint8_t *d = malloc((size_t)(span - 1) * NVS_ENT + 1);
    int ok = d != NULL && read_entries(n, p, i + 1, d, span - 1) == ESPSEC_OK &&
             nvs_data_crc(d, size) == get_le32(e + NVS_V_CRC);
    free(d);
    return ok;
}

/* Read a page's header and state table. */
static espsec_err_t load_page(espsec_nvs_t *n, int p, espsec_error_t *err)
{
    page_t *pg = &n->pages[p];
    uint8_t h[64];
    espsec_err_t rc = espsec_flash_read(n->flash, page_addr(n, p), h, sizeof(h), err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    memset(pg->es, NVS_ES_EMPTY, sizeof(pg->es));
    pg->state = get_le32(h + NVS_H_STATE);
    if (pg->state == NVS_STATE_UNINIT) {
        uint8_t buf[NVS_PAGE];
        espsec_flash_read(n->flash, page_addr(n, p), buf, sizeof(buf), NULL);
        if (!is_all(buf, sizeof(buf), 0xFF)) {
            pg->state = NVS_STATE_CORRUPT;
            n->repairs.corrupt_pages++;
        }
        return ESPSEC_OK;
    }
    if (get_le32(h + NVS_H_CRC) != nvs_header_crc(h) ||
        (pg->state != NVS_STATE_ACTIVE && pg->state != NVS_STATE_FULL && pg->state != NVS_STATE_FREEING)) {
        pg->state = NVS_STATE_CORRUPT;
        n->repairs.corrupt_pages++;
        return ESPSEC_OK;
    }
    pg->seq = get_le32(h + NVS_H_SEQ);
    pg->version = h[NVS_H_VERSION];
    if (pg->version < NVS_VERSION_2) {
        return espsec_fail(err, ESP_ERR_NVS_NEW_VERSION_FOUND,
                           "page %d (offset 0x%x) has NVS format version 0x%02x, newer than this tool knows (0xfe)", p,
                           page_addr(n, p) - n->base, pg->version);
    }
    if (!n->seq_seen || pg->seq > n->max_seq) {
        n->max_seq = pg->seq;
    }
    n->seq_seen = 1;
    for (int i = 0; i < NVS_NENT; i++) {
        pg->es[i] = (uint8_t)nvs_bitmap_get(h + NVS_BITMAP_OFF, i);
    }
    return ESPSEC_OK;
}

/* Entries [i, i + span) all marked written. */
static int span_written(const page_t *pg, int i, int span)
{
    for (int k = i; k < i + span; k++) {
        if (pg->es[k] != NVS_ES_WRITTEN) {
            return 0;
        }
    }
    return 1;
}


/* Walk a loaded page: half-written entries, invalid items, the items list. */
static espsec_err_t scan_page(espsec_nvs_t *n, int p, size_t *bad)
{
    page_t *pg = &n->pages[p];
    /* after the last entry that is not EMPTY: normally the first EMPTY one (what ESP-IDF takes), but a
     * torn state-table write can leave EMPTY entries below erased ones, and an erased entry can never
     * be marked written again */
    pg->next_free = 0;
    for (int i = NVS_NENT - 1; i >= 0; i--) {
        if (pg->es[i] != NVS_ES_EMPTY) {
            pg->next_free = i + 1;
            break;
        }
    }
    /* entries written but never marked: an interrupted write */
    while (pg->state == NVS_STATE_ACTIVE && pg->next_free < NVS_NENT) {
        /* ESP-IDF looks at the entry's first word only; the whole entry is checked here so that a torn
         * write whose first word stayed erased is not taken for free space */
        uint8_t raw[NVS_ENT];
        espsec_flash_read(n->flash, entry_addr(n, p, pg->next_free), raw, sizeof(raw), NULL);
        if (is_all(raw, sizeof(raw), 0xFF)) {
            break;
        }
        espsec_err_t rc = repair_erase(n, p, pg->next_free, pg->next_free + 1);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        n->repairs.half_written_erased++;
        pg->next_free++;
    }
    for (int i = 0; i < NVS_NENT;) {
        if (pg->es[i] != NVS_ES_WRITTEN && pg->es[i] != NVS_ES_ILLEGAL) {
            i++;
            continue;
        }
        uint8_t e[NVS_ENT];
        espsec_err_t rc = read_entries(n, p, i, e, 1);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        int span = 1;
        int espan = e[NVS_E_SPAN];
        if (pg->es[i] == NVS_ES_WRITTEN && get_le32(e + NVS_E_CRC) == nvs_entry_crc(e) &&
            nvs_is_var_type(e[NVS_E_TYPE]) && espan > 1 && i + espan <= NVS_NENT &&
            espan == 1 + (get_le16(e + NVS_V_SIZE) + NVS_ENT - 1) / NVS_ENT && !span_written(pg, i, espan)) {
            /* a consistent header whose data entries were not all marked written (a cut write): the
             * whole span goes, as ESP-IDF's load erases it */
            (*bad)++;
            rc = repair_erase(n, p, i, i + espan);
            n->repairs.half_written_erased++;
            if (rc != ESPSEC_OK) {
                return rc;
            }
            if (i + espan > pg->next_free) {
                pg->next_free = i + espan; /* the zeroed entries are no longer free */
            }
            i += espan;
            continue;
        }
        if (pg->es[i] == NVS_ES_WRITTEN && get_le32(e + NVS_E_CRC) == nvs_entry_crc(e) && item_valid(n, pg, p, i, e)) {
            item_t it;
            item_from_entry(&it, e, p, i);
            rc = add_item(n, &it);
            span = nvs_is_var_type(it.type) ? it.span : 1;
        } else {
            (*bad)++;
            /* erase just this entry: a bad header's span cannot be trusted */
            rc = repair_erase(n, p, i, i + 1);
            n->repairs.half_written_erased++;
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
        i += span;
    }
    return ESPSEC_OK;
}

/* Count WRITTEN entries whose header decodes to a valid item, without writing. */
static void census(espsec_nvs_t *n, size_t *good, size_t *bad)
{
    *good = *bad = 0;
    for (int p = 0; p < n->npages; p++) {
        page_t *pg = &n->pages[p];
        if (pg->state != NVS_STATE_ACTIVE && pg->state != NVS_STATE_FULL && pg->state != NVS_STATE_FREEING) {
            continue;
        }
        for (int i = 0; i < NVS_NENT; i++) {
            if (pg->es[i] != NVS_ES_WRITTEN) {
                continue;
            }
            uint8_t e[NVS_ENT];
            if (read_entries(n, p, i, e, 1) != ESPSEC_OK) {
                continue;
            }
            if (get_le32(e + NVS_E_CRC) == nvs_entry_crc(e)) {
                (*good)++;
                if (nvs_is_var_type(e[NVS_E_TYPE]) && e[NVS_E_SPAN] > 1 && e[NVS_E_SPAN] <= NVS_NENT - i) {
                    i += e[NVS_E_SPAN] - 1;
                }
            } else {
                (*bad)++;
            }
        }
    }
}

/* Keep the newest copy of each value; erase older ones. */
static espsec_err_t resolve_duplicates(espsec_nvs_t *n)
{
    for (size_t i = 0; i < n->nitems; i++) {
        for (size_t j = i + 1; j < n->nitems; j++) {
            if (!same_slot(&n->items[i], &n->items[j])) {
                continue;
            }
            size_t old = newer(n, &n->items[i], &n->items[j]) ? j : i;
            espsec_err_t rc = repair_erase_item(n, &n->items[old]);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            n->repairs.duplicates_erased++;
            drop_item(n, old);
            i = (size_t)-1; /* restart: the array changed */
            break;
        }
    }
    return ESPSEC_OK;
}

static const item_t *find_chunk(const espsec_nvs_t *n, uint8_t ns, const char *key, uint8_t chunk)
{
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        if (it->type == ESPSEC_NVS_TYPE_BLOB && it->ns == ns && it->chunk == chunk && strncmp(it->key, key, 16) == 0 &&
            !n->pages[it->page].invalid) {
            return it;
        }
    }
    return NULL;
}

/* A blob index whose chunks are all present with the right total size. */
static int index_complete(const espsec_nvs_t *n, const item_t *idx)
{
    uint32_t size = get_le32(idx->data), total = 0;
    uint8_t count = idx->data[4], start = idx->data[5];
    if (count == 0 && size != 0) {
        return 0;
    }
    for (unsigned c = 0; c < count; c++) {
        const item_t *ch = find_chunk(n, idx->ns, idx->key, (uint8_t)(start + c));
        if (ch == NULL) {
            return 0;
        }
        total += get_le16(ch->data);
    }
    return total == size;
}

/* Erase blob indexes without their chunks and chunks without their index. */
static espsec_err_t clean_blobs(espsec_nvs_t *n)
{
    for (size_t i = 0; i < n->nitems; i++) {
        item_t *it = &n->items[i];
        if (it->type == ESPSEC_NVS_TYPE_BLOB_IDX && !index_complete(n, it)) {
            espsec_err_t rc = repair_erase_item(n, it);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            n->repairs.orphan_chunks_erased++;
            drop_item(n, i);
            i = (size_t)-1;
        }
    }
    for (size_t i = 0; i < n->nitems; i++) {
        item_t *it = &n->items[i];
        if (it->type != ESPSEC_NVS_TYPE_BLOB) {
            continue;
        }
        int owned = 0;
        for (size_t j = 0; j < n->nitems && !owned; j++) {
            const item_t *x = &n->items[j];
            if (x->type == ESPSEC_NVS_TYPE_BLOB_IDX && x->ns == it->ns && strncmp(x->key, it->key, 16) == 0 &&
                it->chunk >= x->data[5] && it->chunk < x->data[5] + x->data[4]) {
                owned = 1;
            }
        }
        if (!owned) {
            espsec_err_t rc = repair_erase_item(n, it);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            n->repairs.orphan_chunks_erased++;
            drop_item(n, i);
            i = (size_t)-1;
        }
    }
    return ESPSEC_OK;
}

static int free_pages(const espsec_nvs_t *n)
{
    int c = 0;
    for (int p = 0; p < n->npages; p++) {
        c += n->pages[p].state == NVS_STATE_UNINIT || n->pages[p].state == NVS_STATE_CORRUPT;
    }
    return c;
}

/* A free page ready for init (a corrupt one is erased first). */
static espsec_err_t take_free_page(espsec_nvs_t *n, int *out)
{
    /* the front of the free list: pages free at mount in page order, then the pages erased since */
    int best = -1;
    for (int p = 0; p < n->npages; p++) {
        uint32_t st = n->pages[p].state;
        if ((st == NVS_STATE_UNINIT || st == NVS_STATE_CORRUPT) &&
            (best < 0 || n->pages[p].free_order < n->pages[best].free_order)) {
            best = p;
        }
    }
    if (best < 0) {
        return ESP_ERR_NVS_NO_FREE_PAGES;
    }
    if (n->pages[best].state == NVS_STATE_CORRUPT) {
        espsec_err_t rc = erase_page(n, best);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    *out = best;
    return ESPSEC_OK;
}

static espsec_err_t put_item_as(espsec_nvs_t *n, int p, const uint8_t *entries, int count, int copy,
                                item_t *written);

static espsec_err_t put_item(espsec_nvs_t *n, int p, const uint8_t *entries, int count, item_t *written)
{
    return put_item_as(n, p, entries, count, 0, written);
}

static espsec_err_t copy_item(espsec_nvs_t *n, const item_t *it, int to);
static espsec_err_t init_page(espsec_nvs_t *n, int p);

/* Finish moving the items of a page being freed, then erase it. */
static espsec_err_t finish_freeing(espsec_nvs_t *n, int fp)
{
    for (size_t i = 0; i < n->nitems; i++) {
        item_t it = n->items[i];
        if (it.page != fp) {
            continue;
        }
        int copied = 0;
        for (size_t j = 0; j < n->nitems; j++) {
            if (j != i && n->items[j].page != fp && same_slot(&n->items[j], &it) && n->items[j].type == it.type) {
                copied = 1;
            }
        }
        if (!copied) {
            int need = nvs_is_var_type(it.type) ? it.span : 1;
            espsec_err_t rc = ESPSEC_OK;
            if (n->active < 0 || n->pages[n->active].next_free + need > NVS_NENT) {
                /* the page being freed becomes the reserve once erased, so
                 * the move may use any free page */
                int p = -1;
                if (n->active >= 0) {
                    rc = set_page_state(n, n->active, NVS_STATE_FULL);
                    n->active = -1;
                }
                if (rc == ESPSEC_OK) {
                    rc = take_free_page(n, &p);
                }
                if (rc == ESPSEC_OK) {
                    rc = init_page(n, p);
                }
                if (rc == ESPSEC_OK) {
                    n->active = p;
                }
            }
            if (rc == ESPSEC_OK) {
                rc = copy_item(n, &it, n->active);
            }
            if (rc != ESPSEC_OK) {
                return rc;
            }
        }
    }
    for (size_t i = 0; i < n->nitems; i++) {
        if (n->items[i].page == fp) {
            drop_item(n, i--);
        }
    }
    n->repairs.freeing_pages_finished++;
    return erase_page(n, fp);
}

static espsec_err_t mount(espsec_flash_t *flash, uint32_t offset, uint32_t size, const espsec_nvs_keys_t *keys,
                          int read_only, espsec_nvs_t **out, espsec_error_t *err);

espsec_err_t espsec_nvs_mount(espsec_flash_t *flash, uint32_t offset, uint32_t size, const espsec_nvs_keys_t *keys,
                              espsec_nvs_t **out, espsec_error_t *err)
{
    return mount(flash, offset, size, keys, 0, out, err);
}

espsec_err_t espsec_nvs_mount_read_only(espsec_flash_t *flash, uint32_t offset, uint32_t size,
                                        const espsec_nvs_keys_t *keys, espsec_nvs_t **out, espsec_error_t *err)
{
    /* the mount's repairs (an unfinished reclaim, a torn write) go to a private copy of the partition, so
     * reads see what the device would read and the caller's flash is never written */
    if ((uint64_t)offset + size > espsec_flash_size(flash)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "NVS partition 0x%x+0x%x runs past the flash (0x%zx)", offset,
                           size, espsec_flash_size(flash));
    }
    espsec_flash_t *copy = NULL;
    espsec_err_t rc = espsec_flash_from(espsec_flash_data(flash) + offset, size, &copy, err);
    if (rc == ESPSEC_OK) {
        rc = mount(copy, 0, size, keys, 1, out, err);
    }
    if (rc != ESPSEC_OK) {
        espsec_flash_free(copy);
        return rc;
    }
    (*out)->own_flash = 1;
    (*out)->read_only = 1;
    return ESPSEC_OK;
}

static espsec_err_t mount(espsec_flash_t *flash, uint32_t offset, uint32_t size, const espsec_nvs_keys_t *keys,
                          int read_only, espsec_nvs_t **out, espsec_error_t *err)
{
    if (size % NVS_PAGE != 0 || offset % NVS_PAGE != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "NVS partition at 0x%x of 0x%x bytes is not page aligned",
                           offset, size);
    }
    if (read_only && size < NVS_PAGE) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "NVS partition of 0x%x bytes: not even one page", size);
    }
    if (!read_only && size < ESPSEC_NVS_MIN_PAGES * NVS_PAGE) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "NVS partition of 0x%x bytes: read/write NVS needs at least 0x3000 (3 pages)", size);
    }
    if ((uint64_t)offset + size > espsec_flash_size(flash)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "NVS partition 0x%x+0x%x runs past the flash (0x%zx)", offset,
                           size, espsec_flash_size(flash));
    }
    espsec_nvs_t *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    n->flash = flash;
    n->base = offset;
    n->npages = (int)(size / NVS_PAGE);
    n->active = -1;
    n->pages = calloc((size_t)n->npages, sizeof(page_t));
    for (int p = 0; n->pages != NULL && p < n->npages; p++) {
        n->pages[p].free_order = (uint32_t)p;
    }
    n->free_clock = (uint32_t)n->npages;
    if (keys != NULL) {
        n->encrypted = 1;
        n->keys = *keys;
        n->xts = nvs_xts_new(keys);
    }
    espsec_err_t rc = n->pages != NULL && (keys == NULL || n->xts != NULL)
                          ? ESPSEC_OK
                          : espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        rc = load_page(n, p, err);
    }
    if (rc == ESPSEC_OK) {
        /* nothing is repaired on a partition that does not decode at all:
         * a wrong key (or a missing one) must not erase the data */
        size_t good = 0, bad = 0;
        census(n, &good, &bad);
        if (good == 0 && bad > 0) {
            rc = n->encrypted ? espsec_fail(err, ESPSEC_ERR_VERIFY,
                                            "wrong NVS key: none of the %zu written entries decrypts to a valid item",
                                            bad)
                              : espsec_fail(err, ESPSEC_ERR_VERIFY,
                                            "none of the %zu written entries has a valid CRC: an encrypted partition "
                                            "needs its NVS keys",
                                            bad);
        }
    }
    size_t bad = 0;
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        uint32_t s = n->pages[p].state;
        if (s == NVS_STATE_ACTIVE || s == NVS_STATE_FULL || s == NVS_STATE_FREEING) {
            rc = scan_page(n, p, &bad);
        }
    }
    /*
     * A reclaim was cut: the ACTIVE page newer than the FREEING one holds only
     * copies of its items, perhaps a torn one. Erase it and copy again from
     * an empty page (as ESP-IDF does), so the copy always fits.
     */
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        if (n->pages[p].state != NVS_STATE_FREEING) {
            continue;
        }
        int newest = -1;
        for (int q = 0; q < n->npages; q++) {
            if (n->pages[q].state == NVS_STATE_ACTIVE && n->pages[q].seq > n->pages[p].seq &&
                (newest < 0 || n->pages[q].seq > n->pages[newest].seq)) {
                newest = q;
            }
        }
        if (newest >= 0) {
            for (size_t i = 0; i < n->nitems; i++) {
                if (n->items[i].page == newest) {
                    drop_item(n, i--);
                }
            }
            rc = erase_page(n, newest);
            n->repairs.partial_copies_erased++;
        }
        break;
    }
    /* more than one ACTIVE page: all but the newest are full */
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        if (n->pages[p].state == NVS_STATE_ACTIVE && (n->active < 0 || n->pages[p].seq > n->pages[n->active].seq)) {
            n->active = p;
        }
    }
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        if (n->pages[p].state == NVS_STATE_ACTIVE && p != n->active) {
            rc = set_page_state(n, p, NVS_STATE_FULL);
        }
    }
    if (rc == ESPSEC_OK) {
        rc = resolve_duplicates(n);
    }
    for (int p = 0; rc == ESPSEC_OK && p < n->npages; p++) {
        if (n->pages[p].state == NVS_STATE_FREEING) {
            rc = finish_freeing(n, p);
        }
    }
    if (rc == ESPSEC_OK) {
        rc = clean_blobs(n);
    }
    if (rc == ESPSEC_OK && n->active < 0 && free_pages(n) == 0) {
        rc = espsec_fail(err, ESP_ERR_NVS_NO_FREE_PAGES,
                         "the NVS partition has no empty page (it may have been truncated): erase it and start again");
    }
    if (rc != ESPSEC_OK) {
        if (err != NULL && err->code != rc) {
            espsec_fail(err, rc, "%s while mounting the NVS partition", espsec_strerror(rc));
        }
        espsec_nvs_unmount(n);
        return rc;
    }
    *out = n;
    return ESPSEC_OK;
}

void espsec_nvs_set_purge(espsec_nvs_t *n, int on)
{
    if (n != NULL) {
        n->purge = on != 0;
    }
}

void espsec_nvs_unmount(espsec_nvs_t *n)
{
    if (n != NULL) {
        if (n->own_flash) {
            espsec_flash_free(n->flash);
        }
        free(n->pages);
        free(n->items);
        nvs_xts_free(n->xts);
        espsec_wipe(n, sizeof(*n));
        free(n);
    }
}

espsec_err_t espsec_nvs_erase_partition(espsec_flash_t *flash, uint32_t offset, uint32_t size, espsec_error_t *err)
{
    for (uint32_t a = offset; a < offset + size; a += NVS_PAGE) {
        espsec_err_t rc = espsec_flash_erase(flash, a, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return ESPSEC_OK;
}

void espsec_nvs_get_repairs(const espsec_nvs_t *n, espsec_nvs_repairs_t *r)
{
    *r = n->repairs;
}

/* ---- writing ---- */

/* Program entries [e, e + count) of page p and mark them written (one write, then their state words). */
static espsec_err_t put_entries(espsec_nvs_t *n, int p, int e, const uint8_t *entries, int count)
{
    espsec_err_t rc = write_entries(n, p, e, entries, count);
    if (rc == ESPSEC_OK) {
        rc = set_states(n, p, e, e + count, NVS_ES_WRITTEN);
    }
    if (rc == ESPSEC_OK) {
        n->pages[p].next_free = e + count;
    }
    return rc;
}

/*
 * Write an item at page p's next free entry in ESP-IDF's order (Page::writeItem): the header entry
 * and its state; for a string or blob, the whole 32-byte data entries in one program and their
 * states, then the entry holding the tail and its state. A copy (copy = 1, Page::copyItems) writes
 * every entry with its state one by one. The flash operations (and so the image a power cut
 * leaves) are the reference's.
 */
static espsec_err_t put_item_as(espsec_nvs_t *n, int p, const uint8_t *entries, int count, int copy,
                                item_t *written)
{
    page_t *pg = &n->pages[p];
    int at = pg->next_free;
    espsec_err_t rc = put_entries(n, p, at, entries, 1);
    item_t it;
    item_from_entry(&it, entries, p, at);
    if (rc == ESPSEC_OK && count > 1 && !copy && it.type == ESPSEC_NVS_TYPE_BLOB) {
        /* a blob chunk is known from its header on (ESP-IDF's hash list), so a failed write can
         * erase what it wrote */
        rc = add_item(n, &it);
        if (rc == ESPSEC_OK) {
            it.page = -1; /* added */
        }
    }
    if (rc == ESPSEC_OK && count > 1) {
        int full = copy ? 0 : (int)(get_le16(entries + NVS_V_SIZE) / NVS_ENT);
        if (full > count - 1) {
            full = count - 1;
        }
        if (full > 0) {
            rc = put_entries(n, p, at + 1, entries + NVS_ENT, full);
        }
        for (int k = 1 + full; rc == ESPSEC_OK && k < count; k++) {
            rc = put_entries(n, p, at + k, entries + (size_t)k * NVS_ENT, 1);
        }
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    pg->next_free = at + count;
    int added = it.page < 0;
    it.page = p;
    if (written != NULL) {
        *written = it;
    }
    return added ? ESPSEC_OK : add_item(n, &it);
}

static espsec_err_t copy_item(espsec_nvs_t *n, const item_t *it, int to)
{
    int count = nvs_is_var_type(it->type) ? it->span : 1;
    uint8_t *buf = malloc((size_t)count * NVS_ENT);
    if (buf == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    espsec_err_t rc = read_entries(n, it->page, it->entry, buf, count);
    if (rc == ESPSEC_OK) {
        rc = put_item_as(n, to, buf, count, 1, NULL);
    }
    espsec_wipe(buf, (size_t)count * NVS_ENT);
    free(buf);
    return rc;
}

static size_t used_entries(const page_t *pg)
{
    size_t c = 0;
    for (int i = 0; i < NVS_NENT; i++) {
        c += pg->es[i] == NVS_ES_WRITTEN;
    }
    return c;
}

static size_t erased_entries(const page_t *pg)
{
    size_t c = 0;
    for (int i = 0; i < NVS_NENT; i++) {
        c += pg->es[i] == NVS_ES_ERASED || pg->es[i] == NVS_ES_ILLEGAL;
    }
    return c;
}

/*
 * Make a new active page with room for `need` entries: a free page while
 * more than the reserve remains, else reclaim the full page with the most
 * erased entries through the reserve page (mark it FREEING, copy its live
 * items into the reserve, erase it).
 */
static espsec_err_t new_active_page(espsec_nvs_t *n, int need)
{
    if (n->active >= 0 && n->pages[n->active].invalid) {
        return ESP_ERR_NVS_INVALID_STATE; /* as ESP-IDF's writeItem on an INVALID page */
    }
    for (int round = 0; round <= n->npages; round++) {
        if (n->active >= 0) {
            if (n->pages[n->active].next_free + need <= NVS_NENT) {
                return ESPSEC_OK;
            }
            espsec_err_t rc = set_page_state(n, n->active, NVS_STATE_FULL);
            if (rc != ESPSEC_OK) {
                return rc;
            }
            n->active = -1;
        }
        int p = -1;
        if (free_pages(n) > 1) {
            espsec_err_t rc = take_free_page(n, &p);
            if (rc == ESPSEC_OK) {
                rc = init_page(n, p);
            }
            if (rc != ESPSEC_OK) {
                return rc;
            }
            n->active = p;
            continue;
        }
        /* garbage collection through the reserve page: as ESP-IDF's requestNewPage, the used page
         * (in sequence order, the first on a tie) with the most entries not in use */
        int victim = -1;
        size_t best = 0;
        for (int q = 0; q < n->npages; q++) {
            uint32_t st = n->pages[q].state;
            if (st != NVS_STATE_ACTIVE && st != NVS_STATE_FULL && st != NVS_STATE_FREEING) {
                continue;
            }
            size_t unused = (size_t)NVS_NENT - used_entries(&n->pages[q]);
            if (unused > best || (unused == best && victim >= 0 && unused > 0 && n->pages[q].seq < n->pages[victim].seq)) {
                best = unused;
                victim = q;
            }
        }
        if (victim < 0) {
            return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
        }
        espsec_err_t rc = take_free_page(n, &p);
        if (rc == ESPSEC_OK) {
            rc = set_page_state(n, victim, NVS_STATE_FREEING);
        }
        if (rc == ESPSEC_OK) {
            rc = init_page(n, p);
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
        n->active = p;
        /* in the victim's entry order, as ESP-IDF's copyItems */
        for (int e = 0; e < NVS_NENT; e++) {
            for (size_t i = 0; i < n->nitems; i++) {
                if (n->items[i].page == victim && n->items[i].entry == e) {
                    item_t it = n->items[i];
                    rc = copy_item(n, &it, p);
                    if (rc != ESPSEC_OK) {
                        return rc;
                    }
                    break;
                }
            }
        }
        for (size_t i = 0; i < n->nitems; i++) {
            if (n->items[i].page == victim) {
                drop_item(n, i--);
            }
        }
        rc = erase_page(n, victim);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
}

/* Entries a new item of `count` entries could use: free now or reclaimable. */
static size_t room_for_writes(const espsec_nvs_t *n)
{
    size_t room = 0;
    int fp = free_pages(n);
    if (n->active >= 0) {
        room += (size_t)(NVS_NENT - n->pages[n->active].next_free);
    }
    room += (size_t)(fp > 1 ? fp - 1 : 0) * NVS_NENT;
    for (int p = 0; p < n->npages && fp >= 1; p++) {
        if (n->pages[p].state == NVS_STATE_FULL) {
            room += erased_entries(&n->pages[p]);
        }
    }
    return room;
}

static espsec_err_t write_one(espsec_nvs_t *n, const uint8_t *entries, int count, item_t *written)
{
    espsec_err_t rc = new_active_page(n, count);
    if (rc == ESPSEC_OK) {
        rc = put_item(n, n->active, entries, count, written);
    }
    return rc;
}

/* ---- namespaces and handles ---- */

static int find_ns(const espsec_nvs_t *n, const char *name)
{
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        if (it->ns == NVS_NS_INDEX && it->type == ESPSEC_NVS_TYPE_U8 && strncmp(it->key, name, 16) == 0) {
            return it->data[0];
        }
    }
    return -1;
}

static const char *ns_name(const espsec_nvs_t *n, uint8_t idx)
{
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        if (it->ns == NVS_NS_INDEX && it->type == ESPSEC_NVS_TYPE_U8 && it->data[0] == idx) {
            return it->key;
        }
    }
    return NULL;
}

static espsec_err_t check_key(const char *key)
{
    if (key == NULL || key[0] == '\0') {
        return ESP_ERR_NVS_INVALID_NAME;
    }
    if (strlen(key) > ESPSEC_NVS_KEY_MAX) {
        return ESP_ERR_NVS_KEY_TOO_LONG;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_open(espsec_nvs_t *n, const char *ns, espsec_nvs_open_mode_t mode, espsec_nvs_handle_t *h)
{
    if (n == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    espsec_err_t rc = check_key(ns);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    int idx = find_ns(n, ns);
    if (idx < 0) {
        if (mode == ESPSEC_NVS_READONLY) {
            return ESP_ERR_NVS_NOT_FOUND;
        }
        int used[MAX_NS + 2] = {0};
        for (size_t i = 0; i < n->nitems; i++) {
            if (n->items[i].ns == NVS_NS_INDEX && n->items[i].type == ESPSEC_NVS_TYPE_U8) {
                used[n->items[i].data[0] % (MAX_NS + 2)] = 1;
            }
        }
        for (idx = 1; idx <= MAX_NS && used[idx]; idx++) {
        }
        if (idx > MAX_NS) {
            return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
        }
        uint8_t e[NVS_ENT];
        nvs_entry_init(e, NVS_NS_INDEX, ESPSEC_NVS_TYPE_U8, 1, NVS_CHUNK_ANY, ns);
        e[NVS_E_DATA] = (uint8_t)idx;
        nvs_entry_seal(e);
        rc = write_one(n, e, 1, NULL);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    for (int k = 0; k < MAX_HANDLES; k++) {
        if (!n->h[k].used) {
            n->h[k].used = 1;
            n->h[k].ns = (uint8_t)idx;
            n->h[k].rw = mode == ESPSEC_NVS_READWRITE;
            *h = (espsec_nvs_handle_t)(k + 1);
            return ESPSEC_OK;
        }
    }
    return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
}

void espsec_nvs_close(espsec_nvs_t *n, espsec_nvs_handle_t h)
{
    if (n != NULL && h >= 1 && h <= MAX_HANDLES) {
        n->h[h - 1].used = 0;
    }
}

static espsec_err_t handle_ns(const espsec_nvs_t *n, espsec_nvs_handle_t h, int write, uint8_t *ns)
{
    if (n == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    if (h < 1 || h > MAX_HANDLES || !n->h[h - 1].used) {
        return ESP_ERR_NVS_INVALID_HANDLE;
    }
    if (write && !n->h[h - 1].rw) {
        return ESP_ERR_NVS_READ_ONLY;
    }
    *ns = n->h[h - 1].ns;
    return ESPSEC_OK;
}

/* The current value of (ns, key): a plain item or a blob index; -1 if none. */
static long find_value(const espsec_nvs_t *n, uint8_t ns, const char *key)
{
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        if (it->ns == ns && it->type != ESPSEC_NVS_TYPE_BLOB && strncmp(it->key, key, 16) == 0 &&
            !n->pages[it->page].invalid) {
            return (long)i;
        }
    }
    return -1;
}

/* Erase a value (and a blob's chunks); items are found again by identity since the array moves. */
static espsec_err_t erase_value(espsec_nvs_t *n, item_t old)
{
    espsec_err_t rc = ESPSEC_OK;
    if (old.type == ESPSEC_NVS_TYPE_BLOB_IDX) {
        uint8_t start = old.data[5], count = old.data[4];
        for (size_t i = 0; i < n->nitems; i++) {
            if (n->items[i].page == old.page && n->items[i].entry == old.entry) {
                rc = erase_item_entries(n, &n->items[i]);
                if (rc != ESPSEC_OK) {
                    return rc;
                }
                drop_item(n, i);
                break;
            }
        }
        for (unsigned c = 0; c < count; c++) {
            for (size_t i = 0; i < n->nitems; i++) {
                item_t *it = &n->items[i];
                if (it->type == ESPSEC_NVS_TYPE_BLOB && it->ns == old.ns && it->chunk == start + c &&
                    strncmp(it->key, old.key, 16) == 0) {
                    rc = erase_item_entries(n, it);
                    if (rc != ESPSEC_OK) {
                        return rc;
                    }
                    drop_item(n, i);
                    break;
                }
            }
        }
        return ESPSEC_OK;
    }
    for (size_t i = 0; i < n->nitems; i++) {
        if (n->items[i].page == old.page && n->items[i].entry == old.entry) {
            rc = erase_item_entries(n, &n->items[i]);
            if (rc == ESPSEC_OK) {
                drop_item(n, i);
            }
            return rc;
        }
    }
    return ESPSEC_OK;
}

/* After a new value is written: erase every other value of (ns, key).
 * Found again by key, not by position: garbage collection during the
 * write may have moved the old value. */
static espsec_err_t erase_others(espsec_nvs_t *n, uint8_t ns, const char *key, const item_t *keep)
{
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        if (it->ns != ns || it->type == ESPSEC_NVS_TYPE_BLOB || strncmp(it->key, key, 16) != 0 ||
            (it->page == keep->page && it->entry == keep->entry) || n->pages[it->page].invalid) {
            continue;
        }
        espsec_err_t rc = erase_value(n, *it);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        i = (size_t)-1;
    }
    return ESPSEC_OK;
}

/* Read an item's data entries (var types): malloc'd, *len = data size. */
static espsec_err_t read_var_data(const espsec_nvs_t *n, const item_t *it, uint8_t **out, size_t *len)
{
    size_t size = get_le16(it->data);
    uint8_t *buf = malloc((size_t)it->span * NVS_ENT);
    if (buf == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    espsec_err_t rc = it->span > 1 ? read_entries(n, it->page, it->entry + 1, buf, it->span - 1) : ESPSEC_OK;
    if (rc == ESPSEC_OK && nvs_data_crc(buf, size) != get_le32(it->data + 4)) {
        rc = ESP_ERR_NVS_NOT_FOUND; /* damaged since mount: never return garbage */
    }
    if (rc != ESPSEC_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = size;
    return ESPSEC_OK;
}

static int same_data(const espsec_nvs_t *n, const item_t *old, uint8_t type, const uint8_t *data, size_t len)
{
    if (old->type != type) {
        return 0;
    }
    if (nvs_is_prim_type(type)) {
        return memcmp(old->data, data, nvs_prim_size(type)) == 0;
    }
    uint8_t *buf = NULL;
    size_t blen = 0;
    if (read_var_data(n, old, &buf, &blen) != ESPSEC_OK) {
        return 0;
    }
    int same = blen == len && memcmp(buf, data, len) == 0;
    free(buf);
    return same;
}

static espsec_err_t set_prim(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, uint8_t type, uint64_t v)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 1, &ns);
    if (rc == ESPSEC_OK) {
        rc = check_key(key);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t e[NVS_ENT], raw[8];
    nvs_entry_prim(e, ns, type, key, v);
    put_le64(raw, v);
    long oi = find_value(n, ns, key);
    if (oi >= 0 && same_data(n, &n->items[oi], type, raw, 0)) {
        return ESPSEC_OK;
    }
    if (oi < 0 && room_for_writes(n) < 1) {
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    item_t written;
    rc = write_one(n, e, 1, &written);
    if (rc == ESPSEC_OK && oi >= 0) {
        rc = erase_others(n, ns, key, &written);
        if (rc != ESPSEC_OK) {
            rc = ESP_ERR_NVS_REMOVE_FAILED; /* the new value is written; the old one could not be erased */
        }
    }
    return rc;
}

espsec_err_t espsec_nvs_set_u8(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint8_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_U8, v);
}
espsec_err_t espsec_nvs_set_i8(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int8_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_I8, (uint8_t)v);
}
espsec_err_t espsec_nvs_set_u16(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint16_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_U16, v);
}
espsec_err_t espsec_nvs_set_i16(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int16_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_I16, (uint16_t)v);
}
espsec_err_t espsec_nvs_set_u32(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint32_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_U32, v);
}
espsec_err_t espsec_nvs_set_i32(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int32_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_I32, (uint32_t)v);
}
espsec_err_t espsec_nvs_set_u64(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint64_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_U64, v);
}
espsec_err_t espsec_nvs_set_i64(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int64_t v)
{
    return set_prim(n, h, k, ESPSEC_NVS_TYPE_I64, (uint64_t)v);
}

/* Build a variable-length item (header + data) in a fresh buffer. */
static uint8_t *make_var(uint8_t ns, uint8_t type, const char *key, uint8_t chunk, const uint8_t *data, size_t len,
                         int *count)
{
    int span = 1 + (int)((len + NVS_ENT - 1) / NVS_ENT);
    uint8_t *buf = malloc((size_t)span * NVS_ENT);
    if (buf == NULL) {
        return NULL;
    }
    memset(buf, 0xFF, (size_t)span * NVS_ENT);
    nvs_entry_init(buf, ns, type, (uint8_t)span, chunk, key);
    put_le16(buf + NVS_V_SIZE, (uint16_t)len);
    put_le32(buf + NVS_V_CRC, nvs_data_crc(data, len));
    nvs_entry_seal(buf);
    memcpy(buf + NVS_ENT, data, len);
    *count = span;
    return buf;
}

espsec_err_t espsec_nvs_set_str(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, const char *v)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 1, &ns);
    if (rc == ESPSEC_OK) {
        rc = check_key(key);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t len = strlen(v) + 1;
    if (len > ESPSEC_NVS_STR_MAX) {
        return ESP_ERR_NVS_VALUE_TOO_LONG;
    }
    long oi = find_value(n, ns, key);
    if (oi >= 0 && same_data(n, &n->items[oi], ESPSEC_NVS_TYPE_STR, (const uint8_t *)v, len)) {
        return ESPSEC_OK;
    }
    int count = 0;
    uint8_t *buf = make_var(ns, ESPSEC_NVS_TYPE_STR, key, NVS_CHUNK_ANY, (const uint8_t *)v, len, &count);
    if (buf == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    if (room_for_writes(n) < (size_t)count) {
        free(buf);
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    item_t written;
    rc = write_one(n, buf, count, &written);
    espsec_wipe(buf, (size_t)count * NVS_ENT);
    free(buf);
    if (rc == ESPSEC_OK && oi >= 0) {
        rc = erase_others(n, ns, key, &written);
        rc = rc == ESPSEC_ERR_POWER_CUT ? ESP_ERR_NVS_REMOVE_FAILED : rc; /* as ESP-IDF for a failed flash op */
    }
    return rc;
}

espsec_err_t espsec_nvs_set_blob(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, const void *v, size_t len)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 1, &ns);
    if (rc == ESPSEC_OK) {
        rc = check_key(key);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    const size_t chunk_max = (NVS_NENT - 1) * NVS_ENT;
    /* chunks alternate between two version ranges; each holds at most 127 */
    if (len > chunk_max * (size_t)(n->npages - 1) || (len + chunk_max - 1) / chunk_max > 127) {
        return ESP_ERR_NVS_VALUE_TOO_LONG;
    }
    long oi = find_value(n, ns, key);
    item_t old = oi >= 0 ? n->items[oi] : (item_t){0};
    if (oi >= 0 && old.type == ESPSEC_NVS_TYPE_BLOB_IDX && get_le32(old.data) == len) {
        /* unchanged? compare chunk by chunk */
        uint8_t *cur = malloc(len ? len : 1);
        size_t got = len;
        if (cur != NULL && espsec_nvs_get_blob(n, h, key, cur, &got) == ESPSEC_OK && got == len &&
            memcmp(cur, v, len) == 0) {
            free(cur);
            return ESPSEC_OK;
        }
        free(cur);
    }
    uint8_t start = (oi >= 0 && old.type == ESPSEC_NVS_TYPE_BLOB_IDX && old.data[5] == NVS_VER_0) ? NVS_VER_1 : NVS_VER_0;
    size_t need_entries = (len + NVS_ENT - 1) / NVS_ENT + (len + chunk_max - 1) / chunk_max + 3;
    if (room_for_writes(n) < need_entries) {
        return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    }
    const uint8_t *d = v;
    size_t pos = 0;
    unsigned chunks = 0;
    item_t written;
    do {
        /* a chunk takes what is left of the active page (at least one data entry) */
        if (n->active < 0 || n->pages[n->active].next_free + 2 > NVS_NENT) {
            rc = new_active_page(n, 2);
            if (rc != ESPSEC_OK) {
                break;
            }
        }
        size_t room = (size_t)(NVS_NENT - n->pages[n->active].next_free - 1) * NVS_ENT;
        size_t take = len - pos < room ? len - pos : room;
        int count = 0;
        uint8_t *buf = make_var(ns, ESPSEC_NVS_TYPE_BLOB, key, (uint8_t)(start + chunks), d + pos, take, &count);
        if (buf == NULL) {
            rc = ESPSEC_ERR_NO_MEM;
            break;
        }
        rc = write_one(n, buf, count, NULL);
        espsec_wipe(buf, (size_t)count * NVS_ENT);
        free(buf);
        pos += take;
        chunks++;
    } while (rc == ESPSEC_OK && pos < len);
    if (rc == ESPSEC_OK) {
        uint8_t e[NVS_ENT];
        nvs_entry_init(e, ns, ESPSEC_NVS_TYPE_BLOB_IDX, 1, NVS_CHUNK_ANY, key);
        put_le32(e + NVS_I_SIZE, (uint32_t)len);
        e[NVS_I_COUNT] = (uint8_t)chunks;
        e[NVS_I_START] = start;
        nvs_entry_seal(e);
        rc = write_one(n, e, 1, &written);
    }
    if (rc != ESPSEC_OK) {
        /* the new chunks are orphans: erase the ones written (as ESP-IDF's writeMultiPageBlob does;
         * mount would too), whatever that gives */
        for (unsigned c = 0; c < chunks; c++) {
            const item_t *ch = find_chunk(n, ns, key, (uint8_t)(start + c));
            if (ch != NULL) {
                item_t gone = *ch;
                (void)erase_item_entries(n, &gone); /* forgotten even if the erase fails, as ESP-IDF's hash list */
                for (size_t i = 0; i < n->nitems; i++) {
                    if (n->items[i].page == gone.page && n->items[i].entry == gone.entry) {
                        drop_item(n, i);
                        break;
                    }
                }
            }
        }
        return rc;
    }
    if (oi >= 0) {
        rc = erase_others(n, ns, key, &written);
        rc = rc == ESPSEC_ERR_POWER_CUT ? ESP_ERR_NVS_REMOVE_FAILED : rc; /* as ESP-IDF for a failed flash op */
    }
    return rc;
}

/* ---- reading ---- */

/* The value of key in the handle's namespace: its index in the item list, or an error. */
static espsec_err_t lookup(const espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, uint8_t *ns, long *i)
{
    espsec_err_t rc = handle_ns(n, h, 0, ns);
    if (rc == ESPSEC_OK) {
        rc = check_key(key);
    }
    if (rc == ESPSEC_OK) {
        *i = find_value(n, *ns, key);
        rc = *i < 0 ? ESP_ERR_NVS_NOT_FOUND : ESPSEC_OK;
    }
    return rc;
}

static espsec_err_t get_prim(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, uint8_t type, void *out)
{
    uint8_t ns;
    long i = -1;
    espsec_err_t rc = lookup(n, h, key, &ns, &i);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (n->items[i].type != type) {
        return ESP_ERR_NVS_TYPE_MISMATCH;
    }
    memcpy(out, n->items[i].data, nvs_prim_size(type));
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_get_u8(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint8_t *v)
{
    return get_prim(n, h, k, ESPSEC_NVS_TYPE_U8, v);
}
espsec_err_t espsec_nvs_get_i8(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int8_t *v)
{
    return get_prim(n, h, k, ESPSEC_NVS_TYPE_I8, v);
}
espsec_err_t espsec_nvs_get_u16(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint16_t *v)
{
    uint8_t b[2];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_U16, b);
    if (rc == ESPSEC_OK) {
        *v = get_le16(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}
espsec_err_t espsec_nvs_get_i16(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int16_t *v)
{
    uint8_t b[2];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_I16, b);
    if (rc == ESPSEC_OK) {
        *v = (int16_t)get_le16(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}
espsec_err_t espsec_nvs_get_u32(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint32_t *v)
{
    uint8_t b[4];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_U32, b);
    if (rc == ESPSEC_OK) {
        *v = get_le32(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}
espsec_err_t espsec_nvs_get_i32(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int32_t *v)
{
    uint8_t b[4];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_I32, b);
    if (rc == ESPSEC_OK) {
        *v = (int32_t)get_le32(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}
espsec_err_t espsec_nvs_get_u64(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, uint64_t *v)
{
    uint8_t b[8];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_U64, b);
    if (rc == ESPSEC_OK) {
        *v = get_le64(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}
espsec_err_t espsec_nvs_get_i64(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *k, int64_t *v)
{
    uint8_t b[8];
    espsec_err_t rc = get_prim(n, h, k, ESPSEC_NVS_TYPE_I64, b);
    if (rc == ESPSEC_OK) {
        *v = (int64_t)get_le64(b); /* the output is left alone on error, as nvs_get_* */
    }
    return rc;
}

espsec_err_t espsec_nvs_get_int(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, espsec_nvs_type_t *type,
                                int64_t *value)
{
    uint8_t ns;
    long i = -1;
    espsec_err_t rc = lookup(n, h, key, &ns, &i);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    uint8_t t = n->items[i].type;
    if (!nvs_is_prim_type(t)) {
        return ESP_ERR_NVS_TYPE_MISMATCH;
    }
    unsigned bits = nvs_prim_size(t) * 8;
    uint64_t v = get_le64(n->items[i].data);
    if (bits < 64) {
        v &= (1ull << bits) - 1;
        if ((t & 0x10) && (v >> (bits - 1))) {
            v |= ~0ull << bits; /* sign-extend */
        }
    }
    *type = (espsec_nvs_type_t)t;
    *value = (int64_t)v;
    return ESPSEC_OK;
}

static espsec_err_t copy_out(const uint8_t *data, size_t len, void *out, size_t *cap)
{
    if (out == NULL) {
        *cap = len;
        return ESPSEC_OK;
    }
    if (*cap < len) {
        *cap = len;
        return ESP_ERR_NVS_INVALID_LENGTH;
    }
    memcpy(out, data, len);
    *cap = len;
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_get_str(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, char *out, size_t *len)
{
    uint8_t ns;
    long i = -1;
    espsec_err_t rc = lookup(n, h, key, &ns, &i);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (n->items[i].type != ESPSEC_NVS_TYPE_STR) {
        return ESP_ERR_NVS_TYPE_MISMATCH;
    }
    uint8_t *d = NULL;
    size_t dl = 0;
    rc = read_var_data(n, &n->items[i], &d, &dl);
    if (rc == ESPSEC_OK) {
        rc = copy_out(d, dl, out, len);
        free(d);
    }
    return rc;
}

espsec_err_t espsec_nvs_get_blob(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key, void *out, size_t *len)
{
    uint8_t ns;
    long i = -1;
    espsec_err_t rc = lookup(n, h, key, &ns, &i);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    const item_t idx = n->items[i];
    if (idx.type == ESPSEC_NVS_TYPE_BLOB_V1) {
        uint8_t *d = NULL;
        size_t dl = 0;
        rc = read_var_data(n, &idx, &d, &dl);
        if (rc == ESPSEC_OK) {
            rc = copy_out(d, dl, out, len);
            free(d);
        }
        return rc;
    }
    if (idx.type != ESPSEC_NVS_TYPE_BLOB_IDX) {
        return ESP_ERR_NVS_TYPE_MISMATCH;
    }
    size_t total = get_le32(idx.data);
    if (out == NULL) {
        *len = total;
        return ESPSEC_OK;
    }
    if (*len < total) {
        *len = total;
        return ESP_ERR_NVS_INVALID_LENGTH;
    }
    size_t pos = 0;
    for (unsigned c = 0; c < idx.data[4]; c++) {
        const item_t *ch = find_chunk(n, ns, key, (uint8_t)(idx.data[5] + c));
        uint8_t *d = NULL;
        size_t dl = 0;
        if (ch == NULL || pos + get_le16(ch->data) > total) {
            return ESP_ERR_NVS_NOT_FOUND;
        }
        rc = read_var_data(n, ch, &d, &dl);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        memcpy((uint8_t *)out + pos, d, dl);
        free(d);
        pos += dl;
    }
    *len = total;
    return pos == total ? ESPSEC_OK : ESP_ERR_NVS_NOT_FOUND;
}

espsec_err_t espsec_nvs_erase_key(espsec_nvs_t *n, espsec_nvs_handle_t h, const char *key)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 1, &ns);
    if (rc == ESPSEC_OK) {
        rc = check_key(key);
    }
    if (rc != ESPSEC_OK) {
        return rc;
    }
    long i = find_value(n, ns, key);
    if (i < 0) {
        return ESP_ERR_NVS_NOT_FOUND;
    }
    return erase_value(n, n->items[i]);
}

espsec_err_t espsec_nvs_erase_all(espsec_nvs_t *n, espsec_nvs_handle_t h)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 1, &ns);
    for (size_t i = 0; rc == ESPSEC_OK && i < n->nitems; i++) {
        if (n->items[i].ns == ns && n->items[i].type != ESPSEC_NVS_TYPE_BLOB && !n->pages[n->items[i].page].invalid) {
            rc = erase_value(n, n->items[i]);
            i = (size_t)-1;
        }
    }
    return rc;
}

espsec_err_t espsec_nvs_commit(espsec_nvs_t *n, espsec_nvs_handle_t h)
{
    uint8_t ns;
    return handle_ns(n, h, 0, &ns);
}

espsec_err_t espsec_nvs_list(espsec_nvs_t *n, const char *ns, espsec_nvs_type_t type, espsec_nvs_entry_info_t *out,
                             size_t cap, size_t *count)
{
    if (n == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    int want_ns = -1;
    if (ns != NULL) {
        want_ns = find_ns(n, ns);
        if (want_ns < 0) {
            *count = 0;
            return ESP_ERR_NVS_NOT_FOUND;
        }
    }
    /* in flash order: page sequence, then entry */
    const item_t **sel = malloc((n->nitems ? n->nitems : 1) * sizeof(*sel)); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (sel == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    size_t c = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        const item_t *it = &n->items[i];
        uint8_t t = (it->type == ESPSEC_NVS_TYPE_BLOB_IDX || it->type == ESPSEC_NVS_TYPE_BLOB_V1) ? ESPSEC_NVS_TYPE_BLOB
                                                                                                   : it->type;
        if (it->ns == NVS_NS_INDEX || it->type == ESPSEC_NVS_TYPE_BLOB || (want_ns >= 0 && it->ns != want_ns) ||
            (type != ESPSEC_NVS_TYPE_ANY && t != type)) {
            continue;
        }
        size_t k = c++;
        while (k > 0 && newer(n, sel[k - 1], it)) {
            sel[k] = sel[k - 1];
            k--;
        }
        sel[k] = it;
    }
    for (size_t i = 0; i < c && i < cap; i++) {
        const item_t *it = sel[i];
        const char *nn = ns_name(n, it->ns);
        memset(&out[i], 0, sizeof(out[i]));
        snprintf(out[i].namespace_name, sizeof(out[i].namespace_name), "%s", nn ? nn : "?");
        memcpy(out[i].key, it->key, 16);
        out[i].type = (it->type == ESPSEC_NVS_TYPE_BLOB_IDX || it->type == ESPSEC_NVS_TYPE_BLOB_V1)
                          ? ESPSEC_NVS_TYPE_BLOB
                          : (espsec_nvs_type_t)it->type;
    }
    free(sel);
    *count = c < cap ? c : cap;
    return c == 0 ? ESP_ERR_NVS_NOT_FOUND : c > cap ? ESP_ERR_NVS_INVALID_LENGTH : ESPSEC_OK;
}

struct espsec_nvs_iterator {
    size_t pos, count;
    espsec_nvs_entry_info_t entries[];
};

espsec_err_t espsec_nvs_entry_find(espsec_nvs_t *n, const char *ns, espsec_nvs_type_t type, espsec_nvs_iterator_t **it)
{
    *it = NULL;
    if (n == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    size_t cap = n->nitems ? n->nitems : 1;
    espsec_nvs_iterator_t *x = malloc(sizeof(*x) + cap * sizeof(x->entries[0]));
    if (x == NULL) {
        return ESPSEC_ERR_NO_MEM;
    }
    x->pos = 0;
    espsec_err_t rc = espsec_nvs_list(n, ns, type, x->entries, cap, &x->count);
    if (rc != ESPSEC_OK) {
        free(x);
        return rc;
    }
    *it = x;
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_entry_next(espsec_nvs_iterator_t **it)
{
    if (it == NULL || *it == NULL) {
        return ESP_ERR_NVS_INVALID_HANDLE;
    }
    if (++(*it)->pos >= (*it)->count) {
        free(*it);
        *it = NULL;
        return ESP_ERR_NVS_NOT_FOUND;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_entry_info(const espsec_nvs_iterator_t *it, espsec_nvs_entry_info_t *info)
{
    if (it == NULL || it->pos >= it->count) {
        return ESP_ERR_NVS_INVALID_HANDLE;
    }
    *info = it->entries[it->pos];
    return ESPSEC_OK;
}

void espsec_nvs_release_iterator(espsec_nvs_iterator_t *it)
{
    free(it);
}

espsec_err_t espsec_nvs_get_stats(espsec_nvs_t *n, espsec_nvs_stats_t *s)
{
    if (n == NULL) {
        return ESP_ERR_NVS_NOT_INITIALIZED;
    }
    memset(s, 0, sizeof(*s));
    s->total_entries = (size_t)n->npages * NVS_NENT;
    for (int p = 0; p < n->npages; p++) {
        for (int i = 0; i < NVS_NENT && n->pages[p].state != NVS_STATE_UNINIT && n->pages[p].state != NVS_STATE_CORRUPT;
             i++) {
            s->used_entries += n->pages[p].es[i] == NVS_ES_WRITTEN;
        }
    }
    s->free_entries = s->total_entries - s->used_entries;
    s->available_entries = s->free_entries > NVS_NENT ? s->free_entries - NVS_NENT : 0;
    for (size_t i = 0; i < n->nitems; i++) {
        s->namespace_count += n->items[i].ns == NVS_NS_INDEX && n->items[i].type == ESPSEC_NVS_TYPE_U8;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_get_used_entry_count(espsec_nvs_t *n, espsec_nvs_handle_t h, size_t *count)
{
    uint8_t ns;
    espsec_err_t rc = handle_ns(n, h, 0, &ns);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    *count = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        if (n->items[i].ns == ns) {
            *count += nvs_is_var_type(n->items[i].type) ? n->items[i].span : 1;
        }
    }
    return ESPSEC_OK;
}
