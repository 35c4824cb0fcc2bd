/* Internal to the efuse module: what the import/export edge (efuse_io.c) needs from the engine. */
#ifndef ESPSEC_EFUSE_IO_H
#define ESPSEC_EFUSE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "efuse/efuse_chip.h"
#include "espsec/efuse.h"

/** Bytes of every block's data words, BLOCK0 first (the layout of espefuse's joint dump). */
size_t efuse_joint_size(const efuse_chip_def_t *d);

/**
 * A chip from every block's data words in that layout (len must be efuse_joint_size).
 * hw_view = 0: the words are what software read, so read-protected blocks are zeros and
 * unknown; hw_view = 1: they are what the silicon holds (QEMU's file), protected blocks
 * included, and software's view is derived from them.
 */
espsec_err_t efuse_import_blocks(espsec_chip_t chip, const uint8_t *data, size_t len, int hw_view,
                                 espsec_efuse_t **out, espsec_error_t *err);

/**
 * Add custom fields to one eFuse set (its own copy of the chip's table). On success the set
 * owns fields (copied, then freed) and strings (the names and descriptions they point to,
 * freed with the set); on failure the caller keeps both. Refused when already extended.
 */
espsec_err_t efuse_add_fields(espsec_efuse_t *e, efuse_field_def_t *fields, size_t n, void *strings,
                              espsec_error_t *err);

#endif
