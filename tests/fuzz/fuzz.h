/* Shared by the libFuzzer harnesses in tests/fuzz: property checks that abort with a message, so
 * that libFuzzer saves the input as a crash (a property violation is a finding like any other),
 * and small helpers. Header-only: each harness is one translation unit plus the shared sources. */
#ifndef MINISUP_FUZZ_H
#define MINISUP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks a property; on violation prints what and where, then aborts (a libFuzzer finding). */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\nPROPERTY VIOLATED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* FUZZ_IGNORE_KNOWN (scripts/fuzz --ignore-known) stops checking the properties that known, still
 * open findings break (docs/fuzzing.md, "Findings"), so that a search can go on past them. CI
 * never sets it: an open finding fails the run through its file in tests/fuzz/regressions/. Each
 * use names its finding; remove it when the finding is fixed. */
#ifdef FUZZ_IGNORE_KNOWN
#define FUZZ_KNOWN(id, cond) (cond)
#else
#define FUZZ_KNOWN(id, cond) ((void)(id), 0)
#endif

/* Aborts on out-of-memory in the harness itself (not a finding about the code under test). */
static inline void *fuzz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        abort();
    return p;
}

/* A NUL-terminated copy of the input (stops at the first NUL byte, as a C string would). */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = fuzz_xmalloc(size + 1);

    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Prints a byte string with C escapes, for violation messages. */
static inline void fuzz_dump(const char *label, const char *s, size_t n)
{
    fprintf(stderr, "  %s (%zu bytes): \"", label, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputs("\"\n", stderr);
}

#endif
