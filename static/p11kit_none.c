// SPDX-License-Identifier: GPL-2.0
/*
 * make static: the functions of p11-kit that GnuTLS calls, each failing.
 *
 * libmicrohttpd (stats --listen) is linked with GnuTLS for HTTPS. sipka never asks it for
 * TLS (no MHD_USE_TLS), so GnuTLS's PKCS#11 code, the one caller of p11-kit, never runs.
 * Debian ships no static p11-kit (libp11-kit-dev has the shared library only), so the static
 * binary links these instead of it. Reaching one is a bug: it says which, and aborts.
 * A GnuTLS that calls a function missing here fails the static link by its name: add it.
 */
#include <stdio.h>
#include <stdlib.h>

static void none(const char *name)
{
	fprintf(stderr, "sipka: %s: PKCS#11 (p11-kit) is not in this static build\n", name);
	abort();
}

#define NONE(name)           \
	void name(void);     \
	void name(void)      \
	{                    \
		none(#name); \
	}

NONE(p11_kit_config_option)
NONE(p11_kit_message)
NONE(p11_kit_module_finalize)
NONE(p11_kit_module_get_flags)
NONE(p11_kit_module_get_name)
NONE(p11_kit_module_load)
NONE(p11_kit_module_release)
NONE(p11_kit_modules_load)
NONE(p11_kit_pin_file_callback)
NONE(p11_kit_pin_get_length)
NONE(p11_kit_pin_get_value)
NONE(p11_kit_pin_new_for_string)
NONE(p11_kit_pin_register_callback)
NONE(p11_kit_pin_request)
NONE(p11_kit_pin_unref)
NONE(p11_kit_pin_unregister_callback)
NONE(p11_kit_space_strdup)
NONE(p11_kit_space_strlen)
NONE(p11_kit_strerror)
NONE(p11_kit_uri_format)
NONE(p11_kit_uri_free)
NONE(p11_kit_uri_get_attribute)
NONE(p11_kit_uri_get_attributes)
NONE(p11_kit_uri_get_module_info)
NONE(p11_kit_uri_get_pin_source)
NONE(p11_kit_uri_get_pin_value)
NONE(p11_kit_uri_get_token_info)
NONE(p11_kit_uri_match_module_info)
NONE(p11_kit_uri_match_token_info)
NONE(p11_kit_uri_new)
NONE(p11_kit_uri_parse)
NONE(p11_kit_uri_set_attribute)
