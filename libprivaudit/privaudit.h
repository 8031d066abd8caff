/* SPDX-License-Identifier: ISC */
/* privaudit.h: public interface of libprivaudit, the signed append-only log
 * of privileged sessions.  See libprivaudit(3) and privaudit-log(5). */
#ifndef PRIVAUDIT_H
#define PRIVAUDIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(PRIVAUDIT_BUILDING)
#define PRIVAUDIT_EXPORT __attribute__((visibility("default")))
#else
#define PRIVAUDIT_EXPORT
#endif

#define PRIVAUDIT_VERSION_STRING "0.1.0"

/* Every function that can fail returns one of these. */
typedef enum privaudit_status {
	PRIVAUDIT_OK = 0,
	PRIVAUDIT_E_INVAL,          /* bad argument */
	PRIVAUDIT_E_NOMEM,          /* out of memory */
	PRIVAUDIT_E_IO,             /* system call failed: see privaudit_log_errno() */
	PRIVAUDIT_E_EXISTS,         /* a log (or a witness key file) already exists there */
	PRIVAUDIT_E_NOLOG,          /* not a privaudit log directory */
	PRIVAUDIT_E_LOCK_TIMEOUT,   /* another writer held the lock too long */
	PRIVAUDIT_E_CRYPTO,         /* libsodium failed */
	PRIVAUDIT_E_KEY,            /* signing key state missing, corrupt or not this log's */
	PRIVAUDIT_E_TOOBIG,         /* record larger than PRIVAUDIT_RECORD_MAX */
	PRIVAUDIT_E_FORMAT,         /* corrupt framing, header or record encoding */
	PRIVAUDIT_E_FOREIGN,        /* a segment or record belongs to another log */
	PRIVAUDIT_E_SEQUENCE,       /* record index missing, repeated or out of order */
	PRIVAUDIT_E_ROOT,           /* records do not hash to a checkpoint's root */
	PRIVAUDIT_E_SIGNATURE,      /* bad checkpoint signature or unknown signer */
	PRIVAUDIT_E_CHAIN,          /* key rotation chain broken */
	PRIVAUDIT_E_PINNED_KEY,     /* log's first key is not the pinned key */
	PRIVAUDIT_E_TRUNCATED,      /* log is shorter than a signed checkpoint says */
	PRIVAUDIT_E_TRUSTED,        /* log does not extend the trusted checkpoint */
	PRIVAUDIT_E_STALE,          /* newest checkpoint older than allowed */
	PRIVAUDIT_E_NOTE,           /* malformed checkpoint note or key line */
	PRIVAUDIT_E_END,            /* no more records */
	PRIVAUDIT_E_STATE,          /* handle unusable after an earlier failure */
	PRIVAUDIT_E_NOTFOUND,       /* no such session, record or field */
	PRIVAUDIT_E_AMBIGUOUS,      /* a session id prefix matches more than one session */
	PRIVAUDIT_E_PROOF,          /* malformed proof, or a proof that does not hold */
	PRIVAUDIT_E_WITNESS,        /* no valid cosignature by a required witness */
	PRIVAUDIT_E_FORK,           /* two different records for one index: a rewritten log */
	PRIVAUDIT_E_BACKDATED,      /* a record dated before a checkpoint signed before it */
	PRIVAUDIT_E_NOSPACE,        /* the log's filesystem is (nearly) full: events were not
				       written, a gap record counts them */
} privaudit_status;

/* Never NULL, for any value. */
PRIVAUDIT_EXPORT const char *privaudit_strerror(privaudit_status status);
PRIVAUDIT_EXPORT const char *privaudit_version(void);

/* Largest packed record accepted, in bytes. */
#define PRIVAUDIT_RECORD_MAX (4u * 1024u * 1024u)
PRIVAUDIT_EXPORT size_t privaudit_record_max(void);

/* Default file names inside a log directory. */
#define PRIVAUDIT_PUBKEY_FILE "log.pub"
#define PRIVAUDIT_CHECKPOINT_FILE "checkpoint"

/* ---------------------------------------------------------------- writing */

typedef struct privaudit_log privaudit_log;

/* Create a log in dir (made 0750 if absent; must hold no log yet).  Writes
 * the genesis record, the first checkpoint, dir/log.pub and the 0600 key
 * state.  origin NULL picks "<hostname>/privaudit/<key id>".  When vkey is
 * not NULL, the first public key's signed-note verifier key line is copied
 * there (NUL-terminated, truncated to vkey_len). */
PRIVAUDIT_EXPORT privaudit_status privaudit_init(const char *dir, const char *origin,
						 char *vkey, size_t vkey_len);

/* Whether the filesystem holding dir/log.key can erase a used signing key:
 * a seal overwrites it in place (privaudit-log(5), "Key file"), which
 * copy-on-write filesystems without NOCOW (ZFS; btrfs or bcachefs where it
 * could not be set), log-structured ones (F2FS, NILFS2) and ext4 with
 * data=journal do not honour.  PRIVAUDIT_OK with why "" when it can, or
 * with one line in why saying why not and what to do (NUL-terminated,
 * truncated to why_len); PRIVAUDIT_E_NOLOG when there is no key file. */
PRIVAUDIT_EXPORT privaudit_status privaudit_key_erasure_check(const char *dir, char *why,
							      size_t why_len);

/* Open flags. */
#define PRIVAUDIT_OPEN_ANNOUNCE 0x1u /* append writer-start now, writer-stop at close */
#define PRIVAUDIT_OPEN_NOSYNC 0x2u   /* commit writes without fdatasync: records survive
					a crash of the process, not of the machine;
					seal still syncs */
#define PRIVAUDIT_OPEN_DEFER 0x4u    /* take no lock in open: recovery and the log's
					tail are read at the first commit, seal or
					close (one locked pass for open+append+commit) */

