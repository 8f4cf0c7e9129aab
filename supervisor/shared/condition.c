/* The Condition*= vocabulary shared by minisupd and minisupctl: names and formatting. The checks
 * themselves are the daemon's (supervisor/daemon/condition_check.c). */
#include "condition.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[CONDITION_TYPE_MAX] = {
    [CONDITION_PATH_EXISTS] = "PathExists",
    [CONDITION_PATH_EXISTS_GLOB] = "PathExistsGlob",
    [CONDITION_PATH_IS_DIRECTORY] = "PathIsDirectory",
    [CONDITION_PATH_IS_SYMBOLIC_LINK] = "PathIsSymbolicLink",
    [CONDITION_PATH_IS_MOUNT_POINT] = "PathIsMountPoint",
    [CONDITION_PATH_IS_READ_WRITE] = "PathIsReadWrite",
    [CONDITION_DIRECTORY_NOT_EMPTY] = "DirectoryNotEmpty",
    [CONDITION_FILE_NOT_EMPTY] = "FileNotEmpty",
    [CONDITION_FILE_IS_EXECUTABLE] = "FileIsExecutable",
    [CONDITION_HOST] = "Host",
    [CONDITION_KERNEL_COMMAND_LINE] = "KernelCommandLine",
    [CONDITION_ENVIRONMENT] = "Environment",
    [CONDITION_USER] = "User",
    [CONDITION_GROUP] = "Group",
};

const char *condition_type_to_string(enum condition_type t)
{
    return t < CONDITION_TYPE_MAX ? type_names[t] : "?";
}

int condition_type_from_string(const char *s)
{
    for (int i = 0; i < CONDITION_TYPE_MAX; i++)
        if (strcmp(type_names[i], s) == 0)
            return i;
    return -1;
}

bool condition_type_is_path(enum condition_type t)
{
    return t <= CONDITION_FILE_IS_EXECUTABLE;
}

void condition_format(const struct condition *c, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s=%s%s%s", c->is_assert ? "Assert" : "Condition",
             condition_type_to_string(c->type), c->trigger ? "|" : "", c->negate ? "!" : "",
             c->parameter);
}
