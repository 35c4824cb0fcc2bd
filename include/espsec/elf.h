/*
 * espsec/elf.h — the parts of a 32-bit little-endian ELF file that image
 * building reads (docs/FORMATS.md, "ELF input").
 *
 * What esptool's elf2image takes from an ELF: the entry point, the section
 * headers (with names from the section-name string table) of every section
 * that has an address and a size, and the PT_LOAD program headers. Xtensa
 * (e_machine 0x5E) and RISC-V (0xF3) files only, as esptool.
 *
 * The file is hostile input: every offset and size is checked against the
 * buffer before it is used, and a defect fails with ESPSEC_ERR_FORMAT naming
 * the header, section or offset. Where esptool silently takes fewer bytes
 * than a header claims (a section running past the end of the file), espsec
 * refuses, because the image would be built from truncated code.
 */
#ifndef ESPSEC_ELF_H
#define ESPSEC_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_ELF_MACHINE_XTENSA 0x5E
#define ESPSEC_ELF_MACHINE_RISCV 0xF3

/* Section types esptool distinguishes. */
#define ESPSEC_ELF_SHT_PROGBITS 0x01
#define ESPSEC_ELF_SHT_STRTAB 0x03
#define ESPSEC_ELF_SHT_NOBITS 0x08
#define ESPSEC_ELF_SHT_INIT_ARRAY 0x0E
#define ESPSEC_ELF_SHT_FINI_ARRAY 0x0F
#define ESPSEC_ELF_SHT_PREINIT_ARRAY 0x10

/** A section with contents (or a PT_LOAD segment, named "PHDR"). */
typedef struct {
    const char *name;    /* NUL-terminated, points into the caller's buffer (or "PHDR") */
    uint32_t addr;       /* sh_addr (segments: p_paddr) */
    uint32_t size;       /* sh_size (segments: p_filesz) */
    const uint8_t *data; /* size bytes inside the caller's buffer */
    uint32_t align;      /* sh_addralign (segments: p_align) */
    uint32_t flags;
} espsec_elf_section_t;

/** Called for each thing esptool warns about ("Unknown section type 0x99 in ELF file"). */
typedef void (*espsec_elf_warn_fn)(void *ctx, const char *msg);

typedef struct {
    uint32_t entry;
    uint16_t machine;
    espsec_elf_section_t *sections; /* PROGBITS / INIT_ARRAY / FINI_ARRAY / PREINIT_ARRAY, in file order */
    size_t nsections;
    espsec_elf_section_t *segments; /* PT_LOAD with a load address and file size, in file order */
    size_t nsegments;
} espsec_elf_t;

/**
 * Parse buf (which must outlive elf: names and data point into it).
 * Sections and segments with address 0 or size 0 are left out, as esptool
 * does; sections of unknown type are left out with a warning through warn
 * (which may be NULL). On success free elf with espsec_elf_free.
 */
espsec_err_t espsec_elf_parse(const uint8_t *buf, size_t len, espsec_elf_t *elf, espsec_elf_warn_fn warn,
                              void *warn_ctx, espsec_error_t *err);

void espsec_elf_free(espsec_elf_t *elf);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
