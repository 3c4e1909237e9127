# Baton — GNU Makefile.
#
#   make            libbaton.a and the baton binary
#   make compile    everything that is compiled (binary, demo, tests, tools)
#   make check      runs every test (plain and under ASan+UBSan, some under
#                   valgrind); ends with "N passed, N failed, N skipped" and
#                   fails when anything failed; 'make deps' installs packages
#   make demo       the main job on an embedded default, every step shown
#                   (WEB=1: then both schools' consoles, until Ctrl-C)
#   make test       the tests of one build (BUILD=, ASAN=1), with that summary
#   make asan       the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each
#   make bench      one table of speed and memory (JSON=1, QUICK=1, STORE_N=N, EDFI_N=N)
#   make vectors    regenerate tests/vectors/ from fixed seeds
#   make deps       install the Debian packages Baton needs (root), or print
#                   the apt-get line to run
#   make format     clang-format every source file
#
# Knobs: CC, BUILD, V=1 (show commands), WERROR=1 (warnings are errors),
# TEST_TIMEOUT=S (seconds a test program may run before it counts as hung).

CC        ?= cc
BUILD     ?= build
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
FUZZ_SECONDS ?= 30
VERSION   := 0.1.0

# The one list of Debian packages the build, tests and fuzzing use.
DEB_PACKAGES := libsodium-dev libnng-dev libmsgpack-dev liblmdb-dev \
                libjansson-dev libcmocka-dev libqrencode-dev pkg-config clang \
                libclang-rt-14-dev strace valgrind mandoc \
                libmicrohttpd-dev libgnutls28-dev curl jq chromium \
                libcurl4-openssl-dev exim4-daemon-light libxml2-dev
# The browser tests' npm packages come from package-lock.json (npm ci); Node.js
# and npm are the machine's, or Debian's nodejs and npm when it has none.
NODE_PACKAGES := nodejs npm
# Only 'make bench' needs these: the S/MIME baseline is measured with OpenSSL.
# (Its web part's load comes from tests/tools/webpeer; curl and jq are above.)
BENCH_PACKAGES := libssl-dev bc
PKG_MODULES  := libsodium msgpack lmdb jansson cmocka libqrencode libmicrohttpd gnutls libcurl libxml-2.0

