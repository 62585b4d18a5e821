"""Use cases: take a command and a unit of work, check access, change the domain, append events, commit."""
