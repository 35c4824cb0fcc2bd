/*
 * Reed-Solomon RS(44,32) encoder of the ESP32-C3 eFuse key blocks: 12 check
 * bytes over GF(2^8) with the primitive polynomial x^8+x^4+x^3+x^2+1 (0x11d),
 * generator polynomial with roots 2^0 ... 2^11, systematic (data then check).
 */
#include <string.h>

#include "efuse/efuse_chip.h"

#define NSYM 12

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1) {
            r ^= a;
        }
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1D : 0));
        b >>= 1;
    }
    return r;
}

void efuse_rs_encode(const uint8_t data[32], uint8_t check[12])
{
    /* generator polynomial, highest degree first: g = prod (x - 2^i) */
    uint8_t g[NSYM + 1] = {1};
    size_t glen = 1;
    uint8_t root = 1;
    for (int i = 0; i < NSYM; i++) {
        uint8_t next[NSYM + 1] = {0};
        for (size_t j = 0; j < glen; j++) {
            next[j] ^= g[j];                    /* g * x */
            next[j + 1] ^= gf_mul(g[j], root);  /* g * root (minus is plus) */
        }
        glen++;
        memcpy(g, next, glen);
        root = gf_mul(root, 2);
    }
    /* remainder of data * x^12 divided by g */
    uint8_t buf[32 + NSYM];
    memcpy(buf, data, 32);
    memset(buf + 32, 0, NSYM);
    for (size_t i = 0; i < 32; i++) {
        uint8_t coef = buf[i];
        if (coef != 0) {
            for (size_t j = 1; j < glen; j++) {
                buf[i + j] ^= gf_mul(g[j], coef);
            }
        }
    }
    memcpy(check, buf + 32, NSYM);
}
