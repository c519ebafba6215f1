/*
 * Byte sources (source.h): spec parsing and error messages, and reading,
 * timeouts, end of stream and writing back for file:, -, unix:, tcp: and
 * serial: (on a pty: through a symlink with a non-standard rate, exclusive
 * use, the other end vanishing while a read waits).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#endif
#include <arpa/inet.h>
#include <asm/termbits.h> /* termios2: the line rate a pty was given (no <termios.h> with it) */
#include <pthread.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_tmp.h"
#include "comb/source.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads until `want` bytes arrived (or end/error); returns the count. */
static size_t read_exactly(comb_source *s, uint8_t *buf, size_t want, int timeout_ms)
{
    size_t got = 0;
    char err[256];
    int64_t deadline = mono_ms() + timeout_ms;
    while (got < want && mono_ms() < deadline) {
        ssize_t n = comb_source_read(s, buf + got, want - got, 100, err, sizeof err);
        if (n < 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

/* Must fail with a one-line message containing every needle. */
static void bad_spec(const char *spec, const char *needle1, const char *needle2)
{
    comb_source *src = (comb_source *)&src; /* sentinel: must stay untouched */
    comb_source *const sentinel = src;
    char err[512] = "";
    int rc = comb_source_open(spec, &src, err, sizeof err);
    CHECK(rc == -1);
    CHECK(src == sentinel);
    CHECK(err[0] != 0);
    CHECK(strchr(err, '\n') == NULL);
    const char *needles[2] = {needle1, needle2};
    for (int i = 0; i < 2; i++)
        if (needles[i] && !strstr(err, needles[i])) {
            check_count++;
            check_failures++;
            fprintf(stderr, "  source '%s': message '%s' does not mention '%s'\n", spec, err, needles[i]);
        }
    if (rc == 0 && src != sentinel)
        comb_source_close(src);
}

static void test_bad_specs(void)
{
    bad_spec("bogus", "bad source 'bogus'", "expected serial:DEV[@BAUD]");
    bad_spec("", "bad source ''", NULL);
    bad_spec("File:/etc/passwd", "bad source 'File:/etc/passwd'", NULL);
    bad_spec("tcp:nohostport", "tcp:nohostport", "expected tcp:HOST:PORT");
    bad_spec("tcp::1", "tcp::1", "expected tcp:HOST:PORT");
    bad_spec("tcp:host:", "tcp:host:", "expected tcp:HOST:PORT");
    bad_spec("tcp:", "tcp:", "expected tcp:HOST:PORT");
    bad_spec("unix:", "unix:", "path empty");
    bad_spec("serial:", "serial:", "expected serial:DEV[@BAUD]");
    bad_spec("serial:@115200", "serial:@115200", "expected serial:DEV[@BAUD]");
    bad_spec("serial:/dev/null@0", "serial:/dev/null@0", "bad baud rate '0'");
    bad_spec("serial:/dev/null@99x", "serial:/dev/null@99x", "bad baud rate '99x'");
    bad_spec("serial:/dev/null@", "serial:/dev/null@", "bad baud rate");
    bad_spec("serial:/dev/null@-5", "serial:/dev/null@-5", "bad baud rate");
    bad_spec("serial:/dev/null@99999999999999999999", "serial:/dev/null@", "bad baud rate");
    bad_spec("serial:/dev/null", "serial:/dev/null", "not a tty");
    bad_spec("serial:/dev/null@115200", "serial:/dev/null", "not a tty");
    bad_spec("serial:/dev/nonexistent-tty@115200", "serial:/dev/nonexistent-tty: cannot open", NULL);
    bad_spec("file:/nonexistent", "/nonexistent", "cannot open");
    bad_spec("file:", "cannot open", NULL);
    bad_spec("unix:/nonexistent/x.sock", "unix:/nonexistent/x.sock: cannot connect", NULL);

    char longp[300];
    memset(longp, 'u', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    memcpy(longp, "unix:/", 6);
    bad_spec(longp, "too long", NULL);

    /* a TCP port nobody listens on */
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        bind(fd, (struct sockaddr *)&sa, sizeof sa);
        getsockname(fd, (struct sockaddr *)&sa, &len);
        close(fd); /* the port is free again: connecting is refused */
        char spec[64];
        snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
        bad_spec(spec, spec, "cannot connect");
    }
    bad_spec("tcp:no-such-host.invalid:1234", "tcp:no-such-host.invalid:1234", NULL);

    comb_source_close(NULL); /* harmless */
}

static void test_file(void)
{
    char path[320], spec[340], err[256] = "";
    test_tmp_path(path, sizeof path, "data.bin");
    static uint8_t data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + (i >> 8));
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, sizeof data, f);
    fclose(f);
    snprintf(spec, sizeof spec, "file:%s", path);

    comb_source *src = NULL;
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    if (!src)
        return;
    CHECK(strcmp(comb_source_spec(src), spec) == 0);
    CHECK(comb_source_write(src, "\x06", 1) == -1); /* a file cannot be written back to */
    static uint8_t got[12000];
    size_t total = 0;
    ssize_t n;
    int reads = 0;
    while ((n = comb_source_read(src, got + total, 4096, 100, err, sizeof err)) > 0 && reads++ < 100)
        total += (size_t)n;
    CHECK(n == -1); /* end of file */
    CHECK_EQ_U64(total, sizeof data);
    CHECK(memcmp(got, data, sizeof data) == 0);
    CHECK(comb_source_read(src, got, 16, 100, err, sizeof err) == -1); /* and stays there */
    comb_source_close(src);

    /* an empty file ends at once */
    f = fopen(path, "wb");
    fclose(f);
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    if (src) {
        CHECK(comb_source_read(src, got, 16, 0, err, sizeof err) == -1);
        comb_source_close(src);
    }
    unlink(path);

    /* a directory is not a stream: read fails with an error naming the source, or open fails */
    snprintf(spec, sizeof spec, "file:%s", test_tmp_dir());
    src = NULL;
    if (comb_source_open(spec, &src, err, sizeof err) == 0) {
        err[0] = 0;
        CHECK(comb_source_read(src, got, 16, 0, err, sizeof err) == -2);
        CHECK(strstr(err, spec) != NULL);
        comb_source_close(src);
    }
}

/* A fifo through file:: timeouts while the writer is quiet, end when it closes. */
static void test_fifo(void)
{
    char path[320], spec[340], err[256] = "";
    test_tmp_path(path, sizeof path, "fifo");
    CHECK(mkfifo(path, 0600) == 0);
    snprintf(spec, sizeof spec, "file:%s", path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            _exit(1);
        if (write(fd, "abc", 3) != 3)
            _exit(2);
        usleep(400 * 1000);
        if (write(fd, "def", 3) != 3)
            _exit(3);
        _exit(0);
    }
    comb_source *src = NULL;
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0); /* blocks until the writer opens */
    if (src) {
        uint8_t buf[16];
        CHECK(read_exactly(src, buf, 3, 2000) == 3);
        CHECK(memcmp(buf, "abc", 3) == 0);
        int64_t t0 = mono_ms();
        CHECK(comb_source_read(src, buf, sizeof buf, 100, err, sizeof err) == 0); /* timeout */
        CHECK(mono_ms() - t0 >= 90);
        CHECK(read_exactly(src, buf, 3, 3000) == 3);
        CHECK(memcmp(buf, "def", 3) == 0);
        ssize_t n;
        int64_t deadline = mono_ms() + 3000;
        while ((n = comb_source_read(src, buf, sizeof buf, 100, err, sizeof err)) == 0 && mono_ms() < deadline)
            ;
        CHECK(n == -1);
        comb_source_close(src);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
}

/* "-" reads standard input and never closes it. */
static void test_stdin(void)
{
    int saved = dup(0);
    int p[2];
    CHECK(pipe(p) == 0);
    dup2(p[0], 0);
    close(p[0]);
    comb_source *src = NULL;
    char err[256] = "";
    CHECK(comb_source_open("-", &src, err, sizeof err) == 0);
    if (src) {
        uint8_t buf[16];
        CHECK(strcmp(comb_source_spec(src), "-") == 0);
        CHECK(comb_source_read(src, buf, sizeof buf, 50, err, sizeof err) == 0); /* nothing yet */
        CHECK(write(p[1], "xyz", 3) == 3);
        CHECK(read_exactly(src, buf, 3, 1000) == 3);
        CHECK(memcmp(buf, "xyz", 3) == 0);
        CHECK(comb_source_write(src, "\x06", 1) == -1); /* stdin is not written back to */
        close(p[1]);
        CHECK(comb_source_read(src, buf, sizeof buf, 1000, err, sizeof err) == -1);
        comb_source_close(src);
        CHECK(fcntl(0, F_GETFD) != -1); /* fd 0 still open */
    }
    dup2(saved, 0);
    close(saved);
}

/* A connected stream socket source (unix: or tcp:): exchange with the server end `sfd`. */
static void exercise_socket(comb_source *src, int sfd)
{
    char err[256] = "";
    uint8_t buf[64];

    /* nothing arrives: timeout */
    int64_t t0 = mono_ms();
    CHECK(comb_source_read(src, buf, sizeof buf, 100, err, sizeof err) == 0);
    CHECK(mono_ms() - t0 >= 90);
    CHECK(comb_source_read(src, buf, sizeof buf, 0, err, sizeof err) == 0);

    CHECK(send(sfd, "hello\0\xff", 7, 0) == 7);
    CHECK(read_exactly(src, buf, 7, 1000) == 7);
    CHECK(memcmp(buf, "hello\0\xff", 7) == 0);

    /* writing back */
    CHECK(comb_source_write(src, "\x06", 1) == 0);
    CHECK(readable(sfd, 1000));
    CHECK(recv(sfd, buf, sizeof buf, MSG_DONTWAIT) == 1 && buf[0] == 0x06);
    static uint8_t big[100000];
    memset(big, 0x5a, sizeof big);
    /* a write larger than the socket buffer completes once the peer reads */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        size_t got = 0;
        while (got < sizeof big) {
            ssize_t n = recv(sfd, big, sizeof big, 0);
            if (n <= 0)
                _exit(1);
            got += (size_t)n;
        }
        _exit(0);
    }
    CHECK(comb_source_write(src, big, sizeof big) == 0);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the server sends its last bytes and closes: they are read, then the end */
    CHECK(send(sfd, "bye", 3, 0) == 3);
    close(sfd);
    CHECK(read_exactly(src, buf, 3, 1000) == 3);
    CHECK(memcmp(buf, "bye", 3) == 0);
    CHECK(comb_source_read(src, buf, sizeof buf, 1000, err, sizeof err) == -1);

    /* writing to a closed peer fails, without killing the process (SIGPIPE) */
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = comb_source_write(src, big, sizeof big);
    CHECK(rc == -1);
}

