/* SPDX-License-Identifier: ISC */
/* merkle.h: the RFC 9162 Merkle tree: an incremental frontier for writers and
 * verifiers, and inclusion and consistency proofs. */
#ifndef PA_MERKLE_H
#define PA_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define PA_TREE_MAXDEPTH 64
#define PA_PROOF_MAX (2 * PA_TREE_MAXDEPTH)

/* Roots of the perfect subtrees that make a tree of `size` leaves, one per
 * set bit of size, largest first: appending is O(log n), nothing re-read. */
typedef struct pa_tree {
	uint64_t size;
	unsigned n;
	unsigned char node[PA_TREE_MAXDEPTH][PA_HASH_LEN];
} pa_tree;

void pa_tree_init(pa_tree *t);
void pa_tree_append(pa_tree *t, const unsigned char leaf_hash[PA_HASH_LEN]);
void pa_tree_root(const pa_tree *t, unsigned char out[PA_HASH_LEN]);
/* 0 when n matches the popcount of size (a frontier read from disk). */
int pa_tree_check(const pa_tree *t);

/* Root of leaves[start, end) (MTH of RFC 9162 2.1.1). */
void pa_merkle_root(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t start, uint64_t end,
		    unsigned char out[PA_HASH_LEN]);
/* Inclusion path of leaf m in the tree of the first n leaves; returns the
 * number of hashes written to path (at most PA_PROOF_MAX), -1 on bad input. */
int pa_merkle_inclusion_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n, uint64_t m,
			      unsigned char (*path)[PA_HASH_LEN]);
/* Consistency proof from the tree of m leaves to the tree of n leaves. */
int pa_merkle_consistency_proof(const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n,
				uint64_t m, unsigned char (*path)[PA_HASH_LEN]);
/* Every level of the tree over n leaves, for O(log n) roots and proofs of
 * any prefix.  Level 0 is the caller's leaves (not copied); the rest take
 * about 32 bytes per leaf. */
typedef struct pa_levels {
	const unsigned char (*leaves)[PA_HASH_LEN];
	unsigned char (*node[PA_TREE_MAXDEPTH])[PA_HASH_LEN];   /* levels 1.. */
	uint64_t n[PA_TREE_MAXDEPTH];
	unsigned count;
} pa_levels;

int pa_levels_build(pa_levels *lv, const unsigned char (*leaves)[PA_HASH_LEN], uint64_t n);
void pa_levels_free(pa_levels *lv);
/* Root of the first n leaves. */
void pa_levels_root(const pa_levels *lv, uint64_t n, unsigned char out[PA_HASH_LEN]);
int pa_levels_inclusion_proof(const pa_levels *lv, uint64_t n, uint64_t m,
			      unsigned char (*path)[PA_HASH_LEN]);
int pa_levels_consistency_proof(const pa_levels *lv, uint64_t n, uint64_t m,
				unsigned char (*path)[PA_HASH_LEN]);
/* RFC 9162 2.1.3.2 and 2.1.4.2: 0 when the proof holds. */
int pa_merkle_verify_inclusion(uint64_t index, uint64_t size, const unsigned char leaf[PA_HASH_LEN],
			       const unsigned char (*path)[PA_HASH_LEN], size_t count,
			       const unsigned char root[PA_HASH_LEN]);
int pa_merkle_verify_consistency(uint64_t first, uint64_t second,
				 const unsigned char first_root[PA_HASH_LEN],
				 const unsigned char second_root[PA_HASH_LEN],
				 const unsigned char (*path)[PA_HASH_LEN], size_t count);

#endif
