#!/usr/bin/env bash
# The secrets compose.yaml mounts as files (never environment variables), made once with random values:
#
#   scripts/compose-secrets.sh [DIR]      default DIR: deploy/secrets (git ignores it)
#
# Files that exist are kept, so running it again changes nothing; delete DIR to start afresh (with a new MySQL
# volume: the database keeps the password it was created with). JWT_SIGNING_KEY, if set, is the signing key the
# first time. Files named Section__Key are the app's settings (ConnectionStrings__Chat is ConnectionStrings:Chat,
# read by the app from /run/secrets); the others are MySQL's and Redis's own.
#
# The directory is private to you (0700). The files in it are readable by anyone who can reach them (0644): compose
# mounts each file into its containers as it is, and the containers read them as their own users (the app as
# APP_UID, MySQL as mysql).
set -euo pipefail

dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/deploy/secrets}
mkdir -p "$dir"
chmod 700 "$dir"
umask 022

random() { head -c "$1" /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; }

secret() { # secret NAME VALUE: write NAME unless it exists
    [[ -s $dir/$1 ]] || printf '%s' "$2" >"$dir/$1"
}

secret mysql_root_password "$(random 24)"
secret mysql_password "$(random 24)"
secret redis_password "$(random 24)"
secret Jwt__SigningKey "${JWT_SIGNING_KEY:-$(random 48)}"
secret ConnectionStrings__Chat "Server=mysql;Database=chat;User ID=chat;Password=$(<"$dir/mysql_password")"
secret ConnectionStrings__Redis "redis:6379,password=$(<"$dir/redis_password")"
printf '==> compose-secrets.sh: secrets in %s\n' "$dir" >&2
