/* Scratch files for unit tests: one fresh directory per test process. */
#ifndef COMB_TEST_TMP_H
#define COMB_TEST_TMP_H

#include <stddef.h>

/* Creates /tmp/comb-<tag>-XXXXXX (exits the test with status 1 on failure)
 * and makes it the directory of test_tmp_path(). Call once, first thing. */
void test_tmp_init(const char *tag);

/* The directory test_tmp_init made. */
const char *test_tmp_dir(void);

/* buf = "<dir>/<name>". */
void test_tmp_path(char *buf, size_t cap, const char *name);

/* Removes an SQLite file and its -wal, -shm and -journal companions. */
void test_remove_db(const char *path);

/* Removes the directory (must be empty). */
void test_tmp_done(void);

#endif
