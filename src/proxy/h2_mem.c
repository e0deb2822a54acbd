/* SPDX-License-Identifier: ISC */
/*
 * h2_mem: the allocator every nghttp2 session of the sidecar uses.
 * nghttp2 allocates per stream (its stream, the outbound items of the
 * HEADERS and DATA frames, a copy of the header fields we submit): about
 * eight blocks per request across a server and a client session, of 57
 * to 405 bytes (the census in tests/unit/proxy/test_h2_mem.c).  Those
 * come from free lists of a few size classes, so a warm sidecar calls
 * malloc for none of them; anything larger (header blocks, the HPACK
 * tables, the session itself) goes to malloc as before.  The free lists
 * keep at most H2_MEM_KEEP bytes in all: past that a freed block goes
 * back to the allocator, so a burst of streams does not pin its memory.
 * One event loop, one thread: no locks.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "h2_int.h"

/* Under AddressSanitizer a block on a free list is poisoned, so a use
 * after nghttp2 freed it is still caught though the memory stays ours. */
#if defined(__SANITIZE_ADDRESS__)
#define H2MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H2MEM_ASAN 1
#endif
#endif
#ifdef H2MEM_ASAN
#include <sanitizer/asan_interface.h>
#define H2MEM_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define H2MEM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define H2MEM_POISON(p, n)   ((void)(p), (void)(n))
#define H2MEM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define H2_MEM_MIN_SHIFT 6          /* the smallest class: 64 bytes */
#define H2_MEM_CLASSES   5          /* 64, 128, 256, 512, 1024 */
#define H2_MEM_LARGE     H2_MEM_CLASSES

/* Before every block: its class (H2_MEM_LARGE: from malloc) and its
 * usable bytes; 16 bytes, so the block is aligned as malloc's are. */
struct h2mem_hdr {
	_Alignas(max_align_t) struct h2mem_hdr *next;   /* the free list while pooled */
	uint32_t cls;
	uint32_t size;              /* usable bytes after the header */
};

static struct h2mem_hdr *free_list[H2_MEM_CLASSES];
static struct h2mem_stats st;

static size_t
h2mem_class_size(unsigned cls)
{
	return (size_t)1 << (H2_MEM_MIN_SHIFT + cls);
}

/* The class that holds n bytes after the header, or H2_MEM_LARGE. */
static unsigned
h2mem_class(size_t n)
{
	unsigned cls;

	for (cls = 0; cls < H2_MEM_CLASSES; cls++)
		if (n <= h2mem_class_size(cls) - sizeof(struct h2mem_hdr))
			return cls;
	return H2_MEM_LARGE;
}

static void *
h2mem_malloc(size_t n, void *ud)
{
	struct h2mem_hdr *b;
	unsigned cls = h2mem_class(n);

	(void)ud;
	if (cls == H2_MEM_LARGE) {
		if (n > UINT32_MAX - sizeof(*b) || (b = malloc(sizeof(*b) + n)) == NULL)
			return NULL;
		b->size = (uint32_t)n;
		st.large++;
	} else if ((b = free_list[cls]) != NULL) {
		free_list[cls] = b->next;
		st.kept -= h2mem_class_size(cls);
		st.reused++;
		H2MEM_UNPOISON(b + 1, b->size);
	} else {
		if ((b = malloc(h2mem_class_size(cls))) == NULL)
			return NULL;
		b->size = (uint32_t)(h2mem_class_size(cls) - sizeof(*b));
		st.fresh++;
	}
	b->cls = cls;
	b->next = NULL;
	return b + 1;
}

static void
h2mem_free(void *p, void *ud)
{
	struct h2mem_hdr *b;
	size_t sz;

	(void)ud;
	if (p == NULL)
		return;
	b = (struct h2mem_hdr *)p - 1;
	if (b->cls == H2_MEM_LARGE) {
		free(b);
		return;
	}
	sz = h2mem_class_size(b->cls);
	if (st.kept + sz > H2_MEM_KEEP) {
		free(b);
		st.released++;
		return;
	}
	b->next = free_list[b->cls];
	free_list[b->cls] = b;
	st.kept += sz;
	H2MEM_POISON(b + 1, b->size);
}

static void *
h2mem_calloc(size_t nmemb, size_t size, void *ud)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = h2mem_malloc(nmemb * size, ud)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

static void *
h2mem_realloc(void *p, size_t n, void *ud)
{
	struct h2mem_hdr *b, *nb;
	void *q;

	if (p == NULL)
		return h2mem_malloc(n, ud);
	if (n == 0) {
		h2mem_free(p, ud);
		return NULL;
	}
	b = (struct h2mem_hdr *)p - 1;
	if (n <= b->size)
		return p;               /* it fits where it is */
	if (b->cls == H2_MEM_LARGE) {
		if (n > UINT32_MAX - sizeof(*b) || (nb = realloc(b, sizeof(*b) + n)) == NULL)
			return NULL;
		nb->size = (uint32_t)n;
		return nb + 1;
	}
	if ((q = h2mem_malloc(n, ud)) == NULL)
		return NULL;            /* p stays valid, as realloc's contract says */
	memcpy(q, p, b->size);
	h2mem_free(p, ud);
	return q;
}

nghttp2_mem *
h2mem(void)
{
	static nghttp2_mem mem = {
		NULL, h2mem_malloc, h2mem_free, h2mem_calloc, h2mem_realloc
	};

	return &mem;
}

void
h2mem_stats(struct h2mem_stats *out)
{
	*out = st;
}

void
h2mem_trim(void)
{
	struct h2mem_hdr *b;
	unsigned cls;

	for (cls = 0; cls < H2_MEM_CLASSES; cls++)
		while ((b = free_list[cls]) != NULL) {
			free_list[cls] = b->next;
			H2MEM_UNPOISON(b + 1, b->size);
			free(b);
		}
	st.kept = 0;
}
