// SPDX-License-Identifier: GPL-2.0
#include "cli.h"
#include "pins.h"

int pins_open(struct pins *p)
{
	struct pindir pd = PINDIR_INIT(cli_opts.pin_dir);
	int ret = state_begin_read(&pd, &p->s);

	pindir_close(&pd);
	if (ret)
		return -1;
	p->prog_fd = p->s.prog_fd;
	p->config_fd = p->s.config_fd;
	p->stats_fd = p->s.stats_fd;
	p->slots_fd = p->s.slots_fd;
	p->events_fd = p->s.events_fd;
	return 0;
}

void pins_close(struct pins *p)
{
	state_close(&p->s);
	p->prog_fd = p->config_fd = p->stats_fd = p->slots_fd = p->events_fd = -1;
}
