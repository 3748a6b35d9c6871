"""chatmigrate: migrate chat history from a legacy MySQL dump into Supabase PostgreSQL.

The package is a library with a thin CLI. The data flows one way:
``dump`` (read the mysqldump file) -> ``phase6`` (the plan's rules, pure) ->
``postgres`` (PostgreSQL: load, check, roll back) -> ``report``. ``cli`` wires them up.
"""

__version__ = "0.1.0"
