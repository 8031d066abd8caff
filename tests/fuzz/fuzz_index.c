/* SPDX-License-Identifier: ISC */
/* fuzz_index.c: the session index file (DIR/index), which anyone who can
 * write the log directory can replace.  Parsing hostile bytes never reads
 * outside them; an index that parses serializes back to the same bytes.
 * The CRC at the end is set right on a copy of the input, so the fuzzer
 * reaches the parser behind it; the input as given is parsed first. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "crc32c.h"
#include "index.h"
#include "util.h"

static void one(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL;
	pa_index *ix = NULL;
	size_t len = 0;

	if (pa_index_parse(data, size, &ix) != 0) {
		FUZZ_CHECK(ix == NULL);
		return;
	}
	FUZZ_CHECK(ix != NULL);
	if (pa_index_serialize(ix, &out, &len) == 0) {
		FUZZ_CHECK(len == size && memcmp(out, data, size) == 0);
		free(out);
	}
	pa_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	one(data, size);
	if (size < 4 || (copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	pa_store32(copy + size - 4, pa_crc32c(0, copy, size - 4));
	one(copy, size);
	free(copy);
	return 0;
}
