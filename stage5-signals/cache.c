/* cache.c - stage 5's LRU file cache with reference-counted entries (see cache.h). */
#include "cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* hash chains; a power of two */

struct cache {
    size_t capacity;
    size_t held; /* bytes of every live entry (cached, being sent, or loading): what -c bounds */
    struct cache_entry *buckets[BUCKETS];
    struct cache_entry *newest, *oldest;
    struct cache_stats stats;
};

/* FNV-1a: short, and good enough for file names. */
static size_t
bucket(const char *key)
{
    uint32_t h = 2166136261u;

    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h & (BUCKETS - 1);
}

struct cache *
cache_create(size_t capacity)
{
    struct cache *c = calloc(1, sizeof *c);

    if (c != NULL)
        c->capacity = capacity;
    return c;
}

/* An entry, its key and its data are one allocation: one malloc per file, and one
 * figure (cost) to count against the capacity. */
static void
entry_free(struct cache_entry *e)
{
    e->cache->held -= e->cost;
    free(e);
}

/* Take e off the recency list (it must be on it). */
static void
take_off_list(struct cache *c, struct cache_entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->newest = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->oldest = e->prev;
}

/* Take e out of the hash table and the recency list; free it unless a response holds it. */
static void
unlink_entry(struct cache *c, struct cache_entry *e)
{
    struct cache_entry **p = &c->buckets[bucket(e->key)];

    while (*p != e)
        p = &(*p)->chain;
    *p = e->chain;
    take_off_list(c, e);
    if (!e->loading) {
        c->stats.entries--;
        c->stats.bytes -= e->cost;
    }
    e->cached = false;
    if (e->refs == 0)
        entry_free(e);
}

/* Put e at the front of the recency list (it must not be on it). */
static void
push_front(struct cache *c, struct cache_entry *e)
{
    e->prev = NULL;
    e->next = c->newest;
    if (c->newest != NULL)
        c->newest->prev = e;
    c->newest = e;
    if (c->oldest == NULL)
        c->oldest = e;
}

void
cache_destroy(struct cache *c)
{
    cache_clear(c);
    free(c);
}

bool
cache_fits(const struct cache *c, size_t size)
{
    return sizeof(struct cache_entry) + size <= c->capacity && size <= CACHE_MAX_ENTRY;
}

/* The entry for key, loading or not; NULL if there is none. */
static struct cache_entry *
find(struct cache *c, const char *key)
{
    struct cache_entry *e = c->buckets[bucket(key)];

    while (e != NULL && strcmp(e->key, key) != 0)
        e = e->chain;
    return e;
}

struct cache_entry *
cache_get(struct cache *c, const char *key)
{
    /* BEGIN STUDENT: find key; count a hit, take a reference, move it to the front */
    struct cache_entry *e = find(c, key);

    if (e == NULL || e->loading)
        return NULL;
    c->stats.hits++;
    e->refs++;
    take_off_list(c, e);
    push_front(c, e);
    return e;
    /* STUB: (void)c, (void)key, (void)find, (void)take_off_list, (void)push_front; */
    /* STUB: return NULL; */
    /* END STUDENT */
}

struct cache_entry *
cache_reserve(struct cache *c, const char *key, size_t size, const char *type)
{
    /* BEGIN STUDENT: make room (evict the oldest entries no one holds), reserve an entry */
    struct cache_entry *e, *newer;
    size_t keylen = strlen(key) + 1, cost = sizeof *e + keylen + size;

    if (size == 0 || cost > c->capacity || !cache_fits(c, size) || find(c, key) != NULL)
        return NULL; /* an empty file needs no cache; one load of a file at a time */
    /* Evicting an entry that is being sent frees nothing (the response still holds its
     * bytes), so only entries no one holds go, oldest first. */
    for (e = c->oldest; e != NULL && c->held + cost > c->capacity; e = newer) {
        newer = e->prev;
        if (e->refs == 0)
            unlink_entry(c, e);
    }
    if (c->held + cost > c->capacity || (e = calloc(1, cost)) == NULL)
        return NULL;
    e->key = (char *)(e + 1);
    memcpy(e->key, key, keylen);
    e->data = e->key + keylen;
    e->cost = cost;
    e->size = size;
    e->type = type;
    e->cache = c;
    e->refs = 1; /* the loader's */
    e->cached = e->loading = true;
    e->chain = c->buckets[bucket(key)];
    c->buckets[bucket(key)] = e;
    push_front(c, e);
    c->held += cost;
    return e;
    /* STUB: (void)c, (void)key, (void)size, (void)type, (void)unlink_entry; */
    /* STUB: return NULL; */
    /* END STUDENT */
}

void
cache_commit(struct cache_entry *e)
{
    e->loading = false;
    if (e->cached) {
        e->cache->stats.entries++;
        e->cache->stats.bytes += e->cost;
    }
    /* The loader keeps its reference: it is still sending from e->data.  If cache_clear
     * dropped e mid-load, its cache_release frees it. */
}

void
cache_abandon(struct cache_entry *e)
{
    /* Drop our reference first: then whichever of the two frees e does it last. */
    e->refs--;
    if (e->cached)
        unlink_entry(e->cache, e);
    else if (e->refs == 0)
        entry_free(e);
}

void
cache_release(struct cache_entry *e)
{
    if (--e->refs == 0 && !e->cached)
        entry_free(e);
}

void
cache_clear(struct cache *c)
{
    /* BEGIN STUDENT: unlink every entry (those still being sent or loaded are freed later) */
    while (c->oldest != NULL)
        unlink_entry(c, c->oldest);
    /* STUB: (void)c, (void)unlink_entry; */
    /* END STUDENT */
}

void
cache_count_miss(struct cache *c)
{
    c->stats.misses++;
}

struct cache_stats
cache_stats(const struct cache *c)
{
    return c->stats;
}
