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

/* The project the demo secures, as its sdkconfig would say. */
static const char DEMO_SDKCONFIG[] = "# espsec demo: the security settings of the project\n"
                                     "CONFIG_IDF_TARGET=\"esp32\"\n"
                                     "CONFIG_SECURE_BOOT=y\n"
                                     "CONFIG_SECURE_BOOT_V2_ENABLED=y\n"
                                     "CONFIG_SECURE_BOOT_V2_RSA_ENABLED=y\n"
                                     "CONFIG_SECURE_FLASH_ENC_ENABLED=y\n"
                                     "CONFIG_SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y\n"
                                     "# CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE is not set\n"
                                     "CONFIG_NVS_ENCRYPTION=y\n"
                                     "CONFIG_PARTITION_TABLE_OFFSET=0x8000\n";

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

    say(&d, "espsec demo: securing an ESP32 end to end on the virtual device, in %s\n", o->dir);
    say(&d, "(Secure Boot V2 + flash encryption in development mode + NVS encryption; nothing real is burned.)\n");

    step(&d, "The project: its sdkconfig and partition table");
    rc = save(&d, "sdkconfig", DEMO_SDKCONFIG, sizeof(DEMO_SDKCONFIG) - 1, 0, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sdkconfig_parse(DEMO_SDKCONFIG, sizeof(DEMO_SDKCONFIG) - 1, "sdkconfig", &cfg, err);
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

    step(&d, "Secure Boot V2 signing key (RSA-3072)");
    rc = espsec_sb_generate_key(ESPSEC_SB_RSA3072, &pem, &pem_len, err);
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
        say(&d, "    public key digest (what the first boot burns into BLOCK2): %s\n", hex);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Bootloader and app images, signed");
    espsec_sample_app_t sa = {ESPSEC_CHIP_ESP32, "espsec_demo", "1.0.0", 1, 0x8000, 1};
    rc = espsec_sample_bootloader(ESPSEC_CHIP_ESP32, 1, &boot, &boot_len, err);
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

    step(&d, "The flash image (4 MiB: bootloader 0x1000, table 0x8000, nvs 0x9000, nvs_keys 0xf000, app 0x10000)");
    flash = malloc(FLASH_SIZE);
    if (flash == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        goto done;
    }
    memset(flash, 0xFF, FLASH_SIZE);
    memcpy(flash + 0x1000, boot_signed, bs_len);
    memcpy(flash + 0x8000, pt_bin, 0xC00);
    memcpy(flash + 0x9000, nvs_img, 0x6000);
    memcpy(flash + 0xF000, keys_part, sizeof(keys_part));
    memcpy(flash + 0x10000, app_signed, as_len);
    espsec_wipe(keys_part, sizeof(keys_part));
    rc = espsec_flash_from(flash, FLASH_SIZE, &fl, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_new(ESPSEC_CHIP_ESP32, &ef, err);
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
    say(&d, "    burned: BLOCK2 = key digest, ABS_DONE_1, BLOCK1 = flash key (read/write protected),\n"
            "    FLASH_CRYPT_CNT = 1, FLASH_CRYPT_CONFIG = 0xF, DISABLE_DL_*, JTAG_DISABLE, CONSOLE_DEBUG_DISABLE\n");

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
    uint8_t hw[32], fkey[32], page[4096];
    int known = 0;
    rc = espsec_efuse_get_block_hw(ef, 1, hw, &known, err);
    for (int i = 0; i < 32; i++) {
        fkey[i] = hw[31 - i];
    }
    espsec_flash_enc_params_t fp = {ESPSEC_FE_ESP32, 0xF};
    if (rc == ESPSEC_OK) {
        rc = espsec_fe_new(&fp, fkey, sizeof(fkey), &fe, err);
    }
    espsec_wipe(fkey, sizeof(fkey));
    espsec_wipe(hw, sizeof(hw));
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
    uint8_t byte;
    rc = espsec_flash_read(fl, 0x14000, &byte, 1, err);
    if (rc == ESPSEC_OK) {
        /* clearing bits is what a NOR flash write can do without an erase */
        byte = byte ? (uint8_t)(byte & (byte - 1)) : 0;
        rc = espsec_flash_write(fl, 0x14000, &byte, 1, err);
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
        say(&d, "Try: %s boot --efuse %s/efuse.bin --flash %s/flash.bin\n", o->prog ? o->prog : "espsec", o->dir,
            o->dir);
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
