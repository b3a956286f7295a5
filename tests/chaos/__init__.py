"""Fault injection: a stream of orders while the broker, workers, database and payer misbehave, then an audit."""
