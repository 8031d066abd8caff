/* SPDX-License-Identifier: ISC */
/* hash.h: SHA-256 (the x86 SHA extensions when present, portable C
 * otherwise) and the RFC 9162 leaf and node hashes. */
#ifndef PA_HASH_H
#define PA_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PA_HASH_LEN 32

void pa_sha256(unsigned char out[PA_HASH_LEN], const void *data, size_t len);
/* SHA-256 of the first len bytes of a file: 0, or -1 when it cannot be read. */
int pa_sha256_file(unsigned char out[PA_HASH_LEN], int fd, uint64_t len);
/* SHA-256(0x00 || entry) */
void pa_hash_leaf(unsigned char out[PA_HASH_LEN], const void *entry, size_t len);
/* Two leaf hashes at once: the same results as two pa_hash_leaf calls,
 * 1.4 to 1.8 times as fast on the SHA-NI path when both entries are at
 * least 63 bytes long (else, and on the portable path, two plain calls). */
void pa_hash_leaf2(unsigned char out_a[PA_HASH_LEN], const void *entry_a, size_t len_a,
		   unsigned char out_b[PA_HASH_LEN], const void *entry_b, size_t len_b);
/* SHA-256(0x01 || left || right); out may alias left or right */
void pa_hash_node(unsigned char out[PA_HASH_LEN], const unsigned char left[PA_HASH_LEN],
		  const unsigned char right[PA_HASH_LEN]);
/* Name of the implementation in use ("sha-ni" or "portable"), for
 * benchmarks and --version. */
const char *pa_hash_backend(void);
/* Tests: hash with the portable code from now on when on (the SHA-NI code
 * again when off and the CPU has it). */
void pa_hash_force_portable(int on);

#endif