/* Open an existing log for appending.  Recovers a torn tail (cut and
 * recorded) and finishes an interrupted checkpoint (with
 * PRIVAUDIT_OPEN_DEFER: at the first commit, seal or close instead).  The
 * handle holds no lock between calls; every fd is O_CLOEXEC. */
PRIVAUDIT_EXPORT privaudit_status privaudit_open(privaudit_log **out, const char *dir,
						 unsigned flags);

/* The same, waiting at most lock_timeout_ms for the log lock here and in
 * every later call (-1: forever), as privaudit_set_lock_timeout() does. */
PRIVAUDIT_EXPORT privaudit_status privaudit_open_timeout(privaudit_log **out, const char *dir,
							 unsigned flags, int lock_timeout_ms);

/* Commit what is pending (and writer-stop when announced), then free.
 * NULL-safe.  Returns the status of that last commit. */
PRIVAUDIT_EXPORT privaudit_status privaudit_close(privaudit_log *log);

/* Wait at most ms for the log lock (-1: forever, the default). */
PRIVAUDIT_EXPORT privaudit_status privaudit_set_lock_timeout(privaudit_log *log, int ms);
/* Start a new segment once the current one reaches bytes (default 64 MiB). */
PRIVAUDIT_EXPORT privaudit_status privaudit_set_segment_size(privaudit_log *log, uint64_t bytes);
/* Program name recorded in writer start/stop and application records. */
PRIVAUDIT_EXPORT privaudit_status privaudit_set_program(privaudit_log *log, const char *program);
/* Called with one line (no newline) when the library must warn of a risk
 * that is not a failure: at every seal, when the filesystem holding the
 * log's key file may keep the used keys that the seal erased (as
 * privaudit_key_erasure_check() says).  The library itself never prints:
 * a daemon logs the line, a command prints it.  fn runs inside the call
 * that warns and must not call back into the handle; NULL turns it off. */
typedef void (*privaudit_warning_fn)(void *arg, const char *msg);
PRIVAUDIT_EXPORT privaudit_status privaudit_set_warning(privaudit_log *log,
							privaudit_warning_fn fn, void *arg);
/* Free space on the log's filesystem kept for the log's own records (gap,
 * writer start/stop, heartbeat, key rotation, checkpoint): a commit whose
 * events would leave less than bytes free does not write them (default
 * PRIVAUDIT_RESERVE_DEFAULT; 0: no reserve; never more than an eighth of
 * the filesystem's size).  Such events, and those
 * appended while free space stays below twice the reserve, are counted in
 * a "disk-full" gap record (written at once, then with the next seal, close
 * or resumption) and the call returns PRIVAUDIT_E_NOSPACE.  Free space is
 * what statvfs(2) says the process may use: with CAP_SYS_RESOURCE (root
 * with its capabilities) the blocks the filesystem keeps for root count. */
#define PRIVAUDIT_RESERVE_DEFAULT (8u * 1024u * 1024u)
PRIVAUDIT_EXPORT privaudit_status privaudit_set_reserve(privaudit_log *log, uint64_t bytes);

/* Queue an application record: text is stored byte for byte.  Queued records
 * are durable only once privaudit_commit() returns PRIVAUDIT_OK. */
PRIVAUDIT_EXPORT privaudit_status privaudit_append_text(privaudit_log *log, const void *text,
							size_t len);

/* Queue an already packed privaudit.Record (proto/privaudit.proto).  The
 * bytes are checked to decode and stored exactly as given, time_ns
 * included: a time more than PRIVAUDIT_BACKDATE_SLACK before a checkpoint
 * already in the log makes verification fail with PRIVAUDIT_E_BACKDATED. */
PRIVAUDIT_EXPORT privaudit_status privaudit_append_packed(privaudit_log *log,
							  const void *record, size_t len);

/* Records of any kind of proto/privaudit.proto, built by name: the kind is
 * the name of a Record body ("session_open", "command", "gap"...; not the
 * log's own genesis, key_rotation, checkpoint or recovery), fields are the
 * body's field names.  set_bytes fills bytes and string fields (string
 * fields refuse NUL) and appends to repeated ones (argv); set_int fills
 * integer and bool fields, range-checked.  The field "session_key" sets the
 * record's session key.  Values are copied. */
typedef struct privaudit_event privaudit_event;
PRIVAUDIT_EXPORT privaudit_status privaudit_event_new(privaudit_event **out, const char *kind);
PRIVAUDIT_EXPORT void privaudit_event_free(privaudit_event *ev);
PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_bytes(privaudit_event *ev, const char *field,
							    const void *data, size_t len);
PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_int(privaudit_event *ev, const char *field,
							  int64_t value);
/* A field of a record kind found by name once, for writers that fill many
 * records: the _id setters do what set_bytes and set_int do without looking
 * the name up again.  An id is valid for events of its kind only (others
 * give PRIVAUDIT_E_INVAL); "session_key" has one per kind.  Ids do not
 * change while the library is loaded; they are not stored anywhere. */
typedef uint32_t privaudit_field_id;
PRIVAUDIT_EXPORT privaudit_status privaudit_event_field_id(privaudit_field_id *out,
							   const char *kind, const char *field);
PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_bytes_id(privaudit_event *ev,
							       privaudit_field_id field,
							       const void *data, size_t len);
PRIVAUDIT_EXPORT privaudit_status privaudit_event_set_int_id(privaudit_event *ev,
							     privaudit_field_id field, int64_t value);
/* Queue the event as a record (time, host and writer pid added). */
PRIVAUDIT_EXPORT privaudit_status privaudit_append_event(privaudit_log *log,
							 const privaudit_event *ev);

/* Write every queued record and fdatasync (unless opened with
 * PRIVAUDIT_OPEN_NOSYNC): on PRIVAUDIT_OK they survive a crash.  On failure nothing already committed is touched and the queued
 * records are kept for a retry, except when the filesystem is full
 * (ENOSPC, or the reserve of privaudit_set_reserve() reached): then the
 * queued events are dropped, counted in a gap record, and the call returns
 * PRIVAUDIT_E_NOSPACE (the log's own records are still written if they fit). */
