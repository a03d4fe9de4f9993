"""Sample articles for the benchmark when the shared evaluation set is absent (data only)."""
