/* SPDX-License-Identifier: ISC */
/* test_stream.c: the plugin's records and events (stream.c) and its serial
 * windows (serials.c): the stamp without ':' of auditd 1.x/2.x daemon
 * records, events grouped by (node, time, serial), the same stamp replayed
 * as a second event whose argv stays its own, a user-space record joined by
 * the SYSCALL record that follows it, and what a restart of the plugin lost,
 * counted from the state file of the run before: per node, per boot, with
 * events a little out of order. */
#include "config.h"

#include "testutil.h"

#include "serials.h"
#include "stream.h"

/* ------------------------------------------------------------ events */

#define MAXEV 32

struct got {
	size_t n;
	char *text[MAXEV];     /* each event's lines */
	size_t nrec[MAXEV];
	char node[MAXEV][32];
	uint64_t serial[MAXEV];
};

static void on_event(void *arg, struct pa_event *ev)
{
	struct got *g = arg;

	assert_true(g->n < MAXEV);
	g->text[g->n] = strndup(ev->text ? ev->text : "", ev->text_len);
	assert_non_null(g->text[g->n]);
	g->nrec[g->n] = ev->nrec;
	assert_true(ev->node_len < sizeof(g->node[0]));
	if (ev->node_len > 0)
		memcpy(g->node[g->n], ev->node, ev->node_len);
	g->node[g->n][ev->node_len] = '\0';
	g->serial[g->n] = ev->serial;
	g->n++;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->text[i]);
	memset(g, 0, sizeof(*g));
}

/* Lines (joined by '\n') through a grouper, then everything flushed. */
static void feed(struct got *g, const char *const *lines, size_t n)
{
	struct pa_grouper gr;
	struct pa_grouper_limits lim = { 0 };

	memset(g, 0, sizeof(*g));
	pa_grouper_init(&gr, &lim, on_event, g);
	for (size_t i = 0; i < n; i++)
		pa_grouper_line(&gr, lines[i], strlen(lines[i]), 0, 1000);
	pa_grouper_tick(&gr, 1000, 1);
	pa_grouper_free(&gr);
}

