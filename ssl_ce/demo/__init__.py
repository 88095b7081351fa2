"""`ssl-ce demo`: a local page and HTTP API for filling painted holes (ssl_ce.demo.server)."""
