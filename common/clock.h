/*
 * clock.h - the one clock the servers time things by.
 *
 *   long long deadline = now_ms() + timeout_ms;
 *
 * CLOCK_MONOTONIC: it never jumps when someone sets the date, so a timeout
 * neither fires early nor waits an hour.
 */
#ifndef EVLAB_CLOCK_H
#define EVLAB_CLOCK_H

/* Milliseconds since some fixed point in the past (the boot, on Linux). */
long long now_ms(void);

#endif
