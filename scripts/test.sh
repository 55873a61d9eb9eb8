#!/usr/bin/env bash
# The test command of the README: vet, formatting, then every test with the
# race detector. Under CI=true tests that need sshd or qemu fail instead of
# skipping when those tools are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l . | grep -v '^testdata/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -race -timeout 40m ./...
