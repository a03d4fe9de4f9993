"""The domain packs shipped with the extractor (data only)."""
