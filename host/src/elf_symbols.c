#include "comb/elf_symbols.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sym {
    uint64_t addr, size;
    char *name;
} sym;

typedef struct line {
    uint32_t addr;
    char *where; /* "file.c:42" */
} line;

struct comb_elf_symbols {
    char path[512];
    unsigned machine;
    sym *syms;
    size_t n;
    sym *objs;  /* STT_OBJECT symbols (data), by address */
    size_t nobjs;
    sym *abs;   /* absolute symbols (SHN_ABS): values that are not addresses */
    size_t nabs;
    line *lines;
    size_t nlines;
};

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Appends to a symbol list; -1 when out of memory. */
static int add_sym(sym **v, size_t *n, uint64_t addr, uint64_t size, const char *name, size_t len)
{
    if ((*n & (*n - 1)) == 0) { /* capacity doubles at powers of two */
        sym *g = realloc(*v, (*n ? *n * 2 : 1) * sizeof *g);
        if (!g)
            return -1;
        *v = g;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, len);
    copy[len] = 0;
    (*v)[(*n)++] = (sym){addr, size, copy};
    return 0;
}

static int sym_cmp(const void *a, const void *b)
{
    const sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return (y->size > x->size) - (y->size < x->size); /* larger first */
}

int comb_elf_symbols_load(const char *path, comb_elf_symbols **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size < 52 || st.st_size > (1 << 28)) {
        snprintf(err, errlen, "%s: not an ELF file", path);
        fclose(f);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *d = malloc(len);
    if (!d || fread(d, 1, len, f) != len) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(d);
        fclose(f);
        return -1;
    }
    fclose(f);
    int rc = -1;
    comb_elf_symbols *s = calloc(1, sizeof *s);
    if (!s)
        goto out;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (memcmp(d, "\177ELF", 4) || (d[4] != 1 && d[4] != 2) || d[5] != 1) {
        snprintf(err, errlen, "%s: not a little-endian ELF file", path);
        goto out;
    }
    bool is64 = d[4] == 2;
    if (is64 && len < 64)
        goto bad;
    s->machine = (unsigned)rd(d + 18, 2);
    uint64_t shoff = is64 ? rd(d + 0x28, 8) : rd(d + 0x20, 4);
    unsigned shentsize = (unsigned)rd(d + (is64 ? 0x3A : 0x2E), 2);
    unsigned shnum = (unsigned)rd(d + (is64 ? 0x3C : 0x30), 2);
    if (shoff >= len || shentsize < (is64 ? 64u : 40u) || shoff + (uint64_t)shnum * shentsize > len)
        goto bad;
    for (unsigned i = 0; i < shnum; i++) {
        const uint8_t *sh = d + shoff + (uint64_t)i * shentsize;
        if (rd(sh + 4, 4) != 2) /* SHT_SYMTAB */
            continue;
        uint64_t off = is64 ? rd(sh + 24, 8) : rd(sh + 16, 4);
        uint64_t size = is64 ? rd(sh + 32, 8) : rd(sh + 20, 4);
        unsigned link = (unsigned)rd(sh + (is64 ? 40 : 24), 4);
        uint64_t entsize = is64 ? rd(sh + 56, 8) : rd(sh + 36, 4);
        if (link >= shnum || off + size > len || entsize < (is64 ? 24u : 16u))
            goto bad;
        const uint8_t *lh = d + shoff + (uint64_t)link * shentsize;
        uint64_t stroff = is64 ? rd(lh + 24, 8) : rd(lh + 16, 4);
        uint64_t strsize = is64 ? rd(lh + 32, 8) : rd(lh + 20, 4);
        if (stroff + strsize > len)
            goto bad;
        size_t count = (size_t)(size / entsize);
        sym *v = realloc(s->syms, (s->n + count) * sizeof *v);
        if (!v)
            goto out;
        s->syms = v;
        for (size_t k = 0; k < count; k++) {
            const uint8_t *e = d + off + k * entsize;
            uint64_t name = rd(e, 4), value, ssize;
            unsigned info, shndx;
            if (is64) {
                info = e[4];
                shndx = (unsigned)rd(e + 6, 2);
                value = rd(e + 8, 8);
                ssize = rd(e + 16, 8);
            } else {
                value = rd(e + 4, 4);
                ssize = rd(e + 8, 4);
                info = e[12];
                shndx = (unsigned)rd(e + 14, 2);
            }
            if (name >= strsize)
                continue;
            const char *nm = (const char *)d + stroff + name;
            size_t nl = strnlen(nm, (size_t)(strsize - name));
            if (shndx == 0xFFF1) { /* SHN_ABS: a constant, e.g. comb_thr_name_<name> = thread index */
                if (nl && (info & 0xF) != 4 && add_sym(&s->abs, &s->nabs, value, 0, nm, nl)) /* not STT_FILE */
                    goto out;
                continue;
            }
            if ((info & 0xF) == 1 && shndx != 0) { /* STT_OBJECT, defined */
                if (nl && add_sym(&s->objs, &s->nobjs, value, ssize, nm, nl))
                    goto out;
                continue;
            }
            if ((info & 0xF) != 2) /* STT_FUNC */
                continue;
            char *copy = malloc(nl + 1);
            if (!copy)
                goto out;
            memcpy(copy, nm, nl);
            copy[nl] = 0;
            s->syms[s->n++] = (sym){value & ~(uint64_t)1, ssize, copy};
        }
    }
    if (s->n == 0 && s->nobjs == 0 && s->nabs == 0) {
        snprintf(err, errlen, "%s: no function symbols (stripped?)", path);
        goto out;
    }
    if (s->n)
        qsort(s->syms, s->n, sizeof *s->syms, sym_cmp);
    if (s->nobjs)
        qsort(s->objs, s->nobjs, sizeof *s->objs, sym_cmp);
    rc = 0;
    goto out;
