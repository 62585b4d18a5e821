"""fairdesk: an after-sales service platform, fair to the consumer by construction."""

__version__ = "0.1.0"
