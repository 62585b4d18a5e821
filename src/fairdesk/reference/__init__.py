"""Reference data that ships with fairdesk: China's administrative divisions and their resolver's tables, the
statutory working-day calendars from packages, the rule files for intents and contract clauses.

Read-only and in-process (the package's own files and libraries' tables, loaded once); no outside system is
behind them, so they are not adapters and the services may use them. They import only the domain.
"""
