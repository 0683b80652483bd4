"""The coordinator workspace under /admin: what the integration office runs its programme with."""
