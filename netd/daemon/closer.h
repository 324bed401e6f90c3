/*
 * Closing a file descriptor off the event loop. Closing a packet socket
 * waits for an RCU grace period (~15 ms here, per socket): a playground's
 * DHCP sockets would hold every request behind them. A thread closes them
 * instead, in the order given.
 */
#ifndef PLAYNET_CLOSER_H
#define PLAYNET_CLOSER_H

/* Starts the thread; without it closer_close closes at once. */
int closer_start(void);
/* Hands fd over; it must be out of every epoll set already. */
void closer_close(int fd);
/* Closes what is left and ends the thread. */
void closer_stop(void);

#endif
