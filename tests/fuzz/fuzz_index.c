/* SPDX-License-Identifier: ISC */
/* fuzz_index.c: the session index file (DIR/index), which anyone who can
 * write the log directory can replace.  Parsing hostile bytes never reads
 * outside them; an index that parses serializes back to the same bytes. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "index.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL;
	pa_index *ix = NULL;
	size_t len = 0;

	if (pa_index_parse(data, size, &ix) != 0) {
		FUZZ_CHECK(ix == NULL);
		return 0;
	}
	FUZZ_CHECK(ix != NULL);
	if (pa_index_serialize(ix, &out, &len) == 0) {
		FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
		free(out);
	}
	pa_index_free(ix);
	return 0;
}
