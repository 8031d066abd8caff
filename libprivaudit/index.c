/* SPDX-License-Identifier: ISC */
/* index.c: the session index.  One pass over the records groups them into
 * login sessions by (host, session key) and keeps where each session's
 * records are, so listing sessions and replaying one does not read the
 * whole log.  The index is a cache: a file beside the log, checked against
 * the log before use (log id, last indexed record by hash), extended with
 * records appended since, rebuilt when it does not match, and never a
 * source of truth: records are read from the segments, and with
 * privaudit_reader_verify() checked against the verified tree. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crc32c.h"
#include "index.h"
#include "note.h"
#include "reader.h"

#define IX_MAGIC "PRVAUDIX"
/* 2: session times are event times; 3: appended later; 4: sudo I/O names
 * who; 5: so do audit events, and a session keeps its flags; 6: the
 * distinct command strings of each session, for --command */
#define IX_VERSION 6u

void pa_index_free(pa_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->snap);
	free(ix->pool);
	free(ix->sess);
	free(ix->pos);
	free(ix->cmd);
	free(ix->map);
	free(ix->pub);
	free(ix->list);
	free(ix->gaps);
	free(ix->sgaps);
	free(ix->pending);
	free(ix);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 64;
	while (nc < need) {
		if (nc > SIZE_MAX / 2 / size)
			return -1;
		nc *= 2;
	}
	np = realloc(*p, nc * size);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

static int pool_add(pa_index *ix, const void *data, size_t len, ix_ref *ref)
{
	if (len > IX_MAX_FIELD)
		len = IX_MAX_FIELD;
	if (grow((void **)&ix->pool, &ix->pool_cap, ix->pool_len + len + 1, 1) < 0)
		return -1;
	if (len > 0)
		memcpy(ix->pool + ix->pool_len, data, len);
	ix->pool[ix->pool_len + len] = '\0';   /* a NUL after each, for convenience */
	ref->off = ix->pool_len;
	ref->len = len;
	ix->pool_len += len + 1;
	return 0;
}

/* ------------------------------------------------------------ session map */

