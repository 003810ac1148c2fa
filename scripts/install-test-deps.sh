#!/usr/bin/env bash
# Installs what the tests talk to, from Debian's packages, when missing: redis-server (the
# cluster and Redis bus tests spawn their own on free ports), chromium (web client tests), an
# emoji font for their screenshots, iproute2 and nftables (the many-hosts test builds network
# namespaces and cuts links with nft), and PostgreSQL: the PostgreSQL store's tests need a server
# answering on 127.0.0.1:5432 to user postgres without a password (each run makes and drops its
# own database). A PostgreSQL that already answers that way is left alone.
set -euo pipefail
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

PG_HOST=127.0.0.1
PG_PORT=5432
pg_answers() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3; }
pg_trusts_postgres() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Emoji in the web client's screenshots (reactions) render as empty boxes without it.
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
# The server (initdb, pg_ctl, postgres) is needed even where some other PostgreSQL answers on
# 5432: the many-hosts test runs a cluster of its own on its namespaces' address.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! pg_answers; then
  # A bare machine: the package made cluster "main" of its version but, with no init system
  # running services, may not have started it.
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
    $sudo pg_createcluster "$version" main --port "$PG_PORT"
  fi
  echo "starting PostgreSQL $version (cluster main)"
  $sudo pg_ctlcluster "$version" main start || $sudo service postgresql start
  for _ in $(seq 50); do pg_answers && break; sleep 0.2; done
  pg_answers || { echo "PostgreSQL does not answer on $PG_HOST:$PG_PORT" >&2; exit 1; }
fi

if ! pg_trusts_postgres; then
  # Debian asks for a password on TCP; the tests connect as postgres without one. Trust is
  # granted to that user on the loopback address only, ahead of the package's own rules.
  hba=$(pg_lsclusters -h | awk -v port="$PG_PORT" '$3 == port {print "/etc/postgresql/" $1 "/" $2 "/pg_hba.conf"}' | head -1)
  [ -n "$hba" ] && [ -f "$hba" ] || { echo "PostgreSQL on port $PG_PORT is not a Debian cluster: cannot grant trust to user postgres" >&2; exit 1; }
  echo "granting trust to user postgres on $PG_HOST in $hba"
  $sudo sed -i "1i host all postgres $PG_HOST/32 trust" "$hba"
  $sudo runuser -u postgres -- psql -p "$PG_PORT" -Atqc 'select pg_reload_conf()' >/dev/null
  for _ in $(seq 25); do pg_trusts_postgres && break; sleep 0.2; done
  pg_trusts_postgres || { echo "PostgreSQL on $PG_HOST:$PG_PORT still refuses user postgres without a password" >&2; exit 1; }
fi

redis-server --version | head -1
/usr/bin/chromium --version
nft --version
psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -Atqc 'show server_version' | sed 's/^/PostgreSQL /'