PRIVAUDIT_EXPORT privaudit_status privaudit_commit(privaudit_log *log);

/* Group commit in two steps, so that one thread can build the next group
 * while the disk makes the last one durable.  privaudit_write() writes
 * every queued record to the log as privaudit_commit() does (under the log
 * lock; other writers and readers see them at once) but does not wait for
 * the disk: the records survive a crash of this process, and of the
 * machine only once privaudit_sync(), privaudit_commit(), privaudit_seal()
 * or privaudit_close() has returned PRIVAUDIT_OK after it.
 * privaudit_sync() makes every record this handle has written durable
 * (fdatasync).  It takes no log lock and does not hold the handle while
 * the disk works: another thread may queue and write on the same handle
 * meanwhile (those records are for the next sync).  After a failed sync
 * the handle writes nothing more (PRIVAUDIT_E_STATE): reopen the log. */
PRIVAUDIT_EXPORT privaudit_status privaudit_write(privaudit_log *log);
PRIVAUDIT_EXPORT privaudit_status privaudit_sync(privaudit_log *log);

/* Commit, then sign a checkpoint over the whole log with the current
 * one-time key, rotating to the next key first and wiping the used one. */
PRIVAUDIT_EXPORT privaudit_status privaudit_seal(privaudit_log *log);

/* Records in the log as this handle last saw it (committed, all writers). */
PRIVAUDIT_EXPORT uint64_t privaudit_log_size(const privaudit_log *log);
/* Records queued and not yet committed. */
PRIVAUDIT_EXPORT size_t privaudit_log_pending(const privaudit_log *log);
/* errno of the last failed system call, and a one-line description of the
 * last failure (never NULL; valid until the next call on the handle). */
PRIVAUDIT_EXPORT int privaudit_log_errno(const privaudit_log *log);
PRIVAUDIT_EXPORT const char *privaudit_log_error(const privaudit_log *log);

/* ------------------------------------------------------------ verifying */

typedef struct privaudit_verifier privaudit_verifier;

/* Result of privaudit_verify_run(); strings live in the verifier. */
typedef struct privaudit_verify_report {
	privaudit_status status;     /* PRIVAUDIT_OK when everything verified */
	uint64_t records;            /* records read and checked */
	uint64_t checkpoints;        /* checkpoints whose signature and root verified */
	uint64_t sealed;             /* records covered by the newest verified checkpoint */
	uint64_t unsealed;           /* records after it (not counting its own record) */
	uint64_t bytes;              /* segment bytes read */
	uint64_t segments;
	int64_t newest_time;         /* newest verified checkpoint time (unix seconds), -1 none */
	uint64_t newest_size;        /* its tree size */
	uint64_t key_index;          /* one-time keys used so far */
	int pinned;                  /* 1 when the first key matched a pinned key */
	int trusted_checked;         /* 1 when a trusted checkpoint was given and held */
	uint64_t torn_bytes;         /* incomplete tail left by an interrupted writer */
	/* first failure, when status != PRIVAUDIT_OK */
	int has_bad;
	uint64_t bad_index;          /* index of the first bad record */
	uint64_t bad_segment;        /* segment number holding it */
	uint64_t bad_offset;         /* byte offset of its frame in that segment */
	const char *detail;          /* one line, never NULL */
	const char *origin;          /* never NULL */
	/* with privaudit_verifier_require_witness(): the checkpoint every
	 * required witness cosigned (the smallest, when they differ) */
	uint64_t witnessed;          /* records it covers; 0 when no witness was required */
	int64_t witness_time;        /* the oldest of those cosignatures' times, -1 none */
	/* records dated more than PRIVAUDIT_BACKDATE_SLACK seconds before the
	 * signed time of a checkpoint appended before them: an honest writer
	 * stamps each record with its clock as it appends, so these were
	 * appended by someone else, or after the clock was set back */
	uint64_t backdated;
	uint64_t backdated_index;    /* the first of them */
	/* with privaudit_verifier_resume(): the records before this index
	 * were verified by an earlier run and not read again; 0 otherwise */
	uint64_t resumed_at;
	int resumed_by;              /* 1: a state, 2: a trusted note (privaudit_verifier_read_all()) */
	/* not 0: the log's first segments were archived and not given
	 * (privaudit_verifier_archive()): the run started at this record, a
	 * segment_start, from the Merkle frontier it holds; the records before
	 * were not checked, and nothing but the checkpoints after vouches for
	 * that frontier (a --trusted checkpoint past it does) */
	uint64_t started_at;
} privaudit_verify_report;

/* Seconds a record's time may lie before an earlier checkpoint's signed
 * time (the clock stepped back) before verification flags it. */
#define PRIVAUDIT_BACKDATE_SLACK 300

PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_new(privaudit_verifier **out,
							 const char *dir);
PRIVAUDIT_EXPORT void privaudit_verifier_free(privaudit_verifier *v);
/* Pin the log's first public key: a verifier key line as in log.pub. */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_pin_key(privaudit_verifier *v,
							     const char *vkey);
/* The log must extend this signed checkpoint note (seen earlier off the host). */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_trust(privaudit_verifier *v,
							   const char *note, size_t len);
/* Fail with PRIVAUDIT_E_STALE when the newest checkpoint is older than
 * seconds at time now (now 0: the current time). */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_max_age(privaudit_verifier *v,
							     int64_t seconds, int64_t now);
/* Fail with PRIVAUDIT_E_WITNESS unless a checkpoint note of this log, as
 * the checkpoint file or the trusted note (privaudit_verifier_trust())
 * holds it, carries a valid cosignature by the witness whose verifier key
 * line is vkey (privaudit_witness_vkey(), signature type 0x04), and that
 * note passed every check: signed by a key of the log's chain, its root the
 * root of the log's first records (so the log extends it).  Each call adds
 * a witness; all must have cosigned (up to PRIVAUDIT_WITNESS_MAX).
 * PRIVAUDIT_E_NOTE when vkey is not a witness key line. */
