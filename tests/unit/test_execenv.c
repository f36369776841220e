// SPDX-License-Identifier: GPL-2.0
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execenv.h"
#include "unit.h"

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* NAME=WANT is in ENV. */
static int env_is(char **env, const char *name, const char *want)
{
	const char *v = env_get(env, name);

	return v && !strcmp(v, want);
}

TEST(exec_env_has_path_and_every_key_of_the_event)
{
	json_t *e = json_pack("{s:s, s:i, s:s, s:f, s:b, s:n, s:{s:i}, s:s}", "reason", "keepalive",
			      "remote_port", 40000, "remote_addr", "2001:db8::2", "lifetime_s", 4.2,
			      "up", 1, "none", "nested", "a", 1, "Odd-key.2", "$(x) `y`; 'z'");
	char **env = exec_env(e), **p;
	int n = 0;

	CHECK(env != NULL);
	if (!env)
		return;
	for (p = env; *p; p++)
		n++;
	CHECK(n == 9); /* PATH and 8 keys */
	CHECK(!strcmp(env[0], "PATH=" EXEC_PATH));
	CHECK(env_is(env, "SIPKA_REASON", "keepalive"));
	CHECK(env_is(env, "SIPKA_REMOTE_PORT", "40000"));
	CHECK(env_is(env, "SIPKA_REMOTE_ADDR", "2001:db8::2"));
	CHECK(env_is(env, "SIPKA_LIFETIME_S", "4.2"));
	CHECK(env_is(env, "SIPKA_UP", "1"));
	CHECK(env_is(env, "SIPKA_NONE", ""));
	CHECK(env_is(env, "SIPKA_NESTED", "{\"a\":1}"));
	/* Shell syntax in a value is a value: it is never read by a shell. */
	CHECK(env_is(env, "SIPKA_ODD_KEY_2", "$(x) `y`; 'z'"));
	exec_env_free(env);
	json_decref(e);
	CHECK(exec_env(NULL) == NULL);
	e = json_array();
	CHECK(exec_env(e) == NULL);
	json_decref(e);
}

TEST(exec_trusted_takes_roots_files_and_refuses_the_rest)
{
	char real[PATH_MAX], why[PATH_MAX + 256], dir[] = "/tmp/sipka-unit-XXXXXX", path[64];

	/* /bin/sh is root's, in root's directories, wherever the tests run. */
	CHECK(!exec_trusted("/bin/sh", real, why, sizeof(why)));
	CHECK(real[0] == '/' && access(real, X_OK) == 0);
	CHECK(exec_trusted("", real, why, sizeof(why)) == -1);
	CHECK_HAS(why, "no program given");
	CHECK(exec_trusted("/nonexistent/prog", real, why, sizeof(why)) == -1);
	CHECK_HAS(why, "cannot run /nonexistent/prog: No such file or directory");
	CHECK(exec_trusted("/etc", real, why, sizeof(why)) == -1);
	CHECK_HAS(why, "/etc is not a regular file");
	/* /tmp is everyone's: nothing in it is trusted, whoever runs this. */
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/p", dir);
	fclose(fopen(path, "w"));
	chmod(path, 0755);
	CHECK(exec_trusted(path, real, why, sizeof(why)) == -1);
	CHECK(strstr(why, "fix: chown root") || strstr(why, "fix: chmod go-w /tmp"));
	unlink(path);
	rmdir(dir);
}
