/* record.c: decoding stored records.  The size is bounded before unpacking
 * and a record without a body is rejected. */
#include "config.h"

#include <stdlib.h>

#include "privaudit.h"
#include "record.h"

pa_record *pa_record_decode(const unsigned char *buf, size_t len)
{
	pa_record *r;

	if (len > PRIVAUDIT_RECORD_MAX)
		return NULL;
	r = privaudit__record__unpack(NULL, len, buf);
	if (r == NULL)
		return NULL;
	if (r->body_case == PRIVAUDIT__RECORD__BODY__NOT_SET) {
		privaudit__record__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

#define ARENA_START (64u * 1024u)
#define ARENA_MAX (16u * 1024u * 1024u)

void pa_arena_init(pa_arena *a)
{
	a->buf = NULL;
	a->cap = a->used = 0;
	a->big = NULL;
	a->nbig = a->capbig = 0;
	a->failed = 0;
}

static void *arena_alloc(void *data, size_t size)
{
	pa_arena *a = data;
	size_t need = (size + 15u) & ~(size_t)15u;
	void *p;

	if (need < size)
		return NULL;
	if (a->buf != NULL && need <= a->cap - a->used) {
		p = a->buf + a->used;
		a->used += need;
		return p;
	}
	if (a->nbig == a->capbig) {
		size_t cap = a->capbig ? a->capbig * 2 : 16;
		void **nb = realloc(a->big, cap * sizeof(*nb));

		if (nb == NULL) {
			a->failed = 1;
			return NULL;
		}
		a->big = nb;
		a->capbig = cap;
	}
	p = malloc(size);
	if (p == NULL) {
		a->failed = 1;
		return NULL;
	}
	a->big[a->nbig++] = p;
	return p;
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;   /* released all at once by pa_arena_reset */
}

void pa_arena_reset(pa_arena *a)
{
	int grow = a->nbig > 0 || a->buf == NULL;

	for (size_t i = 0; i < a->nbig; i++)
		free(a->big[i]);
	a->nbig = 0;
	a->used = 0;
	if (grow && a->cap < ARENA_MAX) {
		size_t cap = a->cap ? a->cap * 2 : ARENA_START;
		unsigned char *nb = malloc(cap);

		if (nb != NULL) {
			free(a->buf);
			a->buf = nb;
			a->cap = cap;
		}
	}
}

void pa_arena_free(pa_arena *a)
{
	for (size_t i = 0; i < a->nbig; i++)
		free(a->big[i]);
	free(a->buf);
	free(a->big);
	pa_arena_init(a);
}

pa_record *pa_record_decode_arena(pa_arena *a, const unsigned char *buf, size_t len)
{
	ProtobufCAllocator alloc = {arena_alloc, arena_free, a};
	pa_record *r;

	pa_arena_reset(a);
	a->failed = 0;
	if (len > PRIVAUDIT_RECORD_MAX)
		return NULL;
	r = privaudit__record__unpack(&alloc, len, buf);
	if (r == NULL || r->body_case == PRIVAUDIT__RECORD__BODY__NOT_SET)
		return NULL;
	return r;
}

void pa_record_free(pa_record *r)
{
	if (r != NULL)
		privaudit__record__free_unpacked(r, NULL);
}

const char *pa_record_kind_name(const pa_record *r)
{
	switch (r->body_case) {
	case PRIVAUDIT__RECORD__BODY_GENESIS: return "genesis";
	case PRIVAUDIT__RECORD__BODY_WRITER_START: return "writer_start";
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP: return "writer_stop";
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT: return "heartbeat";
	case PRIVAUDIT__RECORD__BODY_GAP: return "gap";
	case PRIVAUDIT__RECORD__BODY_RECOVERY: return "recovery";
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION: return "key_rotation";
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT: return "checkpoint";
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN: return "session_open";
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE: return "session_close";
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT: return "auth_attempt";
	case PRIVAUDIT__RECORD__BODY_COMMAND: return "command";
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT: return "tty_input";
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE: return "config_change";
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT: return "audit_event";
	case PRIVAUDIT__RECORD__BODY_APPLICATION: return "application";
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return "unknown";
}