#define PRIVAUDIT_WITNESS_MAX 8
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_require_witness(privaudit_verifier *v,
								     const char *vkey);
/* Called now and then with bytes done and bytes in all. */
typedef void (*privaudit_progress_fn)(void *arg, uint64_t done, uint64_t total);
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_progress(privaudit_verifier *v,
							      privaudit_progress_fn fn, void *arg);
/* Verification in proportion to what is new.  With keep_state, a run that
 * verifies keeps the chain as it was just after the newest checkpoint
 * record: privaudit_verifier_state() gives it as bytes (malloc'd; the
 * caller frees), for an auditor to keep off the host.  privaudit_verifier_
 * resume() takes such bytes (PRIVAUDIT_E_FORMAT when they are not a
 * state): the next run reads that checkpoint record again (it must be the
 * same bytes, else PRIVAUDIT_E_TRUSTED, or PRIVAUDIT_E_TRUNCATED when it
 * is gone) and verifies only what follows it, from the Merkle frontier
 * the state holds.  The records before it are not read again: a change
 * to them since is found only by a run without a state.  A pinned key
 * must match the log the state is of (PRIVAUDIT_E_PINNED_KEY).  A note
 * given from outside that is older than the state makes the run start
 * from record 0.  privaudit_verifier_state() fails with PRIVAUDIT_E_STATE
 * when the run did not verify or met no checkpoint. */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_keep_state(privaudit_verifier *v);
/* With a trusted note (privaudit_verifier_trust()), a run starts at the
 * last segment that begins, with a segment_start, at or before the note's
 * size: the note's root vouches for the records before, which are not
 * read (report->resumed_at).  read_all makes the run read every record
 * from 0, with a state or a trusted note alike. */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_read_all(privaudit_verifier *v);
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_resume(privaudit_verifier *v,
							    const void *state, size_t len);
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_state(const privaudit_verifier *v,
							   void **out, size_t *len);
/* Check the whole log.  The report stays valid until the verifier is freed. */
PRIVAUDIT_EXPORT privaudit_status privaudit_verify_run(privaudit_verifier *v,
						       const privaudit_verify_report **report);

/* Every damaged range of the live log in dir (its seg-N files), where
 * verification reports only the first: a frame whose length or checksum
 * is wrong, a record out of sequence, a segment missing or starting at
 * another record than the one due.  Each range ends where a whole valid
 * frame holds a record due again (found by trying every byte offset after
 * the damage).  A frame cut at the very end of the last segment is a
 * write in progress, not damage.  The frames' structure only: a record
 * changed with its checksum set right is found by the Merkle tree, not
 * here.  *out (malloc'd; free() it) holds *count ranges in log order;
 * *records (may be NULL) counts the whole frames read. */
typedef struct privaudit_damage {
	uint64_t segment, offset;         /* where it begins */
	uint64_t first_index;             /* the first record lost: the one due there */
	uint64_t end_segment, end_offset; /* where reading went on (UINT64_MAX: it did not) */
	uint64_t resumed_index;           /* the record read there (UINT64_MAX: none) */
	const char *what;                 /* static text: what was wrong */
} privaudit_damage;
PRIVAUDIT_EXPORT privaudit_status privaudit_damage_scan(const char *dir, privaudit_damage **out,
							size_t *count, uint64_t *records);

/* ------------------------------------------------------------ archiving */

/* Move closed segments out of the live log at dir into the directory to
 * (made if missing), each compressed (zstd) as seg-N.zst, oldest first.
 * The live log then starts at a segment whose first record (segment_start)
 * holds the Merkle frontier of what was moved, so it still verifies; the
 * archive holds the genesis record and verifies on its own, or joined
 * (privaudit_verifier_archive()).  Never the newest segment, only up to a
 * segment that starts with segment_start (written since this version),
 * and only records the collector acknowledged (ship-state), unless
 * PRIVAUDIT_ARCHIVE_FORCE.  A crash at any point leaves every segment in
 * the live log, the archive, or both; running again finishes.  Archiving
 * nothing is PRIVAUDIT_OK with rep->segments 0 and why in rep->detail. */
#define PRIVAUDIT_ARCHIVE_FORCE 1u
typedef struct privaudit_archive_opts {
	uint64_t before_index;       /* move segments whose records all lie below it; 0: no limit */
	int64_t older_than_s;        /* ...that were closed more than this many seconds ago; -1: no limit */
	uint64_t max_live_bytes;     /* the oldest, until the live segments take at most this; 0: no limit */
	unsigned flags;
} privaudit_archive_opts;
typedef struct privaudit_archive_report {
	uint64_t segments;           /* moved now */
	uint64_t bytes_in, bytes_out;   /* their size, and compressed */
	uint64_t first_segment;      /* where the live log starts now */
	uint64_t first_index;
	uint64_t acked;              /* records the collector acknowledged (0: none, or no shipping) */
	uint64_t live_bytes;         /* the live segments' size after the run */
	int unshipped;               /* stopped at a segment not acknowledged */
	int no_anchor;               /* stopped at a segment without segment_start */
	char detail[512];
} privaudit_archive_report;
PRIVAUDIT_EXPORT privaudit_status privaudit_archive(const char *dir, const char *to,
						    const privaudit_archive_opts *opts,
						    privaudit_archive_report *rep);
/* Verify with the archived segments in dir (as privaudit_archive() wrote
 * them) before the live ones: the whole log from its first key. */
PRIVAUDIT_EXPORT privaudit_status privaudit_verifier_archive(privaudit_verifier *v,
							     const char *dir);

/* The newest signed checkpoint note of the log at dir, NUL-terminated, in
 * malloc'd memory the caller frees. */
