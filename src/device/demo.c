/* The narrated demo (espsec/demo.h). */
#include "espsec/demo.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/device.h"
#include "espsec/flash_enc.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"
#include "espsec/partition.h"
#include "espsec/image.h"
#include "espsec/io.h"
#include "espsec/sample.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "dev_internal.h"

typedef struct {
    const espsec_demo_opts_t *o;
    int step;
    char path[4096];
} demo_t;

static void say(demo_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(demo_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->o->report, fmt, ap);
    va_end(ap);
}

static void step(demo_t *d, const char *title)
{
    say(d, "\n[%d] %s\n", ++d->step, title);
}

static const char *file(demo_t *d, const char *name)
{
    snprintf(d->path, sizeof(d->path), "%s/%s", d->o->dir, name);
    return d->path;
}

static espsec_err_t save(demo_t *d, const char *name, const void *data, size_t len, int secret, espsec_error_t *err)
{
    espsec_err_t rc = secret ? espsec_write_secret_file(file(d, name), data, len, 0, err)
                             : espsec_write_file(file(d, name), data, len, ESPSEC_MODE_PUBLIC, err);
    if (rc == ESPSEC_OK) {
        say(d, "    wrote %s (%zu bytes%s)\n", name, len, secret ? ", mode 0600" : "");
    }
    return rc;
}

/* The project the demo secures, as its sdkconfig would say, for the chip: the choices ESP-IDF's
 * menuconfig offers there (the Secure Boot V2 scheme, the flash-encryption key size). */
typedef struct {
    const espsec_chip_info_t *ci;
    espsec_sb_scheme_t scheme;
    const char *scheme_name; /* "RSA-3072" */
    const char *fe_name;     /* "XTS-AES-128" */
    const char *fe_option;   /* the sdkconfig line of the key size, or NULL (ESP32) */
    const char *digest_where; /* where the first boot burns the key digest */
    int force_ecdsa;         /* ECDSA is the only scheme and ESP-IDF offers it only as an insecure option */
} story_t;

static void story_for(const espsec_chip_info_t *ci, story_t *st)
{
    st->ci = ci;
    if (ci->sb.schemes & ESPSEC_SBCAP_RSA3072) {
        st->scheme = ESPSEC_SB_RSA3072;
        st->scheme_name = "RSA-3072";
    } else {
        st->scheme = ESPSEC_SB_ECDSA256;
        st->scheme_name = "ECDSA P-256";
    }
    st->force_ecdsa = st->scheme != ESPSEC_SB_RSA3072 && ci->sb.ecdsa_insecure;
    st->fe_option = NULL;
    if (ci->fe.xts256_two_blocks && (ci->fe.modes & ESPSEC_FE_MODE_XTS256)) {
        st->fe_name = "XTS-AES-256, its 512-bit key over two key blocks";
        st->fe_option = "CONFIG_SECURE_FLASH_ENCRYPTION_AES256=y\n";
    } else if (ci->fe.shared_key0 && (ci->fe.modes & ESPSEC_FE_MODE_XTS128_DERIVED)) {
        st->fe_name = "XTS-AES-128 from a 128-bit key sharing the one key block with the digest";
        st->fe_option = "CONFIG_SECURE_FLASH_ENCRYPTION_AES128_DERIVED=y\n";
    } else if (ci->fe.modes & ESPSEC_FE_MODE_XTS128) {
        st->fe_name = "XTS-AES-128";
        st->fe_option = "CONFIG_SECURE_FLASH_ENCRYPTION_AES128=y\n";
    } else {
        st->fe_name = "AES-256 with the per-block key tweak";
    }
    if (ci->fe.shared_key0) {
        st->digest_where = "the high half of BLOCK_KEY0";
    } else if (ci->sb.digest_block != NULL) {
        st->digest_where = ci->sb.digest_block;
    } else {
        st->digest_where = "a free key block, purpose SECURE_BOOT_DIGEST0";
    }
}