WARN := -Wall -Wextra -Wformat=2 -Wformat-security -Wstrict-prototypes \
        -Wmissing-prototypes -Wmissing-declarations -Wshadow -Wvla \
        -Wpointer-arith -Wwrite-strings -Wundef -Wimplicit-fallthrough \
        -Wold-style-definition -Wnested-externs -Wcast-align
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN  := -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
OPT     ?= -O2 -g -D_FORTIFY_SOURCE=2
SAN     :=
ifeq ($(ASAN),1)
OPT     := -O1 -g -fno-omit-frame-pointer
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_MODULES) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs libsodium msgpack lmdb jansson libqrencode libmicrohttpd gnutls libcurl libxml-2.0 2>/dev/null)
# Layers, lowest first: proto/ and keys/ (libbaton, installed), store/ (LMDB),
# node/ (what a node does), cli/ (the baton command). A file sees the public
# headers, internal/ (what libbaton shares, bti_ prefix) and the headers of
# its own directory and the layers below it that it may use; never proto/'s
# private proto_impl.h from outside proto/. tests/cli/layering.sh checks it.
CPPFLAGS += -Iinclude -Iinternal -D_GNU_SOURCE
INC_proto := -Iproto
INC_keys  := -Ikeys
INC_store := -Istore
INC_node  := -Istore -Inode
INC_cli   := -Istore -Inode -Icli
INC_demo  := -Icli
INC_tests := -Iproto -Ikeys -Istore -Inode -Icli -I$(BUILD)
CFLAGS   += -std=c11 $(OPT) $(WARN) $(HARDEN) $(SAN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(HARDEN_LD) $(SAN)
# nng 1.5 ships no pkg-config file: link it by name.
LIBS     := $(PKG_LIBS) -lnng -pthread

ifneq ($(V),1)
Q  := @
QCC = @echo "  CC      $@";
QLD = @echo "  LD      $@";
QAR = @echo "  AR      $@";
endif

LIB_SRC  := $(wildcard proto/*.c) $(wildcard keys/*.c)
NODE_SRC := $(wildcard store/*.c) $(wildcard node/*.c) $(wildcard cli/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
NODE_OBJ := $(NODE_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libbaton.a
BIN      := $(BUILD)/baton
DEMO     := $(BUILD)/baton-demo

TEST_NAMES := test_codec test_keys test_objects test_packet test_mutation test_vectors test_store test_consent \
              test_record test_record_file test_serve test_students test_invite \
              test_disclosure_copy test_erase test_edfi_xml test_edfi_read test_edfi_scan
CLI_TESTS  := $(filter-out tests/cli/lib.sh,$(sort $(wildcard tests/cli/*.sh)))
NODE_LIB   := $(BUILD)/libbatonnode.a
TEST_SUPPORT := $(BUILD)/tests/testutil.o
TEST_BINS := $(TEST_NAMES:%=$(BUILD)/tests/%)
TEST_LIBS := $(shell pkg-config --libs cmocka jansson 2>/dev/null)

FUZZ_NAMES := fuzz_msgpack fuzz_consent fuzz_revocation fuzz_receipt fuzz_card fuzz_packet \
              fuzz_body fuzz_keyfile fuzz_record fuzz_rotation fuzz_chunk \
              fuzz_audit_head fuzz_batch fuzz_offer fuzz_disclosures fuzz_statement fuzz_edfi_xml \
              fuzz_directory fuzz_edfi_scan
FUZZ_BUILD := build/fuzz
TEST_TIMEOUT ?= 1800

# Programs the shell tests drive: a misbehaving network peer, a peer that
# sends chunked packets with forged or real admissions, an outsider's tool
# that rewrites the audit log, the LD_PRELOAD fault injector, whole and
# without its allocation hooks, and a store's rows as text and back.
TOOLS_DIR := $(BUILD)/tests/tools
TOOLS     := $(TOOLS_DIR)/netpeer $(TOOLS_DIR)/spoolpeer $(TOOLS_DIR)/audit_rewrite \
             $(TOOLS_DIR)/inject.so $(TOOLS_DIR)/inject-lmdb.so $(TOOLS_DIR)/store_rows \
             $(TOOLS_DIR)/store_schema $(TOOLS_DIR)/webpeer $(TOOLS_DIR)/famsign $(TOOLS_DIR)/dirsign \
             $(TOOLS_DIR)/reseal $(TOOLS_DIR)/receipt_terms $(TOOLS_DIR)/dirdump \
             $(TOOLS_DIR)/edfi_xml_dump $(TOOLS_DIR)/gen_edfi $(TOOLS_DIR)/httpfile

.SECONDARY:

.PHONY: all compile check test asan demo fuzz vectors deps deps-check format install uninstall clean bench federation

all: $(LIB) $(BIN) baton

# Everything that is compiled, without running anything: CI builds it with
# each compiler (make compile CC=clang BUILD=build/clang WERROR=1).
compile: $(LIB) $(BIN) $(DEMO) $(TEST_BINS) $(TOOLS)

baton: $(BIN)
	$(Q)ln -sf $(BIN) baton

$(LIB): $(LIB_OBJ)
	$(QAR)$(AR) rcs $@ $^

$(BIN): $(NODE_OBJ) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $(NODE_OBJ) $(LIB) $(LIBS)

# The version: the release, and where in history it was built from.
GIT_DESC := $(shell git describe --always --dirty 2>/dev/null)
BATON_VERSION := $(VERSION)$(if $(GIT_DESC),+$(GIT_DESC))
$(BUILD)/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define BATON_VERSION "$(BATON_VERSION)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/proto/init.o: $(BUILD)/version.h
$(BUILD)/proto/init.o: CPPFLAGS += -I$(BUILD)

# The console's pages, embedded in the binary as byte arrays.
WEB_ASSETS := $(sort $(wildcard web/*.html web/*.js web/*.css web/*.svg))
# The family's pages, served under /family/: web/family/ and the page's
# libsodium from node_modules (package-lock.json), so a build needs 'make deps'.
FAMILY_FILES := $(sort $(wildcard web/family/*.* web/family/*/*.*))
SODIUM_JS := node_modules/libsodium-sumo/dist/modules-sumo/libsodium-sumo.js \
             node_modules/libsodium-wrappers-sumo/dist/modules-sumo/libsodium-wrappers.js
