/* SPDX-License-Identifier: ISC */
/* fuzz_proof_file.c: proof files as `privaudit check-proof` reads them.
 * The input is the log's verifier key line, a newline, then the proof
 * text.  Whatever the bytes, the checker returns a status with a detail
 * line; when it says the proof holds, every proved record can be read. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "privaudit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const privaudit_proof_report *rep = NULL;
	const uint8_t *nl = memchr(data, '\n', size);
	privaudit_proof *p = NULL;
	privaudit_status st;
	char *key;

	if (nl == NULL)
		return 0;
	key = strndup((const char *)data, (size_t)(nl - data));
	FUZZ_CHECK(key != NULL);
	st = privaudit_proof_check(&p, key, (const char *)nl + 1, size - (size_t)(nl + 1 - data),
				   &rep);
	free(key);
	if (st == PRIVAUDIT_E_NOMEM || st == PRIVAUDIT_E_CRYPTO) {
		privaudit_proof_free(p);
		return 0;
	}
	FUZZ_CHECK(rep != NULL && rep->detail != NULL && rep->status == st);
	if (st == PRIVAUDIT_OK) {
		FUZZ_CHECK(rep->records <= size);
		for (size_t i = 0; i < rep->records; i++) {
			const privaudit_record *rec;

			FUZZ_CHECK(privaudit_proof_record(p, i, &rec) == PRIVAUDIT_OK);
			FUZZ_CHECK(privaudit_record_index(rec) < rep->tree_size);
			FUZZ_CHECK(privaudit_record_kind(rec) != NULL);
		}
	}
	privaudit_proof_free(p);
	return 0;
}