PRIVAUDIT_EXPORT privaudit_status privaudit_checkpoint_latest(const char *dir, char **note,
							      size_t *len);


/* -------------------------------------------------------------- reading */

/* A reader walks a log's records in order, follows a growing log, finds
 * sessions through an index file beside the log (DIR/index: a cache, rebuilt
 * when stale, never trusted over the signed data), and, after
 * privaudit_reader_verify(), checks every record it returns against the
 * verified tree.  Records and sessions it returns stay valid until the next
 * call on the reader. */
typedef struct privaudit_reader privaudit_reader;
typedef struct privaudit_record privaudit_record;

PRIVAUDIT_EXPORT privaudit_status privaudit_reader_open(privaudit_reader **out, const char *dir);
PRIVAUDIT_EXPORT void privaudit_reader_free(privaudit_reader *r);
/* One line on the last failure (never NULL). */
PRIVAUDIT_EXPORT const char *privaudit_reader_error(const privaudit_reader *r);

/* Next record in log order.  PRIVAUDIT_E_END at the log's current end (call
 * again later to follow a growing log); damage stops reading with
 * PRIVAUDIT_E_FORMAT or PRIVAUDIT_E_SEQUENCE and the reader's error names
 * the segment and offset, unless privaudit_reader_skip_damage() asked the
 * reader to step over it. */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_next(privaudit_reader *r,
							const privaudit_record **rec);
/* Make the next privaudit_reader_next() return record index (or E_END when
 * the log holds no such record yet). */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_seek(privaudit_reader *r, uint64_t index);
/* Record index, by its position in the index when known. */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_get(privaudit_reader *r, uint64_t index,
						       const privaudit_record **rec);
/* on 1: step over damage instead of stopping at it.  Reading goes on at the
 * next whole valid frame that holds a record due (as privaudit_damage_scan()
 * finds it); a record whose frame is whole but does not decode is skipped.
 * Every record read after damage says so (privaudit_record_after_damage()):
 * no verification reaches past the first damage, so none of them is
 * verified.  Off by default.  Session lists follow the reader's setting. */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_skip_damage(privaudit_reader *r, int on);
/* The damaged ranges this reader stepped over so far, in log order (valid
 * until the reader is freed or steps over more). */
PRIVAUDIT_EXPORT size_t privaudit_reader_damaged(const privaudit_reader *r,
						 const privaudit_damage **ranges);
/* Records in the log now (committed by any writer). */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_count(privaudit_reader *r, uint64_t *count);

/* Called now and then during long work (verification, index building). */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_progress(privaudit_reader *r,
							    privaudit_progress_fn fn, void *arg);
/* Verify the whole log now (pin_vkey: the first key's verifier key line, or
 * NULL).  From then on every record returned is hashed and compared with
 * the verified tree (PRIVAUDIT_E_ROOT when the bytes read differ from the
 * bytes verified), and privaudit_record_verified() says whether a verified
 * checkpoint covers it.  Returns the verification status; the report stays
 * valid until the reader is freed. */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_verify(privaudit_reader *r,
							  const char *pin_vkey,
							  const privaudit_verify_report **report);

PRIVAUDIT_EXPORT uint64_t privaudit_record_index(const privaudit_record *rec);
PRIVAUDIT_EXPORT uint64_t privaudit_record_time_ns(const privaudit_record *rec);
/* Body kind: "session_open", "command"... (never NULL). */
PRIVAUDIT_EXPORT const char *privaudit_record_kind(const privaudit_record *rec);
/* Segment number and byte offset of its frame. */
PRIVAUDIT_EXPORT void privaudit_record_position(const privaudit_record *rec, uint64_t *segment,
						uint64_t *offset);
/* The entry as stored and hashed: 8-byte big-endian index || packed Record. */
PRIVAUDIT_EXPORT void privaudit_record_entry(const privaudit_record *rec, const void **data,
					     size_t *len);
/* 1: a checkpoint verified by privaudit_reader_verify() covers the record
 * and its bytes matched; 0: not verified (no verification asked, or the
 * record is not sealed by a verified checkpoint). */
PRIVAUDIT_EXPORT int privaudit_record_verified(const privaudit_record *rec);
/* 1 when the record was read after damage the reader stepped over, with
 * *first (may be NULL) the first record that damage lost; 0 otherwise. */
PRIVAUDIT_EXPORT int privaudit_record_after_damage(const privaudit_record *rec, uint64_t *first);

/* The id of the session the record belongs to (as privaudit_session.id),
 * or PRIVAUDIT_E_NOTFOUND when it carries no session key. */
PRIVAUDIT_EXPORT privaudit_status privaudit_record_session_id(const privaudit_record *rec,
							      char id[16]);
/* Fields: the record's own (time_ns, host, writer_pid, session_key), then
 * its body's, in schema order (proto/privaudit.proto), all of them, set or
 * not. */
typedef enum privaudit_field_type {
	PRIVAUDIT_FIELD_BYTES,      /* any bytes: escape before printing */
	PRIVAUDIT_FIELD_STRING,     /* text written by privaudit (still unchecked bytes) */
	PRIVAUDIT_FIELD_INT,        /* signed: value is int64_t */
	PRIVAUDIT_FIELD_UINT,       /* unsigned: value is uint64_t */
	PRIVAUDIT_FIELD_BOOL,
} privaudit_field_type;

typedef struct privaudit_field {
	const char *name;
	privaudit_field_type type;
	int repeated;
	size_t count;               /* values: 1 unless repeated */
} privaudit_field;

PRIVAUDIT_EXPORT size_t privaudit_record_field_count(const privaudit_record *rec);
PRIVAUDIT_EXPORT privaudit_status privaudit_record_field(const privaudit_record *rec, size_t i,
							 privaudit_field *field);
/* Value j of field i: bytes and strings in data/len; numbers and bools in
 * *num (an int64_t for PRIVAUDIT_FIELD_INT, stored in the same bits). */
