/* record.c: decoding stored records.  The size is bounded before unpacking
 * and a record without a body is rejected. */
#include "config.h"

#include "privaudit.h"
#include "record.h"

pa_record *pa_record_decode(const unsigned char *buf, size_t len)
{
	pa_record *r;

	if (len > PRIVAUDIT_RECORD_MAX)
		return NULL;
	r = privaudit__record__unpack(NULL, len, buf);
	if (r == NULL)
		return NULL;
	if (r->body_case == PRIVAUDIT__RECORD__BODY__NOT_SET) {
		privaudit__record__free_unpacked(r, NULL);
		return NULL;
	}
	return r;
}

void pa_record_free(pa_record *r)
{
	if (r != NULL)
		privaudit__record__free_unpacked(r, NULL);
}

const char *pa_record_kind_name(const pa_record *r)
{
	switch (r->body_case) {
	case PRIVAUDIT__RECORD__BODY_GENESIS: return "genesis";
	case PRIVAUDIT__RECORD__BODY_WRITER_START: return "writer_start";
	case PRIVAUDIT__RECORD__BODY_WRITER_STOP: return "writer_stop";
	case PRIVAUDIT__RECORD__BODY_HEARTBEAT: return "heartbeat";
	case PRIVAUDIT__RECORD__BODY_GAP: return "gap";
	case PRIVAUDIT__RECORD__BODY_RECOVERY: return "recovery";
	case PRIVAUDIT__RECORD__BODY_KEY_ROTATION: return "key_rotation";
	case PRIVAUDIT__RECORD__BODY_CHECKPOINT: return "checkpoint";
	case PRIVAUDIT__RECORD__BODY_SESSION_OPEN: return "session_open";
	case PRIVAUDIT__RECORD__BODY_SESSION_CLOSE: return "session_close";
	case PRIVAUDIT__RECORD__BODY_AUTH_ATTEMPT: return "auth_attempt";
	case PRIVAUDIT__RECORD__BODY_COMMAND: return "command";
	case PRIVAUDIT__RECORD__BODY_TTY_INPUT: return "tty_input";
	case PRIVAUDIT__RECORD__BODY_CONFIG_CHANGE: return "config_change";
	case PRIVAUDIT__RECORD__BODY_AUDIT_EVENT: return "audit_event";
	case PRIVAUDIT__RECORD__BODY_APPLICATION: return "application";
	case PRIVAUDIT__RECORD__BODY__NOT_SET:
	case _PRIVAUDIT__RECORD__BODY__CASE_IS_INT_SIZE:
		break;
	}
	return "unknown";
}
