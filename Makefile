# csphub: build, test and lint. `make test` is the one test command (README);
# CI runs it through .ci/run with CI=true.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build test lint run clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/csphub ./cmd/csphub

test:
	$(GO) test -race -count=1 -timeout 45m ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

run:
	$(GO) run ./cmd/csphub serve

clean:
	rm -rf bin .artifacts