static uint64_t key_hash(const void *host, size_t hl, const void *key, size_t kl)
{
	uint64_t h = 1469598103934665603ull;
	const unsigned char *p = host;

	for (size_t i = 0; i < hl; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	p = key;
	for (size_t i = 0; i < kl; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ (h >> 31);
}

static int ref_eq(const pa_index *ix, const ix_ref *r, const void *data, size_t len)
{
	return r->len == len && (len == 0 || memcmp(ix->pool + r->off, data, len) == 0);
}

int pa_index_map_rebuild(pa_index *ix, size_t cap)
{
	uint32_t *m = calloc(cap, sizeof(*m));

	if (m == NULL)
		return -1;
	for (size_t s = 0; s < ix->nsess; s++) {
		const ix_session *x = &ix->sess[s];
		uint64_t h = key_hash(ix->pool + x->ref[REF_HOST].off, x->ref[REF_HOST].len,
				      ix->pool + x->ref[REF_KEY].off, x->ref[REF_KEY].len);
		size_t i = h & (cap - 1);

		while (m[i] != 0)
			i = (i + 1) & (cap - 1);
		m[i] = (uint32_t)s + 1;
	}
	free(ix->map);
	ix->map = m;
	ix->map_cap = cap;
	return 0;
}

/* The session of (host, key), or -1 with *slot where it would go. */
int64_t pa_index_session_lookup(const pa_index *ix, const void *host, size_t hl, const void *key,
			      size_t kl, size_t *slot)
{
	size_t i;

	if (kl > IX_MAX_FIELD)
		kl = IX_MAX_FIELD;   /* keys are short; a longer one is cut the same each time */
	if (hl > IX_MAX_FIELD)
		hl = IX_MAX_FIELD;
	i = key_hash(host, hl, key, kl) & (ix->map_cap - 1);
	for (; ix->map[i] != 0; i = (i + 1) & (ix->map_cap - 1)) {
		const ix_session *x = &ix->sess[ix->map[i] - 1];

		if (ref_eq(ix, &x->ref[REF_KEY], key, kl) && ref_eq(ix, &x->ref[REF_HOST], host, hl))
			return ix->map[i] - 1;
	}
	*slot = i;
	return -1;
}

/* The session of (host, key), made when new; -1 when out of memory. */
static int64_t session_for(pa_index *ix, const void *host, size_t hl, const void *key, size_t kl)
{
	size_t i;
	int64_t s;
	ix_session *x;

	if (kl > IX_MAX_FIELD)
		kl = IX_MAX_FIELD;
	if (hl > IX_MAX_FIELD)
		hl = IX_MAX_FIELD;
	if ((ix->nsess + 1) * 2 > ix->map_cap &&
	    pa_index_map_rebuild(ix, ix->map_cap ? ix->map_cap * 2 : 1024) < 0)
		return -1;
	s = pa_index_session_lookup(ix, host, hl, key, kl, &i);
	if (s >= 0)
		return s;
	if (ix->nsess >= IX_NO_SESSION - 1 ||
	    grow((void **)&ix->sess, &ix->cap_sess, ix->nsess + 1, sizeof(*ix->sess)) < 0)
		return -1;
	x = &ix->sess[ix->nsess];
	memset(x, 0, sizeof(*x));
	x->auid = x->ses = UNSET_ID;
	if (pool_add(ix, key, kl, &x->ref[REF_KEY]) < 0 || pool_add(ix, host, hl, &x->ref[REF_HOST]) < 0)
		return -1;
	/* empty until a session open says: pool[0] is the NUL of "" */
	for (int k = REF_SERVICE; k < REF_COUNT; k++) {
		x->ref[k].off = 0;
		x->ref[k].len = 0;
	}
	ix->map[i] = (uint32_t)ix->nsess + 1;
	return (int64_t)ix->nsess++;
}

/* ------------------------------------------------------------ adding records */

static int add_pos(pa_index *ix, const privaudit_record *rec, uint32_t sess)
{
	ix_pos *p;

	if (rec->segment > UINT32_MAX)
		return -1;   /* 2^32 segments: not a log this index can describe */
	if (grow((void **)&ix->pos, &ix->cap_pos, ix->npos + 1, sizeof(*ix->pos)) < 0)
		return -1;
	p = &ix->pos[ix->npos++];
	p->index = rec->index;
	p->off = rec->offset;
	p->seg = (uint32_t)rec->segment;
	p->sess = sess;
	return 0;
}

static int set_ref(pa_index *ix, ix_session *x, int k, const ProtobufCBinaryData *b)
{
	return pool_add(ix, b->data, b->len, &x->ref[k]);
}

static int add_open(pa_index *ix, ix_session *x, const privaudit_record *rec)
{
	const Privaudit__SessionOpen *o = rec->rec->session_open;
	const ProtobufCBinaryData *login = o->login_user.len > 0 ? &o->login_user : &o->ruser;

	x->pam_sessions++;
	if (x->has_open) {
		/* sudo or su inside the login: the user it became is the target */
		if (!x->escalated && o->user.len > 0 &&
		    !ref_eq(ix, &x->ref[REF_USER], o->user.data,
			    o->user.len > IX_MAX_FIELD ? IX_MAX_FIELD : o->user.len)) {
			x->escalated = 1;
			return set_ref(ix, x, REF_USER, &o->user);
		}
		return 0;
	}
	x->has_open = 1;
	x->open = 1;
	x->open_pid = o->pid;
	/* it names the session now, in place of audit events */
	if (x->flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT)
		x->escalated = 0;
	x->flags &= ~(uint32_t)IX_FLAGS;
	if (o->auid != UNSET_ID)
		x->auid = o->auid;
	if (o->ses != UNSET_ID)
		x->ses = o->ses;
	if (set_ref(ix, x, REF_SERVICE, &o->service) < 0 || set_ref(ix, x, REF_USER, &o->user) < 0 ||
	    set_ref(ix, x, REF_LOGIN, login) < 0 || set_ref(ix, x, REF_RHOST, &o->rhost) < 0 ||
	    set_ref(ix, x, REF_TTY, &o->tty) < 0)
		return -1;
	return 0;
}

/* A sudo command's terminal I/O (sudo_privaudit.so) in a session no PAM
 * open names (pam_privaudit not in sudo's stack): who ran sudo, as whom,
 * on which tty, from the io_open.  A PAM open, when one comes, wins. */
static int add_io_open(pa_index *ix, ix_session *x, const privaudit_record *rec)
{
	const Privaudit__IoOpen *o = rec->rec->io_open;
	static const char sudo[] = "sudo";
	ProtobufCBinaryData service = {sizeof(sudo) - 1, (uint8_t *)(uintptr_t)sudo};

	if (x->has_open || x->ref[REF_SERVICE].len > 0)
		return 0;
	if (x->ses == UNSET_ID && o->ses != UNSET_ID)
		x->ses = o->ses;
	if (set_ref(ix, x, REF_SERVICE, &service) < 0 || set_ref(ix, x, REF_USER, &o->runas_user) < 0 ||
	    set_ref(ix, x, REF_LOGIN, &o->user) < 0 || set_ref(ix, x, REF_TTY, &o->tty) < 0)
		return -1;
	return 0;
}

/* What libaudit writes when it has no value: "?" (and nothing). */
static int audit_known(const ProtobufCBinaryData *b)
{
	return b->len > 0 && !(b->len == 1 && b->data[0] == '?');
}

static int ref_is(const pa_index *ix, const ix_ref *r, const ProtobufCBinaryData *b)
{
	return ref_eq(ix, r, b->data, b->len > IX_MAX_FIELD ? IX_MAX_FIELD : b->len);
}

/* A kernel audit event's fields, where the session has none from a PAM
 * open or a sudo I/O open (pam_privaudit not in the service's stack): the
 * login program, who, as whom, from where, on which terminal, from its
 * USER_LOGIN and USER_START events (successful ones), marked
 * PRIVAUDIT_SESSION_WHO_FROM_AUDIT.  A PAM open, when one comes, wins.
 *
 * acct does not always name the same user.  In USER_LOGIN it is who logged
 * in (sshd and login write it only for a failure: id=UID otherwise).  In
 * USER_START it is PAM_USER, whom the PAM session is for: who logged in
 * for a login program (sshd, login, gdm), the target for sudo and su.  So
 * a USER_START's acct is taken as who logged in only when it comes from
 * the program the session's USER_LOGIN names; else it is the target, and
 * who logged in stays unknown by name (privaudit_session.auid has the
 * number).  The program's name stands for the service: USER_START carries
 * the executable ("/usr/bin/sudo": "sudo"), not the PAM service name. */
static int add_audit_event(pa_index *ix, ix_session *x, const privaudit_record *rec)
{
	const Privaudit__AuditEvent *e = rec->rec->audit_event;
	const uint8_t *slash;
	ProtobufCBinaryData prog = e->exe;
	const ProtobufCBinaryData *rhost = audit_known(&e->hostname) ? &e->hostname : &e->addr;
	int login, same;

	if (x->has_open || !e->success || e->n_types == 0 || e->types[0] == NULL ||
	    !audit_known(&e->exe))
		return 0;
	if (strcmp(e->types[0], "USER_LOGIN") == 0)
		login = 1;
	else if (strcmp(e->types[0], "USER_START") == 0)
		login = 0;
	else
		return 0;
	if (x->ref[REF_SERVICE].len > 0 && !(x->flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT))
		return 0;   /* a sudo I/O open named it first */
	slash = memrchr(prog.data, '/', prog.len);
	if (slash != NULL) {
		prog.len -= (size_t)(slash + 1 - prog.data);
		prog.data = (uint8_t *)(uintptr_t)(slash + 1);
	}
	if (prog.len == 0)
		return 0;   /* "/usr/bin/": no program to name */
	if (x->auid == UNSET_ID && e->auid != UNSET_ID)
		x->auid = e->auid;
	if (x->ses == UNSET_ID && e->ses != UNSET_ID)
		x->ses = e->ses;
	same = x->ref[REF_SERVICE].len > 0 && ref_is(ix, &x->ref[REF_SERVICE], &prog);
	if (login) {
		/* the login itself: one a session; its terminal and peer are
		 * the session's (sshd's USER_START says only "ssh") */
		if (x->flags & IX_AUDIT_LOGIN)
			return 0;
		if (audit_known(&e->acct)) {
			if (set_ref(ix, x, REF_LOGIN, &e->acct) < 0 ||
			    (x->ref[REF_USER].len == 0 && set_ref(ix, x, REF_USER, &e->acct) < 0))
				return -1;
		} else if (same && !x->escalated && x->ref[REF_LOGIN].len == 0 &&
			   x->ref[REF_USER].len > 0) {
			/* the USER_START before it was the login program's */
			x->ref[REF_LOGIN] = x->ref[REF_USER];
		}
		x->flags |= PRIVAUDIT_SESSION_WHO_FROM_AUDIT | IX_AUDIT_LOGIN;
		if (set_ref(ix, x, REF_SERVICE, &prog) < 0 ||
		    (audit_known(&e->terminal) && set_ref(ix, x, REF_TTY, &e->terminal) < 0) ||
		    (audit_known(rhost) && set_ref(ix, x, REF_RHOST, rhost) < 0))
			return -1;
		return 0;
	}
	if (!audit_known(&e->acct))
		return 0;
	if (x->ref[REF_USER].len == 0) {
		/* the session's first PAM session, or the login program's */
		if ((same && (x->flags & IX_AUDIT_LOGIN) && x->ref[REF_LOGIN].len == 0 &&
		     set_ref(ix, x, REF_LOGIN, &e->acct) < 0) ||
		    set_ref(ix, x, REF_USER, &e->acct) < 0)
			return -1;
		if (!(x->flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT)) {
			x->flags |= PRIVAUDIT_SESSION_WHO_FROM_AUDIT;
			if (set_ref(ix, x, REF_SERVICE, &prog) < 0 ||
			    (audit_known(&e->terminal) && set_ref(ix, x, REF_TTY, &e->terminal) < 0) ||
			    (audit_known(rhost) && set_ref(ix, x, REF_RHOST, rhost) < 0))
				return -1;
		}
		return 0;
	}
	/* sudo or su inside the login: the user it became is the target */
	if (!x->escalated && !ref_is(ix, &x->ref[REF_USER], &e->acct)) {
		x->escalated = 1;
		return set_ref(ix, x, REF_USER, &e->acct);
	}
	return 0;
}

/* The first checkpoint appended after a session's close seals it: what
 * carries its key and was appended after that checkpoint came later, and
 * readers say so (privaudit(1), "appended later").  A closed session waits
 * here for it. */
static int add_pending(pa_index *ix, size_t s)
{
	if (grow((void **)&ix->pending, &ix->cap_pending, ix->npending + 1,
		 sizeof(*ix->pending)) < 0)
		return -1;
	ix->pending[ix->npending++] = (uint32_t)s;
	return 0;
}

/* A checkpoint record at index, signed over the first tree_size records. */
static void seal_pending(pa_index *ix, uint64_t index, uint64_t tree_size)
{
	size_t keep = 0;

	for (size_t i = 0; i < ix->npending; i++) {
		ix_session *x = &ix->sess[ix->pending[i]];

		if (x->close_index <= tree_size)
			x->sealed_at = index + 1;
		else
			ix->pending[keep++] = ix->pending[i];
	}
	ix->npending = keep;
}

static int add_close(pa_index *ix, ix_session *x, const privaudit_record *rec)
{
	const Privaudit__SessionClose *c = rec->rec->session_close;

	/* Only the close of the session's first open ends it; sudo and su
	 * sessions inside it close on their own. */
	if (x->open && c->pid == x->open_pid &&
	    ref_eq(ix, &x->ref[REF_SERVICE], c->service.data,
		   c->service.len > IX_MAX_FIELD ? IX_MAX_FIELD : c->service.len)) {
		x->open = 0;
		x->end_ns = rec->rec->time_ns;
		x->close_index = rec->index + 1;
		return add_pending(ix, (size_t)(x - ix->sess));
	}
	return 0;
}

/* When a record's event happened: the audit event's own time for what the
 * audit plugin recorded (it appends some time after), else the append's. */
static uint64_t event_time_ns(const pa_record *d)
{
	uint64_t ms = 0;

	if (d->body_case == PRIVAUDIT__RECORD__BODY_COMMAND)
		ms = d->command->audit_time_ms;
	else if (d->body_case == PRIVAUDIT__RECORD__BODY_TTY_INPUT)
		ms = d->tty_input->audit_time_ms;
	else if (d->body_case == PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE)
		ms = d->config_change->audit_time_ms;
	else if (d->body_case == PRIVAUDIT__RECORD__BODY_AUDIT_EVENT)
		ms = d->audit_event->audit_time_ms;
	return ms > 0 && ms < UINT64_MAX / 1000000u ? ms * 1000000u : d->time_ns;
}

/* A command's argv joined by spaces, NUL bytes shown as spaces (so that
 * fnmatch() sees all of it); *len its length.  NULL: out of memory. */
char *pa_index_command_line(const Privaudit__Command *c, size_t *len)
{
	size_t n = 0;
	char *line;

	for (size_t j = 0; j < c->n_argv; j++) {
		if (c->argv[j].len > SIZE_MAX / 2 - n)
			return NULL;
		n += c->argv[j].len + 1;
	}
	line = malloc(n + 1);
	if (line == NULL)
		return NULL;
	n = 0;
	for (size_t j = 0; j < c->n_argv; j++) {
		if (j > 0)
			line[n++] = ' ';
		for (size_t k = 0; k < c->argv[j].len; k++)
			line[n++] = c->argv[j].data[k] != '\0' ? (char)c->argv[j].data[k] : ' ';
	}
	line[n] = '\0';
	*len = n;
	return line;
}

/* The executable path, if it can be matched as a string (no NUL). */
int pa_index_command_exe(const Privaudit__Command *c)
{
	return c->exe.len > 0 && memchr(c->exe.data, '\0', c->exe.len) == NULL;
}

/* Keep a command string of session s once; past the caps, say so. */
static int add_cmd_string(pa_index *ix, ix_session *x, size_t s, const void *data, size_t len)
{
	ix_cmd *c;

	if (x->cmds_cut)
		return 0;
	for (uint32_t i = x->cmd_head; i != 0; i = ix->cmd[i - 1].next)
		if (ref_eq(ix, &ix->cmd[i - 1].ref, data, len))
			return 0;
	if (len > IX_MAX_CMD || x->ncmd >= IX_MAX_CMDS || ix->ncmd >= UINT32_MAX - 1) {
		x->cmds_cut = 1;
		return 0;
	}
	if (grow((void **)&ix->cmd, &ix->cap_cmd, ix->ncmd + 1, sizeof(*ix->cmd)) < 0)
		return -1;
	c = &ix->cmd[ix->ncmd];
	if (pool_add(ix, data, len, &c->ref) < 0)
		return -1;
	c->sess = (uint32_t)s;
	c->next = x->cmd_head;
	x->cmd_head = (uint32_t)++ix->ncmd;
	x->ncmd++;
	return 0;
}

static int add_command(pa_index *ix, ix_session *x, size_t s, const Privaudit__Command *c)
{
	size_t len;
	char *line = pa_index_command_line(c, &len);
	int rc;

	if (line == NULL)
		return -1;
	rc = add_cmd_string(ix, x, s, line, len);
	free(line);
	if (rc == 0 && pa_index_command_exe(c))
		rc = add_cmd_string(ix, x, s, c->exe.data, c->exe.len);
	return rc;
}

int pa_index_record(pa_index *ix, const privaudit_record *rec)
{
	const pa_record *d = rec->rec;
	const char *host = d->host != NULL ? d->host : "";
	ix_session *x;
	uint64_t t;
	int64_t s;

	if (d->body_case == PRIVAUDIT__RECORD__BODY_CHECKPOINT && ix->npending > 0)
		seal_pending(ix, rec->index, d->checkpoint->tree_size);
	/* A gap is listed as one (each record has one position): with a
	 * session key it belongs to that session instead. */
	if (d->session_key.len == 0)
		return d->body_case == PRIVAUDIT__RECORD__BODY_GAP ? add_pos(ix, rec, IX_NO_SESSION) : 0;
	s = session_for(ix, host, strlen(host), d->session_key.data, d->session_key.len);
	if (s < 0 || add_pos(ix, rec, (uint32_t)s) < 0)
		return -1;
	x = &ix->sess[s];
	t = event_time_ns(d);
	if (x->records++ == 0) {
		x->first_index = rec->index;
		x->start_ns = x->last_ns = t;
	}
	x->last_index = rec->index;
	/* What came after the session was sealed does not move its times:
	 * it may carry any time its writer chose. */
	if (x->sealed_at != 0 && rec->index >= x->sealed_at)
		x->late++;
	else if (t < x->start_ns)
		x->start_ns = t;
	else if (t > x->last_ns)
		x->last_ns = t;
	switch (d->body_case) {
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN:
		return add_open(ix, x, rec);
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE:
		return add_close(ix, x, rec);
	case PRIVAUDIT__RECORD__BODY_COMMAND:
		x->commands++;
		if (x->auid == UNSET_ID)
			x->auid = d->command->auid;
		if (x->ses == UNSET_ID)
			x->ses = d->command->ses;
		return add_command(ix, x, (size_t)s, d->command);
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT:
		x->tty_inputs++;
		break;
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT:
		x->auth_attempts++;
		break;
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT:
		return add_audit_event(ix, x, rec);
	case PRIVAUDIT__RECORD__BODY_IO_OPEN:
		return add_io_open(ix, x, rec);
	case PRIVAUDIT__RECORD__BODY_GENESIS:
	case PRIVAUDIT__RECORD__BODY_WRITER_START:
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP:
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT:
	case PRIVAUDIT__RECORD__BODY_GAP:
	case PRIVAUDIT__RECORD__BODY_RECOVERY:
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION:
	case PRIVAUDIT__RECORD__BODY_SEGMENT_START:
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT:
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE:
	case PRIVAUDIT__RECORD__BODY_APPLICATION:
	case PRIVAUDIT__RECORD__BODY_IO_CHUNK:
	case PRIVAUDIT__RECORD__BODY_IO_CLOSE:
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ file format */

typedef struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int failed;
} wbuf;

static void put(wbuf *w, const void *data, size_t len)
{
	if (w->failed || grow((void **)&w->p, &w->cap, w->len + len, 1) < 0) {
		w->failed = 1;
		return;
	}
	memcpy(w->p + w->len, data, len);
	w->len += len;
}

static void put64(wbuf *w, uint64_t v)
{
	unsigned char b[8];

	pa_store64(b, v);
	put(w, b, 8);
}

static void put32(wbuf *w, uint32_t v)
{
	unsigned char b[4];

	pa_store32(b, v);
	put(w, b, 4);
}

static void put_str(wbuf *w, const char *s)
{
	size_t l = strlen(s);

	put32(w, (uint32_t)l);
	put(w, s, l);
}

int pa_index_serialize(const pa_index *ix, unsigned char **buf, size_t *len)
{
	const privaudit_verify_report *v = &ix->verdict;
	wbuf w = {NULL, 0, 0, 0};

	put(&w, IX_MAGIC, 8);
	put32(&w, IX_VERSION);
	put32(&w, 0);
	put(&w, ix->log_id, PA_HASH_LEN);
	put64(&w, ix->nrecords);
	put64(&w, ix->end_seg);
	put64(&w, ix->end_off);
	put64(&w, ix->last_seg);
	put64(&w, ix->last_off);
	put(&w, ix->last_leaf, PA_HASH_LEN);
	put32(&w, (uint32_t)ix->has_verdict);
	put32(&w, (uint32_t)v->status);
	put32(&w, (uint32_t)v->has_bad);
	put64(&w, v->records);
	put64(&w, v->checkpoints);
	put64(&w, v->sealed);
	put64(&w, v->unsealed);
	put64(&w, (uint64_t)v->newest_time);
	put64(&w, v->newest_size);
	put64(&w, v->key_index);
	put64(&w, v->bad_index);
	put64(&w, v->bad_segment);
	put64(&w, v->bad_offset);
	put64(&w, v->backdated);
	put64(&w, v->backdated_index);
	put_str(&w, ix->detail);
	put_str(&w, ix->origin);
	put64(&w, ix->nsnap);
	for (size_t i = 0; i < ix->nsnap; i++) {
		put64(&w, ix->snap[i].number);
		put64(&w, ix->snap[i].ino);
		put64(&w, ix->snap[i].size);
		put64(&w, ix->snap[i].mtime_ns);
		put64(&w, ix->snap[i].ctime_ns);
		put(&w, ix->snap[i].digest, PA_HASH_LEN);
	}
	put64(&w, ix->pool_len);
	put(&w, ix->pool, ix->pool_len);
	put64(&w, ix->nsess);
	for (size_t s = 0; s < ix->nsess; s++) {
		const ix_session *x = &ix->sess[s];

		for (int k = 0; k < REF_COUNT; k++) {
			put64(&w, x->ref[k].off);
			put64(&w, x->ref[k].len);
		}
		put64(&w, x->start_ns);
		put64(&w, x->end_ns);
		put64(&w, x->last_ns);
		put32(&w, x->open);
		put32(&w, x->has_open);
		put32(&w, x->open_pid);
		put32(&w, x->auid);
		put32(&w, x->ses);
		put32(&w, x->escalated);
		put32(&w, x->flags);
		put64(&w, x->records);
		put64(&w, x->commands);
		put64(&w, x->tty_inputs);
		put64(&w, x->auth_attempts);
		put64(&w, x->pam_sessions);
		put64(&w, x->first_index);
		put64(&w, x->last_index);
		put64(&w, x->close_index);
		put64(&w, x->sealed_at);
		put64(&w, x->late);
		put32(&w, x->cmds_cut);
	}
	put64(&w, ix->npos);
	for (size_t i = 0; i < ix->npos; i++) {
		put64(&w, ix->pos[i].index);
		put64(&w, ix->pos[i].off);
		put32(&w, ix->pos[i].seg);
		put32(&w, ix->pos[i].sess);
	}
	put64(&w, ix->ncmd);
	for (size_t i = 0; i < ix->ncmd; i++) {
		put32(&w, ix->cmd[i].sess);
		put64(&w, ix->cmd[i].ref.off);
		put64(&w, ix->cmd[i].ref.len);
	}
	if (!w.failed)
		put32(&w, pa_crc32c(0, w.p, w.len));
	if (w.failed) {
		free(w.p);
		return -1;
	}
	*buf = w.p;
	*len = w.len;
	return 0;
}

typedef struct rbuf {
	const unsigned char *p;
	size_t len, pos;
	int bad;
} rbuf;

static const unsigned char *take(rbuf *r, size_t n)
{
	const unsigned char *p;

	if (r->bad || n > r->len - r->pos) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint64_t get64(rbuf *r)
{
	const unsigned char *p = take(r, 8);

	return p != NULL ? pa_load64(p) : 0;
}

static uint32_t get32(rbuf *r)
{
	const unsigned char *p = take(r, 4);

	return p != NULL ? pa_load32(p) : 0;
}

/* A flag is 0 or 1: the file has one spelling of each index. */
static int get_flag(rbuf *r)
{
	uint32_t v = get32(r);

	if (v > 1)
		r->bad = 1;
	return v != 0;
}

static void get_str(rbuf *r, char *out, size_t cap)
{
	uint32_t l = get32(r);
	const unsigned char *p = take(r, l);

	out[0] = '\0';
	if (p == NULL || l >= cap || memchr(p, '\0', l) != NULL) {
		r->bad = 1;
		return;
	}
	memcpy(out, p, l);
	out[l] = '\0';
}

/* A count of items of size bytes each that the rest of the file can hold. */
static int fits(const rbuf *r, uint64_t n, size_t size)
{
	return !r->bad && n <= (r->len - r->pos) / size;
}

static int parse_verdict(rbuf *r, pa_index *ix)
{
	privaudit_verify_report *v = &ix->verdict;

	ix->has_verdict = get_flag(r);
	v->status = (privaudit_status)get32(r);
	v->has_bad = get_flag(r);
	v->records = get64(r);
	v->checkpoints = get64(r);
	v->sealed = get64(r);
	v->unsealed = get64(r);
	v->newest_time = (int64_t)get64(r);
	v->newest_size = get64(r);
	v->key_index = get64(r);
	v->bad_index = get64(r);
	v->bad_segment = get64(r);
	v->bad_offset = get64(r);
	v->backdated = get64(r);
	v->backdated_index = get64(r);
	get_str(r, ix->detail, sizeof(ix->detail));
	get_str(r, ix->origin, sizeof(ix->origin));
	v->detail = ix->detail;
	v->origin = ix->origin;
	return r->bad || (unsigned)v->status > PRIVAUDIT_E_BACKDATED ? -1 : 0;
}

static int parse_sessions(rbuf *r, pa_index *ix)
{
	uint64_t n = get64(r);

	if (!fits(r, n, REF_COUNT * 16 + 3 * 8 + 8 * 4 + 10 * 8) || n >= IX_NO_SESSION)
		return -1;
	ix->sess = calloc(n ? n : 1, sizeof(*ix->sess));
	if (ix->sess == NULL)
		return -1;
	ix->nsess = ix->cap_sess = n;
	for (uint64_t s = 0; s < n; s++) {
		ix_session *x = &ix->sess[s];

		for (int k = 0; k < REF_COUNT; k++) {
			x->ref[k].off = get64(r);
			x->ref[k].len = get64(r);
			/* every string is followed by its NUL inside the pool */
			if (x->ref[k].off >= ix->pool_len || x->ref[k].len >= ix->pool_len - x->ref[k].off)
				return -1;
		}
		x->start_ns = get64(r);
		x->end_ns = get64(r);
		x->last_ns = get64(r);
		x->open = get_flag(r);
		x->has_open = get_flag(r);
		x->open_pid = get32(r);
		x->auid = get32(r);
		x->ses = get32(r);
		x->escalated = get_flag(r);
		x->flags = get32(r);
		x->records = get64(r);
		x->commands = get64(r);
		x->tty_inputs = get64(r);
		x->auth_attempts = get64(r);
		x->pam_sessions = get64(r);
		x->first_index = get64(r);
		x->last_index = get64(r);
		x->close_index = get64(r);
		x->sealed_at = get64(r);
		x->late = get64(r);
		x->cmds_cut = get_flag(r);
		/* flags we know, and none once a PAM open names the session */
		if ((x->flags & ~(uint32_t)IX_FLAGS) != 0 || (x->has_open && x->flags != 0))
			return -1;
		/* closed and not sealed yet: the next checkpoint may seal it */
		if ((x->close_index != 0) != (x->has_open && !x->open) || x->late > x->records ||
		    (x->sealed_at != 0 && x->close_index == 0) ||
		    (x->close_index != 0 && x->sealed_at == 0 && add_pending(ix, s) < 0))
			return -1;
	}
	return r->bad ? -1 : 0;
}

static int parse_positions(rbuf *r, pa_index *ix)
{
	uint64_t n = get64(r), prev = 0;

	if (!fits(r, n, 24))
		return -1;
	ix->pos = malloc((n ? n : 1) * sizeof(*ix->pos));
	if (ix->pos == NULL)
		return -1;
	ix->npos = ix->cap_pos = n;
	for (uint64_t i = 0; i < n; i++) {
		ix_pos *p = &ix->pos[i];

		p->index = get64(r);
		p->off = get64(r);
		p->seg = get32(r);
		p->sess = get32(r);
		/* in log order, each below nrecords, sessions that exist */
		if ((i > 0 && p->index <= prev) || p->index >= ix->nrecords ||
		    (p->sess != IX_NO_SESSION && p->sess >= ix->nsess))
			return -1;
		prev = p->index;
	}
	return r->bad ? -1 : 0;
}

/* The command strings: each in the pool, of a session that exists, at
 * most IX_MAX_CMDS of them per session, none longer than IX_MAX_CMD. */
static int parse_commands(rbuf *r, pa_index *ix)
{
	uint64_t n = get64(r);

	if (!fits(r, n, 20) || n >= UINT32_MAX)
		return -1;
	ix->cmd = malloc((n ? n : 1) * sizeof(*ix->cmd));
	if (ix->cmd == NULL)
		return -1;
	ix->ncmd = ix->cap_cmd = n;
	for (uint64_t i = 0; i < n; i++) {
		ix_cmd *c = &ix->cmd[i];
		ix_session *x;

		c->sess = get32(r);
		c->ref.off = get64(r);
		c->ref.len = get64(r);
		if (c->sess >= ix->nsess || c->ref.len > IX_MAX_CMD || c->ref.off >= ix->pool_len ||
		    c->ref.len >= ix->pool_len - c->ref.off ||
		    ix->pool[c->ref.off + c->ref.len] != '\0')
			return -1;
		x = &ix->sess[c->sess];
		if (x->ncmd >= IX_MAX_CMDS)
			return -1;
		c->next = x->cmd_head;
		x->cmd_head = (uint32_t)i + 1;
		x->ncmd++;
	}
	return r->bad ? -1 : 0;
}

/* Each session's record count and first/last index agree with its
 * positions (the file is hostile: nothing is sized from its counts). */
static int counts_mismatch(const pa_index *ix)
{
	uint64_t *seen = calloc(ix->nsess ? ix->nsess : 1, sizeof(*seen));
	int bad = seen == NULL;

	for (size_t i = 0; !bad && i < ix->npos; i++) {
		const ix_pos *p = &ix->pos[i];
		const ix_session *x;

		if (p->sess == IX_NO_SESSION)
			continue;
		x = &ix->sess[p->sess];
		if ((seen[p->sess] == 0 && p->index != x->first_index) || p->index > x->last_index)
			bad = 1;
		seen[p->sess]++;
	}
	for (size_t s = 0; !bad && s < ix->nsess; s++)
		bad = seen[s] != ix->sess[s].records || seen[s] == 0;
	free(seen);
	return bad;
}

int pa_index_parse(const unsigned char *buf, size_t len, pa_index **out)
{
	rbuf r = {buf, len, 0, 0};
	pa_index *ix;
	uint64_t n;

	*out = NULL;
	/* magic, version, a reserved word, then the body and its CRC */
	if (len < 20 || memcmp(buf, IX_MAGIC, 8) != 0 || pa_load32(buf + 8) != IX_VERSION ||
	    pa_load32(buf + 12) != 0 ||
	    pa_crc32c(0, buf, len - 4) != pa_load32(buf + len - 4))
		return -1;
	r.len = len - 4;
	r.pos = 16;
	ix = calloc(1, sizeof(*ix));
	if (ix == NULL)
		return -1;
	if (take(&r, PA_HASH_LEN) == NULL)
		goto bad;
	memcpy(ix->log_id, r.p + r.pos - PA_HASH_LEN, PA_HASH_LEN);
	ix->nrecords = get64(&r);
	ix->end_seg = get64(&r);
	ix->end_off = get64(&r);
	ix->last_seg = get64(&r);
	ix->last_off = get64(&r);
	if (take(&r, PA_HASH_LEN) == NULL)
		goto bad;
	memcpy(ix->last_leaf, r.p + r.pos - PA_HASH_LEN, PA_HASH_LEN);
	if (r.bad || parse_verdict(&r, ix) < 0)
		goto bad;
	n = get64(&r);
	if (!fits(&r, n, 40 + PA_HASH_LEN))
		goto bad;
	ix->snap = malloc((n ? n : 1) * sizeof(*ix->snap));
	if (ix->snap == NULL)
		goto bad;
	ix->nsnap = n;
	for (uint64_t i = 0; i < n; i++) {
		ix->snap[i].number = get64(&r);
		ix->snap[i].ino = get64(&r);
		ix->snap[i].size = get64(&r);
		ix->snap[i].mtime_ns = get64(&r);
		ix->snap[i].ctime_ns = get64(&r);
		if (take(&r, PA_HASH_LEN) != NULL)
			memcpy(ix->snap[i].digest, r.p + r.pos - PA_HASH_LEN, PA_HASH_LEN);
	}
	n = get64(&r);
	if (!fits(&r, n, 1) || n == 0)
		goto bad;
	ix->pool = malloc(n);
	if (ix->pool == NULL || take(&r, n) == NULL)
		goto bad;
	memcpy(ix->pool, r.p + r.pos - n, n);
	ix->pool_len = ix->pool_cap = n;
	if (parse_sessions(&r, ix) < 0 || parse_positions(&r, ix) < 0 ||
	    parse_commands(&r, ix) < 0 || r.pos != r.len ||
	    counts_mismatch(ix))
		goto bad;
	for (size_t s = 0; s < ix->nsess; s++)
		for (int k = 0; k < REF_COUNT; k++)
			if (ix->pool[ix->sess[s].ref[k].off + ix->sess[s].ref[k].len] != '\0')
				goto bad;
	*out = ix;
	return 0;
bad:
	pa_index_free(ix);
	return -1;
}

int pa_index_position(const pa_index *ix, uint64_t index, uint64_t *seg, uint64_t *off)
{
	size_t lo = 0, hi = ix->npos;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->pos[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->npos || ix->pos[lo].index != index)
		return -1;
	*seg = ix->pos[lo].seg;
	*off = ix->pos[lo].off;
	return 0;
}
