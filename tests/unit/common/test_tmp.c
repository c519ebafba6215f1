#define _POSIX_C_SOURCE 200809L
#include "test_tmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

void test_tmp_init(const char *tag)
{
    snprintf(dir, sizeof dir, "/tmp/comb-%s-XXXXXX", tag);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

const char *test_tmp_dir(void)
{
    return dir;
}

void test_tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

void test_remove_db(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (unsigned i = 0; i < 4; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
}

void test_tmp_done(void)
{
    rmdir(dir);
}
