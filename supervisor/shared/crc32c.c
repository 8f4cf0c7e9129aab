/* CRC32C, reflected polynomial 0x82f63b78. The tables are built on first use (pthread_once: a
 * constructor cost every process linking this, minisupctl included, 97k instructions it mostly
 * never needed); the x86-64 CRC32 instruction is used when the CPU has SSE 4.2 (checked at run
 * time), and gives the same results as the tables, byte for byte. Long buffers run three
 * streams of one buffer at once; short ones (journal lines) three buffers at once. */
#include "crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY 0x82f63b78u

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_HW 1
/* glibc (2.33 and later) tells what it found at start-up. Elsewhere (musl: minisupctl) the CPU
 * is asked here, on first use. Never libgcc's __builtin_cpu_supports(): it links in a
 * constructor that asks the CPU in every process, and CPUID traps to the hypervisor in a VM
 * (a quarter of minisupctl's start on the benchmark machine). */
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#define cpu_has_sse42() CPU_FEATURE_ACTIVE(SSE4_2)
#else
#include <cpuid.h>
static bool cpu_has_sse42(void)
{
    unsigned a, b, c, d;

    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}
#endif
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

#if HAVE_HW && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HAVE_HOLED_HW 1
/* The 8 bytes at offset o of a holed buffer's data (the buffer without its hole); o + 8 must not
 * pass its data length. A word that spans the hole takes its low bytes before the hole and its
 * high bytes after it (little-endian). */
static inline uint64_t holed_word(const unsigned char *p, size_t hole, size_t o)
{
    uint64_t a, b, mask;

    if (o + 8 <= hole) {
        memcpy(&a, p + o, 8);
        return a;
    }
    memcpy(&b, p + o + 8, 8);
    if (o >= hole)
        return b;
    memcpy(&a, p + o, 8);
    mask = (1ULL << (8 * (hole - o))) - 1;
    return (a & mask) | (b & ~mask);
}

static inline unsigned char holed_byte(const unsigned char *p, size_t hole, size_t i)
{
    return i < hole ? p[i] : p[i + 8];
}

/* The rest of one holed buffer from data offset o, one stream. */
__attribute__((target("sse4.2"))) static uint32_t holed_finish(uint64_t c, const unsigned char *p,
                                                               size_t hole, size_t o, size_t n)
{
    for (; o + 8 <= n; o += 8)
        c = __builtin_ia32_crc32di(c, holed_word(p, hole, o));
    for (; o < n; o++)
        c = __builtin_ia32_crc32qi((uint32_t)c, holed_byte(p, hole, o));
    return (uint32_t)c;
}

/* Three holed buffers in step (three streams in flight), then each one's rest. The words before
 * every hole and after every hole are loaded directly; only the few that meet a hole are
 * assembled. */
__attribute__((target("sse4.2"))) static void holed_hw3(const struct crc32c_holed_buf *b,
                                                        uint32_t *ret)
{
    const unsigned char *p0 = b[0].buf, *p1 = b[1].buf, *p2 = b[2].buf;
    size_t h0 = b[0].hole, h1 = b[1].hole, h2 = b[2].hole;
    size_t n0 = b[0].len - 8, n1 = b[1].len - 8, n2 = b[2].len - 8;
    size_t m = n0 < n1 ? n0 : n1, hmin = h0 < h1 ? h0 : h1, hmax = h0 > h1 ? h0 : h1, o = 0;
    uint64_t c0 = 0xffffffffu, c1 = 0xffffffffu, c2 = 0xffffffffu, v0, v1, v2;

    m = m < n2 ? m : n2;
    hmin = hmin < h2 ? hmin : h2;
    hmax = hmax > h2 ? hmax : h2;
    for (; o + 8 <= hmin && o + 8 <= m; o += 8) {
        memcpy(&v0, p0 + o, 8);
        memcpy(&v1, p1 + o, 8);
        memcpy(&v2, p2 + o, 8);
        c0 = __builtin_ia32_crc32di(c0, v0);
        c1 = __builtin_ia32_crc32di(c1, v1);
        c2 = __builtin_ia32_crc32di(c2, v2);
    }
    for (; o < hmax && o + 8 <= m; o += 8) {
        c0 = __builtin_ia32_crc32di(c0, holed_word(p0, h0, o));
        c1 = __builtin_ia32_crc32di(c1, holed_word(p1, h1, o));
        c2 = __builtin_ia32_crc32di(c2, holed_word(p2, h2, o));
    }
    for (; o + 8 <= m; o += 8) {
        memcpy(&v0, p0 + o + 8, 8);
        memcpy(&v1, p1 + o + 8, 8);
        memcpy(&v2, p2 + o + 8, 8);
        c0 = __builtin_ia32_crc32di(c0, v0);
        c1 = __builtin_ia32_crc32di(c1, v1);
        c2 = __builtin_ia32_crc32di(c2, v2);
    }
    ret[0] = ~holed_finish(c0, p0, h0, o, n0);
    ret[1] = ~holed_finish(c1, p1, h1, o, n1);
    ret[2] = ~holed_finish(c2, p2, h2, o, n2);
}
#else
#define HAVE_HOLED_HW 0
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
    use_hw = cpu_has_sse42();
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

void crc32c_holed(const struct crc32c_holed_buf *bufs, size_t n, uint32_t *ret)
{
    size_t i = 0;

    pthread_once(&init_once, crc32c_init);
#if HAVE_HOLED_HW
    if (use_hw)
        for (; i + 3 <= n; i += 3)
            holed_hw3(bufs + i, ret + i);
#endif
    for (; i < n; i++) {
        const char *p = bufs[i].buf;
        size_t h = bufs[i].hole;

        ret[i] = crc32c_update(crc32c_update(0, p, h), p + h + 8, bufs[i].len - h - 8);
    }
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

bool crc32c_uses_hardware(void)
{
    pthread_once(&init_once, crc32c_init);
#if HAVE_HW
    return use_hw;
#else
    return false;
#endif
}