static void test_unix(void)
{
    char sock[100], spec[140], err[256] = "";
    test_tmp_path(sock, sizeof sock, "src.sock");
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(lfd, 1) == 0);
    snprintf(spec, sizeof spec, "unix:%s", sock);
    comb_source *src = NULL;
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    int sfd = accept(lfd, NULL, NULL);
    CHECK(sfd >= 0);
    if (src && sfd >= 0) {
        CHECK(strcmp(comb_source_spec(src), spec) == 0);
        exercise_socket(src, sfd);
    }
    comb_source_close(src);
    close(lfd);
    unlink(sock);

    /* nobody listening on an existing path */
    snprintf(spec, sizeof spec, "unix:%s", sock);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0); /* bound, not listening */
    bad_spec(spec, spec, "cannot connect");
    close(lfd);
    unlink(sock);
}

static void test_tcp(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(lfd, (struct sockaddr *)&sa, &len) == 0);
    CHECK(listen(lfd, 2) == 0);
    unsigned port = ntohs(sa.sin_port);
    static const char *const hosts[] = {"127.0.0.1", "localhost"};
    for (int h = 0; h < 2; h++) {
        char spec[64], err[256] = "";
        snprintf(spec, sizeof spec, "tcp:%s:%u", hosts[h], port);
        comb_source *src = NULL;
        CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
        if (!src) {
            fprintf(stderr, "  %s: %s\n", spec, err);
            continue;
        }
        int sfd = accept(lfd, NULL, NULL);
        CHECK(sfd >= 0);
        if (sfd >= 0)
            exercise_socket(src, sfd);
        comb_source_close(src);
    }

    /* a reset connection is the end of the stream too */
    {
        char spec[64], err[256] = "";
        snprintf(spec, sizeof spec, "tcp:127.0.0.1:%u", port);
        comb_source *src = NULL;
        CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
        int sfd = accept(lfd, NULL, NULL);
        if (src && sfd >= 0) {
            uint8_t buf[8];
            CHECK(comb_source_write(src, "zz", 2) == 0); /* unread data makes close() send a reset */
            usleep(50 * 1000);
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(sfd);
            sfd = -1;
            ssize_t n = comb_source_read(src, buf, sizeof buf, 1000, err, sizeof err);
            CHECK(n == -1);
        }
        if (sfd >= 0)
            close(sfd);
        comb_source_close(src);
    }
    close(lfd);
}

