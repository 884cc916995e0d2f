/* fuzz.h: what the libFuzzer targets of tests/fuzz/ share.
 *
 * A target is tests/fuzz/NAME.c with one LLVMFuzzerTestOneInput, its seeds
 * in tests/fuzz/corpus/NAME/ (small inputs made from the fixtures and
 * examples), and the input of every bug it found, once fixed, in
 * tests/fuzz/regressions/NAME/. The Makefile finds it by its file name and
 * links it with lib/ (built apart in build-fuzz/, instrumented), plus what
 * a line of the target's opening comment names:
 *     fuzz-links: cmd/bb-severity/costs.c
 * make fuzz runs each target FUZZ_SECONDS on a copy of its seeds; make check
 * replays its regressions and fuzzes it 10 s (scripts/run-fuzz). */
#ifndef BB_FUZZ_H
#define BB_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop with a message: libFuzzer reports the abort and keeps the input. */
#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* The input as a heap block of exactly its size, so that ASan sees a read
 * one byte past the end (data itself may be followed by anything). */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	FUZZ_ASSERT(p);
	memcpy(p, data, size);
	return p;
}

/* The input as a NUL-terminated string, cut at its first NUL byte. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);
	FUZZ_ASSERT(p);
	memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/* A path whose file holds exactly the input, for code that opens files by
 * name: an in-memory file made once and rewritten for each input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		FUZZ_ASSERT(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
	return path;
}

#endif
