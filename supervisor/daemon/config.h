/* minisupd's own configuration file (INI, read with inih): the journald.conf(5) analogues in
 * [Journal]. Sizes are systemd sizes (values.h parse_size(), base 1024), times systemd time
 * spans. Errors name the file and line; a bad value is refused, the rest is still read. */
#ifndef MINISUP_CONFIG_H
#define MINISUP_CONFIG_H

#include <stdint.h>

#include "journal.h"

/* Reads path into *opts (fields the file does not set are left as they are). Returns 0, the
 * number of bad lines (> 0, each reported on stderr as "file:line: message"), or a negative
 * errno when the file cannot be read. */
int config_load(const char *path, struct journal_options *opts);

#endif