/* serial: on a pty (goes through raw termios: libserialport does not enumerate ptys). */
static void test_pty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(m >= 0);
    if (m < 0)
        return;
    CHECK(grantpt(m) == 0);
    CHECK(unlockpt(m) == 0);
    const char *name = ptsname(m);
    CHECK(name != NULL);
    if (!name) {
        close(m);
        return;
    }
    char spec[128], err[256] = "";
    snprintf(spec, sizeof spec, "serial:%s@2000000", name);
    comb_source *src = NULL;
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    if (!src) {
        fprintf(stderr, "  %s: %s\n", spec, err);
        close(m);
        return;
    }
    CHECK(strcmp(comb_source_spec(src), spec) == 0);
    uint8_t buf[512];

    /* quiet line: timeout */
    int64_t t0 = mono_ms();
    CHECK(comb_source_read(src, buf, sizeof buf, 100, err, sizeof err) == 0);
    CHECK(mono_ms() - t0 >= 90);

    /* raw: every byte value arrives unchanged (no CR/NL mapping, no ^C, ^D, ^S, ^Q, no echo) */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    CHECK(write(m, all, sizeof all) == (ssize_t)sizeof all);
    CHECK(read_exactly(src, buf, 256, 2000) == 256);
    CHECK(memcmp(buf, all, 256) == 0);
    CHECK(!readable(m, 50)); /* nothing echoed back */

    /* writing back: the ACK byte arrives as is */
    CHECK(comb_source_write(src, "\x06\n", 2) == 0);
    CHECK(readable(m, 1000));
    ssize_t n = read(m, buf, sizeof buf);
    CHECK(n == 2 && buf[0] == 0x06 && buf[1] == '\n');

    /* the other end goes away: end of stream */
    CHECK(write(m, "end", 3) == 3);
    CHECK(read_exactly(src, buf, 3, 1000) == 3);
    CHECK(memcmp(buf, "end", 3) == 0);
    close(m);
    n = comb_source_read(src, buf, sizeof buf, 1000, err, sizeof err);
    CHECK(n == -1);
    comb_source_close(src);

    /* without a baud rate too */
    m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    snprintf(spec, sizeof spec, "serial:%s", ptsname(m));
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    if (src) {
        CHECK(write(m, "q", 1) == 1);
        CHECK(read_exactly(src, buf, 1, 1000) == 1 && buf[0] == 'q');
        comb_source_close(src);
    }
    close(m);
}

