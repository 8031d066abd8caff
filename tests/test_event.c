/* SPDX-License-Identifier: ISC */
/* test_event.c: records built by kind and field name (event.c) are stored
 * byte for byte, hostile values included, and bad names or values are refused. */
#include "config.h"

#include "testutil.h"

#include <fcntl.h>

#include "privaudit.h"
#include "record.h"
#include "segment.h"

/* Decode every record of segment 0 and return the one at index. */
static pa_record *read_record(const char *dir, uint64_t index)
{
	char path[TU_PATH_MAX];
	pa_record *found = NULL;
	pa_segreader r;
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/seg-0000000000000000", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(pa_segreader_init(&r, fd, PA_SEG_HEADER, (uint64_t)sb.st_size), PRIVAUDIT_OK);
	for (;;) {
		const unsigned char *entry;
		size_t len;
		uint64_t off;

		if (pa_segreader_next(&r, &entry, &len, &off) != PA_FRAME_OK)
			break;
		if (pa_load64(entry) == index) {
			found = pa_record_decode(entry + PA_ENTRY_INDEX, len - PA_ENTRY_INDEX);
			break;
		}
	}
	pa_segreader_free(&r);
	close(fd);
	assert_non_null(found);
	return found;
}

static void verify_ok(const char *dir)
{
	const privaudit_verify_report *rep = NULL;
	privaudit_verifier *v = NULL;

	assert_int_equal(privaudit_verifier_new(&v, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_verify_run(v, &rep), PRIVAUDIT_OK);
	privaudit_verifier_free(v);
}

static void test_session_open_hostile(void **state)
{
	const char *dir = *state;
	static const unsigned char evil[] = "host\n\x1b[2J\x1b]0;owned\x07\xff\xfe\xc3(";
	size_t big_len = 64 * 1024;
	char *big = malloc(big_len);
	privaudit_log *log = NULL;
	privaudit_event *ev = NULL;
	pa_record *rec;
	uint64_t index;

	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)(i * 7 + 1);
	assert_int_equal(privaudit_init(dir, "test.example/events", NULL, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&ev, "session_open"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "service", "sudo", 4), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "user", "root", 4), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "rhost", big, big_len), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "tty", evil, sizeof(evil) - 1), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "session_key", "boot:42", 7), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "auid", 4294967295LL), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "ses", 42), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "result", -3), PRIVAUDIT_OK);
	/* setting twice replaces */
	assert_int_equal(privaudit_event_set_bytes(ev, "user", "alice", 5), PRIVAUDIT_OK);
	index = privaudit_log_size(log);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
	assert_int_equal(privaudit_commit(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);

	rec = read_record(dir, index);
	assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_SESSION_OPEN);
	assert_int_equal(rec->session_open->service.len, 4);
	assert_memory_equal(rec->session_open->service.data, "sudo", 4);
	assert_int_equal(rec->session_open->user.len, 5);
	assert_memory_equal(rec->session_open->user.data, "alice", 5);
	assert_int_equal(rec->session_open->rhost.len, big_len);
	assert_memory_equal(rec->session_open->rhost.data, big, big_len);
	assert_int_equal(rec->session_open->tty.len, sizeof(evil) - 1);
	assert_memory_equal(rec->session_open->tty.data, evil, sizeof(evil) - 1);
	assert_int_equal(rec->session_open->auid, 4294967295u);
	assert_int_equal(rec->session_open->ses, 42);
	assert_int_equal(rec->session_open->result, -3);
	assert_int_equal(rec->session_key.len, 7);
	assert_memory_equal(rec->session_key.data, "boot:42", 7);
	pa_record_free(rec);
	free(big);
	verify_ok(dir);
}

static void test_command_argv(void **state)
{
	const char *dir = *state;
	static const char *const argv[] = {"/usr/bin/rm", "-rf", "", "with space", "nl\nin\targ"};
	privaudit_log *log = NULL;
	privaudit_event *ev = NULL;
	pa_record *rec;
	uint64_t index;

	assert_int_equal(privaudit_init(dir, "test.example/events", NULL, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_open(&log, dir, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&ev, "command"), PRIVAUDIT_OK);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(privaudit_event_set_bytes(ev, "argv", argv[i], strlen(argv[i])),
				 PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "source", "execve", 6), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "exit", -13), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "success", 1), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "serial", 123456789012LL), PRIVAUDIT_OK);
	index = privaudit_log_size(log);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
	assert_int_equal(privaudit_seal(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);

	rec = read_record(dir, index);
	assert_int_equal(rec->body_case, PRIVAUDIT__RECORD__BODY_COMMAND);
	assert_int_equal(rec->command->n_argv, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(rec->command->argv[i].len, strlen(argv[i]));
		assert_memory_equal(rec->command->argv[i].data, argv[i], strlen(argv[i]));
	}
	assert_string_equal(rec->command->source, "execve");
	assert_int_equal(rec->command->exit, -13);
	assert_true(rec->command->success);
	assert_int_equal(rec->command->serial, 123456789012ULL);
	pa_record_free(rec);
	verify_ok(dir);
}

