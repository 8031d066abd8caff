/* crc32c.h: CRC-32C (Castagnoli) of frames, to find torn writes. */
#ifndef PA_CRC32C_H
#define PA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc is the running value: start with 0. */
uint32_t pa_crc32c(uint32_t crc, const void *data, size_t len);

#endif
