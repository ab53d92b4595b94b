# Thin wrapper over meson + ninja; the build directory is build/.
#
#   make          build smith (build/smith)
#   make deps     install everything the build and the tests need (Debian 12, as root;
#                 bootstrap.sh installs make itself first on a bare machine)
#   make demo     deps + build, then build examples/cat and run it read-only with runc
#   make check    deps + build, then the whole test suite (meson test)
#   make install  bin/smith, man pages and completions below $(DESTDIR)$(PREFIX)
#   make clean    remove build/
#
# `deps` is idempotent: it asks apt only when a package is missing.

BUILD   ?= build
MESON   ?= meson
NINJA   ?= ninja
SUDO    ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Compilers and libraries, then the tools the CLI tests drive.
DEPS = build-essential meson ninja-build pkg-config \
       libyaml-dev libjansson-dev libarchive-dev libcurl4-openssl-dev \
       libssl-dev zlib1g-dev libzstd-dev libdeflate-dev libcmocka-dev libsolv-dev libsolvext-dev librpm-dev libsqlite3-dev \
       bats runc umoci skopeo oci-image-tool debootstrap docker-registry \
       python3 python3-jwt python3-cryptography python3-jsonschema apache2-utils openssl curl ca-certificates util-linux passwd jq \
       hyperfine time clang-format mmdebstrap gpgv gnupg dpkg-dev xz-utils zstd rpm createrepo-c \
       qemu-user-static binutils scdoc zsh man-db podman

PREFIX  ?= /usr/local
DESTDIR ?=

.PHONY: all build deps demo check check-sanitize clean install

all: build

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD)

# TARGETS narrows what ninja builds (demo needs only the binary).
build: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD) $(TARGETS)

deps:
	@present=" $$(dpkg-query -W -f='$${db:Status-Status} $${Package}\n' $(DEPS) 2>/dev/null \
		| awk '$$1 == "installed" { printf "%s ", $$2 }')"; \
	missing=; for p in $(DEPS); do case "$$present" in *" $$p "*) ;; *) missing="$$missing $$p";; esac; done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all present"; \
	else \
		echo "deps: installing$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# deps, then build, in that order even under make -j.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build TARGETS=smith
	@SMITH=$(CURDIR)/$(BUILD)/smith tests/cli/helpers/demo.sh

check:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build
	$(MESON) test -C $(BUILD) --print-errorlogs
	@$(MAKE) --no-print-directory check-sanitize

# The whole suite again (unit, fuzz replays, CLI) with smith and the tests
# built with AddressSanitizer and UndefinedBehaviorSanitizer, leaks
# included, in $(BUILD)-asan; the fixtures of $(BUILD) are reused.
check-sanitize:
	@[ -f $(BUILD)-asan/build.ninja ] || \
		$(MESON) setup $(BUILD)-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	$(NINJA) -C $(BUILD)-asan
	SMITH_FIXTURES=$(CURDIR)/$(BUILD)/fixtures \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(MESON) test -C $(BUILD)-asan --print-errorlogs

clean:
	rm -rf $(BUILD) $(BUILD)-asan

# bin/smith, the man pages (smith.1, one per verb) and the bash and zsh
# completions, below $(DESTDIR)$(PREFIX).
install: build
	$(MESON) configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	$(MESON) install -C $(BUILD) $(if $(DESTDIR),--destdir "$(DESTDIR)")

