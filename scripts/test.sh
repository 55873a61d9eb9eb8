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
# One package at a time (-p 1): the on-device benchmark tests compare a
# parallel profile with a single-core one on a 2-core machine, and can only
# see the difference when no other test package competes for the cores.
go test -race -p 1 -timeout 40m ./...