FAMILY_EMBED := $(foreach f,$(FAMILY_FILES),$(f:web/%=/%)=$(f)) \
                /family/libsodium-sumo.js=$(word 1,$(SODIUM_JS)) \
                /family/libsodium-wrappers-sumo.js=$(word 2,$(SODIUM_JS))
$(SODIUM_JS):
	@echo "$@ is missing: run 'make deps' (it installs the npm packages of package-lock.json)" >&2
	@exit 1
$(BUILD)/node/web_assets.h: $(WEB_ASSETS) $(FAMILY_FILES) $(SODIUM_JS) web/embed.sh
	@mkdir -p $(dir $@)
	$(Q)sh web/embed.sh $(WEB_ASSETS) $(FAMILY_EMBED) >$@.tmp && mv $@.tmp $@
$(BUILD)/node/web.o: $(BUILD)/node/web_assets.h
$(BUILD)/node/web.o: CPPFLAGS += -I$(BUILD)/node
# The shipped Ed-Fi descriptor map, embedded in the binary as one C string.
$(BUILD)/node/edfi_descriptors.h: node/edfi_descriptors.map
	@mkdir -p $(dir $@)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@.tmp && mv $@.tmp $@
$(BUILD)/node/edfi_map.o: $(BUILD)/node/edfi_descriptors.h
$(BUILD)/node/edfi_map.o: CPPFLAGS += -I$(BUILD)/node
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QCC)$(CC) $(CPPFLAGS) $(INC_$(firstword $(subst /, ,$<))) $(CFLAGS) -c -o $@ $<

# The demo is a program of its own that runs the baton binary it is given.
$(DEMO): $(BUILD)/demo/demo.o
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^

# The node's modules other than main, for tests that exercise the store. Made afresh
# each time, so that a module removed from the tree does not linger in it.
$(NODE_LIB): $(filter-out $(BUILD)/cli/main.o,$(NODE_OBJ))
	$(Q)rm -f $@
	$(QAR)$(AR) rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT) $(NODE_LIB) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT) $(NODE_LIB) $(LIB) $(TEST_LIBS) $(LIBS)

$(BUILD)/tests/gen_vectors: $(BUILD)/tests/gen_vectors.o $(TEST_SUPPORT) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

