"""The Phase 6 plan: typed records, the pure rules of step 1, and the plan's JSON files."""
