/* SPDX-License-Identifier: ISC */
/* fuzz_shipped.c: the JSON body of a message shipped to the collector, as
 * anyone who can reach its rsyslog can send it, through
 * privaudit_shipped_parse().  What it accepts must be what the collector
 * relies on: a non-empty origin, a 64-digit hex log id, and for a record an
 * entry within the record size limits. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "privaudit.h"
#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	privaudit_shipped s;
	privaudit_status st;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	st = privaudit_shipped_parse(text, size, &s);
	if (st != PRIVAUDIT_OK) {
		FUZZ_CHECK(s.entry == NULL);
		privaudit_shipped_free(&s);
		free(text);
		return 0;
	}
	FUZZ_CHECK(s.origin[0] != '\0' && strlen(s.origin) < sizeof(s.origin));
	FUZZ_CHECK(strlen(s.log_id) == 64 && strspn(s.log_id, "0123456789abcdef") == 64);
	if (s.type == PRIVAUDIT_SHIPPED_RECORD) {
		FUZZ_CHECK(s.entry != NULL);
		FUZZ_CHECK(s.entry_len >= PA_ENTRY_INDEX + 1 && s.entry_len <= PA_ENTRY_MAX);
		/* every byte of it is readable */
		volatile unsigned char sum = 0;
		for (size_t i = 0; i < s.entry_len; i++)
			sum ^= s.entry[i];
		(void)sum;
	} else {
		FUZZ_CHECK(s.type == PRIVAUDIT_SHIPPED_SYNC && s.entry == NULL);
	}
	privaudit_shipped_free(&s);
	free(text);
	return 0;
}