$(TOOLS_DIR)/netpeer: tests/tools/netpeer.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# A made-up district in the Ed-Fi API's JSON (the Ed-Fi import's tests and benchmark).
$(TOOLS_DIR)/gen_edfi: tests/tools/gen_edfi.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Hostile and heavy HTTP clients of the console (and the web benchmark's load).
$(TOOLS_DIR)/webpeer: tests/tools/webpeer.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -pthread

# A family's device signing in with a guardian key file (tests/cli/family_api.sh).
$(TOOLS_DIR)/famsign: tests/tools/famsign.c $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# An authority's signed directory from a word's key, hostile ones too (tests/cli/directory.sh).
$(TOOLS_DIR)/dirsign: tests/tools/dirsign.c $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# A web server on loopback that answers files and hostile answers (tests/cli/directory_fetch.sh).
$(TOOLS_DIR)/httpfile: tests/tools/httpfile.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# A sender that changes a packet's statements of disagreement (tests/cli/dissent.sh).
$(TOOLS_DIR)/reseal: tests/tools/reseal.c $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# A receiver that signs a receipt naming other redisclosure terms (tests/cli/terms.sh).
$(TOOLS_DIR)/receipt_terms: tests/tools/receipt_terms.c $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# A directory's contents, read by the library (tests/cli/authority.sh).
$(TOOLS_DIR)/dirdump: tests/tools/dirdump.c $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(TOOLS_DIR)/spoolpeer: tests/tools/spoolpeer.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lnng -lsodium -pthread

# Uses nothing of Baton's: it stands for someone with the disk but not the key.
$(TOOLS_DIR)/audit_rewrite: tests/tools/audit_rewrite.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -llmdb -lsodium -lmsgpackc

# LMDB alone: the rows of a store written by another build of baton.
# Ed-Fi interchange XML as the API's JSON, the way the node reads it.
$(TOOLS_DIR)/edfi_xml_dump: tests/tools/edfi_xml_dump.c $(NODE_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CPPFLAGS) -Inode $(CFLAGS) $(LDFLAGS) -o $@ $< $(NODE_LIB) $(LIB) $(LIBS)

$(TOOLS_DIR)/store_rows: tests/tools/store_rows.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -llmdb

# Stands for an older baton: turns a store back into schema 3 or 2.
$(TOOLS_DIR)/store_schema: tests/tools/store_schema.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -llmdb

# The injector is never sanitized: in an ASan build it is preloaded ahead of
# the sanitizer's runtime, and hands the calls it does not fail on to it.
INJECT_CFLAGS = -std=c11 -O1 -g -fPIC -shared $(WARN) $(PKG_CFLAGS)
$(TOOLS_DIR)/inject.so: tests/tools/inject.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(INJECT_CFLAGS) -o $@ $< -ldl
$(TOOLS_DIR)/inject-lmdb.so: tests/tools/inject.c
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(INJECT_CFLAGS) -DBATON_FAULT_NO_ALLOC -o $@ $< -ldl

# Tests: the plain build, then the same tests under ASan+UBSan; one summary,
# which counts a run that recorded nothing (its build failed) as a failure.
check: deps-check
	$(Q)rm -f build/results.txt build/results.txt.failed; \
	$(MAKE) --no-print-directory test BUILD=build; \
	$(MAKE) --no-print-directory test BUILD=build/asan ASAN=1; \
	$(MAKE) --no-print-directory test-valgrind; \
	tests/summary.sh build/results.txt build build/asan valgrind

# The scenarios that run the most of the code, again under valgrind memcheck:
# a memory error or a definite leak makes a command exit 99, and its check fails.
VALGRIND_TESTS := tests/cli/transfer.sh tests/cli/request.sh
test-valgrind: $(BIN)
	$(Q)mkdir -p build && BATON=$(abspath tests/valgrind/baton) BATON_REAL=$(abspath $(BIN)) \
	  BATON_VALGRIND_LOG=$(abspath build)/valgrind.log BATON_SRC=$(CURDIR) \
	  TEST_TIMEOUT=$(TEST_TIMEOUT) tests/run-tests.sh build/results.txt valgrind $(VALGRIND_TESTS)

TOOLS_ENV = BATON_NETPEER=$(abspath $(TOOLS_DIR)/netpeer) \
            BATON_SPOOLPEER=$(abspath $(TOOLS_DIR)/spoolpeer) \
            BATON_AUDIT_REWRITE=$(abspath $(TOOLS_DIR)/audit_rewrite) \
            BATON_INJECT=$(abspath $(TOOLS_DIR)/inject.so) \
            BATON_INJECT_LMDB=$(abspath $(TOOLS_DIR)/inject-lmdb.so) \
            BATON_STORE_SCHEMA=$(abspath $(TOOLS_DIR)/store_schema) \
            BATON_WEBPEER=$(abspath $(TOOLS_DIR)/webpeer) \
            BATON_RESEAL=$(abspath $(TOOLS_DIR)/reseal) \
            BATON_RECEIPT_TERMS=$(abspath $(TOOLS_DIR)/receipt_terms)

test: $(TEST_BINS) $(BIN) $(DEMO) $(TOOLS)
	$(Q)mkdir -p build && BATON=$(abspath $(BIN)) BATON_SRC=$(CURDIR) $(TOOLS_ENV) \
	  TEST_TIMEOUT=$(TEST_TIMEOUT) tests/run-tests.sh build/results.txt "$(BUILD)" $(TEST_BINS) $(CLI_TESTS)

asan: deps-check
	$(Q)rm -f build/results.txt build/results.txt.failed; \
	$(MAKE) --no-print-directory test BUILD=build/asan ASAN=1; \
	tests/summary.sh build/results.txt build/asan

# WEB=1: both schools keep serving their consoles, until Ctrl-C.
demo: deps-check $(BIN) $(DEMO)
	$(Q)$(DEMO) $(if $(filter 1,$(WEB)),--web) $(abspath $(BIN))

vectors: $(BUILD)/tests/gen_vectors
	$(Q)rm -f tests/vectors/*.json
	$(Q)$(BUILD)/tests/gen_vectors tests/vectors

# A made-up school's records (tests/data/school.json and files/) from a fixed seed.
$(BUILD)/tests/gen_school: $(BUILD)/tests/gen_school.o
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

.PHONY: sample-data
sample-data: $(BUILD)/tests/gen_school
	$(Q)rm -rf tests/data/school.json tests/data/files # hand-written fixtures beside them stay
	$(Q)$(BUILD)/tests/gen_school tests/data

# Benchmarks: tests/bench/run.sh prints one table; JSON=1 as JSON lines,
# QUICK=1 with small counts, STORE_N=N students in the store-scale row,
# EDFI_N=N students in the Ed-Fi import's, FED_N=N schools and FED_M=M
# transfers in the federation's, ONLY=PART one part.
BENCH_BINS := $(BUILD)/bench/bench_packet $(BUILD)/bench/bench_cohort

$(BUILD)/bench/bench_packet: $(BUILD)/tests/bench/packet.o $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs libcrypto)

$(BUILD)/bench/bench_cohort: $(BUILD)/tests/bench/cohort.o $(NODE_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

bench:
	$(Q)$(MAKE) --no-print-directory deps-bench >&2
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/tests/gen_school $(BENCH_BINS) $(TOOLS_DIR)/webpeer \
	  $(TOOLS_DIR)/gen_edfi >&2
	$(Q)BATON=$(abspath $(BIN)) BENCH_BIN=$(abspath $(BUILD)) tests/bench/run.sh \
	  $(if $(filter 1,$(QUICK)),--quick) $(if $(filter 1,$(JSON)),--json) \
	  $(if $(STORE_N),--store-n $(STORE_N)) $(if $(EDFI_N),--edfi-n $(EDFI_N)) \
	  $(if $(FED_N),--fed-n $(FED_N)) $(if $(FED_M),--fed-m $(FED_M)) $(if $(ONLY),--only $(ONLY))

# The federation at scale alone: FED_N schools (default 500) each under 'baton
# serve', FED_M transfers (default 10,000); QUICK=1: 20 and 200. make check runs
# the same scenario (tests/cli/federation.sh) with 6 and 30.
federation:
	$(Q)$(MAKE) --no-print-directory bench ONLY=federation

# libFuzzer harnesses, built with clang, ASan and UBSan.
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               $(WARN) $(CPPFLAGS) $(INC_tests) $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QCC)clang -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined $(WARN) $(CPPFLAGS) \
	  $(INC_$(firstword $(subst /, ,$<))) $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	$(QLD)clang $(FUZZ_CFLAGS) -Itests/fuzz -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS)

# The record harness takes the node's record validation with it.
$(FUZZ_BUILD)/fuzz_record: tests/fuzz/fuzz_record.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ) \
                           $(FUZZ_BUILD)/node/record.o
	$(QLD)clang $(FUZZ_CFLAGS) -Itests/fuzz -o $@ $< $(FUZZ_BUILD)/node/record.o \
	  $(FUZZ_LIB_OBJ) $(LIBS)

# The Ed-Fi XML harness takes the node's interchange reader and libxml2.
$(FUZZ_BUILD)/fuzz_edfi_xml: tests/fuzz/fuzz_edfi_xml.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ) \
                             $(FUZZ_BUILD)/node/edfi_xml.o
	$(QLD)clang $(FUZZ_CFLAGS) -Itests/fuzz -o $@ $< $(FUZZ_BUILD)/node/edfi_xml.o \
	  $(FUZZ_LIB_OBJ) $(LIBS)

# The Ed-Fi scan harness takes the node's type rules (and the record's date rule).
$(FUZZ_BUILD)/fuzz_edfi_scan: tests/fuzz/fuzz_edfi_scan.c tests/fuzz/fuzz.h $(FUZZ_LIB_OBJ) \
                              $(FUZZ_BUILD)/node/edfi_types.o $(FUZZ_BUILD)/node/record.o
	$(QLD)clang $(FUZZ_CFLAGS) -Itests/fuzz -o $@ $< $(FUZZ_BUILD)/node/edfi_types.o \
	  $(FUZZ_BUILD)/node/record.o $(FUZZ_LIB_OBJ) $(LIBS)

fuzz: deps-check $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
	$(Q)tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

format:
	clang-format -i $(wildcard include/baton/*.h internal/*.h proto/*.[ch] keys/*.[ch] store/*.[ch] \
	  node/*.[ch] cli/*.[ch] demo/*.c tests/*.[ch] tests/fuzz/*.[ch] tests/tools/*.c)

# dist/*.in name where things are installed: filled in at install time.
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@VERSION@|$(VERSION)|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/baton \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/baton
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libbaton.a
	$(SUBST) dist/libbaton.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libbaton.pc
	install -m 0644 include/baton/*.h $(DESTDIR)$(INCLUDEDIR)/baton/
	$(SUBST) dist/baton@.service.in >$(DESTDIR)$(UNITDIR)/baton@.service
	install -m 0644 dist/baton.sysusers $(DESTDIR)$(SYSUSERSDIR)/baton.conf
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 dist/baton.bash $(DESTDIR)$(BASHCOMPDIR)/baton

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/baton $(DESTDIR)$(LIBDIR)/libbaton.a \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/libbaton.pc $(DESTDIR)$(UNITDIR)/baton@.service \
	  $(DESTDIR)$(SYSUSERSDIR)/baton.conf
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/baton/,$(notdir $(wildcard include/baton/*.h)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/baton
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1))) \
	  $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8))) \
	  $(DESTDIR)$(BASHCOMPDIR)/baton

# Installs the packages that are missing (as root), or prints the line to run;
# then the browser tests' npm packages, as the lockfile pins them.
deps:
	$(Q)extra=; command -v npm >/dev/null || extra="$(NODE_PACKAGES)"; \
	if [ -z "$$extra" ] && $(MAKE) --no-print-directory -s deps-present; then \
	  echo "deps: everything is installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "deps: apt-get install $(DEB_PACKAGES) $$extra"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) $(EXTRA_PACKAGES) $$extra; \
	else \
	  echo "deps: missing packages; run as root:"; \
	  echo "  sudo apt-get install -y $(DEB_PACKAGES) $(EXTRA_PACKAGES) $$extra"; exit 1; \
	fi
	$(Q)$(MAKE) --no-print-directory node_modules/.baton-stamp

# The npm packages of package-lock.json, exactly (npm ci), again when it changes.
node_modules/.baton-stamp: package-lock.json package.json
	$(Q)echo "deps: npm ci (package-lock.json)"
	$(Q)npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

deps-present:
	$(Q)for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || exit 1; \
	done

# Installs nothing: names what is missing and what 'make deps' would install.
deps-check:
	$(Q)missing=; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || \
	    missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing $(NODE_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
	  echo "deps-check: packages missing:$$missing; 'make deps' installs them" >&2; \
	  $(MAKE) --no-print-directory deps; \
	fi
	$(Q)$(MAKE) --no-print-directory node_modules/.baton-stamp

deps-bench:
	$(Q)$(MAKE) --no-print-directory deps EXTRA_PACKAGES="$(BENCH_PACKAGES)"

clean:
	rm -rf build baton

-include $(shell find build -name '*.d' 2>/dev/null)
