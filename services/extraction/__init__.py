"""Rules-based stance extraction: who stands where, read from one article at a time.

Public surface:

* ``services.extraction.service.get_extractor(pack_path=None) -> Extractor`` — process-wide,
  cached per domain pack; the spaCy model is loaded once. ``Extractor.extract(ArticleText)`` and
  ``Extractor.extract_many([...])`` return ``list[Claim]`` per article.
* ``services.extraction.schemas`` — ``ArticleText``, ``Claim``, ``Evidence`` and the domain-pack
  models (``DomainPack``, ``ActorDef``, ``TopicDef``, ...).
* ``services.extraction.domain.load_domain_pack(path=None)`` — validated, cached; raises
  ``DomainPackError`` naming the file and the field.
* ``services.extraction.cli.extract`` — the ``stance extract`` command.

Everything domain-specific (actors, topics, cue words, grammar lexicons) lives in a domain pack
under ``packs/``; the code only knows English grammar. The pipeline, in order: mentions of actors
(names, roles, demonyms, capitals that are not venues, pronouns and titles resolved to the last
person), topic cues, conditions ("only if", "provided that", "must ... before", "in principle,
but"), then for each cue the holder (subject, passive agent, reporting speaker), polarity
(negation, refusal verbs, reversed cues), hedges, history and questions; claims are merged per
(actor, topic, stance) with the sentence as verbatim evidence.
"""
