# bb — plain GNU make + pkg-config.
#   make            build every program into build/bin
#   make check      install what is missing, build, run every test (SAN=1: ASan+UBSan)
#   make demo       install what is missing, build, run the examples end to end
#   make bench      throughput and memory of each program against jq
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
VERSION := 0.1.0

BUILD   := build$(if $(SAN),-san)
PKGS    := libcrypto inih sqlite3 libpq libcurl
CC      ?= cc
override CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-DBB_VERSION='"$(VERSION)"' -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
override LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsimdjson -ljq -lstdc++ -lm -pthread $(LDLIBS)
# lib/json.cc, the only C++: simdjson's On-Demand code is compiled for the
# processor named here (SSE4.2 and CLMUL: every x86-64 server since 2010).
CXX     ?= c++
SIMD    ?= $(if $(filter x86_64,$(shell uname -m)),-msse4.2 -mpclmul)
override CXXFLAGS := -std=c++17 -Wall -Wextra -Werror -O2 -g $(SIMD) -Ilib $(CXXFLAGS)
ifdef SAN
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override CXXFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

PROGS   := bb-validate bb-severity bb-dedupe bb-store bb-sqs-send bb-sqs-recv bb-ack bb-alert
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/lib/json.o $(BUILD)/gen/sql.o
SQL     := $(wildcard lib/sql/*/*.sql)
BINS    := $(PROGS:%=$(BUILD)/bin/%)
UNIT    := $(BUILD)/tests/unit-tests
MANS    := $(wildcard man/*.[157])

all: $(BINS)

$(BUILD)/%.o: %.c $(wildcard lib/*.h) $(wildcard cmd/*/*.h) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lib/json.o: lib/json.cc lib/json.h
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/gen/sql.c: $(SQL) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql lib/sql >$@

$(BUILD)/gen/sql.o: $(BUILD)/gen/sql.c lib/sql.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libbb.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

.SECONDEXPANSION:
$(BUILD)/bin/%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard cmd/$$*/*.c))) $(BUILD)/libbb.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/*.c)) $(BUILD)/libbb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@scripts/install-deps -q

check: deps
	@$(MAKE) --no-print-directory all $(UNIT)
	@BB_BIN=$(CURDIR)/$(BUILD)/bin BB_UNIT=$(CURDIR)/$(UNIT) scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory all
	@PATH=$(CURDIR)/$(BUILD)/bin:$$PATH scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@PATH=$(CURDIR)/$(BUILD)/bin:$$PATH scripts/bench

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}; done

clean:
	rm -rf build build-san

.SECONDARY:
.PHONY: all deps check demo bench install clean
