"""The domain: plain Python entities, value objects and rules. No I/O, no clock, no frameworks."""
