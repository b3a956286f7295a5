"""Security: TLS contexts and dev certificates, the hash-chained audit trail, PHI-safe logs, broker users."""
