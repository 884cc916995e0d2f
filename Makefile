# bb — plain GNU make + pkg-config.
#   make            build every program into build/bin
#   make check      install what is missing, build, run every test (SAN=1: ASan+UBSan)
#   make demo       install what is missing, build, run the examples end to end
#   make bench      throughput and memory of each program against jq
#   make fuzz       build the libFuzzer targets (clang) and run each FUZZ_SECONDS
#   make install    PREFIX=/usr/local DESTDIR= (make uninstall removes it)
#   make deb        a Debian package, in build/deb/
#   make check-package  build the package, install it, try it, purge it (as root;
#                   make check runs it too)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/bb
VERSION := 0.1.0

BUILD   := build$(if $(SAN),-san)
PKGS    := libcrypto inih sqlite3 libpq libcurl libmicrohttpd
CC      ?= cc
override CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g \
	-DBB_VERSION='"$(VERSION)"' -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
# libpq is loaded when a PostgreSQL URL is first used (lib/pqload.h), not linked
override LDLIBS := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null) -lsimdjson -ljq -lstdc++ -lm \
	-pthread $(LDLIBS)
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

PROGS   := bb-validate bb-severity bb-dedupe bb-store bb-sqs-send bb-sqs-recv bb-ack bb-alert bb-serve bb-trend bb-status
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

# bb-serve's dashboard, compiled in (scripts/embed-assets)
ASSETS  := $(wildcard cmd/bb-serve/assets/*)
$(BUILD)/gen/assets.c: $(ASSETS) scripts/embed-assets
	@mkdir -p $(dir $@)
	scripts/embed-assets cmd/bb-serve/assets >$@

$(BUILD)/gen/assets.o: $(BUILD)/gen/assets.c cmd/bb-serve/serve.h
	$(CC) $(CFLAGS) -Icmd/bb-serve -c -o $@ $<

$(BUILD)/bin/bb-serve: $(BUILD)/gen/assets.o

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

# The package test (tests/package/) builds the .deb from the tree, installs
# it, tries it and purges it: as root only (dpkg -i), and not with SAN=1,
# whose instrumented build is not what a package ships (the package builds
# its own, optimised, whatever SAN says).
PACKAGE_TEST := $(if $(SAN),,$(if $(filter 0,$(shell id -u)),tests/package/package.bats))

check: deps
	@$(MAKE) --no-print-directory all $(UNIT) fuzz-build
	@BB_BIN=$(CURDIR)/$(BUILD)/bin BB_UNIT=$(CURDIR)/$(UNIT) BB_FUZZ=$(CURDIR)/$(FUZZ)/bin \
		BB_PACKAGE_TEST=$(PACKAGE_TEST) scripts/run-tests

demo: deps
	@$(MAKE) --no-print-directory all
	@PATH=$(CURDIR)/$(BUILD)/bin:$$PATH scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@PATH=$(CURDIR)/$(BUILD)/bin:$$PATH scripts/bench

# ---- fuzzing ----
# Every tests/fuzz/NAME.c is a libFuzzer target, built with clang into
# build-fuzz/bin/NAME against lib/ compiled apart with the fuzzer's
# instrumentation (SAN does not apply: these builds always have ASan and
# UBSan). A target that needs code from cmd/ names it in a line of its own
# "fuzz-links: cmd/PROG/FILE.c ..." (its opening comment is the place).
FUZZ         := build-fuzz
FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-DBB_VERSION='"$(VERSION)"' -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_NAMES   := $(basename $(notdir $(wildcard tests/fuzz/*.c)))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ)/bin/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ)/%.o) $(FUZZ)/lib/json.o $(FUZZ)/gen/sql.o
fuzz_links    = $(patsubst %.c,$(FUZZ)/%.o,$(shell sed -n 's/^.*fuzz-links:\([^*]*\).*/\1/p' tests/fuzz/$(1).c))

$(FUZZ)/%.o: %.c $(wildcard lib/*.h) $(wildcard cmd/*/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/lib/json.o: lib/json.cc lib/json.h
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) -std=c++17 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer $(SIMD) -Ilib \
		-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize=vptr -fno-sanitize-recover=all -c -o $@ $<

$(FUZZ)/gen/sql.c: $(SQL) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql lib/sql >$@

$(FUZZ)/gen/sql.o: $(FUZZ)/gen/sql.c lib/sql.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ)/libbb.a: $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

$(FUZZ)/bin/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $$(call fuzz_links,$$*) $(FUZZ)/libbb.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(call fuzz_links,$*) $(FUZZ)/libbb.a $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@BB_FUZZ=$(CURDIR)/$(FUZZ)/bin scripts/run-fuzz -t $(FUZZ_SECONDS) -w $(FUZZ)/corpus

# ---- installing and packaging ----
# The units name /usr/bin/PROG; installed for another BINDIR, they name it.
SCRIPTS  := scripts/bb-pipeline scripts/bb-autoscale scripts/bb-mail
UNITS    := $(wildcard systemd/*.service systemd/*.timer)
EXAMPLES := $(wildcard examples/*)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(DOCDIR)/examples
	install -m 755 $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}; done
	for u in $(UNITS); do \
		sed 's|/usr/bin/|$(BINDIR)/|g' $$u >$(DESTDIR)$(SYSTEMDDIR)/$${u##*/} && chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$${u##*/} || exit 1; \
	done
	install -m 644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS) $(notdir $(SCRIPTS)))
	for m in $(MANS); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(notdir $(UNITS)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# The package is built from a copy of the tracked files in build/deb/, so
# that dpkg-buildpackage leaves its files there, not beside the tree.
DEB_SRC := build/deb/bb-$(VERSION)

deb:
	rm -rf build/deb && mkdir -p $(DEB_SRC)
	git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error build/deb/*.changes

check-package: deps
	@bats tests/package/package.bats

clean:
	rm -rf build build-san $(FUZZ)

.SECONDARY:
.PHONY: all deps check demo bench fuzz fuzz-build install uninstall deb check-package clean
