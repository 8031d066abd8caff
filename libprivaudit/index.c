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
#define IX_NO_SESSION UINT32_MAX
#define IX_MAX_FIELD 4096          /* summary strings are cut here (records keep all) */
/* Command strings kept per session, and the longest kept: past either, the
 * session is marked cmds_cut and a search reads its records instead. */
#define IX_MAX_CMDS 32u
#define IX_MAX_CMD 1024u
#define UNSET_ID 4294967295u
/* A session's flags: the public ones, and that a USER_LOGIN event named
 * its login program (add_audit_event()). */
#define IX_AUDIT_LOGIN 0x80000000u
#define IX_FLAGS (PRIVAUDIT_SESSION_WHO_FROM_AUDIT | IX_AUDIT_LOGIN)

/* Where a record of a session (or a gap record) is. */
typedef struct ix_pos {
	uint64_t index;
	uint64_t off;
	uint32_t seg;
	uint32_t sess;             /* IX_NO_SESSION for gap records */
} ix_pos;

typedef struct ix_ref {
	uint64_t off, len;         /* into the string pool */
} ix_ref;

enum { REF_KEY, REF_HOST, REF_SERVICE, REF_USER, REF_LOGIN, REF_RHOST, REF_TTY, REF_COUNT };

typedef struct ix_session {
	ix_ref ref[REF_COUNT];
	uint64_t start_ns, end_ns, last_ns;
	uint32_t open, has_open, open_pid, auid, ses;
	uint32_t escalated;        /* a later open changed user: its target is shown */
	uint32_t flags;            /* PRIVAUDIT_SESSION_*, and IX_AUDIT_LOGIN */
	uint64_t records, commands, tty_inputs, auth_attempts, pam_sessions;
	uint64_t first_index, last_index;
	uint64_t close_index;      /* index + 1 of the close that ended it, 0: none */
	uint64_t sealed_at;        /* index + 1 of the checkpoint that first sealed it, 0: none */
	uint64_t late;             /* its records appended after that checkpoint */
	uint32_t cmds_cut;         /* 1: not all its command strings are in cmd[] */
	/* in memory only */
	uint32_t cmd_head;         /* its last cmd[] entry + 1, 0: none */
	uint32_t ncmd;
} ix_session;

/* A distinct command string of a session: a command's argv joined by
 * spaces, or its executable path (what privaudit_session_command_match()
 * matches). */
typedef struct ix_cmd {
	ix_ref ref;
	uint32_t sess;
	uint32_t next;             /* in memory: the session's previous entry + 1 */
} ix_cmd;

/* A verification and the segment files it read. */
typedef struct ix_snap {
	uint64_t number, ino, size, mtime_ns, ctime_ns;
	unsigned char digest[PA_HASH_LEN];   /* of the last segment's bytes */
} ix_snap;

struct pa_index {
	unsigned char log_id[PA_HASH_LEN];
	uint64_t nrecords;          /* records 0 .. nrecords-1 are indexed */
	uint64_t end_seg, end_off;  /* reserved, written as 0: reading resumes at last_* */
	uint64_t last_seg, last_off;/* the last indexed record */
	unsigned char last_leaf[PA_HASH_LEN];

	int has_verdict;
	privaudit_verify_report verdict;
	char detail[768], origin[256];
	ix_snap *snap;
	size_t nsnap;

	unsigned char *pool;
	size_t pool_len, pool_cap;
	ix_session *sess;
	size_t nsess, cap_sess;
	ix_pos *pos;
	size_t npos, cap_pos;
	ix_cmd *cmd;
	size_t ncmd, cap_cmd;

	/* in memory only */
	uint32_t *map;              /* open addressing: session number + 1 */
	size_t map_cap;
	privaudit_session *pub;     /* what privaudit_sessions() returns */
	const privaudit_verify_report *pub_verdict;   /* the verdict pub reflects */
	uint64_t *list;             /* privaudit_session_records() */
	uint64_t *gaps;
	size_t ngaps;
	uint64_t *sgaps;            /* privaudit_session_gaps() */
	uint32_t *pending;          /* sessions closed and not yet sealed */
	size_t npending, cap_pending;
	int dirty;
	char damage[600];           /* why indexing stopped before the end */
};

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

