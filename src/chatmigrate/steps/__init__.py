"""The steps of the phase, each a function from inputs to outputs (files and database)."""
