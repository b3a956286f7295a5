#!/bin/sh
# The secrets docker-compose.yml mounts, made once with random passwords: `scripts/compose-secrets.sh [DIR]`
# (default ./secrets). An existing file is kept: PostgreSQL and RabbitMQ keep the password they were first
# started with in their volumes, so a new one would lock the hub out. The folder is private to its owner on
# this machine; the files in it are readable by the containers' own users (postgres, rabbitmq, rxhub).
set -eu

dir=${1:-secrets}
umask 077
mkdir -p "$dir"
chmod 700 "$dir"

random() {  # 32 letters and digits: safe inside a URL and a rabbitmq.conf line without quoting
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32
}

write() {  # write NAME CONTENT: only when NAME does not exist yet
    if [ -e "$dir/$1" ]; then
        echo "kept    $dir/$1"
    else
        printf '%s\n' "$2" >"$dir/$1"
        chmod 644 "$dir/$1"
        echo "created $dir/$1"
    fi
}

pair() {  # pair FILE1 FILE2: both made from one password, or both kept; one alone is an operator's mistake
    if [ -e "$dir/$1" ] && [ -e "$dir/$2" ]; then
        echo "kept    $dir/$1 $dir/$2"
        return 1
    fi
    if [ -e "$dir/$1" ] || [ -e "$dir/$2" ]; then
        echo "compose-secrets: $dir/$1 and $dir/$2 hold one password; restore the missing one or remove both" >&2
        exit 1
    fi
}

if pair postgres_password database_url; then
    pg=$(random)
    write postgres_password "$pg"
    write database_url "postgresql+psycopg://rxhub:$pg@postgres:5432/rxhub"
fi
if pair rabbitmq.conf amqp_url; then
    mq=$(random)
    # RabbitMQ makes this user (and no guest) when its data volume is empty
    write rabbitmq.conf "default_user = rxhub
default_pass = $mq"
    write amqp_url "amqp://rxhub:$mq@rabbitmq:5672/%2F"
fi

# Fernet key for raw messages at rest (as `rxhub certs data-key` makes): 32 random bytes, URL-safe base64
write data_key "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')"
# HMAC key of the audit trail (as `rxhub certs audit-key` makes): kept outside the database, so that whoever
# can write the database cannot forge or re-link audit entries
write audit_key "$(LC_ALL=C tr -dc 'a-f0-9' </dev/urandom | head -c 64)"