static int map_rebuild(pa_index *ix, size_t cap)
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
static int64_t session_lookup(const pa_index *ix, const void *host, size_t hl, const void *key,
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
	    map_rebuild(ix, ix->map_cap ? ix->map_cap * 2 : 1024) < 0)
		return -1;
	s = session_lookup(ix, host, hl, key, kl, &i);
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
static char *command_line(const Privaudit__Command *c, size_t *len)
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
static int command_exe(const Privaudit__Command *c)
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
	char *line = command_line(c, &len);
	int rc;

	if (line == NULL)
		return -1;
	rc = add_cmd_string(ix, x, s, line, len);
	free(line);
	if (rc == 0 && command_exe(c))
		rc = add_cmd_string(ix, x, s, c->exe.data, c->exe.len);
	return rc;
}

static int index_record(pa_index *ix, const privaudit_record *rec)
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

/* ------------------------------------------------------------ on disk */

/* An honest index is smaller than twice the segments (a position is 24
 * bytes, a frame at least 17) plus its sessions: no bigger file is read. */
static uint64_t index_max(privaudit_reader *r)
{
	uint64_t *segs = NULL, total = 0;
	size_t n = 0;

	if (pa_reader_segments(r, &segs, &n) != PRIVAUDIT_OK)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;

		pa_seg_name(name, segs[i]);
		if (fstatat(r->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && sb.st_size > 0)
			total += (uint64_t)sb.st_size;
	}
	free(segs);
	return total * 2 + ((uint64_t)16 << 20);
}

static pa_index *load(privaudit_reader *r)
{
	pa_index *ix = NULL;
	unsigned char *buf = NULL;
	struct stat sb;
	int fd;

	uint64_t max = index_max(r);

	fd = openat(r->dirfd, PA_INDEX_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
	    (uint64_t)sb.st_size <= max &&
	    (buf = malloc((size_t)sb.st_size)) != NULL &&
	    pa_pread_full(fd, buf, (size_t)sb.st_size, 0) == 0)
		pa_index_parse(buf, (size_t)sb.st_size, &ix);
	free(buf);
	close(fd);
	return ix;
}

