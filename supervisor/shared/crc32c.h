/* CRC32C (Castagnoli, the polynomial of iSCSI, ext4 and btrfs metadata): the checksum of journal
 * lines. Table-driven (slicing-by-8), with the SSE 4.2 instruction on x86-64 when the CPU has it.
 * No state, no allocation, safe from any thread. */
#ifndef MINISUP_CRC32C_H
#define MINISUP_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Continues a checksum: crc32c_update(crc32c_update(0, a, n), b, m) == crc32c of a then b.
 * Start with 0. The pre- and post-inversion is done inside, as zlib's crc32() does. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

/* The checksum of one buffer; crc32c("123456789", 9) == 0xe3069283. */
uint32_t crc32c(const void *buf, size_t len);

/* One buffer for crc32c_holed(): the checksum of buf[0..len) leaving out the 8 bytes at
 * buf[hole..hole+8) (hole + 8 <= len), i.e. crc32c_update(crc32c(buf, hole), buf + hole + 8,
 * len - hole - 8). A journal line's checksum leaves out its own eight digits. */
struct crc32c_holed_buf {
    const void *buf;
    size_t len, hole;
};

/* The checksums of n such buffers into ret[0..n). Several are computed at once, so that the
 * CPU instruction's latency is hidden across lines that are each too short to split. */
void crc32c_holed(const struct crc32c_holed_buf *bufs, size_t n, uint32_t *ret);

/* For tests: use the tables even when the CPU instruction is there (on), or go back (off).
 * Not thread-safe; the results are the same either way. */
void crc32c_force_software(bool on);

/* Whether the CPU instruction is in use (tests: the run-time check finds what the kernel sees). */
bool crc32c_uses_hardware(void);

#endif
