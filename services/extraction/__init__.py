"""Rules-based stance extraction: who stands where, read from one article at a time.

The public surface is small: `get_extractor()` in `service`, the models in `schemas` and
`load_domain_pack()` in `domain`. Everything domain-specific (actors, topics, cue words) lives in
a domain pack under `packs/`; the code only knows English grammar.
"""
