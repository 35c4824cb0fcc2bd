/* ELF32 reading for elf2image (espsec/elf.h). */
#include "espsec/elf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

/* ELF32 file header (Elf32_Ehdr) offsets. */
enum {
    EH_IDENT = 0,
    EH_MACHINE = 18,
    EH_ENTRY = 24,
    EH_PHOFF = 28,
    EH_SHOFF = 32,
    EH_PHNUM = 44,
    EH_SHENTSIZE = 46,
    EH_SHNUM = 48,
    EH_SHSTRNDX = 50,
    EH_LEN = 0x34,
};

/* Elf32_Shdr offsets. */
enum {
    SH_NAME = 0,
    SH_TYPE = 4,
    SH_FLAGS = 8,
    SH_ADDR = 12,
    SH_OFFSET = 16,
    SH_SIZE = 20,
    SH_ADDRALIGN = 32,
    SH_LEN = 0x28,
};

/* Elf32_Phdr offsets. */
enum {
    PH_TYPE = 0,
    PH_OFFSET = 4,
    PH_PADDR = 12,
    PH_FILESZ = 16,
    PH_FLAGS = 24,
    PH_ALIGN = 28,
    PH_LEN = 0x20,
    PT_LOAD = 1,
};

static int is_prog_type(uint32_t t)
{
    return t == ESPSEC_ELF_SHT_PROGBITS || t == ESPSEC_ELF_SHT_INIT_ARRAY || t == ESPSEC_ELF_SHT_FINI_ARRAY ||
           t == ESPSEC_ELF_SHT_PREINIT_ARRAY;
}

/* The bytes [off, off+size) of the file, or NULL when they are not all there. */
static const uint8_t *span(const uint8_t *buf, size_t len, uint32_t off, uint32_t size)
{
    if (off > len || size > len - off) {
        return NULL;
    }
    return buf + off;
}

/* esptool's warnings name a section type as Python's {:#04x} does. */
static void warn_type(espsec_elf_warn_fn warn, void *ctx, const char *what, uint32_t type)
{
    if (warn != NULL) {
        char msg[96];
        snprintf(msg, sizeof(msg), what[0] == 'U' ? "%s 0x%02x in ELF file" : "%s 0x%02x", what, type);
        warn(ctx, msg);
    }
}

static espsec_err_t read_sections(const uint8_t *buf, size_t len, uint32_t shoff, uint16_t shnum, uint16_t shstrndx,
                                  espsec_elf_t *elf, espsec_elf_warn_fn warn, void *warn_ctx, espsec_error_t *err)
{
    size_t table_len = (size_t)shnum * SH_LEN;
    if (shoff >= len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "no section header found at offset 0x%x (the file is 0x%zx bytes)",
                           shoff, len);
    }
    if (table_len > len - shoff) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "only 0x%zx bytes of the section header table at offset 0x%x are in the file "
                           "(expected 0x%zx); truncated ELF file?",
                           len - shoff, shoff, table_len);
    }
    const uint8_t *sh = buf + shoff;
    if (shstrndx >= shnum) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "ELF file has no STRTAB section at shstrndx %u (%u sections)",
                           shstrndx, shnum);
    }
    const uint8_t *str = sh + (size_t)shstrndx * SH_LEN;
    if (get_le32(str + SH_TYPE) != ESPSEC_ELF_SHT_STRTAB) {
        warn_type(warn, warn_ctx, "ELF file has incorrect STRTAB section type", get_le32(str + SH_TYPE));
    }
    /* Like esptool, take what is there of the string table; a name that is
     * not inside it (NUL-terminated) is an error below. */
    uint32_t str_off = get_le32(str + SH_OFFSET), str_size = get_le32(str + SH_SIZE);
    size_t strtab_len = 0;
    const uint8_t *strtab = NULL;
    if (str_off < len) {
        strtab = buf + str_off;
        strtab_len = len - str_off < str_size ? len - str_off : str_size;
    }

    elf->sections = calloc(shnum, sizeof(*elf->sections));
    if (elf->sections == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for %u ELF sections", shnum);
    }
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *h = sh + (size_t)i * SH_LEN;
        uint32_t type = get_le32(h + SH_TYPE), addr = get_le32(h + SH_ADDR), size = get_le32(h + SH_SIZE);
        if (addr == 0 || size == 0) {
            continue;
        }
        if (!is_prog_type(type) && type != ESPSEC_ELF_SHT_NOBITS && type != ESPSEC_ELF_SHT_STRTAB) {
            warn_type(warn, warn_ctx, "Unknown section type", type);
            continue;
        }
        if (type == ESPSEC_ELF_SHT_STRTAB) {
            continue; /* string tables carry nothing into an image */
        }
        uint32_t name_off = get_le32(h + SH_NAME);
        const uint8_t *nul = NULL;
        if (name_off < strtab_len) {
            nul = memchr(strtab + name_off, 0, strtab_len - name_off);
        }
        if (nul == NULL) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "section %u (header at offset 0x%zx): name offset 0x%x is not a string in the "
                               "section-name table (0x%zx bytes)",
                               i, (size_t)shoff + (size_t)i * SH_LEN, name_off, strtab_len);
        }
        if (type == ESPSEC_ELF_SHT_NOBITS) {
            continue; /* .bss and the like: named, but no contents */
        }
        uint32_t off = get_le32(h + SH_OFFSET);
        const uint8_t *data = span(buf, len, off, size);
        if (data == NULL) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "section %u '%s': 0x%x bytes at offset 0x%x run past the end of the file "
                               "(0x%zx bytes); truncated ELF file?",
                               i, (const char *)(strtab + name_off), size, off, len);
        }
        espsec_elf_section_t *s = &elf->sections[elf->nsections++];
        s->name = (const char *)(strtab + name_off);
        s->addr = addr;
        s->size = size;
        s->data = data;
        s->align = get_le32(h + SH_ADDRALIGN);
        s->flags = get_le32(h + SH_FLAGS);
    }
    return ESPSEC_OK;
}

