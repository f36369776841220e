// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "counter_table.h"

#define OFF(field) offsetof(struct sipka_counters, field)

const struct counter counters[NCOUNTERS] = {
	{ "ARMED", "armed", OFF(armed), "sipka_connections_armed_total", "counter",
	  "Connections sipka set TCP keepalive on.", NULL },
	{ "ACTIVE", "active", OFF(active), "sipka_connections_active", "gauge",
	  "Armed connections still open.", NULL },
	{ "DEAD_KA", "dead_keepalive", OFF(dead_keepalive), "sipka_dead_peers_total", "counter",
	  "Dead peers found: keepalive probes unanswered, or sent data unacknowledged (retransmission limit or TCP_USER_TIMEOUT).",
	  "keepalive" },
	{ "DEAD_RTX", "dead_retransmit", OFF(dead_retransmit), "sipka_dead_peers_total", NULL, NULL,
	  "retransmit" },
	{ "RESET", "reset", OFF(reset), "sipka_connections_reset_total", "counter",
	  "Armed connections reset by the peer.", NULL },
	{ "CLOSED", "closed", OFF(closed), "sipka_connections_closed_total", "counter",
	  "Closes of armed connections, whatever the reason.", NULL },
	{ "ERRORS", "errors", OFF(errors), "sipka_errors_total", "counter",
	  "Invalid rules, failed setsockopt calls, no memory for socket state.", NULL },
	{ "LOST", "events_lost", OFF(events_lost), "sipka_events_lost_total", "counter",
	  "Dead-peer events lost because the ring buffer was full.", NULL },
	{ "UNTRACKED", "untracked", OFF(untracked), "sipka_connections_untracked_total", "counter",
	  "Armed connections whose close cannot be counted (the table was full, or an existing connection on a kernel that cannot track it).",
	  NULL },
};

int stats_rows(const struct conf *rules, const struct port_counters *all, int na,
	       struct stats_row *rows)
{
	unsigned int r = 0;
	int n = 0, i = 0;

	while (r < rules->n || i < na) {
		memset(&rows[n], 0, sizeof(rows[n]));
		if (i < na && (r == rules->n || all[i].port < rules->rules[r].port)) {
			rows[n].port = all[i].port; /* its rule is gone */
			rows[n++].c = all[i++].c;
			continue;
		}
		rows[n].port = rules->rules[r].port;
		memcpy(rows[n].name, rules->rules[r].rule.name, SIPKA_NAME_LEN);
		if (i < na && all[i].port == rows[n].port)
			rows[n].c = all[i++].c;
		n++;
		r++;
	}
	return n;
}
