/* SPDX-License-Identifier: ISC */
/* test_fields.c: the plugin's field tokenizer (pa_fields_batch, with its
 * 16-byte compare for short key=value fields and its word-at-a-time scans)
 * against the grammar written out byte by byte (fields_ref.h): real audit
 * records, then 200,000 random bodies of the characters that matter
 * (space, =, both quotes, tab, "msg") up to 100 bytes long, each read in
 * batches of many sizes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fields_ref.h"
#include "stream.h"

enum { MAXF = 600 };

/* Every field of body through pa_fields_batch, batch results put
 * together, equal to the reference's. */
static void same_fields(const char *body, size_t len, size_t batch)
{
	struct pa_field want[MAXF], got[MAXF];
	struct pa_field_iter it;
	size_t nw = ref_fields(body, len, want, MAXF), ng = 0, n;

	pa_fields_begin(&it, body, len);
	while (ng < MAXF && (n = pa_fields_batch(&it, got + ng, MAXF - ng < batch ? MAXF - ng : batch)) > 0)
		ng += n;
	assert_int_equal(ng, nw);
	for (size_t i = 0; i < nw; i++) {
		assert_ptr_equal(got[i].key, want[i].key);
		assert_int_equal(got[i].klen, want[i].klen);
		assert_ptr_equal(got[i].val, want[i].val);
		assert_int_equal(got[i].vlen, want[i].vlen);
	}
}

static void test_records(void **state)
{
	static const char *const bodies[] = {
		"arch=c000003e syscall=59 success=yes exit=0 a0=55d0c6f0a1b0 a1=55d0c6f0a2c0 "
		"a2=55d0c6f0a3d0 a3=0 items=2 ppid=36115 pid=7944 auid=1000 uid=1000 gid=0 euid=0 "
		"suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"tar\" "
		"exe=\"/usr/bin/tar\" subj=unconfined key=\"privaudit-exec\"",
		"argc=6 a0=\"tar\" a1=\"--verbose\" a2=\"status\" a3=\"-a\" a4=\"-p\" a5=636166C3A920017F",
		"cwd=\"/home/a user with a long name/and a long directory name\"",
		"tty pid=6000 uid=0 auid=1000 ses=3 major=136 minor=0 comm=\"bash\" data=6C73202D6C0D",
		"pid=1 uid=0 auid=1000 ses=2 msg='op=PAM:session_open grantors=pam_unix acct=\"root\" "
		"exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success' extra=1",
		"a0=\"x\"b=1 c=\"unterminated value that runs past the window to the end",
		"k=v\tx=\"a b\" =x bare  msg='inner' msg='again' z=1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		for (size_t b = 1; b <= 33; b += 4)
			same_fields(bodies[i], strlen(bodies[i]), b);
}

static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_random(void **state)
{
	static const char *const bits[] = {" ", "=", "\"", "'", "\t", "a", "b1", "key=",
					   "msg='", "msg=", "x=\"", "\" ", "' ", "aaaaaaaaaa"};
	enum { NB = sizeof(bits) / sizeof(bits[0]) };
	char body[160];
	uint32_t seed = 0x9e3779b9u;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t len = 0, want = next(&seed) % 100;

		while (len < want) {
			const char *b = bits[next(&seed) % NB];
			size_t bl = strlen(b);

			if (len + bl >= sizeof(body))
				break;
			memcpy(body + len, b, bl);
			len += bl;
		}
		same_fields(body, len, 1 + next(&seed) % 40);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