/* The event holding line, or -1. */
static int event_of(const struct got *g, const char *line)
{
	for (size_t i = 0; i < g->n; i++)
		if (strstr(g->text[i], line) != NULL)
			return (int)i;
	return -1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_record_stamps(void **state)
{
	static const char old[] = "type=DAEMON_START msg=audit(1162905957.883:2600) auditd start, "
				  "ver=1.2.9, format=raw, auid=4294967295 pid=2166 res=success";
	static const char now[] = "node=host-1 type=SYSCALL msg=audit(1.002:3): arch=c000003e";
	struct pa_record r;

	(void)state;
	assert_int_equal(pa_record_parse(&r, old, strlen(old)), 0);
	assert_true(pa_record_is(&r, "DAEMON_START"));
	assert_int_equal(r.sec, 1162905957);
	assert_int_equal(r.msec, 883);
	assert_int_equal(r.serial, 2600);
	assert_int_equal(r.node_len, 0);
	assert_int_equal(strncmp(r.body, "auditd start,", 13), 0);
	assert_int_equal(pa_record_parse(&r, now, strlen(now)), 0);
	assert_int_equal(r.node_len, 6);
	assert_memory_equal(r.node, "host-1", 6);
	assert_int_equal(r.serial, 3);
	assert_int_equal(strncmp(r.body, "arch=", 5), 0);
	/* still no record without the closing parenthesis */
	assert_int_equal(pa_record_parse(&r, "type=X msg=audit(1.002:3 a=b", 28), -1);
}

/* The same events replayed with another pid: two events each, and no argv
 * is two argv put together (the merge once gave ["shsh", ...]). */
static void test_replayed_serials(void **state)
{
	static const char *const lines[] = {
		"type=SYSCALL msg=audit(1672407690.666:1481): syscall=59 pid=72351 auid=1000",
		"type=EXECVE msg=audit(1672407690.666:1481): argc=2 a0=\"sh\" a1=\"backdoor.sh\"",
		"type=CWD msg=audit(1672407690.666:1481): cwd=\"/tmp/backdoor\"",
		"type=SYSCALL msg=audit(1672407690.666:1482): syscall=59 pid=72355 auid=1000",
		"type=EXECVE msg=audit(1672407690.666:1482): argc=3 a0=\"rm\" a1=\"-rf\" a2=\"1\"",
		"type=SYSCALL msg=audit(1672407690.666:1481): syscall=59 pid=72354 auid=1000",
		"type=EXECVE msg=audit(1672407690.666:1481): argc=2 a0=\"sh\" a1=\"backdoor.sh\"",
		"type=CWD msg=audit(1672407690.666:1481): cwd=\"/tmp/backdoor\"",
		"type=SYSCALL msg=audit(1672407690.666:1482): syscall=59 pid=72356 auid=1000",
		"type=EXECVE msg=audit(1672407690.666:1482): argc=3 a0=\"rm\" a1=\"-rf\" a2=\"1\"",
	};
	struct got g;
	int a, b;

	(void)state;
	feed(&g, lines, N(lines));
	assert_int_equal(g.n, 4);
	a = event_of(&g, "pid=72351");
	b = event_of(&g, "pid=72354");
	assert_true(a >= 0 && b >= 0 && a != b);
	for (size_t i = 0; i < g.n; i++) {
		const char *p = strstr(g.text[i], "type=EXECVE");

		/* each event: one SYSCALL, one argv */
		assert_non_null(p);
		assert_null(strstr(p + 1, "type=EXECVE"));
		p = strstr(g.text[i], "type=SYSCALL");
		assert_non_null(p);
		assert_null(strstr(p + 1, "type=SYSCALL"));
	}
	assert_int_equal(g.nrec[a], 3);
	assert_int_equal(g.nrec[b], 3);
	got_free(&g);
}

/* A long argv goes on in EXECVE records without argc=: one event. */
static void test_split_argv(void **state)
{
	static const char *const lines[] = {
		"type=SYSCALL msg=audit(1615150974.493:21028): syscall=59 pid=1",
		"type=EXECVE msg=audit(1615150974.493:21028): argc=2 a0=\"/bin/echo\" a1_len=6 a1[0]=616263",
		"type=EXECVE msg=audit(1615150974.493:21028):  a1[1]=646566",
		"type=PROCTITLE msg=audit(1615150974.493:21028): proctitle=2F62696E2F6563686F",
		"type=EOE msg=audit(1615150974.493:21028): ",
	};
	struct got g;

	(void)state;
	feed(&g, lines, N(lines));
	assert_int_equal(g.n, 1);
	assert_int_equal(g.nrec[0], 4);
	got_free(&g);
}

/* Grouped by (node, time, serial): neither the serial alone nor the
 * serial and time of another node. */
static void test_event_key(void **state)
{
	static const char *const lines[] = {
		"node=tom type=SYSCALL msg=audit(1165963069.244:852): syscall=102 pid=1",
		"node=bob type=SYSCALL msg=audit(1165963069.244:852): syscall=33 pid=2",
		"node=tom type=AVC msg=audit(1165963069.244:852): avc:  denied  { name_connect } pid=1",
		"type=SYSCALL msg=audit(1165963069.244:852): syscall=2 pid=3",
		"type=PATH msg=audit(1165963070.000:852): item=0 name=\"/etc\"",
		"node=bob type=AVC msg=audit(1165963069.244:852): avc:  denied  { execute } pid=2",
	};
	struct got g;
	int tom, bob;

	(void)state;
	feed(&g, lines, N(lines));
	assert_int_equal(g.n, 4);
	tom = event_of(&g, "pid=1\n");
	bob = event_of(&g, "pid=2\n");
	assert_true(tom >= 0 && bob >= 0 && tom != bob);
	assert_int_equal(g.nrec[tom], 2);
	assert_string_equal(g.node[tom], "tom");
	assert_int_equal(g.nrec[bob], 2);
	assert_string_equal(g.node[bob], "bob");
	assert_int_equal(g.nrec[event_of(&g, "pid=3")], 1);
	assert_int_equal(g.nrec[event_of(&g, "1165963070.000:852")], 1);
	got_free(&g);
}

/* A record of a single-record kind, then another event, then the SYSCALL
 * record of its stamp (two CPUs' records interleaved): one event.  Alone, it
 * goes out after hold_ms. */
static void test_held_single(void **state)
{
	static const char *const lines[] = {
		"type=SELINUX_ERR msg=audit(1163779593.194:13694): security_compute_sid:  invalid context",
		"type=SELINUX_ERR msg=audit(1163779593.194:13695): security_compute_sid:  invalid context",
		"type=SYSCALL msg=audit(1163779593.194:13695): syscall=11 pid=2",
		"type=SYSCALL msg=audit(1163779593.194:13694): syscall=11 pid=1",
	};
	static const char user[] =
		"type=USER_END msg=audit(5.000:7): pid=1 uid=0 msg='op=PAM:session_close'";
	struct pa_grouper gr;
	struct pa_grouper_limits lim = { 0 };
	struct got g;

	(void)state;
	feed(&g, lines, N(lines));
	assert_int_equal(g.n, 2);
	assert_int_equal(g.nrec[event_of(&g, "pid=1")], 2);
	assert_int_equal(g.nrec[event_of(&g, "pid=2")], 2);
	assert_int_equal(event_of(&g, "pid=1"), event_of(&g, ":13694): security"));
	got_free(&g);

	memset(&g, 0, sizeof(g));
	pa_grouper_init(&gr, &lim, on_event, &g);
	pa_grouper_line(&gr, user, strlen(user), 0, 1000);
	pa_grouper_tick(&gr, 1005, 0);
	assert_int_equal(g.n, 0);
	pa_grouper_tick(&gr, 1000 + gr.lim.hold_ms, 0);
	assert_int_equal(g.n, 1);
	pa_grouper_free(&gr);
	got_free(&g);
}

/* ------------------------------------------------------------ serials */

static struct pa_loss seen(struct pa_serials *s, uint64_t serial)
{
	struct pa_loss l;

	memset(&l, 0, sizeof(l));
	pa_serials_seen(s, serial, &l);
	return l;
}

static struct pa_loss settle(struct pa_serials *s)
{
	struct pa_loss l;

	memset(&l, 0, sizeof(l));
	pa_serials_settle(s, &l);
	return l;
}

/* What a node lost across a restart: state text of the first run, taken up
 * by a second. */
struct other_boot {
	int calls;
	char node[32];
	struct pa_loss loss;
};

static void on_other_boot(void *arg, const char *node, size_t len, const struct pa_loss *l)
{
	struct other_boot *o = arg;

	assert_true(len < sizeof(o->node));
	memcpy(o->node, node, len);
	o->node[len] = '\0';
	o->loss = *l;
	o->calls++;
}

/* nodes a (serials 100-200, 197 not seen yet) and b (5000-5010, all judged). */
static char *first_run(size_t *len)
{
	struct pa_nodes ns;
	struct pa_serials *a, *b;
	char *text;

	pa_nodes_init(&ns);
	a = pa_nodes_get(&ns, "a", 1);
	b = pa_nodes_get(&ns, "b", 1);
	assert_non_null(a);
	assert_non_null(b);
	for (uint64_t x = 100; x <= 200; x++)
		if (x != 197)
			assert_int_equal(seen(a, x).jump.count, 0);
	for (uint64_t x = 5000; x <= 5010; x++)
		assert_int_equal(seen(b, x).jump.count, 0);
	assert_int_equal(settle(b).jump.count, 0);
	text = pa_nodes_state(&ns, "boot-1", len);
	assert_non_null(text);
	pa_nodes_free(&ns);
	return text;
}

static void test_restart_gap(void **state)
{
	struct pa_nodes ns;
	struct pa_serials *a, *b;
	struct pa_loss l;
	size_t len;
	char *text = first_run(&len);

	(void)state;
	assert_non_null(strstr(text, " 197 node=a\n"));
	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_restore(&ns, text, len, "boot-1", NULL, NULL), 2);
	a = pa_nodes_get(&ns, "a", 1);
	b = pa_nodes_get(&ns, "b", 1);
	/* a's events after the restart come a little out of order: 205, 203,
	 * 204; 201 and 202 never come, nor did 197 before */
	assert_int_equal(seen(a, 205).restart.count, 0);
	assert_int_equal(seen(a, 203).restart.count, 0);
	assert_int_equal(seen(a, 204).restart.count, 0);
	l = settle(a);
	assert_int_equal(l.restart.count, 3);
	assert_int_equal(l.restart.first, 197);
	assert_int_equal(l.restart.last, 202);
	assert_int_equal(l.jump.count, 0);
	/* later losses are not the restart's */
	seen(a, 210);
	l = settle(a);
	assert_int_equal(l.restart.count, 0);
	assert_int_equal(l.jump.count, 4);
	/* b: nothing lost */
	seen(b, 5011);
	l = settle(b);
	assert_int_equal(l.restart.count + l.jump.count, 0);
	pa_nodes_free(&ns);
	free(text);
}

