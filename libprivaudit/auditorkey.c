/* SPDX-License-Identifier: ISC */
/* auditorkey.c: the auditors' sealing key pair (auditorkey.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <sodium.h>

#include "auditorkey.h"

/* Longest line either file holds: tag, space, base64 of 32 bytes, newline. */
#define LINE_MAX_BYTES 128

void pa_auditor_key_id(const unsigned char pk[PA_AUDITOR_KEY_BYTES],
		       unsigned char id[PA_AUDITOR_ID_BYTES])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, pk, PA_AUDITOR_KEY_BYTES);
	memcpy(id, h, PA_AUDITOR_ID_BYTES);
}

void pa_auditor_id_hex(const unsigned char id[PA_AUDITOR_ID_BYTES], char hex[2 * PA_AUDITOR_ID_BYTES + 1])
{
	sodium_bin2hex(hex, 2 * PA_AUDITOR_ID_BYTES + 1, id, PA_AUDITOR_ID_BYTES);
}

/* The file's one line into buf (NUL-terminated, the newline dropped);
 * *mode is the file's mode.  0 or -1 with errno. */
static int read_line(const char *path, char *buf, size_t cap, mode_t *mode, const char **why)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (errno == 0 || S_ISREG(st.st_mode) == 0)
			errno = EINVAL;
		*why = "not a regular file";
		close(fd);
		return -1;
	}
	*mode = st.st_mode;
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len == cap - 1 || strchr(buf, '\n') != NULL || strlen(buf) != len) {
		errno = EINVAL;
		*why = "more than one line, or not text";
		return -1;
	}
	return 0;
}

/* "TAG base64" with exactly 32 bytes behind the tag, into out. */
static int parse_line(const char *line, const char *tag, unsigned char *out)
{
	size_t tl = strlen(tag), got = 0;
	const char *end = NULL;

	if (strncmp(line, tag, tl) != 0 || line[tl] != ' ')
		return -1;
	if (sodium_base642bin(out, PA_AUDITOR_KEY_BYTES, line + tl + 1, strlen(line + tl + 1), NULL,
			      &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != PA_AUDITOR_KEY_BYTES || *end != '\0')
		return -1;
	return 0;
}

int pa_auditor_read_public(const char *path, unsigned char pk[PA_AUDITOR_KEY_BYTES],
			   const char **why)
{
	char line[LINE_MAX_BYTES];
	mode_t mode;

	if (read_line(path, line, sizeof(line), &mode, why) < 0)
		return -1;
	if (strncmp(line, PA_AUDITOR_SEC_TAG " ", strlen(PA_AUDITOR_SEC_TAG) + 1) == 0) {
		sodium_memzero(line, sizeof(line));
		errno = EINVAL;
		*why = "this is the auditors' SECRET key: give the .pub file";
		return -1;
	}
	if (parse_line(line, PA_AUDITOR_PUB_TAG, pk) < 0) {
		errno = EINVAL;
		*why = "not an auditor public key (privaudit keygen-auditor makes one)";
		return -1;
	}
	return 0;
}

int pa_auditor_read_secret(const char *path, unsigned char *sk, unsigned char pk[PA_AUDITOR_KEY_BYTES],
			   const char **why)
{
	char *line = sodium_malloc(LINE_MAX_BYTES);
	mode_t mode;
	int rc = -1;

	if (line == NULL) {
		*why = "out of memory";
		errno = ENOMEM;
		return -1;
	}
	if (read_line(path, line, LINE_MAX_BYTES, &mode, why) < 0)
		goto out;
	if (parse_line(line, PA_AUDITOR_SEC_TAG, sk) < 0) {
		errno = EINVAL;
		*why = strncmp(line, PA_AUDITOR_PUB_TAG " ", strlen(PA_AUDITOR_PUB_TAG) + 1) == 0
			       ? "this is the auditors' public key: decrypting needs the secret one"
			       : "not an auditor secret key (privaudit keygen-auditor makes one)";
		goto out;
	}
	if (mode & (S_IRWXG | S_IRWXO)) {
		sodium_memzero(sk, PA_AUDITOR_KEY_BYTES);
		errno = EPERM;
		*why = "others may read this secret key (chmod 600 it)";
		goto out;
	}
	if (crypto_scalarmult_base(pk, sk) != 0) {
		errno = EINVAL;
		*why = "not a usable X25519 secret key";
		goto out;
	}
	rc = 0;
out:
	sodium_free(line);   /* wiped by sodium_free */
	return rc;
}

static int write_file(const char *path, mode_t mode, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto fail;
	return close(fd);
fail:
	{
		int saved = errno;

		close(fd);
		unlink(path);
		errno = saved;
	}
	return -1;
}

int pa_auditor_keygen(const char *secret_path, const char *pub_path,
		      unsigned char pk[PA_AUDITOR_KEY_BYTES], const char **why)
{
	const size_t b64 = sodium_base64_ENCODED_LEN(PA_AUDITOR_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	unsigned char *sk = sodium_malloc(PA_AUDITOR_KEY_BYTES);
	char *line = sodium_malloc(LINE_MAX_BYTES);
	size_t tl;
	int rc = -1, saved;

	if (sk == NULL || line == NULL) {
		errno = ENOMEM;
		*why = "out of memory";
		goto out;
	}
	crypto_box_keypair(pk, sk);
	tl = strlen(PA_AUDITOR_SEC_TAG);
	memcpy(line, PA_AUDITOR_SEC_TAG " ", tl + 1);
	sodium_bin2base64(line + tl + 1, b64, sk, PA_AUDITOR_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	strcat(line, "\n");
	if (write_file(secret_path, 0600, line, strlen(line)) < 0) {
		*why = errno == EEXIST ? "exists; not overwritten" : strerror(errno);
		goto out;
	}
	tl = strlen(PA_AUDITOR_PUB_TAG);
	memcpy(line, PA_AUDITOR_PUB_TAG " ", tl + 1);
	sodium_bin2base64(line + tl + 1, b64, pk, PA_AUDITOR_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	strcat(line, "\n");
	if (write_file(pub_path, 0644, line, strlen(line)) < 0) {
		*why = errno == EEXIST ? "exists; not overwritten" : strerror(errno);
		saved = errno;
		unlink(secret_path);
		errno = saved;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	sodium_free(sk);
	sodium_free(line);
	errno = saved;
	return rc;
}
