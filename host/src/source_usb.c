/* Continuous bulk IN reading for the USB capture sources (source_impl.h), and
 * the libusb error messages they share (source_devices.h). */
#include <errno.h>
#include <libusb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comb/source_devices.h"
#include "source_impl.h"

#define RING_SIZE (16u << 20) /* 16 MiB: about 14 s at 12 Mbaud */

struct comb_usb_stream {
    libusb_context *usb;
    libusb_device_handle *h;
    comb_usb_filter filter;
    void *filter_ctx;
    char who[64];
    unsigned ntransfers;
    struct libusb_transfer **xfers;
    uint8_t *scratch; /* filter output for one transfer (callbacks run on the event thread only) */
    size_t transfer_size;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    /* under lock */
    uint8_t *ring;
    size_t head, count;
    uint64_t dropped;
    unsigned active;  /* transfers submitted and not yet finished for good */
    bool gone;        /* the device vanished */
    int error;        /* a transfer failed (libusb_transfer_status), 0 = none */
    volatile int stop;
};

static void ring_put(comb_usb_stream *st, const uint8_t *p, size_t n)
{
    size_t room = RING_SIZE - st->count;
    if (n > room) {
        st->dropped += n - room; /* the capture did not keep up: count, keep the oldest */
        n = room;
    }
    size_t tail = (st->head + st->count) % RING_SIZE;
    size_t first = n < RING_SIZE - tail ? n : RING_SIZE - tail;
    memcpy(st->ring + tail, p, first);
    memcpy(st->ring, p + first, n - first);
    st->count += n;
}

static void LIBUSB_CALL on_transfer(struct libusb_transfer *x)
{
    comb_usb_stream *st = x->user_data;
    bool resubmit = false;
    pthread_mutex_lock(&st->lock);
    switch (x->status) {
    case LIBUSB_TRANSFER_COMPLETED:
        if (x->actual_length > 0) {
            const uint8_t *data = x->buffer;
            size_t n = (size_t)x->actual_length;
            if (st->filter) {
                n = st->filter(st->filter_ctx, x->buffer, n, st->scratch);
                data = st->scratch;
            }
            if (n) {
                ring_put(st, data, n);
                pthread_cond_broadcast(&st->ready);
            }
        }
        resubmit = !st->stop;
        break;
    case LIBUSB_TRANSFER_CANCELLED:
        break;
    case LIBUSB_TRANSFER_NO_DEVICE:
        st->gone = true;
        break;
    default: /* ERROR, TIMED_OUT, STALL, OVERFLOW */
        if (!st->error)
            st->error = (int)x->status;
        break;
    }
    if (resubmit && libusb_submit_transfer(x) != 0) {
        st->gone = true; /* most likely unplugged between completion and resubmission */
        resubmit = false;
    }
    if (!resubmit) {
        st->active--;
        pthread_cond_broadcast(&st->ready);
    }
    pthread_mutex_unlock(&st->lock);
}

static void *event_thread(void *arg)
{
    comb_usb_stream *st = arg;
    for (;;) {
        pthread_mutex_lock(&st->lock);
        unsigned active = st->active;
        pthread_mutex_unlock(&st->lock);
        if (active == 0)
            break;
        struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
        int rc = libusb_handle_events_timeout_completed(st->usb, &tv, NULL);
        if (rc != 0 && rc != LIBUSB_ERROR_INTERRUPTED) {
            pthread_mutex_lock(&st->lock);
            if (!st->error)
                st->error = LIBUSB_TRANSFER_ERROR;
            pthread_mutex_unlock(&st->lock);
            break;
        }
    }
    pthread_mutex_lock(&st->lock);
    pthread_cond_broadcast(&st->ready);
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int comb_usb_stream_start(comb_usb_stream **out, libusb_context *usb, libusb_device_handle *h, unsigned char ep,
                          size_t transfer_size, unsigned ntransfers, comb_usb_filter filter, void *filter_ctx,
                          const char *who, char *err, size_t errlen)
{
    comb_usb_stream *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "%s: out of memory", who);
        return -1;
    }
    st->usb = usb;
    st->h = h;
    st->filter = filter;
    st->filter_ctx = filter_ctx;
    snprintf(st->who, sizeof st->who, "%s", who);
    st->transfer_size = transfer_size;
    st->ntransfers = ntransfers;
    st->ring = malloc(RING_SIZE);
    st->scratch = malloc(transfer_size);
    st->xfers = calloc(ntransfers, sizeof *st->xfers);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->ready, NULL);
    if (!st->ring || !st->scratch || !st->xfers) {
        snprintf(err, errlen, "%s: out of memory", who);
        comb_usb_stream_stop(st);
        return -1;
    }
    for (unsigned i = 0; i < ntransfers; i++) {
        struct libusb_transfer *x = libusb_alloc_transfer(0);
        uint8_t *b = malloc(transfer_size);
        if (!x || !b) {
            libusb_free_transfer(x);
            free(b);
            snprintf(err, errlen, "%s: out of memory", who);
            comb_usb_stream_stop(st);
            return -1;
        }
        libusb_fill_bulk_transfer(x, h, ep, b, (int)transfer_size, on_transfer, st, 0);
        x->flags = LIBUSB_TRANSFER_FREE_BUFFER;
        st->xfers[i] = x;
    }
    for (unsigned i = 0; i < ntransfers; i++) {
        int rc = libusb_submit_transfer(st->xfers[i]);
        if (rc != 0) {
            comb_usb_error_message(err, errlen, who, "cannot start reading", rc);
            comb_usb_stream_stop(st);
            return -1;
        }
        pthread_mutex_lock(&st->lock);
        st->active++;
        pthread_mutex_unlock(&st->lock);
    }
    if (pthread_create(&st->thread, NULL, event_thread, st) != 0) {
        snprintf(err, errlen, "%s: cannot start the USB reader thread", who);
        comb_usb_stream_stop(st);
        return -1;
    }
    st->thread_started = true;
    *out = st;
    return 0;
}

