/* clock.c - the monotonic clock in milliseconds (see clock.h). */
#include "clock.h"

#include <time.h>

long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
