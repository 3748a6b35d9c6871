"""Everything that talks to PostgreSQL: schema, load (step 2), checks (step 3), rollback."""