PRIVAUDIT_EXPORT privaudit_status privaudit_record_value(const privaudit_record *rec, size_t i,
							 size_t j, const void **data, size_t *len,
							 uint64_t *num);
/* First value of the field called name (PRIVAUDIT_E_NOTFOUND when the
 * record's kind has no such field). */
PRIVAUDIT_EXPORT privaudit_status privaudit_record_get_bytes(const privaudit_record *rec,
							     const char *name, const void **data,
							     size_t *len);
PRIVAUDIT_EXPORT privaudit_status privaudit_record_get_uint(const privaudit_record *rec,
							    const char *name, uint64_t *value);

/* The record as one JSON object on one line, as `privaudit export --json`
 * prints it (members in privaudit(1), "JSON records"): every string escaped
 * (control and format characters as \uNNNN; text that is not UTF-8 also as
 * name_b64 with its exact bytes), no newline.  flags: PRIVAUDIT_JSON_VERIFIED
 * adds "verified" (privaudit_record_verified()).  max: PRIVAUDIT_E_TOOBIG
 * when the text would be longer than max bytes (0: no limit).  *out is
 * malloc'd and NUL-terminated; the caller frees it; *len (may be NULL) is
 * its length. */
#define PRIVAUDIT_JSON_VERIFIED 0x1u
PRIVAUDIT_EXPORT privaudit_status privaudit_record_json(const privaudit_record *rec,
							unsigned flags, size_t max, char **out,
							size_t *len);

/* ------------------------------------------------------------- sessions */

typedef struct privaudit_bytes {
	const void *data;
	size_t len;
} privaudit_bytes;

/* A login session: every record carrying the same session key ("boot id:
 * audit session id", or a random id when the session had none) from one
 * host.  PAM sessions opened inside it (sudo, su) belong to it. */
typedef struct privaudit_session {
	char id[16];                /* 12 hex digits naming the session, NUL-terminated */
	privaudit_bytes key;        /* the session key */
	privaudit_bytes host;
	uint64_t start_ns;          /* its first record */
	uint64_t end_ns;            /* close of that first open, else last record */
	int open;                   /* 1: its first session open has no close yet */
	int has_open;               /* 1: a session open record was seen */
	uint32_t auid, ses;         /* 4294967295 when unknown */
	privaudit_bytes service;    /* of the first session open */
	privaudit_bytes user;       /* its target user (PAM_USER) */
	privaudit_bytes login_user; /* who opened it (by name), else ruser */
	privaudit_bytes rhost, tty;
	uint64_t records, commands, tty_inputs, auth_attempts, pam_sessions;
	uint64_t first_index, last_index;
	uint64_t verified;          /* how many of its records a verified checkpoint covers */
	/* Its records from index appended_after on were appended after the
	 * checkpoint that first sealed its close (0: its close is not sealed
	 * yet): they were not there when the session was sealed, whatever
	 * time they carry.  late counts them. */
	uint64_t appended_after;
	uint64_t late;
} privaudit_session;

/* Every session of the log, oldest first (the index is built or brought up
 * to date first).  Verification state comes from the reader's verification
 * when privaudit_reader_verify() ran, else from the one cached in the index
 * (made when the index was built, for the log files as they were then). */
PRIVAUDIT_EXPORT privaudit_status privaudit_sessions(privaudit_reader *r,
						     const privaudit_session **list,
						     size_t *count);
/* A session by id, unique id prefix (at least 4 digits) or session key. */
PRIVAUDIT_EXPORT privaudit_status privaudit_session_find(privaudit_reader *r, const char *name,
							 const privaudit_session **session);
/* Indexes of its records, in log order. */
PRIVAUDIT_EXPORT privaudit_status privaudit_session_records(privaudit_reader *r,
							    const privaudit_session *session,
							    const uint64_t **indexes, size_t *count);
/* Where what a session says came from, beyond privaudit_session (an
 * array: the struct cannot grow without breaking callers that index it).
 * WHO_FROM_AUDIT: no PAM session open names the session, and its
 * login_user, user, service, rhost and tty were taken from kernel audit
 * events (USER_LOGIN, USER_START) of its audit session; libprivaudit(3). */
#define PRIVAUDIT_SESSION_WHO_FROM_AUDIT 0x1u
PRIVAUDIT_EXPORT privaudit_status privaudit_session_flags(privaudit_reader *r,
							  const privaudit_session *session,
							  uint32_t *flags);
/* Indexes of the gap records (those of no session) whose lost events may
 * fall within the session: one that says when they happened
 * (first/last_time_ns) when that time overlaps the session, one that does
 * not when it was written while the session was open.  In log order;
 * valid until the next call on the reader. */
PRIVAUDIT_EXPORT privaudit_status privaudit_session_gaps(privaudit_reader *r,
							 const privaudit_session *session,
							 const uint64_t **indexes, size_t *count);
/* *match = 1 when the session ran a command whose argv joined by spaces
 * (NUL bytes as spaces) or whose executable path matches the fnmatch(3)
 * pattern glob (flags 0), else 0.  Answered from the command strings the
 * index keeps; the session's records are read only when it ran more
 * distinct commands than the index keeps (or longer ones). */
PRIVAUDIT_EXPORT privaudit_status privaudit_session_command_match(privaudit_reader *r,
								  const privaudit_session *session,
								  const char *glob, int *match);
/* 1 when rec carries the key of a session whose close a checkpoint had
 * already sealed before rec was appended (privaudit_session.appended_after):
 * shown as "appended later", never as plainly verified; 0 otherwise.  It
 * asks the session index, so call privaudit_sessions() (or find a session)
 * first, before walking the records: until then it returns 0. */
PRIVAUDIT_EXPORT int privaudit_reader_appended_later(privaudit_reader *r,
						     const privaudit_record *rec);
/* Indexes of the log's gap records (events writers know they lost). */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_gaps(privaudit_reader *r,
							const uint64_t **indexes, size_t *count);
