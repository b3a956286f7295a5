"""``make cluster``: the hub on a three-node RabbitMQ cluster behind HAProxy while nodes and instances die."""
