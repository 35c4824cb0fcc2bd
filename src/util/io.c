/* The file edge (espsec/io.h). */
#include "espsec/io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

espsec_err_t espsec_read_file(const char *path, uint8_t **data, size_t *len, size_t max_len,
                              espsec_error_t *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        return espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap + 1);
    espsec_err_t rc = ESPSEC_OK;
    if (buf == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
        goto done;
    }
    for (;;) {
        if (n == cap) {
            if (max_len && cap >= max_len + 1) {
                break;
            }
            size_t ncap = cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: read failed: %s", path, strerror(errno));
                goto done;
            }
            break;
        }
    }
    if (max_len && n > max_len) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: file larger than the %zu bytes allowed",
                         path, max_len);
        goto done;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    buf = NULL;
done:
    free(buf);
    if (!is_stdin) {
        (void)fclose(fp);
    }
    return rc;
}

int espsec_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int espsec_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) {
        return 0;
    }
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * The permission bits a new output gets: an existing regular file keeps its
 * own (an in-place rewrite must not widen a 0600 file); otherwise secrets are
 * 0600 whatever the umask and public files honour the umask. A secret is
 * never more open than 0600.
 */
static mode_t output_mode(const char *path, unsigned mode)
{
    struct stat st;
    mode_t eff;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        eff = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        eff = (mode == ESPSEC_MODE_SECRET) ? (mode_t)mode : ((mode_t)mode & ~mask);
    }
    if (mode == ESPSEC_MODE_SECRET) {
        eff &= ESPSEC_MODE_SECRET;
    }
    return eff;
}

/* fsync the directory holding path, so a rename or link survives a power cut. */
static espsec_err_t sync_parent_dir(const char *path, espsec_error_t *err)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
    }
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    espsec_err_t rc = ESPSEC_OK;
    /* EINVAL/EROFS: a file system that cannot sync directories (nothing more to do there). */
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot sync its directory: %s", path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    free(copy);
    return rc;
}

/*
 * Move tmp to path without ever replacing an existing path: renameat2 with
 * RENAME_NOREPLACE, or link + unlink where the file system lacks it.
 */
static int rename_noreplace(const char *tmp, const char *path)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
        return -1;
    }
    if (link(tmp, path) != 0) {
        return -1;
    }
    unlink(tmp);
    return 0;
}

/* Is name ".BASE.XXXXXX" (mkstemp's six letters or digits), our temporary for base? */
static int is_our_temp(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (strlen(name) != bl + 8 || name[0] != '.' || strncmp(name + 1, base, bl) != 0 || name[bl + 1] != '.') {
        return 0;
    }
    for (size_t i = bl + 2; i < bl + 8; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }
    return 1;
}

/*
 * Remove what a killed writer left of an earlier write to path: ".BASE.XXXXXX"
 * files in its directory that are regular, ours (same owner), and not locked.
 * A live writer holds an flock on its temporary until the rename, so only
 * the leftovers of a dead one (kill -9, power loss) go. Best effort: errors
 * are ignored, the write goes on.
 */
static void remove_stale_temps(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char dir[4096];
    if (slash == path) {
        snprintf(dir, sizeof(dir), "/");
    } else if (slash != NULL) {
        if ((size_t)(slash - path) >= sizeof(dir)) {
            return;
        }
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    } else {
        snprintf(dir, sizeof(dir), ".");
    }
    if (base[0] == '\0') {
        return;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return;
    }
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_our_temp(e->d_name, base)) {
            continue;
        }
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
            flock(fd, LOCK_EX | LOCK_NB) == 0) {
            (void)unlinkat(dfd, e->d_name, 0);
        }
        close(fd); /* drops the lock */
    }
    closedir(d);
}

espsec_err_t espsec_out_open_new(espsec_out_file_t *out, const char *path, unsigned mode,
                                 espsec_error_t *err)
{
    espsec_err_t rc = espsec_out_open(out, path, mode, err);
    out->no_replace = 1;
    return rc;
}

