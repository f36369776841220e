// SPDX-License-Identifier: GPL-2.0
/* A ring buffer record as `sipka events` prints it: a line and JSON. The
 * first 8 bytes are the boot-to-wall offset, the rest the record. */
#include "event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[400], *rec;
	__s64 offset;
	json_t *j;

	fuzz_take(&data, &size, &offset, sizeof(offset));
	rec = malloc(size ? size : 1); /* exactly the record's bytes */
	if (!rec)
		return 0;
	memcpy(rec, data, size);
	event_line(rec, size, offset, size & 1 ? "x.service" : NULL, line, sizeof(line));
	j = event_json(rec, size, offset, size & 1 ? "/docker-0123456789abcdef.scope" : NULL,
		       size & 1 ? "docker:0123456789ab" : NULL);
	if (j) {
		free(json_dumps(j, JSON_COMPACT));
		json_decref(j);
	}
	free(rec);
	return 0;
}
