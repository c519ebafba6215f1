#define _POSIX_C_SOURCE 200809L
#include "vector_file.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cur_file;
static unsigned cur_line;

static void die(const char *what)
{
    fprintf(stderr, "%s:%u: %s\n", cur_file, cur_line, what);
    exit(2);
}

static char *skip_ws(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static uint64_t parse_num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || (*end && !isspace((unsigned char)*end)))
        die("bad number");
    return v;
}

static void parse_event(char *s, struct vec_event *ev, int nest_after)
{
    memset(ev, 0, sizeof *ev);
    ev->nest_after = nest_after;
    char *tok = strtok(s, " \t");
    if (!tok)
        die("event needs a port");
    ev->port = (unsigned)parse_num(tok);
    tok = strtok(NULL, " \t");
    if (!tok || strlen(tok) >= sizeof ev->name)
        die("event needs a name");
    strcpy(ev->name, tok);
    while ((tok = strtok(NULL, " \t")) != NULL) {
        char *eq = strchr(tok, '=');
        if (!eq || ev->nfields == VEC_MAX_FIELDS || (size_t)(eq - tok) >= sizeof ev->fields[0].name)
            die("bad field");
        *eq = 0;
        strcpy(ev->fields[ev->nfields].name, tok);
        ev->fields[ev->nfields].value = parse_num(eq + 1);
        ev->nfields++;
    }
}

static void parse_log(char *s, struct vec_log *lg)
{
    char *end;
    lg->port = (unsigned)strtoul(s, &end, 0);
    s = skip_ws(end);
    if (*s++ != '"')
        die("log text must be quoted");
    lg->len = 0;
    while (*s && *s != '"') {
        int c = (unsigned char)*s++;
        if (c == '\\') {
            c = (unsigned char)*s++;
            if (c == 'n')
                c = '\n';
            else if (c == 'x') {
                char hex[3] = {s[0], s[1], 0};
                c = (int)strtoul(hex, NULL, 16);
                s += 2;
            } else if (c != '\\' && c != '"')
                die("bad escape");
        }
        if (lg->len == sizeof lg->text)
            die("log text too long");
        lg->text[lg->len++] = (uint8_t)c;
    }
    if (*s != '"')
        die("unterminated log text");
}

static void load_file(const char *path, const char *base, struct vector **arr, size_t *n, size_t *cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    cur_file = path;
    cur_line = 0;
    char line[1024];
    struct vector *v = NULL;
    while (fgets(line, sizeof line, f)) {
        cur_line++;
        char *hash = strchr(line, '#');
        /* '#' inside a quoted log text is text, not a comment */
        if (hash && !(strncmp(line, "log:", 4) == 0))
            *hash = 0;
        line[strcspn(line, "\r\n")] = 0;
        char *s = skip_ws(line);
        if (!*s)
            continue;
        char *colon = strchr(s, ':');
        if (!colon)
            die("expected 'key: value'");
        *colon = 0;
        char *key = s, *val = skip_ws(colon + 1);
        if (strcmp(key, "vector") == 0) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *arr = realloc(*arr, *cap * sizeof **arr);
                if (!*arr)
                    die("out of memory");
            }
            v = &(*arr)[(*n)++];
            memset(v, 0, sizeof *v);
            snprintf(v->file, sizeof v->file, "%s", base);
            snprintf(v->name, sizeof v->name, "%s", val);
            continue;
        }
        if (!v)
            die("line before the first 'vector:'");
        if (strcmp(key, "mode") == 0) {
            v->both = strcmp(val, "both") == 0;
        } else if (strcmp(key, "bytes") == 0) {
            char *tok = strtok(val, " \t");
            while (tok) {
                if (v->nbytes == VEC_MAX_BYTES)
                    die("too many bytes");
                v->bytes[v->nbytes++] = (uint8_t)strtoul(tok, NULL, 16);
                tok = strtok(NULL, " \t");
            }
        } else if (strcmp(key, "event") == 0) {
            if (v->nevents == VEC_MAX_ITEMS)
                die("too many events");
            parse_event(val, &v->events[v->nevents++], -1);
        } else if (strncmp(key, "emit", 4) == 0) {
            int nest = key[4] == '@' ? atoi(key + 5) : -1;
            if (v->nemits == VEC_MAX_ITEMS)
                die("too many emits");
            parse_event(val, &v->emits[v->nemits++], nest);
        } else if (strcmp(key, "error") == 0) {
            if (v->nerrors == VEC_MAX_ITEMS)
                die("too many errors");
            struct vec_error *e = &v->errors[v->nerrors++];
            char name[64];
            if (sscanf(val, "%u %63s", &e->port, name) != 2 || strlen(name) >= sizeof e->name)
                die("error: PORT NAME");
            strcpy(e->name, name);
        } else if (strcmp(key, "log") == 0) {
            if (v->nlogs == VEC_MAX_ITEMS)
                die("too many logs");
            parse_log(val, &v->logs[v->nlogs++]);
        } else {
            die("unknown key");
        }
    }
    fclose(f);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct vector *vectors_load(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(2);
    }
    char *names[64];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".vec") == 0 && nn < 64)
            names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmp_names);
    struct vector *arr = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < nn; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        load_file(path, names[i], &arr, &n, &cap);
        free(names[i]);
    }
    *count = n;
    return arr;
}

int vec_event_get(const struct vec_event *ev, const char *name, uint64_t *value)
{
    for (unsigned i = 0; i < ev->nfields; i++)
        if (strcmp(ev->fields[i].name, name) == 0) {
            *value = ev->fields[i].value;
            return 0;
        }
    return -1;
}
