"""Real orchestrator servers for the adapter tests, each from its own cached virtual environment.

Every server binds 127.0.0.1 only, lives in a temporary folder of the test session and is
stopped by its process group when the session ends. Virtual environments are cached under
``.cache/peers`` (ignored by git), keyed by what is installed in them, so only the first run on a
machine pays for the install.
"""