/* Best effort: an auditor's read-only copy keeps its index in memory. */
static void save(privaudit_reader *r, pa_index *ix)
{
	unsigned char *buf;
	char tmp[64];
	size_t len;
	int fd;

	if (pa_index_serialize(ix, &buf, &len) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", PA_INDEX_FILE, (long)getpid());
	fd = openat(r->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd >= 0) {
		if (pa_write_full(fd, buf, len) == 0 && close(fd) == 0) {
			if (renameat(r->dirfd, tmp, r->dirfd, PA_INDEX_FILE) == 0)
				ix->dirty = 0;
		} else {
			(void)0;
		}
		unlinkat(r->dirfd, tmp, 0);
	}
	free(buf);
}

/* The record the index ends with is still there, byte for byte. */
static int tail_matches(privaudit_reader *r, const pa_index *ix)
{
	const privaudit_record *rec;
	unsigned char leaf[PA_HASH_LEN];

	if (!r->have_log_id || memcmp(ix->log_id, r->log_id, PA_HASH_LEN) != 0)
		return 0;
	if (ix->nrecords == 0)
		return 1;
	if (pa_reader_read_at(r, ix->nrecords - 1, ix->last_seg, ix->last_off, &rec) != PRIVAUDIT_OK)
		return 0;
	pa_hash_leaf(leaf, rec->entry, rec->len);
	return memcmp(leaf, ix->last_leaf, PA_HASH_LEN) == 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* The segment files as they are now. */
static int take_snapshot(privaudit_reader *r, ix_snap **out, size_t *n)
{
	uint64_t *segs = NULL;
	size_t count = 0;
	ix_snap *s;

	if (pa_reader_segments(r, &segs, &count) != PRIVAUDIT_OK)
		return -1;
	s = calloc(count ? count : 1, sizeof(*s));
	if (s == NULL) {
		free(segs);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		char name[PA_SEG_NAME_MAX];
		struct stat sb;

		pa_seg_name(name, segs[i]);
		s[i].number = segs[i];
		if (fstatat(r->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			s[i].ino = (uint64_t)sb.st_ino;
			s[i].size = (uint64_t)sb.st_size;
			s[i].mtime_ns = ts_ns(&sb.st_mtim);
			s[i].ctime_ns = ts_ns(&sb.st_ctim);
		}
	}
	free(segs);
	*out = s;
	*n = count;
	return 0;
}

/* A checkpoint newer than the verdict's: verifying again would seal more. */
static int newer_checkpoint(privaudit_reader *r, const pa_index *ix)
{
	char *text = NULL;
	size_t len = 0;
	pa_note n;
	int newer = 0;

	if (pa_read_file(NULL, r->dirfd, PRIVAUDIT_CHECKPOINT_FILE, PA_NOTE_MAX, &text, &len) !=
	    PRIVAUDIT_OK)
		return 0;
	if (pa_note_parse(text, len, &n) == PRIVAUDIT_OK) {
		newer = n.size > ix->verdict.newest_size;
		pa_note_free(&n);
	}
	free(text);
	return newer;
}

/* SHA-256 of the first len bytes of segment number. */
static int segment_digest(privaudit_reader *r, uint64_t number, uint64_t len,
			  unsigned char out[PA_HASH_LEN])
{
	char name[PA_SEG_NAME_MAX];
	int fd, rc;

	pa_seg_name(name, number);
	fd = openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	rc = pa_sha256_file(out, fd, len);
	close(fd);
	return rc;
}

/* The cached verification still describes the files: every segment it
 * read is untouched (same inode, size and times: root cannot set a ctime),
 * except the last, which writers append to: that one must still begin
 * with the very bytes verified. */
static int snapshot_holds(privaudit_reader *r, const pa_index *ix)
{
	unsigned char d[PA_HASH_LEN];
	ix_snap *now = NULL;
	size_t n = 0;
	int ok;

	if (!ix->has_verdict || ix->nsnap == 0 || newer_checkpoint(r, ix) ||
	    take_snapshot(r, &now, &n) < 0)
		return 0;
	ok = n >= ix->nsnap;
	for (size_t i = 0; ok && i < ix->nsnap; i++) {
		const ix_snap *a = &ix->snap[i], *b = &now[i];

		if (a->number != b->number || a->ino != b->ino)
			ok = 0;
		else if (a->size == b->size && a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns)
			ok = 1;
		else
			ok = i + 1 == ix->nsnap && b->size >= a->size &&
			     segment_digest(r, a->number, a->size, d) == 0 &&
			     memcmp(d, a->digest, PA_HASH_LEN) == 0;
	}
	free(now);
	return ok;
}

/* Snapshot the files with the last segment's digest. */
static void snapshot_for_verdict(privaudit_reader *r, pa_index *ix)
{
	free(ix->snap);
	ix->snap = NULL;
	ix->nsnap = 0;
	if (take_snapshot(r, &ix->snap, &ix->nsnap) < 0)
		return;
	if (ix->nsnap > 0) {
		ix_snap *last = &ix->snap[ix->nsnap - 1];

		if (segment_digest(r, last->number, last->size, last->digest) < 0) {
			free(ix->snap);
			ix->snap = NULL;
			ix->nsnap = 0;
		}
	}
}

static void copy_verdict(pa_index *ix, const privaudit_verify_report *rep)
{
	ix->verdict = *rep;
	snprintf(ix->detail, sizeof(ix->detail), "%s", rep->detail);
	snprintf(ix->origin, sizeof(ix->origin), "%s", rep->origin);
	ix->verdict.detail = ix->detail;
	ix->verdict.origin = ix->origin;
	ix->has_verdict = 1;
}

/* Verify the log now and keep the verdict with the files it read. */
static void refresh_verdict(privaudit_reader *r, pa_index *ix)
{
	privaudit_verifier *v = NULL;
	const privaudit_verify_report *rep;

	ix->has_verdict = 0;
	ix->dirty = 1;
	snapshot_for_verdict(r, ix);
	if (ix->nsnap == 0)
		return;
	if (privaudit_verifier_new(&v, r->dir) != PRIVAUDIT_OK)
		return;
	if (r->progress != NULL)
		privaudit_verifier_progress(v, r->progress, r->progress_arg);
	privaudit_verify_run(v, &rep);
	if (rep->status != PRIVAUDIT_E_NOMEM && rep->status != PRIVAUDIT_E_IO)
		copy_verdict(ix, rep);
	privaudit_verifier_free(v);
}

/* Index every record from where ix ends to the end of the log. */
static privaudit_status extend(privaudit_reader *r, pa_index *ix)
{
	const privaudit_record *rec;
	uint64_t first = ix->nrecords, total = 0;
	privaudit_status st;

	/* Progress counts records; the total is a guess from the tail. */
	if (r->progress != NULL && privaudit_reader_count(r, &total) == PRIVAUDIT_OK)
		total = total > first ? total - first : 0;
	if (ix->nrecords == 0) {
		st = privaudit_reader_seek(r, 0);
	} else {
		/* resume right after the last indexed record (tail_matches
		 * checked it is there) */
		st = pa_reader_resume(r, ix->last_seg, ix->last_off, ix->nrecords - 1);
		if (st == PRIVAUDIT_OK)
			st = privaudit_reader_next(r, &rec);
	}
	while (st == PRIVAUDIT_OK) {
		st = privaudit_reader_next(r, &rec);
		if (st != PRIVAUDIT_OK)
			break;
		if (index_record(ix, rec) < 0)
			return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
		ix->nrecords = rec->index + 1;
		if (r->progress != NULL && (rec->index & 0xffff) == 0)
			r->progress(r->progress_arg, rec->index - first, total);
		ix->last_seg = rec->segment;
		ix->last_off = rec->offset;
		pa_hash_leaf(ix->last_leaf, rec->entry, rec->len);
		ix->dirty = 1;
	}
	if (st == PRIVAUDIT_E_END || st == PRIVAUDIT_OK)
		return PRIVAUDIT_OK;
	if (st == PRIVAUDIT_E_NOMEM || st == PRIVAUDIT_E_IO)
		return st;
	/* Damage: what comes before it is indexed; the reason is kept for
	 * whoever lists the sessions. */
	snprintf(ix->damage, sizeof(ix->damage), "%s", privaudit_reader_error(r));
	return PRIVAUDIT_OK;
}

static int map_fit(pa_index *ix)
{
	size_t cap = 1024;

	while (cap < ix->nsess * 2 + 2)
		cap *= 2;
	return map_rebuild(ix, cap);
}

static pa_index *fresh(privaudit_reader *r)
{
	pa_index *ix = calloc(1, sizeof(*ix));

	if (ix == NULL)
		return NULL;
	memcpy(ix->log_id, r->log_id, PA_HASH_LEN);
	ix->pool = malloc(1);
	if (ix->pool == NULL) {
		free(ix);
		return NULL;
	}
	ix->pool[0] = '\0';
	ix->pool_len = ix->pool_cap = 1;
	ix->dirty = 1;
	return ix;
}

privaudit_status pa_index_update(privaudit_reader *r)
{
	privaudit_status st;
	pa_index *ix = NULL;

	if (r->ix_checked)
		return PRIVAUDIT_OK;
	/* Segment 0's log id tells our index from another log's. */
	st = privaudit_reader_seek(r, 0);
	if (st != PRIVAUDIT_OK && st != PRIVAUDIT_E_END)
		return st;
	/* After a verification the index is made again from the verified
	 * bytes (each record read is checked against the verified tree), so
	 * not even which session a record belongs to comes from the file. */
	if (r->ver == NULL) {
		ix = load(r);
		if (ix != NULL && !tail_matches(r, ix)) {
			pa_index_free(ix);
			ix = NULL;
		}
	}
	if (ix == NULL && (ix = fresh(r)) == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	if (r->ver != NULL) {
		snapshot_for_verdict(r, ix);
		if (ix->nsnap > 0)
			copy_verdict(ix, r->rep);
	} else if (!snapshot_holds(r, ix)) {
		refresh_verdict(r, ix);
	}
	if (map_fit(ix) < 0) {
		pa_index_free(ix);
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	st = extend(r, ix);
	if (st != PRIVAUDIT_OK) {
		pa_index_free(ix);
		return st;
	}
	/* Bytes that changed since they were verified (or damage): keep no
	 * verdict for files it does not describe. */
	if (r->ver != NULL && ix->damage[0] != '\0')
		ix->has_verdict = 0;
	if (ix->dirty)
		save(r, ix);
	pa_index_free(r->ix);
	r->ix = ix;
	r->ix_checked = 1;
	return PRIVAUDIT_OK;
}

const char *pa_index_damage(const pa_index *ix)
{
	return ix != NULL && ix->damage[0] != '\0' ? ix->damage : NULL;
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

/* ------------------------------------------------------------ sessions API */

static privaudit_bytes ref_bytes(const pa_index *ix, const ix_ref *r)
{
	privaudit_bytes b = {ix->pool + r->off, (size_t)r->len};

	return b;
}

void pa_session_id(const void *host, size_t hl, const void *key, size_t kl, char id[16])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[PA_HASH_LEN], *buf;

	if (hl > IX_MAX_FIELD)
		hl = IX_MAX_FIELD;
	if (kl > IX_MAX_FIELD)
		kl = IX_MAX_FIELD;
	buf = malloc(18 + hl + 1 + kl);
	if (buf == NULL) {
		memcpy(id, "000000000000", 13);
		return;
	}
	memcpy(buf, "privaudit session\n", 18);
	if (hl > 0)
		memcpy(buf + 18, host, hl);
	buf[18 + hl] = '\n';
	if (kl > 0)
		memcpy(buf + 19 + hl, key, kl);
	pa_sha256(h, buf, 19 + hl + kl);
	free(buf);
	for (int i = 0; i < 6; i++) {
		id[2 * i] = hex[h[i] >> 4];
		id[2 * i + 1] = hex[h[i] & 15];
	}
	id[12] = '\0';
}

static void session_id(const pa_index *ix, const ix_session *x, char id[16])
{
	pa_session_id(ix->pool + x->ref[REF_HOST].off, x->ref[REF_HOST].len,
		      ix->pool + x->ref[REF_KEY].off, x->ref[REF_KEY].len, id);
}

PRIVAUDIT_EXPORT privaudit_status privaudit_record_session_id(const privaudit_record *rec,
							      char id[16])
{
	const char *host;

	if (rec == NULL || id == NULL)
		return PRIVAUDIT_E_INVAL;
	if (rec->rec->session_key.len == 0)
		return PRIVAUDIT_E_NOTFOUND;
	host = rec->rec->host != NULL ? rec->rec->host : "";
	pa_session_id(host, strlen(host), rec->rec->session_key.data, rec->rec->session_key.len, id);
	return PRIVAUDIT_OK;
}

static const privaudit_verify_report *verdict(const privaudit_reader *r, int *cached)
{
	if (r->rep != NULL) {
		*cached = 0;
		return r->rep;
	}
	*cached = 1;
	return r->ix != NULL && r->ix->has_verdict ? &r->ix->verdict : NULL;
}

static privaudit_status publish(privaudit_reader *r)
{
	pa_index *ix = r->ix;
	const privaudit_verify_report *v;
	uint64_t sealed;
	int cached;

	if (ix == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_STATE, "no index");
	v = verdict(r, &cached);
	if (ix->pub != NULL && ix->pub_verdict == v)
		return PRIVAUDIT_OK;   /* nothing changed: the same list stays valid */
	sealed = v != NULL ? v->sealed : 0;
	free(ix->pub);
	ix->pub_verdict = v;
	ix->pub = calloc(ix->nsess ? ix->nsess : 1, sizeof(*ix->pub));
	if (ix->pub == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	for (size_t s = 0; s < ix->nsess; s++) {
		const ix_session *x = &ix->sess[s];
		privaudit_session *p = &ix->pub[s];

		session_id(ix, x, p->id);
		p->key = ref_bytes(ix, &x->ref[REF_KEY]);
		p->host = ref_bytes(ix, &x->ref[REF_HOST]);
		p->service = ref_bytes(ix, &x->ref[REF_SERVICE]);
		p->user = ref_bytes(ix, &x->ref[REF_USER]);
		p->login_user = ref_bytes(ix, &x->ref[REF_LOGIN]);
		p->rhost = ref_bytes(ix, &x->ref[REF_RHOST]);
		p->tty = ref_bytes(ix, &x->ref[REF_TTY]);
		p->start_ns = x->start_ns;
		p->end_ns = x->has_open ? (x->open ? 0 : x->end_ns) : x->last_ns;
		p->open = (int)x->open;
		p->has_open = (int)x->has_open;
		p->auid = x->auid;
		p->ses = x->ses;
		p->records = x->records;
		p->commands = x->commands;
		p->tty_inputs = x->tty_inputs;
		p->auth_attempts = x->auth_attempts;
		p->pam_sessions = x->pam_sessions;
		p->first_index = x->first_index;
		p->last_index = x->last_index;
		p->appended_after = x->sealed_at;
		p->late = x->late;
	}
	/* Records a verified checkpoint covers, per session. */
	for (size_t i = 0; i < ix->npos && ix->pos[i].index < sealed; i++)
		if (ix->pos[i].sess != IX_NO_SESSION)
			ix->pub[ix->pos[i].sess].verified++;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_sessions(privaudit_reader *r,
						     const privaudit_session **list,
						     size_t *count)
{
	privaudit_status st;

	if (r == NULL || list == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	*list = NULL;
	*count = 0;
	st = pa_index_update(r);
	if (st == PRIVAUDIT_OK)
		st = publish(r);
	if (st != PRIVAUDIT_OK)
		return st;
	*list = r->ix->pub;
	*count = r->ix->nsess;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_find(privaudit_reader *r, const char *name,
							 const privaudit_session **session)
{
	const privaudit_session *list, *found = NULL;
	size_t n, nl;
	privaudit_status st;

	if (r == NULL || name == NULL || session == NULL)
		return PRIVAUDIT_E_INVAL;
	*session = NULL;
	st = privaudit_sessions(r, &list, &n);
	if (st != PRIVAUDIT_OK)
		return st;
	nl = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].id, name) == 0 ||
		    (list[i].key.len == nl && memcmp(list[i].key.data, name, nl) == 0)) {
			*session = &list[i];
			return PRIVAUDIT_OK;
		}
	if (nl < 4)
		return PRIVAUDIT_E_NOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (strncmp(list[i].id, name, nl) == 0) {
			if (found != NULL)
				return PRIVAUDIT_E_AMBIGUOUS;
			found = &list[i];
		}
	if (found == NULL)
		return PRIVAUDIT_E_NOTFOUND;
	*session = found;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_records(privaudit_reader *r,
							    const privaudit_session *session,
							    const uint64_t **indexes, size_t *count)
{
	pa_index *ix;
	size_t s, n = 0;

	if (r == NULL || session == NULL || indexes == NULL || count == NULL || r->ix == NULL ||
	    r->ix->pub == NULL)
		return PRIVAUDIT_E_INVAL;
	ix = r->ix;
	if (session < ix->pub || session >= ix->pub + ix->nsess)
		return PRIVAUDIT_E_INVAL;
	s = (size_t)(session - ix->pub);
	/* Sized by the positions themselves, never by a count from the file. */
	for (size_t i = 0; i < ix->npos; i++)
		n += ix->pos[i].sess == s;
	free(ix->list);
	ix->list = malloc((n ? n : 1) * sizeof(uint64_t));
	if (ix->list == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < ix->npos; i++)
		if (ix->pos[i].sess == s)
			ix->list[n++] = ix->pos[i].index;
	*indexes = ix->list;
	*count = n;
	return PRIVAUDIT_OK;
}

/* The index's number of a session privaudit_sessions() listed, or -1. */
static int64_t session_number(const privaudit_reader *r, const privaudit_session *session)
{
	const pa_index *ix = r->ix;

	if (ix == NULL || ix->pub == NULL || session < ix->pub || session >= ix->pub + ix->nsess)
		return -1;
	return session - ix->pub;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_flags(privaudit_reader *r,
							  const privaudit_session *session,
							  uint32_t *flags)
{
	int64_t s;

	if (flags != NULL)
		*flags = 0;
	if (r == NULL || session == NULL || flags == NULL || (s = session_number(r, session)) < 0)
		return PRIVAUDIT_E_INVAL;
	*flags = r->ix->sess[s].flags & PRIVAUDIT_SESSION_WHO_FROM_AUDIT;
	return PRIVAUDIT_OK;
}

/* Does a command record match the glob, as its argv joined or its exe? */
static int command_matches(const Privaudit__Command *c, const char *glob, int *match)
{
	size_t len;
	char *line = command_line(c, &len);

	if (line == NULL)
		return -1;
	*match = fnmatch(glob, line, 0) == 0;
	free(line);
	if (!*match && command_exe(c)) {
		char *e = strndup((const char *)c->exe.data, c->exe.len);

		if (e == NULL)
			return -1;
		*match = fnmatch(glob, e, 0) == 0;
		free(e);
	}
	return 0;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_command_match(privaudit_reader *r,
								  const privaudit_session *session,
								  const char *glob, int *match)
{
	const uint64_t *idx;
	const ix_session *x;
	privaudit_status st;
	size_t n;
	int64_t s;

	if (match != NULL)
		*match = 0;
	if (r == NULL || session == NULL || glob == NULL || match == NULL ||
	    (s = session_number(r, session)) < 0)
		return PRIVAUDIT_E_INVAL;
	x = &r->ix->sess[s];
	for (uint32_t i = x->cmd_head; i != 0; i = r->ix->cmd[i - 1].next)
		if (fnmatch(glob, (const char *)r->ix->pool + r->ix->cmd[i - 1].ref.off, 0) == 0) {
			*match = 1;
			return PRIVAUDIT_OK;
		}
	if (!x->cmds_cut)
		return PRIVAUDIT_OK;
	/* more commands than the index keeps: read them */
	st = privaudit_session_records(r, session, &idx, &n);
	for (size_t i = 0; st == PRIVAUDIT_OK && i < n && !*match; i++) {
		const privaudit_record *rec;

		st = privaudit_reader_get(r, idx[i], &rec);
		if (st == PRIVAUDIT_OK && rec->rec->body_case == PRIVAUDIT__RECORD__BODY_COMMAND &&
		    command_matches(rec->rec->command, glob, match) < 0)
			st = pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	}
	if (st != PRIVAUDIT_OK)
		*match = 0;
	return st;
}

/* Whether the events a gap record counts may have happened within
 * [start, end]: by the times it gives for them, else by when it was
 * written (a writer appends one as soon as it can). */
static int gap_overlaps(const pa_record *d, uint64_t start, uint64_t end)
{
	const Privaudit__Gap *g = d->gap;
	uint64_t lo = d->time_ns, hi = d->time_ns;

	if (g->first_time_ns != 0 && g->last_time_ns >= g->first_time_ns) {
		lo = g->first_time_ns;
		hi = g->last_time_ns;
	}
	return lo <= end && hi >= start;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_session_gaps(privaudit_reader *r,
							 const privaudit_session *session,
							 const uint64_t **indexes, size_t *count)
{
	uint64_t start, end, *list;
	size_t n = 0, total = 0;
	pa_index *ix;
	int64_t s;

	if (r == NULL || session == NULL || indexes == NULL || count == NULL ||
	    (s = session_number(r, session)) < 0)
		return PRIVAUDIT_E_INVAL;
	ix = r->ix;
	start = session->start_ns;
	end = session->open ? UINT64_MAX : session->end_ns;
	for (size_t i = 0; i < ix->npos; i++)
		total += ix->pos[i].sess == IX_NO_SESSION;
	list = malloc((total ? total : 1) * sizeof(*list));
	if (list == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	for (size_t i = 0; i < ix->npos; i++) {
		const privaudit_record *rec;
		privaudit_status st;

		if (ix->pos[i].sess != IX_NO_SESSION)
			continue;
		/* the index is a cache: its positions say where to look */
		st = pa_reader_read_at(r, ix->pos[i].index, ix->pos[i].seg, ix->pos[i].off, &rec);
		if (st != PRIVAUDIT_OK) {
			free(list);
			return st;
		}
		if (rec->rec->body_case == PRIVAUDIT__RECORD__BODY_GAP &&
		    gap_overlaps(rec->rec, start, end))
			list[n++] = ix->pos[i].index;
	}
	free(ix->sgaps);
	ix->sgaps = list;
	*indexes = list;
	*count = n;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_gaps(privaudit_reader *r,
							const uint64_t **indexes, size_t *count)
{
	pa_index *ix;
	privaudit_status st;

	if (r == NULL || indexes == NULL || count == NULL)
		return PRIVAUDIT_E_INVAL;
	st = pa_index_update(r);
	if (st != PRIVAUDIT_OK)
		return st;
	ix = r->ix;
	free(ix->gaps);
	ix->gaps = malloc((ix->npos ? ix->npos : 1) * sizeof(uint64_t));
	if (ix->gaps == NULL)
		return pa_fail(&r->err, PRIVAUDIT_E_NOMEM, "out of memory");
	ix->ngaps = 0;
	for (size_t i = 0; i < ix->npos; i++)
		if (ix->pos[i].sess == IX_NO_SESSION)
			ix->gaps[ix->ngaps++] = ix->pos[i].index;
	*indexes = ix->gaps;
	*count = ix->ngaps;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_verdict(privaudit_reader *r,
							   const privaudit_verify_report **report,
							   int *cached)
{
	int c;

	if (r == NULL || report == NULL)
		return PRIVAUDIT_E_INVAL;
	*report = verdict(r, &c);
	if (cached != NULL)
		*cached = c;
	return PRIVAUDIT_OK;
}

PRIVAUDIT_EXPORT int privaudit_reader_appended_later(privaudit_reader *r,
						     const privaudit_record *rec)
{
	const pa_record *d;
	const char *host;
	int64_t s;
	size_t slot;

	/* Building the index here would move the reader under its caller. */
	if (r == NULL || rec == NULL || !r->ix_checked || r->ix == NULL || r->ix->map_cap == 0)
		return 0;
	d = rec->rec;
	if (d->session_key.len == 0)
		return 0;
	host = d->host != NULL ? d->host : "";
	s = session_lookup(r->ix, host, strlen(host), d->session_key.data, d->session_key.len,
			   &slot);
	return s >= 0 && r->ix->sess[s].sealed_at != 0 && rec->index >= r->ix->sess[s].sealed_at;
}
