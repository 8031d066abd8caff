/* SPDX-License-Identifier: ISC */
/* error.c: the one error space of libprivaudit and its messages. */
#include "config.h"

#include "util.h"

PRIVAUDIT_EXPORT const char *privaudit_strerror(privaudit_status status)
{
	switch (status) {
	case PRIVAUDIT_OK: return "success";
	case PRIVAUDIT_E_INVAL: return "invalid argument";
	case PRIVAUDIT_E_NOMEM: return "out of memory";
	case PRIVAUDIT_E_IO: return "input/output error";
	case PRIVAUDIT_E_EXISTS: return "a log or key file already exists there";
	case PRIVAUDIT_E_NOLOG: return "not a privaudit log";
	case PRIVAUDIT_E_LOCK_TIMEOUT: return "timed out waiting for the log lock";
	case PRIVAUDIT_E_CRYPTO: return "cryptographic operation failed";
	case PRIVAUDIT_E_KEY: return "signing key state missing or invalid";
	case PRIVAUDIT_E_TOOBIG: return "record too large";
	case PRIVAUDIT_E_FORMAT: return "corrupt log data";
	case PRIVAUDIT_E_FOREIGN: return "data from another log";
	case PRIVAUDIT_E_SEQUENCE: return "record sequence broken";
	case PRIVAUDIT_E_ROOT: return "records do not match a signed checkpoint";
	case PRIVAUDIT_E_SIGNATURE: return "bad checkpoint signature";
	case PRIVAUDIT_E_CHAIN: return "key rotation chain broken";
	case PRIVAUDIT_E_PINNED_KEY: return "first key is not the pinned key";
	case PRIVAUDIT_E_TRUNCATED: return "log truncated";
	case PRIVAUDIT_E_TRUSTED: return "log does not extend the trusted checkpoint";
	case PRIVAUDIT_E_STALE: return "newest checkpoint too old";
	case PRIVAUDIT_E_NOTE: return "malformed checkpoint note or key";
	case PRIVAUDIT_E_END: return "end of log";
	case PRIVAUDIT_E_STATE: return "handle unusable after an earlier failure";
	case PRIVAUDIT_E_NOTFOUND: return "not found";
	case PRIVAUDIT_E_AMBIGUOUS: return "session id prefix matches more than one session";
	case PRIVAUDIT_E_PROOF: return "proof malformed or does not hold";
	case PRIVAUDIT_E_WITNESS: return "no valid cosignature by the required witness";
	case PRIVAUDIT_E_FORK: return "two different records for one index (a rewritten or rolled-back log)";
	case PRIVAUDIT_E_BACKDATED: return "a record is dated before a checkpoint signed before it (backdated)";
	case PRIVAUDIT_E_NOSPACE: return "no space left for the log: events not recorded, counted in a gap record";
	}
	return "unknown privaudit status";
}

PRIVAUDIT_EXPORT const char *privaudit_version(void)
{
	return PRIVAUDIT_VERSION_STRING;
}

PRIVAUDIT_EXPORT size_t privaudit_record_max(void)
{
	return PRIVAUDIT_RECORD_MAX;
}
