/* Source dispatch and the fd-based backends (file, stdin, tcp, unix, a tty through termios2). */
#include "comb/source.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "source_impl.h"

ssize_t comb_source_fd_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    bool hangup = false;
    if (!s->is_regular) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0 || (r < 0 && errno == EINTR))
            return 0;
        if (r < 0) {
            snprintf(err, errlen, "%s: poll: %s", s->spec, strerror(errno));
            return -2;
        }
        /* An unplugged USB-UART or a pty whose master closed reports POLLHUP or
         * POLLERR, and is "readable" with read() returning 0 or EIO from then on:
         * each of these ends the stream, once the bytes still buffered are read. */
        hangup = (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
    }
    ssize_t n = read(s->fd, buf, cap);
    if (n > 0)
        return n;
    if (n == 0)
        return -1;
    if (errno == EINTR || errno == EAGAIN)
        return hangup ? -1 : 0;
    if (errno == EIO || errno == ENXIO || errno == ECONNRESET || errno == ENODEV) /* device or peer gone */
        return -1;
    snprintf(err, errlen, "%s: read: %s", s->spec, strerror(errno));
    return -2;
}

static int fd_write(comb_source *s, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        /* send(MSG_NOSIGNAL) on sockets: a peer that went away is an error (-1), not a SIGPIPE */
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fd_close(comb_source *s)
{
    if (s->fd > 2)
        close(s->fd);
}

static comb_source *new_source(const char *spec)
{
    comb_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->spec, sizeof s->spec, "%s", spec);
    s->fd = -1;
    s->read = comb_source_fd_read;
    s->write = NULL;
    s->close = fd_close;
    return s;
}

static int open_file(comb_source *s, const char *path, char *err, size_t errlen)
{
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    s->is_regular = fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode);
    return 0;
}

static int open_tcp(comb_source *s, const char *hostport, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, errlen, "bad source 'tcp:%s': expected tcp:HOST:PORT", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "tcp:%s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int saved = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        s->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s->fd < 0)
            continue;
        if (connect(s->fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        saved = errno;
        close(s->fd);
        s->fd = -1;
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        snprintf(err, errlen, "tcp:%s: cannot connect: %s", hostport, strerror(saved ? saved : ECONNREFUSED));
        return -1;
    }
    s->write = fd_write;
    return 0;
}

static int open_unix(comb_source *s, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "bad source 'unix:%s': path empty or too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errlen, "unix:%s: cannot connect: %s", path, strerror(errno));
        return -1;
    }
    s->write = fd_write;
    return 0;
}

int comb_tty_claim(int fd, const char *dev, char *err, size_t errlen)
{
    /* Linux does not lock ttys: a second reader would silently take half the bytes.
     * flock keeps out another comb (and other tools that lock, such as minicom);
     * TIOCEXCL makes further open()s fail with EBUSY, except for root. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, errlen, "serial:%s: busy (another program has it open)", dev);
        else
            snprintf(err, errlen, "serial:%s: cannot lock: %s", dev, strerror(errno));
        return -1;
    }
    if (ioctl(fd, TIOCEXCL) != 0) {
        snprintf(err, errlen, "serial:%s: cannot get exclusive use: %s", dev, strerror(errno));
        return -1;
    }
    return 0;
}

void comb_tty_release(int fd)
{
    /* a pty slave's exclusive flag outlives our close while its master stays open */
    if (fd >= 0)
        ioctl(fd, TIOCNXCL);
}

static void tty_close(comb_source *s)
{
    comb_tty_release(s->fd);
    fd_close(s);
}

void comb_serial_open_message(char *err, size_t errlen, const char *dev, int code)
{
    if (code == EBUSY)
        snprintf(err, errlen, "serial:%s: busy (another program has it open)", dev);
    else
        snprintf(err, errlen, "serial:%s: cannot open: %s%s", dev, strerror(code),
                 code == EACCES ? " (add yourself to the dialout group)" : "");
}

/* A tty libserialport does not know (a pty, e.g. QEMU -serial pty): raw 8N1 through termios2. */
int comb_source_open_termios(comb_source *s, const char *dev, const char *path, unsigned baud, char *err,
                             size_t errlen)
{
    s->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s->fd < 0) {
        comb_serial_open_message(err, errlen, dev, errno);
        return -1;
    }
    if (!isatty(s->fd)) {
        snprintf(err, errlen, "serial:%s: not a tty", dev);
        return -1;
    }
    if (comb_tty_claim(s->fd, dev, err, errlen))
        return -1;
    s->close = tty_close;
    unsigned actual = baud;
    if (comb_tty_configure(s->fd, baud, &actual) != 0) {
        snprintf(err, errlen, "serial:%s: cannot set %u baud 8N1: %s", dev, baud, strerror(errno));
        return -1;
    }
    /* a UART rounds to its nearest divisor; more than 3% off and no byte would decode */
    if ((double)actual < baud * 0.97 || (double)actual > baud * 1.03) {
        snprintf(err, errlen, "serial:%s: the tty refused %u baud (it set %u)", dev, baud, actual);
        return -1;
    }
    s->write = fd_write;
    return 0;
}

int comb_source_open(const char *spec, comb_source **out, char *err, size_t errlen)
{
    comb_source *s = new_source(spec);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc;
    if (strcmp(spec, "-") == 0) {
        s->fd = 0;
        rc = 0;
    } else if (strncmp(spec, "file:", 5) == 0) {
        rc = open_file(s, spec + 5, err, errlen);
    } else if (strncmp(spec, "tcp:", 4) == 0) {
        rc = open_tcp(s, spec + 4, err, errlen);
    } else if (strncmp(spec, "unix:", 5) == 0) {
        rc = open_unix(s, spec + 5, err, errlen);
    } else if (strncmp(spec, "serial:", 7) == 0) {
        rc = comb_source_open_serial(s, spec + 7, err, errlen);
    } else if (strncmp(spec, "ftdi:", 5) == 0) {
        rc = comb_source_open_ftdi(s, spec + 5, err, errlen);
    } else if (strncmp(spec, "bmp:", 4) == 0) {
        rc = comb_source_open_bmp(s, spec + 4, err, errlen);
    } else {
        snprintf(err, errlen,
                 "bad source '%s': expected serial:DEV[@BAUD], ftdi:[VID:PID][/SERIAL][@BAUD], bmp:[SERIAL], "
                 "file:PATH, -, tcp:HOST:PORT or unix:PATH",
                 spec);
        rc = -1;
    }
    if (rc) {
        comb_source_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

ssize_t comb_source_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    return s->read(s, buf, cap, timeout_ms, err, errlen);
}

int comb_source_write(comb_source *s, const void *buf, size_t n)
{
    return s->write ? s->write(s, buf, n) : -1;
}

void comb_source_link_stats_get(const comb_source *s, comb_source_link_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s->link_stats)
        s->link_stats(s, out);
}

const char *comb_source_spec(const comb_source *s)
{
    return s->spec;
}

void comb_source_close(comb_source *s)
{
    if (!s)
        return;
    if (s->close)
        s->close(s);
    free(s);
}
