/* SPDX-License-Identifier: ISC */
/* test_json.c: unit tests of text.c (JSON strings, base64, the bounded
 * buffer) and json.c (privaudit_record_json(), what export --json prints
 * and privauditd ships). */
#include "config.h"

#include "testutil.h"

#include "privaudit.h"
#include "text.h"

static void expect_json(const char *in, size_t len, const char *want)
{
	pa_text t;

	pa_text_init(&t, 0);
	pa_text_json_string(&t, in, len);
	assert_int_equal(t.err, PA_TEXT_OK);
	assert_string_equal(t.buf, want);
	assert_int_equal(t.len, strlen(want));
	pa_text_free(&t);
}

static void test_json_string(void **state)
{
	(void)state;
	expect_json("", 0, "\"\"");
	expect_json("plain text", 10, "\"plain text\"");
	expect_json("a\"b\\c\nd", 7, "\"a\\\"b\\\\c\\nd\"");
	/* tab, CR, ESC, DEL: \u escapes; NUL too */
	expect_json("\t\r\x1b\x7f", 4, "\"\\u0009\\u000d\\u001b\\u007f\"");
	expect_json("a\0b", 3, "\"a\\u0000b\"");
	/* invalid UTF-8 byte by byte, overlong form, lone continuation */
	expect_json("x\xff\xfey", 4, "\"x\\ufffd\\ufffdy\"");
	expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	expect_json("\x80", 1, "\"\\ufffd\"");
	/* valid multibyte text stays; C1 controls and format characters
	 * (RLO, zero-width space, no-break space) are escaped */
	expect_json("\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\"");
	expect_json("\xc2\x85", 2, "\"\\u0085\"");
	expect_json("\xe2\x80\xae", 3, "\"\\u202e\"");
	expect_json("\xe2\x80\x8b\xc2\xa0", 5, "\"\\u200b\\u00a0\"");
	expect_json("\xf0\x9f\x94\x91", 4, "\"\xf0\x9f\x94\x91\"");
}

static void test_base64(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					  "Zm9vYmFy"};
	unsigned char all[256];
	pa_text t;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		pa_text_init(&t, 0);
		pa_text_base64(&t, in[i], strlen(in[i]));
		assert_int_equal(t.err, PA_TEXT_OK);
		assert_string_equal(t.buf != NULL ? t.buf : "", out[i]);
		pa_text_free(&t);
	}
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	pa_text_init(&t, 0);
	pa_text_base64(&t, all, sizeof(all));
	assert_int_equal(t.len, 344);
	assert_memory_equal(t.buf, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44);
	assert_string_equal(t.buf + 340, "/w==");
	pa_text_free(&t);
}

static void test_text_limits(void **state)
{
	pa_text t;

	(void)state;
	pa_text_init(&t, 8);
	pa_text_puts(&t, "12345678");
	assert_int_equal(t.err, PA_TEXT_OK);
	assert_string_equal(t.buf, "12345678");
	pa_text_put(&t, "9", 1);
	assert_int_equal(t.err, PA_TEXT_TOOBIG);
	/* the first failure sticks: nothing more is added */
	pa_text_reset(&t);
	assert_int_equal(t.err, PA_TEXT_OK);
	assert_int_equal(t.len, 0);
	pa_text_printf(&t, "%s-%d", "abc", 42);
	assert_string_equal(t.buf, "abc-42");
	pa_text_printf(&t, "%s", "long enough to pass");
	assert_int_equal(t.err, PA_TEXT_TOOBIG);
	pa_text_puts(&t, "");
	assert_int_equal(t.err, PA_TEXT_TOOBIG);
	pa_text_free(&t);
	/* printf beyond the small buffer */
	pa_text_init(&t, 0);
	pa_text_printf(&t, "%0300d", 7);
	assert_int_equal(t.len, 300);
	assert_int_equal(t.buf[299], '7');
	assert_true(pa_utf8_valid("\xc3\xa9", 2));
	assert_false(pa_utf8_valid("\xed\xa0\x80", 3));   /* a surrogate */
	pa_text_free(&t);
}

/* A log with a genesis record and a command whose argv holds bytes that
 * are not UTF-8; *rec is record index. */
