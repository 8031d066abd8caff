/* SPDX-License-Identifier: ISC */
/* auditorkey.h: the auditors' X25519 key pair, to which sudo_privaudit.so
 * seals terminal input (crypto_box_seal), so that the host keeps
 * keystrokes only encrypted.  libc and libsodium only: the sudo plugin
 * compiles this file and nothing else of the library.
 *
 * Files (doc/format.md, "Terminal I/O"), one line each:
 *   public:  "privaudit-auditor-x25519 " base64(32-byte public key)
 *   secret:  "privaudit-auditor-x25519-secret " base64(32-byte secret key),
 *            mode 0600
 * A key id is the first 8 bytes of SHA-256(public key), printed in hex. */
#ifndef PA_AUDITORKEY_H
#define PA_AUDITORKEY_H

#include <stddef.h>

#define PA_AUDITOR_PUB_TAG "privaudit-auditor-x25519"
#define PA_AUDITOR_SEC_TAG "privaudit-auditor-x25519-secret"
#define PA_AUDITOR_KEY_BYTES 32
#define PA_AUDITOR_ID_BYTES 8
#define PA_AUDITOR_SEAL_BYTES 48   /* crypto_box_SEALBYTES */

/* The key id of pk. */
void pa_auditor_key_id(const unsigned char pk[PA_AUDITOR_KEY_BYTES],
		       unsigned char id[PA_AUDITOR_ID_BYTES]);
/* The id as 16 hex digits and a NUL. */
void pa_auditor_id_hex(const unsigned char id[PA_AUDITOR_ID_BYTES], char hex[2 * PA_AUDITOR_ID_BYTES + 1]);

/* Read a public key file.  0, or -1 with errno set (EINVAL: not a public
 * key line; a secret key file is refused too, naming it in *why). *why is
 * a static reason on failure. */
int pa_auditor_read_public(const char *path, unsigned char pk[PA_AUDITOR_KEY_BYTES],
			   const char **why);

/* Read a secret key file into sk, which the caller allocated with
 * sodium_malloc, and derive its public key.  0, or -1 with errno and *why
 * (a file others may read is refused: EPERM). */
int pa_auditor_read_secret(const char *path, unsigned char *sk, unsigned char pk[PA_AUDITOR_KEY_BYTES],
			   const char **why);

/* Make a key pair: the secret file at secret_path (0600, never written
 * over), then the public file at pub_path.  0, or -1 with errno and *why;
 * nothing half made is left.  The secret key never leaves sodium_malloc
 * memory, and that memory is wiped. */
int pa_auditor_keygen(const char *secret_path, const char *pub_path,
		      unsigned char pk[PA_AUDITOR_KEY_BYTES], const char **why);

#endif
