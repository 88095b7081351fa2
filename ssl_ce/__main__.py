"""`python -m ssl_ce ...`: the CLI from a source tree that was copied rather than installed (a GPU node)."""

from ssl_ce.cli import main

main()