espsec_err_t espsec_out_open(espsec_out_file_t *out, const char *path, unsigned mode,
                             espsec_error_t *err)
{
    memset(out, 0, sizeof(*out));
    out->mode = mode;
    if (strcmp(path, "-") == 0) {
        out->is_stdout = 1;
        out->fp = stdout;
        return ESPSEC_OK;
    }
    out->path = strdup(path);
    char *dircopy = strdup(path);
    char *basecopy = strdup(path);
    if (out->path == NULL || dircopy == NULL || basecopy == NULL) {
        free(dircopy);
        free(basecopy);
        espsec_out_abort(out);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
    }
    const char *dir = dirname(dircopy);
    const char *base = basename(basecopy);
    size_t tlen = strlen(dir) + strlen(base) + 32;
    out->tmp_path = malloc(tlen);
    if (out->tmp_path == NULL) {
        free(dircopy);
        free(basecopy);
        espsec_out_abort(out);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
    }
    snprintf(out->tmp_path, tlen, "%s/.%s.XXXXXX", dir, base);
    free(dircopy);
    free(basecopy);
    remove_stale_temps(path);
    int fd = mkostemp(out->tmp_path, O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot lock the temporary file: %s", path,
                                      strerror(errno));
        close(fd);
        espsec_out_abort(out);
        return rc;
    }
    if (fd < 0) {
        espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot create output: %s", path,
                                      strerror(errno));
        free(out->tmp_path);
        out->tmp_path = NULL;
        espsec_out_abort(out);
        return rc;
    }
    if (fchmod(fd, output_mode(path, mode)) != 0) {
        close(fd);
        espsec_out_abort(out);
        return espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot set mode: %s", path, strerror(errno));
    }
    out->fp = fdopen(fd, "wb");
    if (out->fp == NULL) {
        close(fd);
        espsec_out_abort(out);
        return espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot open output", path);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_out_write(espsec_out_file_t *out, const void *data, size_t len,
                              espsec_error_t *err)
{
    if (len > 0 && fwrite(data, 1, len, out->fp) != len) {
        return espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s",
                           out->is_stdout ? "<stdout>" : out->path, strerror(errno));
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_out_commit(espsec_out_file_t *out, espsec_error_t *err)
{
    if (out->is_stdout) {
        out->fp = NULL;
        return fflush(stdout) == 0 ? ESPSEC_OK
                                   : espsec_fail(err, ESPSEC_ERR_IO, "<stdout>: write failed");
    }
    espsec_err_t rc = ESPSEC_OK;
    if (fflush(out->fp) != 0 || fsync(fileno(out->fp)) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s", out->path, strerror(errno));
    }
    if (fclose(out->fp) != 0 && rc == ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s", out->path, strerror(errno));
    }
    out->fp = NULL;
    if (rc == ESPSEC_OK && out->no_replace && rename_noreplace(out->tmp_path, out->path) != 0) {
        rc = errno == EEXIST ? espsec_fail(err, ESPSEC_ERR_EXISTS,
                                           "%s: key file already exists; refusing to overwrite a key", out->path)
                             : espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot create: %s", out->path, strerror(errno));
    } else if (rc == ESPSEC_OK && !out->no_replace && rename(out->tmp_path, out->path) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot rename into place: %s", out->path,
                         strerror(errno));
    }
    if (rc == ESPSEC_OK) {
        rc = sync_parent_dir(out->path, err);
    }
    if (rc == ESPSEC_OK) {
        free(out->tmp_path);
        out->tmp_path = NULL;
    }
    espsec_out_abort(out);
    return rc;
}

void espsec_out_abort(espsec_out_file_t *out)
{
    if (out->fp != NULL && !out->is_stdout) {
        (void)fclose(out->fp);
    }
    out->fp = NULL;
    if (out->tmp_path != NULL) {
        unlink(out->tmp_path);
        free(out->tmp_path);
        out->tmp_path = NULL;
    }
    free(out->path);
    out->path = NULL;
}

espsec_err_t espsec_write_file(const char *path, const void *data, size_t len, unsigned mode,
                               espsec_error_t *err)
{
    espsec_out_file_t out;
    espsec_err_t rc = espsec_out_open(&out, path, mode, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_out_write(&out, data, len, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_out_commit(&out, err);
    } else {
        espsec_out_abort(&out);
    }
    return rc;
}

espsec_err_t espsec_write_secret_file(const char *path, const void *data, size_t len,
                                      int overwrite, espsec_error_t *err)
{
    espsec_out_file_t out;
    espsec_err_t rc = overwrite ? espsec_out_open(&out, path, ESPSEC_MODE_SECRET, err)
                                : espsec_out_open_new(&out, path, ESPSEC_MODE_SECRET, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_out_write(&out, data, len, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_out_commit(&out, err);
    } else {
        espsec_out_abort(&out);
    }
    return rc;
}

espsec_err_t espsec_write_new_file(const char *path, const void *data, size_t len, unsigned mode, int sync,
                                   espsec_error_t *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (tmp == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "%s: out of memory", path);
    }
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(tmp, pl + 16, "%.*s.%s.XXXXXX", (int)dl, path, path + dl);
    remove_stale_temps(path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot create output: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    espsec_err_t rc = ESPSEC_OK;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot lock the temporary file: %s", path, strerror(errno));
    }
    if (fchmod(fd, output_mode(path, mode)) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot set mode: %s", path, strerror(errno));
    }
    const uint8_t *p = data;
    for (size_t off = 0; rc == ESPSEC_OK && off < len;) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (rc == ESPSEC_OK && sync && fsync(fd) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    if (rc == ESPSEC_OK) {
        int lr = link(tmp, path);
        if (lr != 0) {
            rc = errno == EEXIST ? espsec_fail(err, ESPSEC_ERR_EXISTS, "%s: already exists; not replaced", path)
                                 : espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        }
    }
    if (close(fd) != 0 && rc == ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    if (rc == ESPSEC_OK && sync) {
        rc = sync_parent_dir(path, err);
    }
    unlink(tmp);
    free(tmp);
    return rc;
}