static espsec_err_t read_segments(const uint8_t *buf, size_t len, uint32_t phoff, uint16_t phnum, espsec_elf_t *elf,
                                  espsec_error_t *err)
{
    if (phnum == 0) {
        return ESPSEC_OK;
    }
    size_t table_len = (size_t)phnum * PH_LEN;
    if (phoff >= len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "no segment header found at offset 0x%x (the file is 0x%zx bytes)",
                           phoff, len);
    }
    if (table_len > len - phoff) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "only 0x%zx bytes of the program header table at offset 0x%x are in the file "
                           "(expected 0x%zx); truncated ELF file?",
                           len - phoff, phoff, table_len);
    }
    elf->segments = calloc(phnum, sizeof(*elf->segments));
    if (elf->segments == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory for %u ELF segments", phnum);
    }
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *h = buf + phoff + (size_t)i * PH_LEN;
        uint32_t addr = get_le32(h + PH_PADDR), size = get_le32(h + PH_FILESZ), off = get_le32(h + PH_OFFSET);
        if (get_le32(h + PH_TYPE) != PT_LOAD || addr == 0 || size == 0) {
            continue;
        }
        const uint8_t *data = span(buf, len, off, size);
        if (data == NULL) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "program header %u: 0x%x bytes at offset 0x%x run past the end of the file "
                               "(0x%zx bytes); truncated ELF file?",
                               i, size, off, len);
        }
        espsec_elf_section_t *s = &elf->segments[elf->nsegments++];
        s->name = "PHDR";
        s->addr = addr;
        s->size = size;
        s->data = data;
        s->align = get_le32(h + PH_ALIGN);
        s->flags = get_le32(h + PH_FLAGS);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_elf_parse(const uint8_t *buf, size_t len, espsec_elf_t *elf, espsec_elf_warn_fn warn,
                              void *warn_ctx, espsec_error_t *err)
{
    memset(elf, 0, sizeof(*elf));
    if (len < EH_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "does not have a valid ELF header (0x%zx bytes, the header alone is 0x%x)", len, EH_LEN);
    }
    if (buf[EH_IDENT] != 0x7F || memcmp(buf + EH_IDENT + 1, "ELF", 3) != 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "has invalid ELF magic header (not an ELF file)");
    }
    elf->machine = get_le16(buf + EH_MACHINE);
    if (elf->machine != ESPSEC_ELF_MACHINE_XTENSA && elf->machine != ESPSEC_ELF_MACHINE_RISCV) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "does not appear to be an Xtensa or an RISCV ELF image. (e_machine = 0x%04x)",
                           elf->machine);
    }
    uint16_t shentsize = get_le16(buf + EH_SHENTSIZE), shnum = get_le16(buf + EH_SHNUM);
    if (shentsize != SH_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "has unexpected section header entry size 0x%x (not 0x%x)",
                           shentsize, SH_LEN);
    }
    if (shnum == 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "has 0 section headers");
    }
    elf->entry = get_le32(buf + EH_ENTRY);
    espsec_err_t rc = read_sections(buf, len, get_le32(buf + EH_SHOFF), shnum, get_le16(buf + EH_SHSTRNDX), elf,
                                    warn, warn_ctx, err);
    if (rc == ESPSEC_OK) {
        rc = read_segments(buf, len, get_le32(buf + EH_PHOFF), get_le16(buf + EH_PHNUM), elf, err);
    }
    if (rc != ESPSEC_OK) {
        espsec_elf_free(elf);
    }
    return rc;
}

void espsec_elf_free(espsec_elf_t *elf)
{
    if (elf == NULL) {
        return;
    }
    free(elf->sections);
    free(elf->segments);
    memset(elf, 0, sizeof(*elf));
}