static privaudit_reader *open_with_command(const char *dir, uint64_t index,
					   const privaudit_record **rec)
{
	privaudit_reader *r = NULL;
	privaudit_event *ev = NULL;
	privaudit_log *log = NULL;

	assert_int_equal(privaudit_init(dir, "test/json", NULL, 0), PRIVAUDIT_OK);
	assert_int_equal(privaudit_open(&log, dir, PRIVAUDIT_OPEN_NOSYNC), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_new(&ev, "command"), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "exe", "/bin/ls", 7), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "argv", "ls", 2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "argv", "-l\xff", 3), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "cwd", "/tmp/\x1b[31m", 10), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "exit", -2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_int(ev, "success", 1), PRIVAUDIT_OK);
	assert_int_equal(privaudit_event_set_bytes(ev, "session_key", "k\xff", 2), PRIVAUDIT_OK);
	assert_int_equal(privaudit_append_event(log, ev), PRIVAUDIT_OK);
	privaudit_event_free(ev);
	assert_int_equal(privaudit_close(log), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_open(&r, dir), PRIVAUDIT_OK);
	assert_int_equal(privaudit_reader_get(r, index, rec), PRIVAUDIT_OK);
	return r;
}

static void test_record_json(void **state)
{
	const privaudit_record *rec = NULL;
	privaudit_reader *r = open_with_command(*state, 3, &rec);
	char *json = NULL, dummy[] = "unchanged";
	size_t len = 0;

	assert_string_equal(privaudit_record_kind(rec), "command");
	assert_int_equal(privaudit_record_json(rec, 0, 0, &json, &len), PRIVAUDIT_OK);
	assert_non_null(json);
	assert_int_equal(strlen(json), len);
	assert_non_null(strstr(json, "{\"index\":3,\"time\":\""));
	assert_non_null(strstr(json, ",\"kind\":\"command\",\"host\":\""));
	assert_non_null(strstr(json, ",\"session\":\"k\\ufffd\",\"session_b64\":\"a/8=\","
				     "\"session_id\":\""));
	assert_non_null(strstr(json, ",\"fields\":{\"auid\":"));
	assert_non_null(strstr(json, "\"exe\":\"/bin/ls\",\"argv\":[\"ls\",\"-l\\ufffd\"],"
				     "\"argv_b64\":[\"bHM=\",\"LWz/\"],\"cwd\":\"/tmp/\\u001b[31m\","
				     "\"success\":true,\"exit\":-2,"));
	assert_null(strstr(json, "\"verified\""));
	assert_null(strchr(json, '\n'));
	assert_int_equal(json[len - 1], '}');
	free(json);

	assert_int_equal(privaudit_record_json(rec, PRIVAUDIT_JSON_VERIFIED, 0, &json, NULL),
			 PRIVAUDIT_OK);
	assert_non_null(strstr(json, ",\"verified\":false,\"fields\":{"));
	free(json);

	/* bounded: exactly len fits, one byte less does not */
	assert_int_equal(privaudit_record_json(rec, 0, len, &json, NULL), PRIVAUDIT_OK);
	free(json);
	json = dummy;
	assert_int_equal(privaudit_record_json(rec, 0, len - 1, &json, &len), PRIVAUDIT_E_TOOBIG);
	assert_null(json);
	assert_int_equal(len, 0);

	assert_int_equal(privaudit_record_json(rec, 0x80, 0, &json, NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_record_json(NULL, 0, 0, &json, NULL), PRIVAUDIT_E_INVAL);
	assert_int_equal(privaudit_record_json(rec, 0, 0, NULL, NULL), PRIVAUDIT_E_INVAL);
	privaudit_reader_free(r);
}

/* Keys and hashes appear in base64 only; a record with no session has null. */
static void test_genesis_json(void **state)
{
	const privaudit_record *rec = NULL;
	privaudit_reader *r = open_with_command(*state, 0, &rec);
	char *json = NULL;

	assert_int_equal(privaudit_record_json(rec, 0, 0, &json, NULL), PRIVAUDIT_OK);
	assert_non_null(strstr(json, ",\"kind\":\"genesis\","));
	assert_non_null(strstr(json, ",\"session\":null,\"session_id\":null,"));
	assert_non_null(strstr(json, "\"origin\":\"test/json\",\"public_key_b64\":\""));
	assert_non_null(strstr(json, "\"log_id_b64\":\""));
	assert_null(strstr(json, "\"log_id\":"));
	assert_null(strstr(json, "\"public_key\":"));
	free(json);
	privaudit_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_text_limits),
		cmocka_unit_test_setup_teardown(test_record_json, tu_setup_dir, tu_teardown_dir),
		cmocka_unit_test_setup_teardown(test_genesis_json, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
