/*
 * cache.h - stage 5's user-level file cache: whole files in memory, least
 * recently used out first, shared with the responses that send them.
 *
 *   struct cache *c = cache_create(64 << 20);       capacity in bytes
 *   struct cache_entry *e = cache_get(c, "a/b.txt"); a hit (and a reference), or NULL
 *   ... send e->data, e->size ...; cache_release(e);
 *   e = cache_reserve(c, "a/b.txt", size, "text/plain");   a miss: room to load it
 *   ... read the file into e->data ...; cache_commit(e);    (or cache_abandon(e))
 *   ... send e->data, e->size ...; cache_release(e);
 *   cache_clear(c);                                  SIGHUP: forget every file
 *
 * An entry lives while it is in the cache or a response holds a reference, so
 * clearing the cache never frees bytes that are still being sent.  The capacity
 * bounds every byte the cache holds, an entry's bookkeeping and key as well as the
 * file's bytes: entries being sent after they were evicted, and loads under way
 * (one per file however many ask for it; cache_reserve says NULL to the others, who
 * stream the file instead).  A load that cache_clear
 * dropped is not kept when it is committed: it may hold the file as it was.
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
    size_t cost;                     /* bytes it takes: this struct, its key, its data */
    struct cache *cache;             /* the cache whose capacity it counts against */
    int refs;                        /* responses sending from data, or loading it */
    bool cached;                     /* still in the cache (not evicted or cleared) */
    bool loading;                    /* reserved, not yet committed: no hit yet */
    struct cache_entry *prev, *next; /* recency list, most recent first */
    struct cache_entry *chain;       /* next in the same hash bucket */
};

struct cache_stats {
    size_t entries, bytes; /* bytes: what the cached entries cost (see cache_entry) */
    unsigned long long hits, misses;
};

/* A cache of at most capacity bytes (0: it keeps nothing); NULL if out of memory. */
struct cache *cache_create(size_t capacity);

/* Free the cache and its entries; no entry may still be referenced. */
void cache_destroy(struct cache *c);

/* Could a file of size bytes ever be kept (under a short key)? */
bool cache_fits(const struct cache *c, size_t size);

/* The entry for key with a reference taken, counting a hit; NULL (a miss) if absent
 * or still loading. */
struct cache_entry *cache_get(struct cache *c, const char *key);

/* An entry of size bytes to load key into (data allocated, a reference taken, not yet
 * a hit for anyone), evicting the least recently used entries to make room; NULL if
 * it does not fit, cannot be made room for, or key is already cached or loading. */
struct cache_entry *cache_reserve(struct cache *c, const char *key, size_t size, const char *type);

/* The load of e is complete: from now on it is a hit (unless cache_clear dropped it).
 * The reference cache_reserve took is kept, to send e from: cache_release drops it. */
void cache_commit(struct cache_entry *e);

/* The load of e failed: forget it.  Drops the reference cache_reserve took. */
void cache_abandon(struct cache_entry *e);

/* Drop the reference cache_get took. */
void cache_release(struct cache_entry *e);

/* Forget every entry, and every load under way; those still being sent or loaded
 * are freed when released. */
void cache_clear(struct cache *c);

/* Count a request that had to read its file from disk. */
void cache_count_miss(struct cache *c);

/* Current figures. */
struct cache_stats cache_stats(const struct cache *c);

#endif
