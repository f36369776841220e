// SPDX-License-Identifier: GPL-2.0
/* Names in the pin dir, which anyone with root may add: pin_classify, and a
 * map's name from the kernel against sipka's (pin_map_named). */
#include "fuzz.h"
#include "pinspec.h"
#include "sipka.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size);
	enum entry_kind k;

	if (!name)
		return 0;
	k = pin_classify(name);
	if (k == ENTRY_OURS && !pin_spec(name) && strcmp(name, "sockets"))
		abort();
	if (k == ENTRY_LINK && strncmp(name, SIPKA_PIN_LINK_PREFIX, 5))
		abort();
	pin_map_named(name, SIPKA_PIN_CONFIG);
	free(name);
	return 0;
}
