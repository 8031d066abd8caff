/* SPDX-License-Identifier: ISC */
/* proof.h: what the proof builder (prove.c) and the proof checker
 * (proofcheck.c) must agree on.  Format: privaudit-log(5), "Proofs". */
#ifndef PA_PROOF_H
#define PA_PROOF_H

/* The first line of a proof; the number is the format's version. */
#define PROOF_HEADER "privaudit-proof 1"

#endif