/* Where reading met damage first (the record and position, and what was
 * wrong), as one line, or NULL when it met none.  Without skipping, the
 * session index stops there. */
PRIVAUDIT_EXPORT const char *privaudit_reader_damage(const privaudit_reader *r);
/* The verification the session list reflects: the reader's own, or the one
 * cached in the index (*cached 1), or none yet (*report NULL). */
PRIVAUDIT_EXPORT privaudit_status privaudit_reader_verdict(privaudit_reader *r,
							   const privaudit_verify_report **report,
							   int *cached);

/* --------------------------------------------------------------- proofs */

/* A self-contained proof, in the text format of privaudit-log(5), that the
 * records at indexes are in the log: their entries, inclusion proofs against
 * one signed checkpoint, and the key rotation chain from the log's first key
 * to the key that signed it, with consistency proofs between successive
 * checkpoints.  checkpoint: a signed note of this log to prove against
 * (NULL: the newest one).  The whole log is verified first (its status is
 * returned when it fails).  Records the checkpoint does not cover are left
 * out: *proved says how many went in.  *proof is malloc'd, NUL-terminated. */
PRIVAUDIT_EXPORT privaudit_status privaudit_prove(privaudit_reader *r, const uint64_t *indexes,
						  size_t count, const char *checkpoint,
						  size_t checkpoint_len, char **proof, size_t *len,
						  size_t *proved);

typedef struct privaudit_proof_report {
	privaudit_status status;
	const char *detail;         /* one line, never NULL */
	const char *origin;
	uint64_t tree_size;         /* of the checkpoint proved against */
	int64_t time;               /* its time, -1 if none */
	uint64_t key_index;         /* key that signed it */
	size_t records;             /* records proved */
} privaudit_proof_report;

/* Check a proof with only the log's first verifier key line.  On success,
 * privaudit_proof_record() gives the proved records. */
typedef struct privaudit_proof privaudit_proof;
PRIVAUDIT_EXPORT privaudit_status privaudit_proof_check(privaudit_proof **out, const char *vkey,
							const char *text, size_t len,
							const privaudit_proof_report **report);
PRIVAUDIT_EXPORT void privaudit_proof_free(privaudit_proof *p);
PRIVAUDIT_EXPORT privaudit_status privaudit_proof_record(privaudit_proof *p, size_t i,
							 const privaudit_record **rec);
/* After a successful check, the signed checkpoint note the records were
 * proved against, as the proof carries it (with any witness cosignatures:
 * privaudit_cosignature_check()).  Valid until the proof is freed. */
PRIVAUDIT_EXPORT privaudit_status privaudit_proof_checkpoint(const privaudit_proof *p,
							     const char **note, size_t *len);

/* ------------------------------------------------------------ witnesses */

/* A witness (the collector) cosigns the checkpoints it has verified, in the
 * C2SP tlog-cosignature format (cosignature/v1, Ed25519, signature type
 * 0x04): a signature line "<em dash> <name> base64(key id || 8-byte
 * big-endian time || signature)", the signature over "cosignature/v1\n",
 * "time <time>\n" and the note's body.  An auditor who demands it knows that a third party saw this very
 * tree.  Formats: doc/format.md, "Cosignatures". */
typedef struct privaudit_witness privaudit_witness;

/* Make a witness key called name (a signed-note key name: no spaces, no
 * '+'; a schema-less URL is usual) and write it to secret_path, created
 * 0600 and never over an existing file (PRIVAUDIT_E_EXISTS).  *vkey_out:
 * its verifier key line "<name>+<key id>+<base64(0x04 || public key)>",
 * malloc'd, for auditors.  PRIVAUDIT_E_IO: errno says why. */
PRIVAUDIT_EXPORT privaudit_status privaudit_witness_keygen(const char *name,
							   const char *secret_path,
							   char **vkey_out);
/* Load a witness key; the secret is kept in locked, guarded memory only.
 * PRIVAUDIT_E_KEY when the file is no witness key, or group or others may
 * read or write it; PRIVAUDIT_E_IO (errno) when it cannot be read. */
PRIVAUDIT_EXPORT privaudit_status privaudit_witness_open(privaudit_witness **w,
							 const char *secret_path);
/* Wipe and free; NULL-safe. */
PRIVAUDIT_EXPORT void privaudit_witness_free(privaudit_witness *w);
/* Its verifier key line (never NULL; valid until freed). */
PRIVAUDIT_EXPORT const char *privaudit_witness_vkey(const privaudit_witness *w);
/* The signed checkpoint note (any log's, as signed-note text) with this
 * witness's cosignature at time (unix seconds; 0: now) as its last
 * signature line, in *out (malloc'd, NUL-terminated, *out_len bytes).  An
 * earlier cosignature by the same witness is replaced; every other line is
 * kept as it was.  It checks no signature already on the note: cosign only
 * what was verified.  PRIVAUDIT_E_NOTE when note is no signed checkpoint
 * note, or the result would be one no verifier reads (over 64 KiB, more
 * than 16 signature lines). */
PRIVAUDIT_EXPORT privaudit_status privaudit_witness_cosign(privaudit_witness *w, const char *note,
							   size_t len, int64_t time, char **out,
							   size_t *out_len);
/* PRIVAUDIT_OK when note carries a valid cosignature by the witness whose
 * verifier key line is vkey and none by it that fails; *time (may be NULL)
 * is its timestamp.  PRIVAUDIT_E_WITNESS when not; PRIVAUDIT_E_NOTE when
 * note or vkey is malformed.  Only the cosignature is checked: that the
 * note is the log's own is privaudit_proof_check()'s or the verifier's job. */
PRIVAUDIT_EXPORT privaudit_status privaudit_cosignature_check(const char *vkey, const char *note,
							      size_t len, int64_t *time);