/* A smaller serial: the node's counter started again (it rebooted): only
 * what the earlier run had not seen is lost, nothing is made up between
 * the old counter and the new. */
static void test_restart_counter_reset(void **state)
{
	struct pa_nodes ns;
	struct pa_serials *s;
	struct pa_loss l;
	size_t len;
	char *text;

	(void)state;
	/* a run that saw 200000 and 200002 */
	pa_nodes_init(&ns);
	s = pa_nodes_get(&ns, "", 0);
	seen(s, 200000);
	seen(s, 200002);
	text = pa_nodes_state(&ns, "boot-1", &len);
	assert_non_null(text);
	pa_nodes_free(&ns);
	/* the next one starts at 12: the counter started again */
	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_restore(&ns, text, len, "boot-1", NULL, NULL), 1);
	s = pa_nodes_get(&ns, "", 0);
	l = seen(s, 12);
	assert_int_equal(l.restart.count, 1);   /* 200001, never seen */
	assert_int_equal(l.restart.first, 200001);
	assert_int_equal(l.jump.count, 0);
	seen(s, 13);
	l = settle(s);
	assert_int_equal(l.restart.count + l.jump.count, 0);
	pa_nodes_free(&ns);
	free(text);
}

/* Another boot: serials are not compared; what the earlier run had not seen
 * is reported once, from the state file. */