static int open_pty(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m >= 0 && (grantpt(m) != 0 || unlockpt(m) != 0 || !ptsname(m))) {
        close(m);
        return -1;
    }
    return m;
}

/* A device named through a symlink (/dev/serial/by-id/...) gets its rate: the
 * pty stores what was set, so the slave's termios2 (read through the master)
 * shows the non-standard 2,250,000 baud. */
static void test_pty_symlink_rate(void)
{
    int m = open_pty();
    CHECK(m >= 0);
    if (m < 0)
        return;
    char link[4096], spec[4200], err[256] = "";
    snprintf(link, sizeof link, "%s/by-id-adapter", test_tmp_dir());
    unlink(link);
    CHECK(symlink(ptsname(m), link) == 0);
    const unsigned rates[] = {2250000, 115200, 12000000};
    for (unsigned i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        snprintf(spec, sizeof spec, "serial:%s@%u", link, rates[i]);
        comb_source *src = NULL;
        CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
        if (!src) {
            fprintf(stderr, "  %s: %s\n", spec, err);
            continue;
        }
        struct termios2 t;
        CHECK(ioctl(m, TCGETS2, &t) == 0);
        CHECK(t.c_ospeed == rates[i] && t.c_ispeed == rates[i]);
        CHECK((t.c_cflag & CSIZE) == CS8 && !(t.c_cflag & (PARENB | CSTOPB)) && !(t.c_lflag & ICANON));
        /* and it reads */
        uint8_t b[4];
        CHECK(write(m, "abc", 3) == 3);
        CHECK(read_exactly(src, b, 3, 2000) == 3 && memcmp(b, "abc", 3) == 0);
        comb_source_close(src);
    }
    /* a dangling link: missing, named as the user wrote it */
    unlink(link);
    CHECK(symlink("/dev/comb-no-such-tty", link) == 0);
    snprintf(spec, sizeof spec, "serial:%s@115200", link);
    char want[4200];
    snprintf(want, sizeof want, "serial:%s: cannot open: No such file", link);
    bad_spec(spec, want, NULL);
    unlink(link);
    close(m);
}

