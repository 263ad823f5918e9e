#!/usr/bin/env bash
# MySQL (MariaDB), Redis and RabbitMQ for lite mode and the tests.
#   ensure  use each one that already answers on its port; install (apt-get) and start a
#           lab-owned instance, with its data under .lab/, for each one that does not
#   stop    stop the instances this script started, and nothing else
set -euo pipefail
cd "$(dirname "$0")/.."
state=.lab/backends
mkdir -p "$state"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name port seconds
  for ((i = 0; i < $3 * 10; i++)); do answers "$2" && return 0; sleep 0.1; done
  echo "$1 did not answer on 127.0.0.1:$2 within $3 s (see $state/$1.log)" >&2
  return 1
}

install_packages() {
  local missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "not running and not installed: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]}) or point MYSQL_ADMIN_URL, REDIS_URL and AMQP_URL at running servers." >&2
    exit 1
  fi
  echo "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_mysql() {
  install_packages mariadbd:mariadb-server
  local data=$PWD/.lab/mysql
  if [[ ! -d $data/mysql ]]; then
    mkdir -p "$data"
    chown mysql:mysql "$data" 2>/dev/null || true
    mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=normal >"$state/mysql.log" 2>&1
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  mariadbd --user=mysql --datadir="$data" --bind-address=127.0.0.1 --port=3306 \
    --socket=/run/mysqld/mysqld.sock --pid-file="$PWD/$state/mysql.pid" >>"$state/mysql.log" 2>&1 &
  wait_for mysql 3306 30
  echo mysql >>"$state/started"
}

start_redis() {
  install_packages redis-server:redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/$state" --logfile "$PWD/$state/redis.log" --pidfile "$PWD/$state/redis.pid"
  wait_for redis 6379 10
  echo redis >>"$state/started"
}

start_rabbitmq() {
  install_packages rabbitmq-server:rabbitmq-server
  rabbitmq-server -detached >"$state/rabbitmq.log" 2>&1
  wait_for rabbitmq 5672 60
  echo rabbitmq >>"$state/started"
}

case "${1:-ensure}" in
ensure)
  answers 3306 || start_mysql
  answers 6379 || start_redis
  answers 5672 || start_rabbitmq
  ;;
stop)
  [[ -f $state/started ]] || exit 0
  while read -r name; do
    case $name in
    mysql) [[ -f $state/mysql.pid ]] && kill "$(cat "$state/mysql.pid")" 2>/dev/null || true ;;
    redis) [[ -f $state/redis.pid ]] && kill "$(cat "$state/redis.pid")" 2>/dev/null || true ;;
    rabbitmq) rabbitmqctl stop >/dev/null 2>&1 || true ;;
    esac
  done <"$state/started"
  rm -f "$state/started"
  ;;
*)
  echo "usage: $0 ensure|stop" >&2
  exit 2
  ;;
esac
