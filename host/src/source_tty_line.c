/* Line settings of a tty through Linux's termios2 ioctls (source_impl.h).
 * termios2 with BOTHER takes any rate (2,250,000 for a Black Magic Probe), where
 * <termios.h> offers only the Bxxx constants; the two headers cannot be
 * included together, hence this file. */
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include "source_impl.h"

int comb_tty_configure(int fd, unsigned baud, unsigned *actual)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return -1;
    /* raw 8N1 as cfmakeraw: no line editing, no CR/NL mapping, no flow control, no echo */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS | CBAUD | (CBAUD << IBSHIFT));
    t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER | (BOTHER << IBSHIFT);
    t.c_ispeed = t.c_ospeed = baud;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    /* A pty stores the rate and ignores it; a UART driver that cannot do it fails
     * here (EINVAL) or rounds to its nearest divisor, as a USB-UART does. */
    if (ioctl(fd, TCSETS2, &t) != 0 || ioctl(fd, TCGETS2, &t) != 0)
        return -1;
    *actual = t.c_ospeed;
    return ioctl(fd, TCFLSH, TCIFLUSH); /* stale bytes from before the capture */
}