/* Mirrors: the collector's copy of another host's log, taken record by
 * record as the host ships them (privaudit collect).  A mirror is a log
 * directory like the host's own: every reader and the verifier accept it,
 * and its records are the host's stored entries byte for byte.  Each record
 * is checked as it arrives against the host's pinned first key (genesis,
 * key rotations, every checkpoint's signature and root), resends are
 * dropped, records that come early wait for the ones before them, and a
 * record that contradicts one already held is kept aside as evidence. */
typedef struct privaudit_mirror privaudit_mirror;

typedef enum privaudit_mirror_result {
	PRIVAUDIT_MIRROR_TAKEN,      /* the next record: checked and written */
	PRIVAUDIT_MIRROR_DUPLICATE,  /* already held, same bytes */
	PRIVAUDIT_MIRROR_BUFFERED,   /* ahead of a missing record: held until it comes */
	PRIVAUDIT_MIRROR_FULL,       /* ahead, and the buffer is full: send it again later */
	PRIVAUDIT_MIRROR_FORK,       /* another record holds this index: kept in forks/,
					and the mirror stops (PRIVAUDIT_E_FORK) */
	PRIVAUDIT_MIRROR_REJECTED,   /* fails the checks, or the mirror has failed: kept in rejected/ */
} privaudit_mirror_result;

/* Open the mirror in dir, creating it when absent, for the log whose first
 * key is vkey (the host's log.pub line).  Holds dir's writer lock until
 * closed. */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_open(privaudit_mirror **out, const char *dir,
							const char *vkey);
/* Close (after privaudit_mirror_sync); NULL-safe. */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_close(privaudit_mirror *m);
/* Records early ones may wait for: at most this many, and this many bytes
 * (defaults 65536 and 64 MiB). */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_set_buffer(privaudit_mirror *m, size_t records,
							      size_t bytes);
/* Offer record index (entry: the stored entry, index prefix included).
 * PRIVAUDIT_OK with *result saying what became of it; an error status only
 * when the mirror could not be written (nothing was taken then). */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_put(privaudit_mirror *m, uint64_t index,
						       const void *entry, size_t len,
						       privaudit_mirror_result *result);
/* Make everything taken so far durable (segments, buffer, state, and the
 * checkpoint file with the newest verified note). */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_sync(privaudit_mirror *m);

/* Called at sync with each newly verified checkpoint note; may return in
 * *out a malloc'd replacement to store instead (the note with a witness
 * cosignature added, see privaudit_witness_cosign()). */
typedef privaudit_status (*privaudit_mirror_cosign_fn)(void *arg, const char *note, size_t len,
						       char **out, size_t *out_len);
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_set_cosigner(privaudit_mirror *m,
								privaudit_mirror_cosign_fn fn,
								void *arg);

typedef struct privaudit_mirror_state {
	const char *origin;          /* never NULL */
	char log_id[65];             /* hex */
	uint64_t records;            /* records 0 .. records-1 are held */
	uint64_t sealed;             /* covered by the newest verified checkpoint */
	uint64_t checkpoints;        /* checkpoints verified */
	int64_t checkpoint_time;     /* the newest one's signed time, -1 for none */
	uint64_t buffered;           /* records held ahead of a missing one */
	uint64_t first_missing;      /* when buffered: the first index not received */
	uint64_t buffered_max;       /* when buffered: the highest index held */
	uint64_t forks;              /* conflicting records kept in forks/ */
	uint64_t rejected;           /* records kept in rejected/ */
	privaudit_status failed;     /* PRIVAUDIT_OK, or why the mirror stopped taking records */
	uint64_t failed_at;          /* when failed: the first bad record */
	const char *detail;          /* one line, never NULL */
} privaudit_mirror_state;

/* Valid until the next call on m. */
PRIVAUDIT_EXPORT privaudit_status privaudit_mirror_get_state(privaudit_mirror *m,
							     privaudit_mirror_state *state);
/* One line on the last error (never NULL). */
PRIVAUDIT_EXPORT const char *privaudit_mirror_error(const privaudit_mirror *m);

/* What privauditd ships (doc/format.md, "Shipping"): the JSON body of one
 * message, read as the collector needs it. */
#define PRIVAUDIT_ORIGIN_MAX 256
typedef enum privaudit_shipped_type {
	PRIVAUDIT_SHIPPED_RECORD = 1,   /* a record (or a checkpoint record) */
	PRIVAUDIT_SHIPPED_SYNC,         /* the host's log size, nothing to store */
} privaudit_shipped_type;

typedef struct privaudit_shipped {
	privaudit_shipped_type type;
	char origin[PRIVAUDIT_ORIGIN_MAX];
	char log_id[65];             /* 64 lowercase hex digits */
	uint64_t index;              /* record */
	unsigned char *entry;        /* record: the stored entry, decoded; malloc'd */
	size_t entry_len;
	uint64_t size;               /* sync: records in the host's log */
	uint64_t acked;              /* sync: records the shipper knows were acknowledged */
} privaudit_shipped;

/* Parse one message body; PRIVAUDIT_E_FORMAT when it is not one.  Free
 * with privaudit_shipped_free() (also after a failure: NULL-safe). */
PRIVAUDIT_EXPORT privaudit_status privaudit_shipped_parse(const char *json, size_t len,
							  privaudit_shipped *out);
PRIVAUDIT_EXPORT void privaudit_shipped_free(privaudit_shipped *s);
/* The origin and log id (hex) of the log whose first key is vkey. */
PRIVAUDIT_EXPORT privaudit_status privaudit_vkey_log_id(const char *vkey,
							char origin[PRIVAUDIT_ORIGIN_MAX],
							char log_id[65]);
/* The first key's verifier key line, from a log's genesis entry (record 0
 * as stored): for enrolling a host on first use. */
PRIVAUDIT_EXPORT privaudit_status privaudit_genesis_vkey(const void *entry, size_t len, char *vkey,
							 size_t vkey_len);

#ifdef __cplusplus
}
#endif
#endif /* PRIVAUDIT_H */
