/* The image group's commands that live in their own files. */
#ifndef ESPSEC_CLI_IMAGE_H
#define ESPSEC_CLI_IMAGE_H

#include "cli.h"

/* espsec image elf2image (esptool elf2image). */
int cli_image_elf2image(cli_args_t *a);
extern const cli_opt_t CLI_ELF2IMAGE_OPTS[];
extern const cli_pos_t CLI_ELF2IMAGE_POS[];

#endif
