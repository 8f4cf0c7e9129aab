/* Offline verification of unit files, for `minisupd --verify -d DIR` and `minisupctl verify
 * FILE...`: load each file as minisupd would, print every diagnostic as "file:line: message",
 * and check what needs more than one file (a .socket's service exists). No daemon needed. */
#ifndef MINISUP_UNIT_VERIFY_H
#define MINISUP_UNIT_VERIFY_H

#include <stddef.h>
#include <stdio.h>

struct unit_load_context;

/* Verifies the given unit files; diagnostics go to out. Returns the number of units that failed
 * to load (0 = all good; a masked unit, "Unit x is masked.", counts as failed, as
 * systemd-analyze verify refuses one), or a negative errno. */
int unit_verify_files(char *const *paths, size_t n, const struct unit_load_context *ctx, FILE *out);

/* Verifies every unit file (*.service, *.socket; templates as their test instance) in dir. A
 * masked unit there is reported and not counted, as daemon-reload does not count it. */
int unit_verify_directory(const char *dir, const struct unit_load_context *ctx, FILE *out);

#endif
