#!/usr/bin/env bash
# Database per service: one schema and one user per service, each user granted only its own
# schema. The MariaDB image runs this once, on an empty data directory, with the server listening
# on its socket only; passwords come from the container's environment (<SERVICE>_DB_PASSWORD).
set -euo pipefail

SERVICES=(auth catalog orders payments inventory notifications)

# The client reads the root password from MYSQL_PWD, so it never shows in a process list.
export MYSQL_PWD="${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is not set}"

for service in "${SERVICES[@]}"; do
  variable="${service^^}_DB_PASSWORD"
  password="${!variable:-}"
  if [[ -z "$password" ]]; then
    echo "01-databases.sh: $variable is not set" >&2
    exit 1
  fi
  # The password sits inside an SQL string and inside the service's MYSQL_URL: allow URL-safe
  # characters only, which also rules out quotes and backslashes.
  if [[ ! "$password" =~ ^[A-Za-z0-9._~-]+$ ]]; then
    echo "01-databases.sh: $variable may hold only letters, digits and . _ ~ -" >&2
    exit 1
  fi
  mariadb --user=root <<SQL
CREATE DATABASE IF NOT EXISTS \`$service\`;
CREATE USER IF NOT EXISTS '$service'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`$service\`.* TO '$service'@'%';
SQL
  echo "01-databases.sh: schema and user $service ready"
done
