/* Condition*= and Assert*= of systemd.unit(5): the checks minisup can make without cgroups,
 * firmware or credentials (paths, host, kernel command line, environment, user, group). Others
 * load with an "Unsupported key" warning. This header is what the parser and minisupctl need;
 * minisupd tests conditions with condition_check.h. */
#ifndef MINISUP_CONDITION_H
#define MINISUP_CONDITION_H

#include <stdbool.h>
#include <stddef.h>

enum condition_type {
    CONDITION_PATH_EXISTS,
    CONDITION_PATH_EXISTS_GLOB,
    CONDITION_PATH_IS_DIRECTORY,
    CONDITION_PATH_IS_SYMBOLIC_LINK,
    CONDITION_PATH_IS_MOUNT_POINT,
    CONDITION_PATH_IS_READ_WRITE,
    CONDITION_DIRECTORY_NOT_EMPTY,
    CONDITION_FILE_NOT_EMPTY,
    CONDITION_FILE_IS_EXECUTABLE,
    CONDITION_HOST,
    CONDITION_KERNEL_COMMAND_LINE,
    CONDITION_ENVIRONMENT,
    CONDITION_USER,
    CONDITION_GROUP,
    CONDITION_TYPE_MAX,
};

struct condition {
    enum condition_type type;
    bool is_assert; /* Assert*=: a failure fails the start job instead of skipping it */
    bool trigger;   /* "|": at least one triggering condition must hold */
    bool negate;    /* "!" */
    char *parameter;
};

/* "PathExists" for CONDITION_PATH_EXISTS. */
const char *condition_type_to_string(enum condition_type t);
/* The type for "PathExists" (without the Condition/Assert prefix), or -1. */
int condition_type_from_string(const char *s);
/* Whether the type takes an absolute path. */
bool condition_type_is_path(enum condition_type t);

/* "ConditionPathExists=|!/x" into buf, as systemd prints a condition. */
void condition_format(const struct condition *c, char *buf, size_t size);

#endif
