/* SPDX-License-Identifier: GPL-2.0 */
/* What the libFuzzer targets share (tests/fuzz, `make fuzz`, HACKING.md#fuzzing). */
#ifndef SIPKA_FUZZ_H
#define SIPKA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DATA as a C string of its own (malloc'd: ASan sees a read past its end). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Takes N bytes from *DATA into OUT if there are that many (else zeros). */
static inline void fuzz_take(const uint8_t **data, size_t *size, void *out, size_t n)
{
	memset(out, 0, n);
	if (*size < n)
		n = *size;
	memcpy(out, *data, n);
	*data += n;
	*size -= n;
}

#endif
