/* CRC32C, reflected polynomial 0x82f63b78. The tables are built on first use (pthread_once: a
 * constructor cost every process linking this, minisupctl included, 97k instructions it mostly
 * never needed); the x86-64 CRC32 instruction is used when the CPU has SSE 4.2, and
 * gives the same results as the tables, byte for byte. */
#include "crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY 0x82f63b78u

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_HW 1
#else
#define HAVE_HW 0
#endif

/* Slicing-by-8: table[k][b] is the CRC of byte b followed by k zero bytes. */
static uint32_t table[8][256];
static bool use_hw;

static uint32_t crc_sw(uint32_t c, const unsigned char *p, size_t n)
{
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        /* Bytes are assembled one by one, so this is right on any byte order. */
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        uint32_t hi =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
            table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if HAVE_HW
/* The instruction has a latency of 3 cycles and a throughput of 1, so three independent streams
 * run three times as fast as one. Lines are short, so the streams are short: three blocks of
 * STREAM_BLOCK bytes, whose CRCs are joined with the "append STREAM_BLOCK zero bytes" operator
 * (CRC is linear: crc(a || b) = shift(crc(a)) ^ crc(b) on the raw register), as in Mark Adler's
 * crc32c.c. */
#define STREAM_BLOCK 64
static uint32_t shift_table[4][256];

static void init_shift(void)
{
    static const unsigned char zeros[STREAM_BLOCK];
    uint32_t bit[32];

    for (int b = 0; b < 32; b++)
        bit[b] = crc_sw(1u << b, zeros, sizeof(zeros));
    for (int k = 0; k < 4; k++) {
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t x = 0;

            for (int b = 0; b < 8; b++)
                if (v & (1u << b))
                    x ^= bit[8 * k + b];
            shift_table[k][v] = x;
        }
    }
}

static inline uint32_t shift(uint32_t c)
{
    return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^
           shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const unsigned char *p,
                                                         size_t n)
{
    uint64_t c0;

    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = __builtin_ia32_crc32qi(c, *p++);
        n--;
    }
    c0 = c;
    while (n >= 3 * STREAM_BLOCK) {
        uint64_t c1 = 0, c2 = 0;

        for (size_t i = 0; i < STREAM_BLOCK; i += 8) {
            uint64_t v0, v1, v2;

            memcpy(&v0, p + i, 8);
            memcpy(&v1, p + STREAM_BLOCK + i, 8);
            memcpy(&v2, p + 2 * STREAM_BLOCK + i, 8);
            c0 = __builtin_ia32_crc32di(c0, v0);
            c1 = __builtin_ia32_crc32di(c1, v1);
            c2 = __builtin_ia32_crc32di(c2, v2);
        }
        c0 = shift((uint32_t)c0) ^ (uint32_t)c1;
        c0 = shift((uint32_t)c0) ^ (uint32_t)c2;
        p += 3 * STREAM_BLOCK;
        n -= 3 * STREAM_BLOCK;
    }
    while (n >= 8) {
        uint64_t v;

        memcpy(&v, p, sizeof(v));
        c0 = __builtin_ia32_crc32di(c0, v);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c0;
    while (n-- > 0)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
#if HAVE_HW
    init_shift();
    /* Harmless when libgcc has probed already; needed if this ever runs from a constructor. */
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t c = ~crc;

    pthread_once(&init_once, crc32c_init);
#if HAVE_HW
    if (use_hw)
        return ~crc_hw(c, p, len);
#endif
    return ~crc_sw(c, p, len);
}

uint32_t crc32c(const void *buf, size_t len)
{
    return crc32c_update(0, buf, len);
}

void crc32c_force_software(bool on)
{
    pthread_once(&init_once, crc32c_init);
#if HAVE_HW
    static bool hw_present;
    static bool probed;

    if (!probed) {
        hw_present = use_hw;
        probed = true;
    }
    use_hw = on ? false : hw_present;
#else
    (void)on;
#endif
}