static void test_restart_other_boot(void **state)
{
	struct pa_nodes ns;
	struct pa_serials *a;
	struct other_boot o;
	size_t len;
	char *text = first_run(&len);

	(void)state;
	memset(&o, 0, sizeof(o));
	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_restore(&ns, text, len, "boot-2", on_other_boot, &o), 0);
	assert_int_equal(o.calls, 1);
	assert_string_equal(o.node, "a");
	assert_int_equal(o.loss.restart.count, 1);
	assert_int_equal(o.loss.restart.first, 197);
	a = pa_nodes_get(&ns, "a", 1);
	seen(a, 1);
	seen(a, 2);
	assert_int_equal(settle(a).restart.count + settle(a).jump.count, 0);
	pa_nodes_free(&ns);
	free(text);
}

/* The file: written, read back; a damaged one restores nothing. */
static void test_state_file(void **state)
{
	const char *dir = *state;
	struct pa_nodes ns;
	struct pa_serials *s;
	char path[TU_PATH_MAX];
	int restored = -1;
	size_t len;
	char *text = first_run(&len);

	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_load(&ns, dir, "boot-1", NULL, NULL, &restored), 0);
	assert_int_equal(restored, 0);   /* no file: a first run */
	assert_int_equal(pa_nodes_restore(&ns, text, len, "boot-1", NULL, NULL), 2);
	assert_int_equal(pa_nodes_save(&ns, dir, "boot-1"), 0);
	pa_nodes_free(&ns);
	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_load(&ns, dir, "boot-1", NULL, NULL, &restored), 0);
	assert_int_equal(restored, 2);
	s = pa_nodes_get(&ns, "a", 1);
	seen(s, 201);
	assert_int_equal(settle(s).restart.count, 1);
	pa_nodes_free(&ns);
	snprintf(path, sizeof(path), "%s/%s", dir, PA_STATE_FILE);
	tu_write(path, "not a state\n", 12);
	pa_nodes_init(&ns);
	assert_int_equal(pa_nodes_load(&ns, dir, "boot-1", NULL, NULL, &restored), -1);
	assert_int_equal(ns.n, 0);
	pa_nodes_free(&ns);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_stamps),
		cmocka_unit_test(test_replayed_serials),
		cmocka_unit_test(test_split_argv),
		cmocka_unit_test(test_event_key),
		cmocka_unit_test(test_held_single),
		cmocka_unit_test(test_restart_gap),
		cmocka_unit_test(test_restart_counter_reset),
		cmocka_unit_test(test_restart_other_boot),
		cmocka_unit_test_setup_teardown(test_state_file, tu_setup_dir, tu_teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
