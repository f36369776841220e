/* SPDX-License-Identifier: GPL-2.0 */
/* Exit codes: each means one thing in every command. The table is
 * man/sipka.8's EXIT STATUS; a new code goes there too. */
#ifndef SIPKA_EXITCODE_H
#define SIPKA_EXITCODE_H

#define EXIT_OK		  0 /* done, or all checks ok */
#define EXIT_FAIL	  1 /* failed, said why; nothing changed (check: a check failed) */
#define EXIT_USAGE	  2 /* a usage error: bad option, argument or value */
#define EXIT_NOT_ATTACHED 3 /* status: not loaded, or attached to no live cgroup */
#define EXIT_PARTIAL	  4 /* done in part: the message says what not (attach, load, config) */
#define EXIT_WARN	  5 /* check: no check failed, some warned */

#endif
