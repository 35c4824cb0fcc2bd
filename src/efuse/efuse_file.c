/* The virtual eFuse file edge (espsec/efuse.h): FILE and FILE.hidden. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/efuse.h"
#include "espsec/io.h"
#include "espsec/util.h"

static void hidden_path(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s.hidden", path);
}

espsec_err_t espsec_efuse_load_file(espsec_chip_t chip, const char *path, espsec_efuse_t **out, int *created,
                                    espsec_error_t *err)
{
    if (created != NULL) {
        *created = 0;
    }
    if (!espsec_path_exists(path)) {
        if (created != NULL) {
            *created = 1;
        }
        return espsec_efuse_new(chip, out, err);
    }
    uint8_t *buf = NULL, *hid = NULL;
    size_t len = 0, hlen = 0;
    espsec_err_t rc = espsec_read_file(path, &buf, &len, 1u << 20, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    char hp[4096];
    hidden_path(path, hp, sizeof(hp));
    if (espsec_path_exists(hp)) {
        rc = espsec_read_file(hp, &hid, &hlen, 1u << 20, err);
        if (rc != ESPSEC_OK) {
            free(buf);
            return rc;
        }
    }
    if (len == 0) {
        /* espefuse treats an empty file as a fresh chip */
        free(buf);
        espsec_free_secret(hid, hlen);
        if (created != NULL) {
            *created = 1;
        }
        return espsec_efuse_new(chip, out, err);
    }
    rc = espsec_efuse_load(chip, buf, len, hid, hlen, out, err);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(err, "%s: ", rc == ESPSEC_ERR_FORMAT && hid ? hp : path);
    }
    free(buf);
    espsec_free_secret(hid, hlen);
    return rc;
}

espsec_err_t espsec_efuse_save_file(const espsec_efuse_t *e, const char *path, espsec_error_t *err)
{
    uint8_t *file = NULL, *hid = NULL;
    size_t len = 0, hlen = 0;
    espsec_err_t rc = espsec_efuse_serialize(e, &file, &len, &hid, &hlen, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    char hp[4096];
    hidden_path(path, hp, sizeof(hp));
    /* The companion first: after a crash between the two writes the
     * companion is ahead of the file, and loading adopts it; the other order
     * could leave a file whose read-protected key exists nowhere. */
    if (hid != NULL) {
        rc = espsec_write_secret_file(hp, hid, hlen, 1, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_write_file(path, file, len, ESPSEC_MODE_PUBLIC, err);
    }
    free(file);
    espsec_free_secret(hid, hlen);
    return rc;
}
