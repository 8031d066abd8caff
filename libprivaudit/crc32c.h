/* SPDX-License-Identifier: ISC */
/* crc32c.h: CRC-32C (Castagnoli) of frames, to find torn writes. */
#ifndef PA_CRC32C_H
#define PA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc is the running value: start with 0. */
uint32_t pa_crc32c(uint32_t crc, const void *data, size_t len);
/* Two at once (*crc_a and *crc_b are the running values): the same as two
 * pa_crc32c calls, faster with the CRC instruction. */
void pa_crc32c2(uint32_t *crc_a, const void *a, size_t len_a, uint32_t *crc_b, const void *b,
		size_t len_b);

#endif
