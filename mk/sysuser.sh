#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Create the system user and group shimvisor, which the engine runs as and whose members may
# use the control socket, when missing: no home, no login shell. Run by `make install` and
# mk/deps.sh (so by `make check` and `make demo`).
set -e
NAME=shimvisor
getent group "$NAME" >/dev/null && getent passwd "$NAME" >/dev/null && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "sysuser: no system user and group $NAME (run as root to create them)" >&2
	exit 1
fi
getent group "$NAME" >/dev/null || groupadd --system "$NAME"
getent passwd "$NAME" >/dev/null ||
	useradd --system --gid "$NAME" --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "shimvisor engine" "$NAME"
echo "sysuser: created the system user and group $NAME"
