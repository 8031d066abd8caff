/* SPDX-License-Identifier: ISC */
/* index.h: the session index, a cache beside the log (DIR/index) that lists
 * sessions and where their records are: its structure, built record by
 * record, and its file format (index.c).  The session module (session.c)
 * owns one per reader, keeps it up to date and answers from it; the index
 * itself reads no log. */
#ifndef PA_INDEX_H
#define PA_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "record.h"
#include "util.h"

#define PA_INDEX_FILE "index"

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
};

typedef struct pa_index pa_index;

void pa_index_free(pa_index *ix) PA_HIDDEN;
/* Add a record read (in log order) to its session: 0, or -1 out of memory. */
int pa_index_record(pa_index *ix, const privaudit_record *rec) PA_HIDDEN;
/* Resize the (host, key) -> session map to cap slots. */
int pa_index_map_rebuild(pa_index *ix, size_t cap) PA_HIDDEN;
/* The session of (host, key), or -1 (*slot: where it would go). */
int64_t pa_index_session_lookup(const pa_index *ix, const void *host, size_t hl, const void *key,
				size_t kl, size_t *slot) PA_HIDDEN;
/* A command's argv joined by spaces (malloc'd), and whether it names its
 * executable, as --command matches them. */
char *pa_index_command_line(const Privaudit__Command *c, size_t *len) PA_HIDDEN;
int pa_index_command_exe(const Privaudit__Command *c) PA_HIDDEN;
/* 0 and the position of record index when the index knows it. */
int pa_index_position(const pa_index *ix, uint64_t index, uint64_t *seg, uint64_t *off) PA_HIDDEN;
/* Parse an index file image (fuzzing entry point): 0 when valid. */
int pa_index_parse(const unsigned char *buf, size_t len, pa_index **out) PA_HIDDEN;
/* Serialize (malloc'd). */
int pa_index_serialize(const pa_index *ix, unsigned char **buf, size_t *len) PA_HIDDEN;

#endif
