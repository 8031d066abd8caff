/* record.h: building, packing and decoding privaudit.Record messages. */
#ifndef PA_RECORD_H
#define PA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <privaudit.pb-c.h>
#include "util.h"

typedef Privaudit__Record pa_record;

/* Decode the record part of an entry (after its 8-byte index).  NULL when
 * the bytes are not a Record with a body.  Free with pa_record_free. */
pa_record *pa_record_decode(const unsigned char *buf, size_t len);
void pa_record_free(pa_record *r);
/* Name of the body kind ("genesis", "checkpoint"...), never NULL. */
const char *pa_record_kind_name(const pa_record *r);

#endif
