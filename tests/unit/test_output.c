// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "output.h"
#include "unit.h"

/* What FN(ARG) writes on stdout (free() it), its stderr in ERR (free() it),
 * its return in RC. TO, when given, is the file stdout goes to instead
 * (then nothing is read back). */
static char *captured(int (*fn)(void *), void *arg, int *rc, char **err, const char *to)
{
	FILE *out = tmpfile(), *errf = tmpfile();
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int fd = to ? open(to, O_WRONLY) : fileno(out);
	char *text = NULL, *etext = NULL;
	size_t len = 0;

	CHECK(out && errf && saved_out >= 0 && saved_err >= 0 && fd >= 0);
	if (!out || !errf || saved_out < 0 || saved_err < 0 || fd < 0)
		exit(1);
	fflush(stdout);
	fflush(stderr);
	dup2(fd, STDOUT_FILENO);
	dup2(fileno(errf), STDERR_FILENO);
	*rc = fn(arg);
	fflush(stdout);
	fflush(stderr);
	__fpurge(stdout); /* what a failed write left in the buffer */
	clearerr(stdout);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	if (to)
		close(fd);
	rewind(out);
	rewind(errf);
	if (getdelim(&text, &len, '\0', out) < 0) { /* empty */
		free(text);
		text = strdup("");
	}
	len = 0;
	if (getdelim(&etext, &len, '\0', errf) < 0) {
		free(etext);
		etext = strdup("");
	}
	fclose(out);
	fclose(errf);
	*err = etext;
	return text;
}

/* Elements like a connection's: strings, integers, a real, null, an object. */
static json_t *element(int i)
{
	return json_pack("{s:s, s:i, s:f, s:o, s:{s:b, s:i}, s:s}", "remote_addr", "192.0.2.1",
			 "remote_port", 40000 + i, "rtt", 1.25 + i, "cgroup", json_null(),
			 "keepalive", "on", 1, "time", 60, "pbx", "kamailio.service \"x\"");
}

struct run {
	int n;	  /* elements */
	int fail; /* the element that is out of memory (NULL); -1: none */
	int said; /* the element before which another error is said; -1: none */
	int stopped_at;
};

static int stream(void *arg)
{
	struct run *r = arg;
	struct out_array a;
	int i;

	r->stopped_at = -1;
	out_array_begin(&a);
	for (i = 0; i < r->n; i++) {
		if (i == r->said)
			p_err("a record could not be read");
		if (out_array_add(&a, i == r->fail ? NULL : element(i))) {
			r->stopped_at = i;
			break;
		}
	}
	return out_array_end(&a);
}

static int stream_then_error(void *arg)
{
	int rc = stream(arg);

	p_err("later");
	return rc;
}

static int whole(void *arg)
{
	const struct run *r = arg;
	json_t *j = json_array();
	int i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(j, element(i));
	return print_json(j);
}

TEST(out_array_is_byte_for_byte_the_whole_array)
{
	int ns[] = { 0, 1, 2, 500 }, rc, rc2;
	char *a, *b, *e, *e2;
	size_t k;

	for (k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct run r = { .n = ns[k], .fail = -1, .said = -1 };

		a = captured(stream, &r, &rc, &e, NULL);
		b = captured(whole, &r, &rc2, &e2, NULL);
		CHECK(rc == EXIT_OK && rc2 == EXIT_OK && r.stopped_at == -1);
		CHECK(!strcmp(a, b));
		CHECK(!*e && !*e2);
		if (!ns[k])
			CHECK(!strcmp(a, "[]\n"));
		free(a);
		free(b);
		free(e);
		free(e2);
	}
}

/* The document stdout holds: an array of N elements, the last LAST_ERROR's
 * {"error": ...} when given. */
static void check_document(const char *text, size_t n, const char *last_error)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr), *last;

	CHECK(json_is_array(j) && json_array_size(j) == n);
	last = json_array_get(j, n - 1);
	if (last_error)
		CHECK(json_is_string(json_object_get(last, "error")) &&
		      !strcmp(json_string_value(json_object_get(last, "error")), last_error));
	else if (n)
		CHECK(json_object_get(last, "remote_addr"));
	json_decref(j);
}

TEST(out_array_out_of_memory_ends_it_as_one_document)
{
	int fails[] = { 0, 1, 7 }, rc;
	char *text, *err;
	size_t k;

	log_set_json(true);
	for (k = 0; k < sizeof(fails) / sizeof(fails[0]); k++) {
		struct run r = { .n = 10, .fail = fails[k], .said = -1 };

		text = captured(stream, &r, &rc, &err, NULL);
		CHECK(rc == EXIT_FAIL && r.stopped_at == fails[k]);
		check_document(text, fails[k] + 1, "out of memory");
		CHECK_HAS(err, "Error: out of memory");
		free(text);
		free(err);
	}
	log_set_json(false);
}

TEST(out_array_an_error_said_meanwhile_is_an_element)
{
	struct run r = { .n = 4, .fail = -1, .said = 2 };
	char *text, *err;
	int rc;

	log_set_json(true);
	text = captured(stream, &r, &rc, &err, NULL);
	log_set_json(false);
	check_document(text, 5, NULL);
	CHECK_HAS(text, ",{\"error\":\"a record could not be read\"}");
	CHECK_HAS(err, "Error: a record could not be read");
	free(text);
	free(err);
	/* Once closed, an error is a document of its own again. */
	log_set_json(true);
	text = captured(stream_then_error, &(struct run){ .n = 2, .fail = -1, .said = -1 }, &rc,
			&err, NULL);
	log_set_json(false);
	CHECK_HAS(text, "}]\n{\"error\":\"later\"}\n");
	free(text);
	free(err);
}

TEST(out_array_a_failed_write_is_said)
{
	struct run r = { .n = 2000, .fail = -1, .said = -1 };
	char *text, *err;
	int rc;

	if (access("/dev/full", W_OK))
		return;
	text = captured(stream, &r, &rc, &err, "/dev/full");
	CHECK(rc == EXIT_FAIL);
	CHECK(r.stopped_at >= 0 && r.stopped_at < 2000); /* it stopped writing */
	CHECK_HAS(err, "Error: cannot write the output: No space left on device");
	free(text);
	free(err);
	/* A short array fails only at the end, when stdout is flushed. */
	r.n = 2;
	text = captured(stream, &r, &rc, &err, "/dev/full");
	CHECK(rc == EXIT_FAIL && r.stopped_at == -1);
	CHECK_HAS(err, "Error: cannot write the output: No space left on device");
	free(text);
	free(err);
}
