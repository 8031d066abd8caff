/* hash.c: SHA-256 for the Merkle tree.  Hashing is most of the cost of
 * appending and verifying, so use OpenSSL (SHA-NI) when available. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_OPENSSL
/* The low-level SHA256_* calls avoid EVP's per-call fetch; they are
 * deprecated in 3.0 but remain, and are what the one-shot SHA256() uses. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>
#else
#include <sodium.h>
#endif

#include "hash.h"

#ifdef HAVE_OPENSSL
typedef SHA256_CTX pa_sha_ctx;
#define pa_sha_init(c) SHA256_Init(c)
#define pa_sha_update(c, d, l) SHA256_Update(c, d, l)
#define pa_sha_final(c, o) SHA256_Final(o, c)
#else
typedef crypto_hash_sha256_state pa_sha_ctx;
#define pa_sha_init(c) crypto_hash_sha256_init(c)
#define pa_sha_update(c, d, l) crypto_hash_sha256_update(c, (const unsigned char *)(d), l)
#define pa_sha_final(c, o) crypto_hash_sha256_final(c, o)
#endif

void pa_sha256(unsigned char out[PA_HASH_LEN], const void *data, size_t len)
{
	pa_sha_ctx c;

	pa_sha_init(&c);
	pa_sha_update(&c, data, len);
	pa_sha_final(&c, out);
}

int pa_sha256_file(unsigned char out[PA_HASH_LEN], int fd, uint64_t len)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	pa_sha_ctx c;

	pa_sha_init(&c);
	while (off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		pa_sha_update(&c, buf, (size_t)n);
		off += (uint64_t)n;
	}
	pa_sha_final(&c, out);
	return 0;
}

void pa_hash_leaf(unsigned char out[PA_HASH_LEN], const void *entry, size_t len)
{
	static const unsigned char prefix = 0x00;
	pa_sha_ctx c;

	pa_sha_init(&c);
	pa_sha_update(&c, &prefix, 1);
	pa_sha_update(&c, entry, len);
	pa_sha_final(&c, out);
}

void pa_hash_node(unsigned char out[PA_HASH_LEN], const unsigned char left[PA_HASH_LEN],
		  const unsigned char right[PA_HASH_LEN])
{
	unsigned char buf[1 + 2 * PA_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, PA_HASH_LEN);
	memcpy(buf + 1 + PA_HASH_LEN, right, PA_HASH_LEN);
	pa_sha256(out, buf, sizeof(buf));
}

const char *pa_hash_backend(void)
{
#ifdef HAVE_OPENSSL
	return "openssl";
#else
	return "libsodium";
#endif
}
