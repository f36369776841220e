// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "execenv.h"

/* A value of the event as an environment variable's text (malloc'd). */
static char *value_text(const json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING: return strdup(json_string_value(v));
	case JSON_TRUE: return strdup("1");
	case JSON_FALSE: return strdup("0");
	case JSON_NULL: return strdup("");
	default:
		/* A number as -j prints it; an object or array as compact JSON. */
		s = json_dumps(v, SIPKA_JSON_FLAGS | JSON_ENCODE_ANY);
		return s;
	}
}

char **exec_env(const json_t *obj)
{
	const char *key;
	json_t *v;
	size_t n = 0, i;
	char **env;

	if (!json_is_object(obj))
		return NULL;
	env = calloc(json_object_size(obj) + 2, sizeof(*env));
	if (!env)
		return NULL;
	env[n] = strdup("PATH=" EXEC_PATH);
	if (!env[n++])
		goto fail;
	json_object_foreach((json_t *)obj, key, v)
	{
		char *text = value_text(v), *var;
		size_t klen = strlen(key);

		var = text ? malloc(sizeof("SIPKA_") + klen + 1 + strlen(text)) : NULL;
		if (!var) {
			free(text);
			goto fail;
		}
		strcpy(var, "SIPKA_");
		for (i = 0; i < klen; i++) {
			unsigned char c = key[i];

			var[6 + i] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' :
				     (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c :
											'_';
		}
		var[6 + klen] = '=';
		strcpy(var + 7 + klen, text);
		free(text);
		env[n++] = var;
	}
	return env;
fail:
	exec_env_free(env);
	return NULL;
}

void exec_env_free(char **env)
{
	char **p;

	if (!env)
		return;
	for (p = env; *p; p++)
		free(*p);
	free(env);
}

/* PATH (what stat says in ST) is root's and writable by root alone. */
static int owned_safely(const char *path, const struct stat *st, const char *what, char *why,
			size_t len)
{
	if (st->st_uid != 0) {
		snprintf(
			why, len,
			"%s %s is owned by uid %u, not root: an action runs as root, so only root may change it; fix: chown root %s",
			what, path, (unsigned int)st->st_uid, path);
		return -1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(
			why, len,
			"%s %s is writable by %s: an action runs as root, so only root may change it; fix: chmod go-w %s",
			what, path, st->st_mode & S_IWOTH ? "others" : "its group", path);
		return -1;
	}
	return 0;
}

/* Every directory from DIR (resolved, absolute) up to /. */
static int dirs_safe(const char *dir, char *why, size_t len)
{
	char buf[PATH_MAX], *p;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (;;) {
		if (stat(buf, &st)) {
			snprintf(why, len, "cannot check directory %s: %s", buf, strerror(errno));
			return -1;
		}
		if (owned_safely(buf, &st, "directory", why, len))
			return -1;
		if (!strcmp(buf, "/"))
			return 0;
		p = strrchr(buf, '/');
		if (p == buf)
			p[1] = '\0'; /* "/usr": then "/" */
		else
			*p = '\0';
	}
}

int exec_trusted(const char *prog, char *real, char *why, size_t len)
{
	char copy[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (!*prog) {
		snprintf(why, len, "no program given; give the path of an executable file");
		return -1;
	}
	if (!realpath(prog, real)) {
		snprintf(why, len, "cannot run %s: %s; give the path of an executable file", prog,
			 strerror(errno));
		return -1;
	}
	if (stat(real, &st)) {
		snprintf(why, len, "cannot run %s: %s", real, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
		snprintf(why, len, "%s is %s; give an executable file (chmod 0755 %s)", real,
			 S_ISREG(st.st_mode) ? "not executable" : "not a regular file", real);
		return -1;
	}
	if (owned_safely(real, &st, "program", why, len))
		return -1;
	snprintf(dir, sizeof(dir), "%s", real);
	if (dirs_safe(dirname(dir), why, len))
		return -1;
	/* A link: whoever may write its directory may point it elsewhere. */
	snprintf(copy, sizeof(copy), "%s", prog);
	if (!realpath(dirname(copy), dir)) {
		snprintf(why, len, "cannot check the directory of %s: %s", prog, strerror(errno));
		return -1;
	}
	return dirs_safe(dir, why, len);
}
