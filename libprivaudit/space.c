/* SPDX-License-Identifier: ISC */
/* space.c: how much room the log's filesystem has left for this writer, and
 * the tally of events a full disk kept out (written as a gap record). */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "space.h"

int pa_is_event(Privaudit__Record__BodyCase body)
{
	switch (body) {
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN:
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE:
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT:
	case PRIVAUDIT__RECORD__BODY_COMMAND:
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT:
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE:
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT:
	case PRIVAUDIT__RECORD__BODY_APPLICATION:
	case PRIVAUDIT__RECORD__BODY_IO_OPEN:
	case PRIVAUDIT__RECORD__BODY_IO_CHUNK:
	case PRIVAUDIT__RECORD__BODY_IO_CLOSE:
		return 1;
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case PRIVAUDIT__RECORD__BODY_GENESIS:
	case PRIVAUDIT__RECORD__BODY_WRITER_START:
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP:
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT:
	case PRIVAUDIT__RECORD__BODY_GAP:
	case PRIVAUDIT__RECORD__BODY_RECOVERY:
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION:
	case PRIVAUDIT__RECORD__BODY_SEGMENT_START:
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return 0;
}

static int has_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (d[CAP_SYS_RESOURCE / 32].effective >> (CAP_SYS_RESOURCE % 32)) & 1u;
}

uint64_t pa_space_free(int fd, int *root_blocks, uint64_t *size)
{
	struct statfs sf;
	uint64_t blocks, unit;

	*size = 0;
	/* no size (some network and pseudo filesystems): nothing to judge by */
	if (fstatfs(fd, &sf) < 0 || sf.f_blocks == 0)
		return UINT64_MAX;
	/* f_bavail leaves out the blocks ext2/3/4 keep for root (5% by
	 * default); the kernel lets the reserved uid (root unless tune2fs -u
	 * says otherwise) and CAP_SYS_RESOURCE use them.  Other filesystems:
	 * f_bavail is what may be written (on btrfs f_bfree counts more). */
	if (*root_blocks < 0)
		*root_blocks = sf.f_type == EXT4_SUPER_MAGIC &&
			       (geteuid() == 0 || has_cap_sys_resource());
	blocks = *root_blocks ? (uint64_t)sf.f_bfree : (uint64_t)sf.f_bavail;
	unit = sf.f_frsize > 0 ? (uint64_t)sf.f_frsize : (uint64_t)sf.f_bsize;
	*size = (uint64_t)sf.f_blocks * unit;
	return blocks * unit;
}

/* The audit serial of an event from the kernel, or 0. */
static uint64_t serial_of(const Privaudit__Record *rec)
{
	switch (rec->body_case) {
	case PRIVAUDIT__RECORD__BODY_COMMAND:
		return rec->command->serial;
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT:
		return rec->tty_input->serial;
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE:
		return rec->config_change->serial;
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT:
		return rec->audit_event->serial;
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case PRIVAUDIT__RECORD__BODY_GENESIS:
	case PRIVAUDIT__RECORD__BODY_WRITER_START:
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP:
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT:
	case PRIVAUDIT__RECORD__BODY_GAP:
	case PRIVAUDIT__RECORD__BODY_RECOVERY:
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION:
	case PRIVAUDIT__RECORD__BODY_SEGMENT_START:
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT:
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN:
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE:
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT:
	case PRIVAUDIT__RECORD__BODY_APPLICATION:
	case PRIVAUDIT__RECORD__BODY_IO_OPEN:
	case PRIVAUDIT__RECORD__BODY_IO_CHUNK:
	case PRIVAUDIT__RECORD__BODY_IO_CLOSE:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return 0;
}

void pa_lost_add(pa_lost *l, const Privaudit__Record *rec, uint64_t bytes)
{
	uint64_t serial = serial_of(rec);

	/* ranges, not first and last: events need not come in serial order */
	if (serial != 0) {
		if (l->first_serial == 0 || serial < l->first_serial)
			l->first_serial = serial;
		if (serial > l->last_serial)
			l->last_serial = serial;
	}
	if (rec->time_ns != 0) {
		if (l->first_ns == 0 || rec->time_ns < l->first_ns)
			l->first_ns = rec->time_ns;
		if (rec->time_ns > l->last_ns)
			l->last_ns = rec->time_ns;
	}
	l->count++;
	l->bytes += bytes;
}

void pa_lost_gap(const pa_lost *l, Privaudit__Gap *gap)
{
	gap->count = l->count;
	gap->reason = (char *)(uintptr_t)"disk-full";
	gap->first_serial = l->first_serial;
	gap->last_serial = l->last_serial;
	gap->bytes = l->bytes;
	gap->first_time_ns = l->first_ns;
	gap->last_time_ns = l->last_ns;
}
