/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal unit test harness: TEST(name) { CHECK(...); } */
#ifndef SIPKA_UNIT_H
#define SIPKA_UNIT_H

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *what);
void unit_check_has(const char *file, int line, const char *s, const char *sub);

#define TEST(name)                                                     \
	static void name(void);                                        \
	__attribute__((constructor)) static void register_##name(void) \
	{                                                              \
		static struct unit_test t = { #name, name, NULL };     \
		unit_register(&t);                                     \
	}                                                              \
	static void name(void)

#define CHECK(cond)                                           \
	do {                                                  \
		if (!(cond))                                  \
			unit_fail(__FILE__, __LINE__, #cond); \
	} while (0)
/* S contains SUB. */
#define CHECK_HAS(s, sub) unit_check_has(__FILE__, __LINE__, (s), (sub))

#endif