static void test_refusals(void **state)
{
	privaudit_event *ev = NULL;

	(void)state;
	assert_int_equal(privaudit_event_new(&ev, "no_such_kind"), PRIVAUDIT_E_INVAL);
	assert_null(ev);
	assert_int_equal(privaudit_event_new(&ev, "checkpoint"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&ev, "genesis"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&ev, "key_rotation"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&ev, "recovery"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&ev, "host"), PRIVAUDIT_E_INVAL);   /* not a body */
	assert_int_equal(privaudit_event_new(&ev, "gap"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "nope", "x", 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes(ev, "count", "x", 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_int(ev, "reason", 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_int(ev, "count", -1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes(ev, "reason", "a\0b", 3), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes(ev, "reason", "disk-full", 9), PRIVAUDIT_OK);
	privaudit_event_free(ev);
	assert_int_equal(privaudit_event_new(&ev, "session_open"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "pid", 4294967296LL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_int(ev, "result", 2147483648LL), PRIVAUDIT_E_INVAL);
	privaudit_event_free(ev);
	privaudit_event_free(NULL);
}

/* The same command built by field name and by field id packs to the same
 * bytes; ids belong to one kind. */
static void test_field_ids(void **state)
{
	static const char *const names[] = {"auid", "ses", "uid", "exe", "argv", "cwd", "success",
					    "exit", "source", "serial", "raw", "session_key"};
	privaudit_field_id id[12], other;
	privaudit_event *by_name = NULL, *by_id = NULL, *gap = NULL;
	Privaudit__Record r1 = PRIVAUDIT__RECORD__INIT, r2 = PRIVAUDIT__RECORD__INIT;
	unsigned char a[512], b[512];
	int64_t n1, n2;

	(void)state;
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(privaudit_event_field_id(&id[i], "command", names[i]), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&by_name, "command"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&by_id, "command"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(by_name, "auid", 1000), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int_id(by_id, id[0], 1000), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(by_name, "ses", 7), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int_id(by_id, id[1], 7), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(by_name, "exe", "/bin/ls", 7), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[3], "/bin/ls", 7), PRIVAUDIT_OK);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(privaudit_event_set_bytes(by_name, "argv", "x\0y", 3), PRIVAUDIT_OK);
		assert_int_equal(privaudit_event_set_bytes_id(by_id, id[4], "x\0y", 3), PRIVAUDIT_OK);
	}
	assert_int_equal(privaudit_event_set_int(by_name, "exit", -2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int_id(by_id, id[7], -2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(by_name, "source", "execve", 6), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[8], "execve", 6), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(by_name, "session_key", "boot:7", 6), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[11], "boot:7", 6), PRIVAUDIT_OK);
	/* wrong type, string with NUL, too big, another kind's id */
	assert_int_equal(privaudit_event_set_int_id(by_id, id[3], 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[0], "1", 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[8], "a\0b", 3), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_bytes_id(by_id, id[10], "x", PRIVAUDIT_RECORD_MAX + 1u),
			 PRIVAUDIT_E_TOOBIG);
	assert_int_equal(privaudit_event_set_int_id(by_id, 0, 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_field_id(&other, "gap", "count"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int_id(by_id, other, 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&gap, "gap"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int_id(gap, id[0], 1), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_set_int_id(gap, other, 3), PRIVAUDIT_OK);
	privaudit_event_free(gap);
	/* unknown names and the log's own kinds have no ids */
	assert_int_equal(privaudit_event_field_id(&other, "command", "nope"), PRIVAUDIT_E_INVAL);
	assert_int_equal(other, 0);
	assert_int_equal(privaudit_event_field_id(&other, "checkpoint", "note"), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_field_id(&other, "nope", "auid"), PRIVAUDIT_E_INVAL);

	pa_event_to_record(by_name, &r1);
	pa_event_to_record(by_id, &r2);
	assert_int_equal(r1.session_key.len, 6);
	assert_int_equal(r2.session_key.len, 6);
	assert_memory_equal(r2.session_key.data, "boot:7", 6);
	n1 = pa_body_pack(&r1.command->base, a, sizeof(a));
	n2 = pa_body_pack(&r2.command->base, b, sizeof(b));
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, (size_t)n1);
	privaudit_event_free(by_name);
	privaudit_event_free(by_id);
}

/* pa_body_pack writes what protobuf-c writes, for every kind of field a
 * body has (negative ints take ten bytes, zero and empty are left out), and
 * refuses to write past its room. */
/* Every field of every kind a writer may build is found by its exact name,
 * and by no near miss: names one byte short, one byte long, or with their
 * last byte changed are refused unless they name another field. */
static void test_every_field_name(void **state)
{
	const ProtobufCMessageDescriptor *rd = &privaudit__record__descriptor;
	unsigned kinds = 0;

	(void)state;
	for (unsigned k = 0; k < rd->n_fields; k++) {
		const ProtobufCFieldDescriptor *kf = &rd->fields[k];
		const ProtobufCMessageDescriptor *d = kf->descriptor;
		privaudit_event *ev = NULL;

		if (kf->type != PROTOBUF_C_TYPE_MESSAGE ||
		    privaudit_event_new(&ev, kf->name) != PRIVAUDIT_OK)
			continue;   /* the log's own kinds */
		kinds++;
		for (unsigned i = 0; i < d->n_fields; i++) {
			const char *name = d->fields[i].name;
			size_t len = strlen(name);
			char near[3][64];
			privaudit_field_id id = 0;

			assert_true(len + 2 < sizeof(near[0]));
			assert_int_equal(privaudit_event_field_id(&id, kf->name, name), PRIVAUDIT_OK);
			assert_int_not_equal(id, 0);
			snprintf(near[0], sizeof(near[0]), "%.*s", (int)len - 1, name);
			snprintf(near[1], sizeof(near[1]), "%s_", name);
			snprintf(near[2], sizeof(near[2]), "%.*s%c", (int)len - 1, name,
				 name[len - 1] == 'z' ? 'y' : 'z');
			for (unsigned n = 0; n < 3; n++) {
				if (protobuf_c_message_descriptor_get_field_by_name(d, near[n]) != NULL)
					continue;
				assert_int_equal(privaudit_event_field_id(&id, kf->name, near[n]),
						 PRIVAUDIT_E_INVAL);
			}
		}
		privaudit_event_free(ev);
	}
	assert_true(kinds >= 10);
	assert_int_equal(privaudit_event_new(&(privaudit_event *){ NULL }, "session_ope"),
			 PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_event_new(&(privaudit_event *){ NULL }, "session_openx"),
			 PRIVAUDIT_E_INVAL);
}

static void test_body_pack(void **state)
{
	static char empty[] = "", version[] = "1.0", execve[] = "execve", t_sys[] = "SYSCALL",
		    t_exe[] = "EXECVE";
	static uint8_t sudo[] = "sudo", a0[] = "a\0b", zz[] = "zz", raw[] = "raw";
	Privaudit__SessionOpen so = PRIVAUDIT__SESSION_OPEN__INIT;
	Privaudit__Command cmd = PRIVAUDIT__COMMAND__INIT;
	Privaudit__WriterStart ws = PRIVAUDIT__WRITER_START__INIT;
	Privaudit__AuditEvent ae = PRIVAUDIT__AUDIT_EVENT__INIT;
	char *types[3] = {t_sys, empty, t_exe};
	ProtobufCBinaryData argv[3] = {{3, a0}, {0, NULL}, {2, zz}};
	const ProtobufCMessage *msgs[4] = {&so.base, &cmd.base, &ws.base, &ae.base};
	unsigned char mine[1024], theirs[1024];
	size_t n;

	(void)state;
	so.service.data = sudo;
	so.service.len = 4;
	so.user.data = (uint8_t *)empty;  /* empty: left out */
	so.result = -3;                   /* int32, negative: ten bytes */
	so.pid = 4294967295u;
	cmd.auid = 1000;
	cmd.argv = argv;
	cmd.n_argv = 3;                   /* an empty element is still written */
	cmd.exit = -1;                    /* int64, negative */
	cmd.success = 1;
	cmd.source = execve;
	cmd.serial = 1ull << 40;
	cmd.raw.data = raw;
	cmd.raw.len = 3;
	ws.program = empty;               /* empty string: left out */
	ws.version = version;
	ae.types = types;                 /* repeated string, the empty one kept */
	ae.n_types = 3;
	ae.serial = 9;

	for (size_t i = 0; i < 4; i++) {
		n = protobuf_c_message_get_packed_size(msgs[i]);
		assert_int_equal(protobuf_c_message_pack(msgs[i], theirs), n);
		assert_int_equal(pa_body_size(msgs[i]), (int64_t)n);
		assert_int_equal(pa_body_pack(msgs[i], mine, sizeof(mine)), (int64_t)n);
		assert_memory_equal(mine, theirs, n);
	}
	n = protobuf_c_message_get_packed_size(&cmd.base);
	assert_int_equal(pa_body_pack(&cmd.base, mine, n / 2), -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_open_hostile, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_command_argv, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_field_ids),
		cmocka_unit_test(test_every_field_name),
		cmocka_unit_test(test_body_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
