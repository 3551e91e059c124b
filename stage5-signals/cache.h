/*
 * cache.h - stage 5's user-level file cache: whole files in memory, least
 * recently used out first, shared with the responses that send them.
 *
 *   struct cache *c = cache_create(64 << 20);       capacity in bytes
 *   struct cache_entry *e = cache_get(c, "a/b.txt"); a hit (and a reference), or NULL
 *   ... send e->data, e->size ...; cache_release(e);
 *   cache_put(c, "a/b.txt", data, size, "text/plain");   the cache takes data
 *   cache_clear(c);                                  SIGHUP: forget every file
 *
 * An entry lives while it is in the cache or a response holds a reference, so
 * clearing the cache never frees bytes that are still being sent.
 */
#ifndef EVLAB_CACHE_H
#define EVLAB_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define CACHE_MAX_ENTRY (1 << 20) /* larger files are streamed, never cached */

struct cache_entry {
    char *data;
    size_t size;
    const char *type; /* Content-Type */
    /* private to cache.c */
    char *key;
    int refs;                        /* responses sending from data */
    bool cached;                     /* still in the cache (not evicted or cleared) */
    struct cache_entry *prev, *next; /* recency list, most recent first */
    struct cache_entry *chain;       /* next in the same hash bucket */
};

struct cache_stats {
    size_t entries, bytes;
    unsigned long long hits, misses;
};

/* A cache of at most capacity bytes (0: it keeps nothing); NULL if out of memory. */
struct cache *cache_create(size_t capacity);

/* Free the cache and its entries; no entry may still be referenced. */
void cache_destroy(struct cache *c);

/* Would a file of size bytes be kept? */
bool cache_fits(const struct cache *c, size_t size);

/* The entry for key with a reference taken, counting a hit; NULL (a miss) if absent. */
struct cache_entry *cache_get(struct cache *c, const char *key);

/* Keep data (malloc'd, size bytes; the cache frees it) under key, evicting the least recently used.
 */
void cache_put(struct cache *c, const char *key, char *data, size_t size, const char *type);

/* Drop the reference cache_get took. */
void cache_release(struct cache_entry *e);

/* Forget every entry; those still being sent are freed when released. */
void cache_clear(struct cache *c);

/* Count a request that had to read its file from disk. */
void cache_count_miss(struct cache *c);

/* Current figures. */
struct cache_stats cache_stats(const struct cache *c);

#endif
