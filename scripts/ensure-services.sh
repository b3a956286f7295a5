#!/usr/bin/env bash
# Start RabbitMQ and PostgreSQL if they are not answering (CI runs on a fresh clone; the machine may
# or may not have started them), then wait until both accept connections.
set -euo pipefail

rabbit_up() { rabbitmqctl -q status >/dev/null 2>&1 && (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

if ! rabbit_up; then
  echo "starting RabbitMQ..."
  rabbitmq-server -detached || true
  for _ in $(seq 1 90); do rabbit_up && break; sleep 1; done
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
fi
rabbit_up || { echo "RabbitMQ is not answering on 127.0.0.1:5672"; exit 1; }

if ! pg_up; then
  echo "starting PostgreSQL..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 60); do pg_up && break; sleep 1; done
fi
pg_up || { echo "PostgreSQL is not answering on 127.0.0.1:5432"; exit 1; }
echo "services: RabbitMQ and PostgreSQL are up"
