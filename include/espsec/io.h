/*
 * espsec/io.h — the file edge: whole-file reads and atomic writes.
 *
 * Outputs are never written in place: data goes to a temporary file in the
 * destination's directory, is flushed to disk, then renamed over the target,
 * so a reader sees the old file or the complete new one, never a half file.
 * Failures name the file and the system's reason.
 */
#ifndef ESPSEC_IO_H
#define ESPSEC_IO_H

#include <stdint.h>
#include <stdio.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** File mode for secrets (key files). */
#define ESPSEC_MODE_SECRET 0600
/** File mode for ordinary outputs (before umask). */
#define ESPSEC_MODE_PUBLIC 0644

/**
 * Read a whole file ("-" is standard input) into a fresh malloc'd buffer
 * (one extra NUL byte is appended, not counted in *len). Refuses files above
 * max_len bytes (0 = no limit). Caller frees (espsec_free_secret for keys).
 */
espsec_err_t espsec_read_file(const char *path, uint8_t **data, size_t *len, size_t max_len,
                              espsec_error_t *err);

/** Write len bytes to path atomically with the given mode ("-" is stdout). */
espsec_err_t espsec_write_file(const char *path, const void *data, size_t len, unsigned mode,
                               espsec_error_t *err);

/**
 * Write a secret (key) file: mode 0600, atomically, and refuse to replace an
 * existing file unless overwrite is set (a lost key cannot be regenerated).
 * The refusal is part of the final step (renameat2 RENAME_NOREPLACE, or
 * link() where the file system lacks it), so a file created meanwhile by
 * someone else is never replaced either.
 */
espsec_err_t espsec_write_secret_file(const char *path, const void *data, size_t len,
                                      int overwrite, espsec_error_t *err);

/**
 * Create path with data, atomically and never replacing anything: the data
 * goes to a temporary file that is then hard-linked to path, which fails
 * with ESPSEC_ERR_EXISTS when path exists. sync = 0 skips the per-file
 * fsync (for batches that sync the file system once at the end).
 */
espsec_err_t espsec_write_new_file(const char *path, const void *data, size_t len, unsigned mode, int sync,
                                   espsec_error_t *err);

/** 1 if path names an existing file or directory. */
int espsec_path_exists(const char *path);

/** 1 if both paths name the same existing file (same device and inode). */
int espsec_same_file(const char *a, const char *b);

/**
 * A streaming atomic writer for outputs too large to hold in memory. The
 * data goes to a temporary file next to path, which commit syncs and renames
 * into place, then syncs the directory. Replacing an existing file keeps
 * that file's permission bits (a 0600 plaintext stays 0600 after an in-place
 * edit); a secret is never more open than 0600.
 */
typedef struct espsec_out_file {
    FILE *fp;
    char *tmp_path;
    char *path;
    unsigned mode;
    int is_stdout;
    int no_replace; /* commit fails with ESPSEC_ERR_EXISTS when path exists */
} espsec_out_file_t;

espsec_err_t espsec_out_open(espsec_out_file_t *out, const char *path, unsigned mode,
                             espsec_error_t *err);
/** As espsec_out_open; the commit never replaces an existing path (for keys). */
espsec_err_t espsec_out_open_new(espsec_out_file_t *out, const char *path, unsigned mode,
                                 espsec_error_t *err);
espsec_err_t espsec_out_write(espsec_out_file_t *out, const void *data, size_t len,
                              espsec_error_t *err);
/** Flush, sync, rename into place and sync the directory. */
espsec_err_t espsec_out_commit(espsec_out_file_t *out, espsec_error_t *err);
/** Discard the temporary file (safe to call after commit or on a zeroed struct). */
void espsec_out_abort(espsec_out_file_t *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
