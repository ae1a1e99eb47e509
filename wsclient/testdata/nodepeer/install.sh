#!/bin/sh
# Installs the Node WebSocket peer of wsclient's foreign-peer tests
# (nodepeer_s32peer_test.go): npm ws at the version package-lock.json pins.
# Without Node or without this install those tests skip.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/ws ]; then
	npm ci --no-audit --no-fund
fi