/* Linux does not lock ttys: comb does (flock + TIOCEXCL), so a second capture
 * of the same device fails with one line, and the device is free again after close. */
static void test_pty_busy(void)
{
    int m = open_pty();
    CHECK(m >= 0);
    if (m < 0)
        return;
    char spec[128], want[160], err[256] = "";
    snprintf(spec, sizeof spec, "serial:%s@115200", ptsname(m));
    comb_source *a = NULL, *b = NULL;
    CHECK(comb_source_open(spec, &a, err, sizeof err) == 0);
    snprintf(want, sizeof want, "serial:%s: busy (another program has it open)", ptsname(m));
    bad_spec(spec, want, NULL);
    comb_source_close(a);
    CHECK(comb_source_open(spec, &b, err, sizeof err) == 0);
    if (b)
        comb_source_close(b);
    close(m);
}

static void *close_later(void *arg)
{
    struct timespec d = {0, 200 * 1000 * 1000};
    nanosleep(&d, NULL);
    close(*(int *)arg);
    return NULL;
}

/* The device goes while a read waits (a USB-UART unplugged; here the pty's
 * master closes): the waiting read ends the stream (-1) instead of timing out
 * with 0 and leaving the capture to spin on a dead tty. */
static void test_pty_vanishes_during_read(void)
{
    int m = open_pty();
    CHECK(m >= 0);
    if (m < 0)
        return;
    char spec[128], err[256] = "";
    snprintf(spec, sizeof spec, "serial:%s@2250000", ptsname(m));
    comb_source *src = NULL;
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    if (!src) {
        close(m);
        return;
    }
    CHECK(write(m, "xy", 2) == 2);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, close_later, &m) == 0);
    uint8_t buf[16];
    /* the bytes sent before are still delivered, then the end; the long timeout
     * is never reached (a 0 here would mean "still waiting") */
    CHECK(read_exactly(src, buf, 2, 5000) == 2 && memcmp(buf, "xy", 2) == 0);
    CHECK(comb_source_read(src, buf, sizeof buf, 30000, err, sizeof err) == -1);
    CHECK(comb_source_read(src, buf, sizeof buf, 30000, err, sizeof err) == -1); /* and stays ended */
    pthread_join(th, NULL);
    comb_source_close(src);
}

int main(void)
{
    test_tmp_init("source");
    test_bad_specs();
    test_file();
    test_fifo();
    test_stdin();
    test_unix();
    test_tcp();
    test_pty();
    test_pty_symlink_rate();
    test_pty_busy();
    test_pty_vanishes_during_read();
    test_tmp_done();
    return check_finish("test_source");
}
