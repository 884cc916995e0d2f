/* exitcode.h: the one exit-status table of the whole toolkit (sysexits). */
#ifndef BB_EXITCODE_H
#define BB_EXITCODE_H

enum {
	BB_EX_OK = 0,
	BB_EX_USAGE = 64,       /* bad command line */
	BB_EX_DATAERR = 65,     /* bad input in --strict mode */
	BB_EX_UNAVAILABLE = 69, /* a service unavailable after retries */
	BB_EX_SOFTWARE = 70,    /* internal error */
	BB_EX_IOERR = 74,       /* read or write failed */
	BB_EX_TEMPFAIL = 75,    /* temporary failure: systemd restarts it */
	BB_EX_CONFIG = 78,      /* configuration error */
};

#endif
