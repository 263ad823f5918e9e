#!/usr/bin/env bash
# The image's HEALTHCHECK: healthy when GET /health/ready on $PORT answers 200. bash (an Essential
# package of every Debian image, slim included) opens the connection itself through /dev/tcp, so a
# check costs a few MB for a few milliseconds instead of starting a ~60 MB node process.
set -euo pipefail
exec 3<>"/dev/tcp/127.0.0.1/${PORT:?PORT is not set}"
printf 'GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
# The status line: HTTP/1.1 200 OK
read -r -t 3 _ status _ <&3
[[ $status == 200 ]]
