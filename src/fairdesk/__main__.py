"""`python -m fairdesk` is the `fairdesk` command."""

from fairdesk.entrypoints.cli.main import app

app(prog_name="fairdesk")
