/* SPDX-License-Identifier: ISC */
/* fuzz.h: what every harness in tests/fuzz shares: the libFuzzer entry
 * point (also driven by stub-main.c for `make check`) and a crash that
 * libFuzzer and the replay both report when a harness's own check fails. */
#ifndef PA_FUZZ_H
#define PA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the harness checks failed: abort, so it counts as a finding. */
#define FUZZ_CHECK(cond)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,  \
				__LINE__, #cond);                               \
			abort();                                                \
		}                                                               \
	} while (0)

#endif