static int story_sdkconfig(const story_t *st, char *buf, size_t cap)
{
    int rsa = st->scheme == ESPSEC_SB_RSA3072;
    return snprintf(buf, cap,
                    "# espsec demo: the security settings of the project\n"
                    "CONFIG_IDF_TARGET=\"%s\"\n"
                    "CONFIG_SECURE_BOOT=y\n"
                    "CONFIG_SECURE_BOOT_V2_ENABLED=y\n"
                    "%s"
                    "%s"
                    "CONFIG_SECURE_FLASH_ENC_ENABLED=y\n"
                    "CONFIG_SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y\n"
                    "# CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE is not set\n"
                    "%s"
                    "CONFIG_NVS_ENCRYPTION=y\n"
                    "CONFIG_PARTITION_TABLE_OFFSET=0x8000\n",
                    st->ci->name,
                    rsa ? "CONFIG_SECURE_SIGNED_APPS_RSA_SCHEME=y\nCONFIG_SECURE_BOOT_V2_RSA_ENABLED=y\n"
                        : "CONFIG_SECURE_SIGNED_APPS_ECDSA_V2_SCHEME=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\n"
                          "CONFIG_SECURE_BOOT_ECDSA_KEY_LEN_256_BITS=y\n",
                    st->force_ecdsa ? "CONFIG_SECURE_BOOT_INSECURE=y\nCONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA=y\n" : "",
                    st->fe_option ? st->fe_option : "");
}

static const char DEMO_PARTITIONS[] = "# Name,   Type, SubType,  Offset,  Size,    Flags\n"
                                      "nvs,      data, nvs,      0x9000,  0x6000,\n"
                                      "nvs_key,  data, nvs_keys, 0xf000,  0x1000,  encrypted\n"
                                      "factory,  app,  factory,  0x10000, 0x100000,\n";

static const char DEMO_NVS_CSV[] = "key,type,encoding,value\n"
                                   "factory,namespace,,\n"
                                   "serial,data,string,ESPSEC-0000001\n"
                                   "hw_rev,data,u8,3\n"
                                   "wifi,namespace,,\n"
                                   "ssid,data,string,factory-test\n"
                                   "pass,data,string,correct horse battery staple\n";

#define FLASH_SIZE (4u << 20)