ssize_t comb_usb_stream_read(comb_usb_stream *st, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    pthread_mutex_lock(&st->lock);
    if (st->count == 0 && !st->gone && !st->error && st->active > 0 && timeout_ms != 0) {
        if (timeout_ms < 0) {
            while (st->count == 0 && !st->gone && !st->error && st->active > 0)
                pthread_cond_wait(&st->ready, &st->lock);
        } else {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += timeout_ms / 1000;
            until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (st->count == 0 && !st->gone && !st->error && st->active > 0)
                if (pthread_cond_timedwait(&st->ready, &st->lock, &until) == ETIMEDOUT)
                    break;
        }
    }
    ssize_t r;
    if (st->count > 0) { /* data first: what arrived before an unplug is still delivered */
        size_t n = st->count < cap ? st->count : cap;
        size_t first = n < RING_SIZE - st->head ? n : RING_SIZE - st->head;
        memcpy(buf, st->ring + st->head, first);
        memcpy((uint8_t *)buf + first, st->ring, n - first);
        st->head = (st->head + n) % RING_SIZE;
        st->count -= n;
        r = (ssize_t)n;
    } else if (st->gone) {
        r = -1;
    } else if (st->error) {
        snprintf(err, errlen, "%s: USB transfer failed: %s", st->who,
                 libusb_error_name(st->error == LIBUSB_TRANSFER_STALL ? LIBUSB_ERROR_PIPE
                                   : st->error == LIBUSB_TRANSFER_OVERFLOW ? LIBUSB_ERROR_OVERFLOW
                                                                          : LIBUSB_ERROR_IO));
        r = -2;
    } else if (st->active == 0) {
        r = -1;
    } else {
        r = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return r;
}

uint64_t comb_usb_stream_dropped(const comb_usb_stream *st)
{
    comb_usb_stream *m = (comb_usb_stream *)st;
    pthread_mutex_lock(&m->lock);
    uint64_t d = m->dropped;
    pthread_mutex_unlock(&m->lock);
    return d;
}

void comb_usb_stream_lock(const comb_usb_stream *st)
{
    pthread_mutex_lock(&((comb_usb_stream *)st)->lock);
}

void comb_usb_stream_unlock(const comb_usb_stream *st)
{
    pthread_mutex_unlock(&((comb_usb_stream *)st)->lock);
}

void comb_usb_stream_stop(comb_usb_stream *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stop = 1;
    pthread_mutex_unlock(&st->lock);
    for (unsigned i = 0; st->xfers && i < st->ntransfers; i++)
        if (st->xfers[i])
            libusb_cancel_transfer(st->xfers[i]); /* harmless on one that is not in flight */
    if (st->thread_started) {
        pthread_join(st->thread, NULL); /* it runs until every transfer has finished for good */
    } else {
        /* transfers submitted but no thread yet (a later submit failed): reap them here */
        for (int spins = 0; spins < 50; spins++) {
            pthread_mutex_lock(&st->lock);
            unsigned active = st->active;
            pthread_mutex_unlock(&st->lock);
            if (active == 0)
                break;
            struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
            libusb_handle_events_timeout_completed(st->usb, &tv, NULL);
        }
    }
    for (unsigned i = 0; st->xfers && i < st->ntransfers; i++)
        libusb_free_transfer(st->xfers[i]);
    free(st->xfers);
    free(st->scratch);
    free(st->ring);
    pthread_cond_destroy(&st->ready);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* ---- messages ------------------------------------------------------------------ */

void comb_usb_error_message(char *err, size_t errlen, const char *who, const char *what, int code)
{
    switch (code) {
    case LIBUSB_ERROR_ACCESS:
        snprintf(err, errlen, "%s: %s: permission denied (install the udev rule in docs/capture.md, or run as a user "
                              "with access to the USB device)", who, what);
        break;
    case LIBUSB_ERROR_BUSY:
        snprintf(err, errlen, "%s: %s: the device is busy (another program has it open)", who, what);
        break;
    case LIBUSB_ERROR_NO_DEVICE:
        snprintf(err, errlen, "%s: %s: the device was unplugged", who, what);
        break;
    case LIBUSB_ERROR_NOT_FOUND:
        snprintf(err, errlen, "%s: %s: not found", who, what);
        break;
    default:
        snprintf(err, errlen, "%s: %s: %s", who, what, libusb_strerror((enum libusb_error)code));
        break;
    }
}
