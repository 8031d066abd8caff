/* SPDX-License-Identifier: ISC */
/* serials.h: loss found from audit serial numbers, per node.  The kernel
 * numbers its events one by one, per boot; serials never seen are events
 * lost on the way.  Each node (node= prefix, "" without one) has its own
 * counter, judged in a sliding window so that events arriving a little out
 * of order are not taken for lost.  What the plugin has handled is kept in
 * a state file beside the log, so that a restart counts what the killed
 * run never got (doc/format.md, audisp-privaudit(8)). */
#ifndef PA_SERIALS_H
#define PA_SERIALS_H

#include <stddef.h>
#include <stdint.h>

#define PA_SERIAL_WINDOW 8192u
/* Nodes judged at once; the events of further ones are counted only. */
#define PA_NODES_MAX 1024u
/* A serial this far below the judged ones: the node's counter started
 * again (it rebooted), and what follows is not compared with before. */
#define PA_SERIAL_RESTART_SLACK 100000u

struct pa_serials {
	char *node;              /* node_len bytes */
	size_t node_len;
	int have;                /* a serial was seen (or restored) */
	int restored;            /* from an earlier run's state; none seen in this one yet */
	uint64_t base;           /* lowest serial not yet judged */
	uint64_t max;            /* highest seen */
	uint64_t restart_below;  /* unseen serials below this: lost across a restart (0: none) */
	unsigned char seen[PA_SERIAL_WINDOW / 8];
};

/* Serials found missing: count, and the first and last of them. */
struct pa_span {
	uint64_t count, first, last;
};

/* What one judgement found: serials lost across a restart of the plugin,
 * and the others (the kernel or auditd lost them, or they were never
 * passed on). */
struct pa_loss {
	struct pa_span restart, jump;
};

struct pa_nodes {
	struct pa_serials **v;
	size_t n, cap;
	size_t last;             /* the node asked for last: most streams have one */
	uint64_t untracked;      /* events of nodes beyond PA_NODES_MAX */
};

void pa_nodes_init(struct pa_nodes *ns);
void pa_nodes_free(struct pa_nodes *ns);
/* Forget every serial (after the plugin itself dropped events). */
void pa_nodes_reset(struct pa_nodes *ns);
/* The tracker of a node, made on first use; NULL beyond PA_NODES_MAX
 * (counted in untracked) or without memory. */
struct pa_serials *pa_nodes_get(struct pa_nodes *ns, const char *node, size_t len);

/* A serial of s's node was seen; loss gets what that judged missing. */
void pa_serials_seen(struct pa_serials *s, uint64_t serial, struct pa_loss *loss);
/* Judge every serial up to the highest seen (the stream went idle). */
void pa_serials_settle(struct pa_serials *s, struct pa_loss *loss);

/* The state of every node as text, for boot_id (NULL: no memory). */
char *pa_nodes_state(const struct pa_nodes *ns, const char *boot_id, size_t *len);
/* Called for each node of an earlier boot with what it had not seen yet
 * (lost across the restart: its serials are not compared with this
 * boot's). */
typedef void (*pa_node_loss_fn)(void *arg, const char *node, size_t len,
				const struct pa_loss *loss);
/* Take up the state text of an earlier run: nodes of the same boot go on
 * from where it stopped.  Returns the nodes restored, -1 when the text is
 * not a state (nothing is taken then). */
int pa_nodes_restore(struct pa_nodes *ns, const char *text, size_t len, const char *boot_id,
		     pa_node_loss_fn fn, void *arg);

/* DIR/plugin-state: written whole (a temporary file renamed over it),
 * read at start.  0, or -1 with errno set; a missing file loads as 0 with
 * nothing restored (*restored 0): the first run. */
#define PA_STATE_FILE "plugin-state"
int pa_nodes_save(const struct pa_nodes *ns, const char *dir, const char *boot_id);
int pa_nodes_load(struct pa_nodes *ns, const char *dir, const char *boot_id, pa_node_loss_fn fn,
		  void *arg, int *restored);

#endif /* PA_SERIALS_H */