static espsec_err_t boot_once(demo_t *d, espsec_efuse_t *ef, espsec_flash_t *fl, const espsec_device_config_t *cfg,
                              const char *logname, espsec_boot_result_t *r, espsec_error_t *err)
{
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    if (log == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    espsec_boot_opts_t bo = {.config = cfg, .provision = 1, .log = log};
    espsec_err_t rc = espsec_device_boot(ef, fl, &bo, r, err);
    (void)fclose(log);
    if (rc == ESPSEC_OK) {
        rc = save(d, logname, logbuf, loglen, 0, err);
    }
    /* the lines people look for */
    const char *keys[] = {"secure_boot_v2:", "flash_encrypt:", "Resetting", "app_init: Project", "app_init: App ver",
                          "nvs:", "E ("};
    for (char *line = logbuf; rc == ESPSEC_OK && line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            if (memmem(line, n, keys[k], strlen(keys[k])) != NULL) {
                say(d, "    | %.*s\n", (int)n, line);
                break;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    free(logbuf);
    return rc;
}

static espsec_err_t save_device(demo_t *d, espsec_efuse_t *ef, espsec_flash_t *fl, const char *efname,
                                const char *flname, espsec_error_t *err)
{
    espsec_err_t rc = espsec_efuse_save_file(ef, file(d, efname), err);
    if (rc == ESPSEC_OK) {
        char hidden[4200];
        snprintf(hidden, sizeof(hidden), "%s.hidden", file(d, efname));
        if (espsec_path_exists(hidden)) {
            say(d, "    wrote %s (virtual eFuses, espefuse's format) and %s.hidden (the read-protected key, mode 0600)\n",
                efname, efname);
        } else {
            say(d, "    wrote %s (virtual eFuses, espefuse's format)\n", efname);
        }
        rc = save(d, flname, espsec_flash_data(fl), espsec_flash_size(fl), 0, err);
    }
    return rc;
}

/* The eFuses the first boot burned, by name, with their values (never a key block's bytes). */
static espsec_err_t say_burned(demo_t *d, const espsec_efuse_t *ef, espsec_error_t *err)
{
    espsec_efuse_t *fresh = NULL;
    espsec_err_t rc = espsec_efuse_new(espsec_efuse_chip_info(ef)->id, &fresh, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    char line[512];
    size_t used = 0, items = 0;
    const char *lead = "    burned: ";
    for (size_t i = 0; i < espsec_efuse_field_count(ef); i++) {
        espsec_efuse_field_info_t now, was;
        if (espsec_efuse_field_info(ef, i, &now) != ESPSEC_OK) {
            continue;
        }
        int j = espsec_efuse_find(fresh, now.name);
        if (j < 0 || espsec_efuse_field_info(fresh, (size_t)j, &was) != ESPSEC_OK ||
            (strcmp(now.raw_hex, was.raw_hex) == 0 && now.readable == was.readable)) {
            continue;
        }
        char item[256];
        if (now.type == ESPSEC_EF_BYTES) { /* a key or a digest: its name only */
            snprintf(item, sizeof(item), "%s (%d bits%s)", now.name, now.bit_len,
                     now.readable ? "" : ", read-protected");
        } else {
            snprintf(item, sizeof(item), "%s = %s", now.name, now.raw_hex);
        }
        if (used > 0 && used + strlen(item) + 2 > 80) {
            say(d, "%s%s,\n", lead, line);
            lead = "            ";
            used = 0;
        }
        int w = snprintf(line + used, sizeof(line) - used, "%s%s", used ? ", " : "", item);
        used = w > 0 && (size_t)w < sizeof(line) - used ? used + (size_t)w : strlen(line);
        items++;
    }
    say(d, "%s%s\n", lead, items ? line : "nothing");
    espsec_efuse_free(fresh);
    return ESPSEC_OK;
}

/* The flash cipher the chip now uses, with the key its eFuses hold (the probe step). */
static espsec_err_t demo_flash_cipher(const espsec_efuse_t *ef, espsec_fe_ctx_t **fe, espsec_error_t *err)
{
    dev_chip_t chip;
    dev_fuses_t fu;
    if (dev_chip(espsec_efuse_chip_info(ef)->id, &chip) != 0) {
        return espsec_fail(err, ESPSEC_ERR_CHIP, "the virtual device does not model this chip");
    }
    espsec_err_t rc = dev_read_fuses(ef, &chip, NULL, 0, &fu, err);
    if (rc == ESPSEC_OK && (!fu.fe_on || fu.fe_key_len == 0)) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "flash encryption is not on after the first boot");
    }
    if (rc == ESPSEC_OK) {
        espsec_flash_enc_params_t p = {chip.fe_mode, fu.crypt_config};
        rc = espsec_fe_new(&p, fu.fe_key, fu.fe_key_len, fe, err);
    }
    espsec_wipe(&fu, sizeof(fu));
    return rc;
}

espsec_err_t espsec_demo_run(const espsec_demo_opts_t *o, espsec_error_t *err)
{
    demo_t d = {.o = o};
    espsec_err_t rc;
    char *pem = NULL;
    size_t pem_len = 0;
    espsec_sb_key_t *key = NULL;
    uint8_t *boot = NULL, *app = NULL, *boot_signed = NULL, *app_signed = NULL, *nvs_img = NULL, *flash = NULL;
    size_t boot_len = 0, app_len = 0, bs_len = 0, as_len = 0;
    espsec_efuse_t *ef = NULL;
    espsec_flash_t *fl = NULL;
    espsec_fe_ctx_t *fe = NULL;
    espsec_nvs_keys_t nvs_keys;
    espsec_device_config_t cfg;
    espsec_partition_table_t pt;
    espsec_boot_result_t r;
    uint8_t pt_bin[ESPSEC_PT_MAX_LEN];
    memset(&nvs_keys, 0, sizeof(nvs_keys));
    const espsec_chip_info_t *ci = o->chip ? o->chip : espsec_chip_default();
    if (!ci->has_security || ci->efuse == NULL || !(ci->sb.versions & ESPSEC_SBCAP_V2)) {
        return espsec_fail(err, ESPSEC_ERR_CHIP, "%s: the demo needs Secure Boot V2, flash encryption and virtual "
                           "eFuses, which espsec does not model on this chip", ci->display);
    }
    story_t st;
    story_for(ci, &st);
    char sdkconfig[1024];
    int sdk_len = story_sdkconfig(&st, sdkconfig, sizeof(sdkconfig));
    if (sdk_len < 0 || (size_t)sdk_len >= sizeof(sdkconfig)) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "the demo's sdkconfig does not fit its buffer");
    }

    say(&d, "espsec demo: securing an %s end to end on the virtual device, in %s\n", ci->display, o->dir);
    say(&d, "(Secure Boot V2 with %s; flash encryption in development mode with %s;\n"
            "NVS encryption. Nothing real is burned.)\n",
        st.scheme_name, st.fe_name);
    if (st.force_ecdsa) {
        say(&d, "(ECDSA is this chip's only Secure Boot V2 scheme and ESP-IDF offers it only under the insecure\n"
                "options, CONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA, for a hardware erratum: the doctor warns.)\n");
    }

    step(&d, "The project: its sdkconfig and partition table");
    rc = save(&d, "sdkconfig", sdkconfig, (size_t)sdk_len, 0, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sdkconfig_parse(sdkconfig, (size_t)sdk_len, "sdkconfig", &cfg, err);
    }
    espsec_pt_opts_t po;
    espsec_pt_opts_default(&po);
    if (rc == ESPSEC_OK) {
        rc = save(&d, "partitions.csv", DEMO_PARTITIONS, sizeof(DEMO_PARTITIONS) - 1, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_pt_from_csv(DEMO_PARTITIONS, sizeof(DEMO_PARTITIONS) - 1, &po, &pt, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_pt_to_binary(&pt, &po, pt_bin, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "partition-table.bin", pt_bin, 0xC00, 0, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    char title[160];
    snprintf(title, sizeof(title), "Secure Boot V2 signing key (%s)", st.scheme_name);
    step(&d, title);
    rc = espsec_sb_generate_key(st.scheme, &pem, &pem_len, err);
    if (rc == ESPSEC_OK) {
        rc = save(&d, "secure_boot_signing_key.pem", pem, pem_len, 1, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_sb_key_load_pem((const uint8_t *)pem, pem_len, &key, err);
    }
    uint8_t digest[32];
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_key_digest(key, digest, err);
    }
    if (rc == ESPSEC_OK) {
        char hex[65];
        espsec_hex(digest, 32, hex, 0);
        say(&d, "    public key digest (what the first boot burns into %s): %s\n", st.digest_where, hex);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Bootloader and app images, signed");
    espsec_sample_app_t sa = {ci->id, "espsec_demo", "1.0.0", 1, 0x8000, 1};
    rc = espsec_sample_bootloader(ci->id, 1, &boot, &boot_len, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sample_app(&sa, &app, &app_len, err);
    }
    espsec_sbv2_signer_t signer = {.key = key};
    espsec_sbv2_sign_opts_t so = {0};
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_sign(boot, boot_len, &signer, 1, &so, &boot_signed, &bs_len, NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_sign(app, app_len, &signer, 1, &so, &app_signed, &as_len, NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "bootloader-signed.bin", boot_signed, bs_len, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "app-signed.bin", app_signed, as_len, 0, err);
    }
    int block = -1;
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_verify(app_signed, as_len, key, 0, &block, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    both verify (espsec secure verify-signature); app 'espsec_demo' 1.0.0, secure version 1\n");
    app_signed[0x2000] ^= 0x01;
    espsec_error_t why;
    if (espsec_sbv2_verify(app_signed, as_len, key, 0, NULL, &why) == ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "a tampered app verified: this must never happen");
        goto done;
    }
    app_signed[0x2000] ^= 0x01;
    say(&d, "    a copy with one bit changed is refused: %s\n", why.msg);

    step(&d, "NVS: keys and an encrypted partition from a CSV (nvs_partition_gen encrypt)");
    rc = save(&d, "nvs.csv", DEMO_NVS_CSV, sizeof(DEMO_NVS_CSV) - 1, 0, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_keys_generate(&nvs_keys);
    }
    uint8_t keys_part[ESPSEC_NVS_KEYS_PART_SIZE];
    espsec_nvs_keys_encode(&nvs_keys, keys_part);
    if (rc == ESPSEC_OK) {
        rc = save(&d, "nvs_keys.bin", keys_part, sizeof(keys_part), 1, err);
    }
    espsec_nvs_csv_opts_t nvo = {.version = 2, .keys = &nvs_keys};
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_gen_csv(DEMO_NVS_CSV, sizeof(DEMO_NVS_CSV) - 1, "nvs.csv", 0x6000, &nvo, &nvs_img, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "nvs-encrypted.bin", nvs_img, 0x6000, 0, err);
    }
    if (rc == ESPSEC_OK && memmem(nvs_img, 0x6000, "correct horse", 13) != NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "the encrypted NVS holds a value in clear");
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    no value appears in clear in nvs-encrypted.bin; the keys go to the nvs_keys partition, which the\n"
            "    first boot encrypts with the flash key\n");

    snprintf(title, sizeof(title),
             "The flash image (4 MiB: bootloader 0x%x, table 0x8000, nvs 0x9000, nvs_keys 0xf000, app 0x10000)",
             (unsigned)ci->bootloader_offset);
    step(&d, title);
    if (ci->bootloader_offset > 0x8000 || bs_len > 0x8000 - ci->bootloader_offset) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "the signed bootloader (%zu bytes at 0x%x) overlaps the "
                         "partition table at 0x8000", bs_len, (unsigned)ci->bootloader_offset);
        goto done;
    }
    flash = malloc(FLASH_SIZE);
    if (flash == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        goto done;
    }
    memset(flash, 0xFF, FLASH_SIZE);
    memcpy(flash + ci->bootloader_offset, boot_signed, bs_len);
    memcpy(flash + 0x8000, pt_bin, 0xC00);
    memcpy(flash + 0x9000, nvs_img, 0x6000);
    memcpy(flash + 0xF000, keys_part, sizeof(keys_part));
    memcpy(flash + 0x10000, app_signed, as_len);
    espsec_wipe(keys_part, sizeof(keys_part));
    rc = espsec_flash_from(flash, FLASH_SIZE, &fl, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_new(ci->id, &ef, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save_device(&d, ef, fl, "efuse-fresh.bin", "flash-plain.bin", err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Doctor: pre-burn checks");
    espsec_doctor_finding_t *f = NULL;
    size_t nf = 0, errors = 0;
    espsec_doctor_opts_t dop = {.config = &cfg, .planned_key = key};
    rc = espsec_doctor(ef, fl, &dop, &f, &nf, err);
    for (size_t i = 0; rc == ESPSEC_OK && i < nf; i++) {
        say(&d, "    %s [%s] %s\n", espsec_doctor_severity_name(f[i].severity), f[i].id, f[i].message);
        errors += f[i].severity == ESPSEC_DOCTOR_ERROR;
    }
    free(f);
    if (rc == ESPSEC_OK && errors > 0) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "the doctor found %zu errors in the demo's own setup", errors);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    %zu findings, no errors: safe to provision\n", nf);

    step(&d, "First boot: the bootloader provisions the chip (log: boot1.log)");
    rc = boot_once(&d, ef, fl, &cfg, "boot1.log", &r, err);
    if (rc == ESPSEC_OK && !(r.booted && r.provisioned)) {
        rc = espsec_fail(err, ESPSEC_ERR_BOOT, "the first boot did not provision and run: %s", r.failure);
    }
    if (rc == ESPSEC_OK) {
        rc = save_device(&d, ef, fl, "efuse.bin", "flash.bin", err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    rc = say_burned(&d, ef, err);
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Second boot: the secured device runs the app (log: boot2.log)");
    rc = boot_once(&d, ef, fl, NULL, "boot2.log", &r, err);
    if (rc == ESPSEC_OK && (!r.booted || r.provisioned || !r.flash_encryption || r.secure_boot != 2)) {
        rc = espsec_fail(err, ESPSEC_ERR_BOOT, "the second boot did not run the secured app: %s", r.failure);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    BOOTED: '%s' %s, secure boot V2, flash encryption, encrypted NVS (%zu values)\n", r.app.project_name,
        r.app.version, r.nvs_values);

    step(&d, "The flash is encrypted: what a probe reading the chip sees");
    uint8_t page[4096];
    rc = demo_flash_cipher(ef, &fe, err);
    if (rc == ESPSEC_OK) {
        const uint8_t *raw = espsec_flash_data(fl);
        say(&d, "    app at 0x10000 on flash: %02x %02x %02x %02x ... (plaintext starts e9 ...)\n", raw[0x10000],
            raw[0x10001], raw[0x10002], raw[0x10003]);
        memcpy(page, raw + 0xF000, sizeof(page));
        rc = espsec_fe_crypt(fe, 0xF000, page, page, sizeof(page), 1, err);
    }
    espsec_nvs_keys_t got;
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_keys_parse(page, sizeof(page), &got, err);
    }
    espsec_wipe(page, sizeof(page));
    espsec_nvs_t *nv = NULL;
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_mount(fl, 0x9000, 0x6000, &got, &nv, err);
    }
    espsec_wipe(&got, sizeof(got));
    espsec_nvs_handle_t h;
    char serial[32] = "";
    size_t sl = sizeof(serial);
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_open(nv, "factory", ESPSEC_NVS_READONLY, &h);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_get_str(nv, h, "serial", serial, &sl);
    }
    espsec_nvs_unmount(nv);
    if (rc != ESPSEC_OK) {
        if (err != NULL && err->msg[0] == '\0') {
            espsec_fail(err, rc, "reading the encrypted NVS back failed (%s)", espsec_err_to_name(rc));
        }
        goto done;
    }
    say(&d, "    as the app does it: nvs_keys decrypted with the flash key, NVS mounted with those keys:\n"
            "    factory/serial = \"%s\"\n",
        serial);

    step(&d, "An attacker changes one byte of the app in flash");
    /* Clearing a bit is what a NOR flash write can do without an erase. The
     * byte at 0x14000 may already be 0 (one time in 256 of encrypted flash),
     * so the first byte from there with a bit set is the one changed. */
    uint8_t byte = 0;
    uint32_t at = 0x14000;
    for (; rc == ESPSEC_OK && at < 0x15000; at++) {
        rc = espsec_flash_read(fl, at, &byte, 1, err);
        if (rc == ESPSEC_OK && byte != 0) {
            break;
        }
    }
    if (rc == ESPSEC_OK && byte == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "no byte to tamper with at 0x14000..0x15000");
    }
    if (rc == ESPSEC_OK) {
        byte = (uint8_t)(byte & (byte - 1));
        rc = espsec_flash_write(fl, at, &byte, 1, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "flash-tampered.bin", espsec_flash_data(fl), espsec_flash_size(fl), 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = boot_once(&d, ef, fl, NULL, "boot3.log", &r, err);
    }
    if (rc == ESPSEC_OK && r.booted) {
        rc = espsec_fail(err, ESPSEC_ERR_BOOT, "the tampered flash booted: this must never happen");
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    DOES NOT BOOT: %s\n", r.failure);

done:
    if (rc == ESPSEC_OK) {
        say(&d, "\nEvery step behaved as it must. Files are in %s\n", o->dir);
        say(&d, "Try: %s boot --chip %s --efuse %s/efuse.bin --flash %s/flash.bin\n", o->prog ? o->prog : "espsec",
            ci->name, o->dir, o->dir);
    }
    espsec_wipe(&nvs_keys, sizeof(nvs_keys));
    espsec_fe_free(fe);
    espsec_free_secret(pem, pem_len);
    espsec_sb_key_free(key);
    espsec_efuse_free(ef);
    espsec_flash_free(fl);
    free(boot);
    free(app);
    free(boot_signed);
    free(app_signed);
    free(nvs_img);
    free(flash);
    return rc;
}
