/* A small streaming JSON writer for --json / --format json outputs. */
#ifndef ESPSEC_CLI_JSON_H
#define ESPSEC_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    int depth;
    int count[32]; /* members written at each depth */
} json_t;

void json_init(json_t *j, FILE *f);
/* key is NULL inside arrays and for the top level */
void json_obj(json_t *j, const char *key);
void json_obj_end(json_t *j);
void json_arr(json_t *j, const char *key);
void json_arr_end(json_t *j);
void json_str(json_t *j, const char *key, const char *val);
void json_strn(json_t *j, const char *key, const char *val, size_t n);
void json_int(json_t *j, const char *key, long long val);
void json_uint(json_t *j, const char *key, unsigned long long val);
void json_bool(json_t *j, const char *key, int val);
void json_null(json_t *j, const char *key);
void json_hex(json_t *j, const char *key, const uint8_t *buf, size_t n);
/* finish with a newline */
void json_end(json_t *j);

#endif