bad:
    snprintf(err, errlen, "%s: malformed ELF file", path);
out:
    free(d);
    if (rc) {
        comb_elf_symbols_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* The addr2line of the toolchain that matches the file, if installed. */
static const char *addr2line_tool(const comb_elf_symbols *s)
{
    static const char *const arm = "arm-none-eabi-addr2line", *host = "addr2line";
    const char *want = s->machine == 40 ? arm : host;
    const char *pathenv = getenv("PATH");
    if (!pathenv)
        return NULL;
    char dir[4096];
    for (const char *p = pathenv; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, p, want);
        if (n && access(dir, X_OK) == 0)
            return want;
        p += n + (e ? 1 : 0);
    }
    return NULL;
}

void comb_elf_symbols_lines(comb_elf_symbols *s, const uint32_t *addrs, size_t n)
{
    const char *tool = addr2line_tool(s);
    if (!tool || n == 0 || strchr(s->path, '\''))
        return;
    char tmpl[] = "/tmp/comb-a2l-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return;
    FILE *in = fdopen(fd, "w");
    if (!in) {
        close(fd);
        unlink(tmpl);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(in, "0x%x\n", (unsigned)((addrs[i] & ~1u) - 1));
    fclose(in);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s -e '%s' < %s 2>/dev/null", tool, s->path, tmpl);
    FILE *p = popen(cmd, "r");
    if (p) {
        line *v = calloc(n, sizeof *v);
        char buf[1024];
        size_t k = 0;
        while (v && k < n && fgets(buf, sizeof buf, p)) {
            buf[strcspn(buf, "\n")] = 0;
            const char *base = strrchr(buf, '/');
            base = base ? base + 1 : buf;
            char *paren = strstr(buf, " (discriminator");
            if (paren)
                *paren = 0;
            v[k].addr = addrs[k];
            /* "??:?" and, for local symbols of LTO images, ":?": no location */
            v[k].where = strncmp(base, "??", 2) && base[0] != ':' ? strdup(base) : NULL;
            k++;
        }
        pclose(p);
        if (v) {
            for (size_t i = 0; i < s->nlines; i++)
                free(s->lines[i].where);
            free(s->lines);
            s->lines = v;
            s->nlines = k;
        }
    }
    unlink(tmpl);
}

const char *comb_elf_symbolize(comb_elf_symbols *s, uint32_t addr, char *buf, size_t cap)
{
    uint64_t a = (uint64_t)(addr & ~1u);
    uint64_t look = a ? a - 1 : 0;
    /* last symbol starting at or before look */
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->syms[mid].addr <= look)
            lo = mid + 1;
        else
            hi = mid;
    }
    const sym *best = NULL;
    for (size_t i = lo; i-- > 0;) {
        const sym *c = &s->syms[i];
        if (look < c->addr + (c->size ? c->size : 1)) {
            best = c;
            break;
        }
        if (lo - i > 64)
            break;
    }
    if (!best)
        return NULL;
    const char *where = NULL;
    for (size_t i = 0; i < s->nlines; i++)
        if (s->lines[i].addr == addr) {
            where = s->lines[i].where;
            break;
        }
    if (where)
        snprintf(buf, cap, "%s+0x%llx (%s)", best->name, (unsigned long long)(a - best->addr), where);
    else
        snprintf(buf, cap, "%s+0x%llx", best->name, (unsigned long long)(a - best->addr));
    return buf;
}

const char *comb_elf_object_at(const comb_elf_symbols *s, uint32_t addr, char *buf, size_t cap)
{
    /* last object starting at or before addr */
    size_t lo = 0, hi = s->nobjs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->objs[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0 && lo - i <= 64;) { /* objects overlapping addr sit just below it */
        const sym *o = &s->objs[i];
        if (addr < o->addr + (o->size ? o->size : 1)) {
            if (addr == o->addr)
                snprintf(buf, cap, "%s", o->name);
            else
                snprintf(buf, cap, "%s+0x%llx", o->name, (unsigned long long)(addr - o->addr));
            return buf;
        }
    }
    return NULL;
}

const char *comb_elf_absolute_named(const comb_elf_symbols *s, const char *prefix, uint64_t value)
{
    size_t pl = strlen(prefix);
    const char *best = NULL;
    for (size_t i = 0; i < s->nabs; i++) /* few: the firmware's constants */
        if (s->abs[i].addr == value && !strncmp(s->abs[i].name, prefix, pl) && s->abs[i].name[pl] &&
            (!best || strcmp(s->abs[i].name + pl, best) < 0))
            best = s->abs[i].name + pl;
    return best;
}

void comb_elf_symbols_free(comb_elf_symbols *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->syms[i].name);
    free(s->syms);
    for (size_t i = 0; i < s->nobjs; i++)
        free(s->objs[i].name);
    free(s->objs);
    for (size_t i = 0; i < s->nabs; i++)
        free(s->abs[i].name);
    free(s->abs);
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i].where);
    free(s->lines);
    free(s);
}
