"""Small utilities the use cases share: the audit writer, a TTL cache, the slow-work limiter."""
