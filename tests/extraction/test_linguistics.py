"""One behaviour per test, on sentences written for these tests."""

from __future__ import annotations

from collections.abc import Callable

from services.extraction.schemas import Claim

Triples = Callable[[str], set[tuple[str, str, str]]]
Claims = Callable[[str], list[Claim]]


def _one(claims: list[Claim], actor: str, topic: str) -> Claim:
    found = [c for c in claims if c.actor == actor and c.topic == topic]
    assert len(found) == 1, claims
    return found[0]


# -- places: governments, not venues --------------------------------------------------------


def test_a_capital_as_subject_speaks_for_its_government(triples_of: Triples) -> None:
    triples = triples_of("London rejected any ceasefire that would leave Russian troops in place.")
    assert ("united-kingdom", "ceasefire", "oppose") in triples


def test_a_capital_as_venue_is_not_an_actor(triples_of: Triples) -> None:
    triples = triples_of("Defence chiefs met in London on Monday to draw up plans for a peacekeeping force.")
    assert not any(actor == "united-kingdom" for actor, _, _ in triples)


def test_a_dateline_is_not_an_actor(triples_of: Triples) -> None:
    triples = triples_of("PARIS, May 2 - Turkish officials said Ankara backed a ceasefire.")
    assert triples == {("turkey", "ceasefire", "support")}


# -- negation and refusal -------------------------------------------------------------------


def test_negation_flips_support(triples_of: Triples) -> None:
    assert triples_of("Berlin will not back new sanctions on Russia.") == {
        ("germany", "sanctions-on-russia", "oppose")
    }


def test_ruling_out_is_opposition(triples_of: Triples) -> None:
    triples = triples_of("Viktor Orban ruled out any further military aid for Ukraine.")
    assert triples == {("hungary", "military-aid-to-ukraine", "oppose")}


def test_not_ruling_out_is_support(triples_of: Triples) -> None:
    triples = triples_of("Mark Rutte did not rule out new talks with Moscow.")
    assert ("nato", "peace-talks", "support") in triples


def test_pausing_aid_opposes_it_and_lifting_the_pause_supports_it(triples_of: Triples) -> None:
    assert ("united-states", "military-aid-to-ukraine", "oppose") in triples_of(
        "Washington has paused military aid to Ukraine."
    )
    assert ("united-states", "military-aid-to-ukraine", "support") in triples_of(
        "Washington has lifted its pause on military aid to Ukraine."
    )


# -- conditions -----------------------------------------------------------------------------


def test_only_if_makes_a_conditional_stance_and_the_demand_a_position(claims_of: Claims) -> None:
    claims = claims_of(
        "The Kremlin will accept a truce only if Kyiv withdraws its troops from the four regions."
    )
    truce = _one(claims, "russia", "ceasefire")
    assert truce.stance == "conditional"
    assert any("withdraws" in c for c in truce.conditions)
    assert _one(claims, "russia", "territorial-concessions").stance == "support"


def test_provided_that_states_a_condition(claims_of: Claims) -> None:
    claims = claims_of(
        "Warsaw is ready to send more weapons to Ukraine, provided that Washington shares the cost."
    )
    aid = _one(claims, "poland", "military-aid-to-ukraine")
    assert aid.stance == "conditional"
    assert aid.conditions == ["Washington shares the cost"]


def test_must_before_turns_the_demands_into_conditions(claims_of: Claims) -> None:
    claims = claims_of("Wang Yi said the West must lift its sanctions before any truce can begin.")
    truce = _one(claims, "china", "ceasefire")
    assert truce.stance == "conditional"
    assert any("lifts its sanctions" in c for c in truce.conditions)
    assert _one(claims, "china", "sanctions-on-russia").stance == "oppose"


def test_a_demanded_clause_reads_as_a_statement_with_a_singular_subject(claims_of: Claims) -> None:
    claims = claims_of(
        "Sergei Lavrov said Ukraine must drop its bid to join NATO and hand over two regions "
        "before any truce can begin."
    )
    conditions = _one(claims, "russia", "ceasefire").conditions
    assert "Ukraine drops its bid to join NATO" in conditions
    assert any(c.startswith("Ukraine hands over two regions") for c in conditions)


def test_a_plural_subject_keeps_the_verb_bare(claims_of: Claims) -> None:
    claims = claims_of("Kyiv would join talks only if the allies supply more air defence.")
    assert any(c.startswith("the allies supply") for c in _one(claims, "ukraine", "peace-talks").conditions)


def test_a_temporal_once_elsewhere_in_the_sentence_is_not_a_condition(triples_of: Triples) -> None:
    triples = triples_of(
        "Helsinki backs a ceasefire, and fears Russia will attack again once sanctions are eased."
    )
    assert ("finland", "ceasefire", "support") in triples


def test_a_force_planned_after_a_peace_deal_is_support(triples_of: Triples) -> None:
    triples = triples_of("Britain will send troops to Ukraine after a peace deal is signed.")
    assert triples == {("united-kingdom", "peacekeeping-force", "support")}


def test_declining_to_send_ones_own_soldiers_is_not_opposition(triples_of: Triples) -> None:
    assert triples_of("Donald Tusk said Poland would not send its own soldiers to Ukraine.") == set()


# -- who is speaking ------------------------------------------------------------------------


def test_a_pronoun_takes_the_last_person_named(claims_of: Claims) -> None:
    claims = claims_of(
        "Olaf Scholz spoke to reporters on Monday. He said Germany would keep supplying weapons to Ukraine."
    )
    aid = _one(claims, "germany", "military-aid-to-ukraine")
    assert aid.stance == "support"
    assert aid.speaker == "Olaf Scholz"


def test_a_role_names_the_actor_and_the_person(claims_of: Claims) -> None:
    claims = claims_of(
        "The Kremlin spokesman said Moscow opposed any deployment of Western troops in Ukraine."
    )
    force = _one(claims, "russia", "peacekeeping-force")
    assert (force.stance, force.speaker) == ("oppose", "Dmitry Peskov")


def test_a_possessive_title_names_the_actor(claims_of: Claims) -> None:
    claims = claims_of("Ukraine's top diplomat called for tougher sanctions on Russian oil.")
    assert _one(claims, "ukraine", "sanctions-on-russia").stance == "support"


def test_the_passive_agent_is_the_holder(claims_of: Claims) -> None:
    claims = claims_of("The plan for a ceasefire was rejected by the Russian foreign minister.")
    truce = _one(claims, "russia", "ceasefire")
    assert (truce.stance, truce.speaker) == ("oppose", "Sergei Lavrov")


def test_reported_speech_belongs_to_the_speaker(triples_of: Triples) -> None:
    triples = triples_of(
        "Marco Rubio said Ukraine had accepted a ceasefire and that Russia should now do the same."
    )
    assert ("united-states", "ceasefire", "support") in triples


def test_according_to_names_the_speaker(triples_of: Triples) -> None:
    triples = triples_of("New sanctions on Russian banks are being prepared, according to EU officials.")
    assert ("european-union", "sanctions-on-russia", "support") in triples


def test_an_accusation_is_not_a_stance(triples_of: Triples) -> None:
    assert triples_of("Keir Starmer accused Vladimir Putin of stalling the ceasefire talks.") == set()


# -- hedges, history and questions ----------------------------------------------------------


def test_a_hedge_lowers_confidence(claims_of: Claims) -> None:
    direct = _one(claims_of("Vladimir Putin rejected the ceasefire."), "russia", "ceasefire")
    hedged = _one(claims_of("Vladimir Putin is expected to reject the ceasefire."), "russia", "ceasefire")
    assert hedged.stance == direct.stance == "oppose"
    assert hedged.confidence < direct.confidence


def test_history_is_not_a_current_stance(triples_of: Triples) -> None:
    assert triples_of("In 2022 Moscow demanded a cap on the size of Ukraine's army.") == set()
    assert triples_of("Moscow demanded a cap on the size of Ukraine's army.") == {
        ("russia", "ukraine-army-limits", "support")
    }


def test_a_question_is_not_a_stance(triples_of: Triples) -> None:
    assert triples_of("Will Budapest block the next package of sanctions?") == set()


def test_an_embedded_question_is_not_a_stance(triples_of: Triples) -> None:
    assert triples_of("Reporters asked whether Italy would send troops to Ukraine.") == set()


# -- claims ---------------------------------------------------------------------------------


def test_repeated_mentions_merge_into_one_claim(claims_of: Claims) -> None:
    claims = claims_of(
        "Volodymyr Zelensky said Ukraine backed a full ceasefire. "
        "Later he repeated that Kyiv supported a ceasefire on all fronts."
    )
    truces = [c for c in claims if (c.actor, c.topic) == ("ukraine", "ceasefire")]
    assert len(truces) == 1
    assert truces[0].stance == "support"


def test_quotes_are_verbatim_with_offsets(claims_of: Claims) -> None:
    body = (
        "KYIV, June 1 -\n\n  Andrii Sybiha said  Ukraine would never accept a ceasefire"
        " that froze the front.\n"
        "Emmanuel Macron, for his part, called for more air defence for Ukraine.  "
    )
    claims = claims_of(body)
    assert claims
    for claim in claims:
        assert body[claim.start : claim.end] == claim.quote
        assert claim.quote == claim.quote.strip()
        assert 0.0 <= claim.confidence <= 1.0
        assert claim.summary


def test_extract_many_matches_extract(extractor) -> None:
    from services.extraction.schemas import ArticleText

    texts = ["Rome backs new sanctions on Russia.", "Ankara offered to host peace talks."]
    articles = [ArticleText(body=t) for t in texts]
    assert extractor.extract_many(articles) == [extractor.extract(a) for a in articles]


# -- reference across sentences -------------------------------------------------------------


def test_a_definite_plan_takes_the_topic_of_the_sentence_before(triples_of: Triples) -> None:
    triples = triples_of(
        "Paris and London are drawing up plans for a reassurance force in Ukraine. "
        "Friedrich Merz backed the idea on Tuesday."
    )
    assert ("germany", "peacekeeping-force", "support") in triples


def test_the_truce_after_a_narrower_truce_is_that_truce(triples_of: Triples) -> None:
    triples = triples_of(
        "Moscow announced an Easter truce on Saturday. Andrii Sybiha said Kyiv would respect the truce."
    )
    assert ("ukraine", "partial-ceasefire", "support") in triples
    assert ("ukraine", "ceasefire", "support") not in triples


def test_a_sentence_initial_it_continues_the_subject(triples_of: Triples) -> None:
    triples = triples_of("The Kremlin issued a statement on Friday. It wants new talks with Washington.")
    assert ("russia", "peace-talks", "support") in triples


def test_terms_for_what_was_just_proposed(claims_of: Claims) -> None:
    claims = claims_of(
        "Andrii Sybiha proposed a truce at sea. "
        "Both, he said, could start tomorrow if Russia stops its strikes."
    )
    truce = _one(claims, "ukraine", "partial-ceasefire")
    assert truce.stance == "conditional"
    assert truce.conditions == ["Russia stops its strikes"]


# -- more conditions ------------------------------------------------------------------------


def test_not_as_long_as_demands_the_opposite(triples_of: Triples) -> None:
    triples = triples_of(
        "Lavrov said Moscow would not sign any deal as long as the sanctions remained in place."
    )
    assert ("russia", "sanctions-on-russia", "oppose") in triples


def test_until_a_date_is_no_condition(triples_of: Triples) -> None:
    triples = triples_of("The Kremlin said it would observe a ceasefire until midnight on Sunday.")
    assert triples == {("russia", "ceasefire", "support")}


def test_a_fronted_if_clause_keeps_all_its_verbs(claims_of: Claims) -> None:
    claims = claims_of(
        "If Kyiv can agree to talks, sign a framework and hold elections, Marco Rubio said, "
        "the United States will resume military aid."
    )
    aid = _one(claims, "united-states", "military-aid-to-ukraine")
    assert aid.stance == "conditional"
    joined = " ".join(aid.conditions)
    assert "framework" in joined and "elections" in joined


def test_only_in_agreement_with_partners_is_a_condition(claims_of: Claims) -> None:
    claims = claims_of(
        "Friedrich Merz said he would supply cruise missiles, but only in agreement with allies."
    )
    assert _one(claims, "germany", "military-aid-to-ukraine").stance == "conditional"


def test_declining_to_send_soldiers_as_the_subject_is_not_opposition(triples_of: Triples) -> None:
    assert triples_of("Giorgia Meloni said Italy would not send soldiers to Ukraine.") == set()


def test_troops_of_a_warring_side_are_no_peacekeeping_force(triples_of: Triples) -> None:
    assert not any(
        topic == "peacekeeping-force"
        for _, topic, _ in triples_of("Moscow said it would send more Russian troops.")
    )


def test_degenerate_bodies_give_no_claims(extractor) -> None:
    from services.extraction.schemas import ArticleText

    for body in ["", "   \n\n", "?", "Привет, мир.", "\x00\x01", "Kyiv." * 3]:
        assert extractor.extract(ArticleText(body=body)) == []


def test_an_oversized_body_is_read_up_to_the_parser_limit(extractor) -> None:
    from services.extraction.schemas import ArticleText

    sentence = "Warsaw said it backed new sanctions on Russia.\n"
    body = sentence + "x " * (extractor.nlp.max_length // 2 + 10)
    claims = extractor.extract(ArticleText(body=body))
    assert [(c.actor, c.topic, c.stance) for c in claims] == [("poland", "sanctions-on-russia", "support")]
    assert body[claims[0].start : claims[0].end] == claims[0].quote


# -- later additions ------------------------------------------------------------------------


def test_stopping_strikes_on_energy_supports_the_partial_truce(triples_of: Triples) -> None:
    triples = triples_of("Vladimir Putin agreed to halt attacks on energy infrastructure for 30 days.")
    assert ("russia", "partial-ceasefire", "support") in triples


def test_in_principle_but_sets_terms(claims_of: Claims) -> None:
    claims = claims_of(
        "Dmitry Peskov said Moscow was open to a truce in principle, "
        "but that arms deliveries must stop first."
    )
    truce = _one(claims, "russia", "ceasefire")
    assert truce.stance == "conditional"
    assert _one(claims, "russia", "military-aid-to-ukraine").stance == "oppose"


def test_a_condition_noun_names_what_the_topic_requires(claims_of: Claims) -> None:
    claims = claims_of("Sergei Lavrov said an end to arms supplies was the main condition for any truce.")
    assert _one(claims, "russia", "ceasefire").stance == "conditional"


def test_a_position_listed_after_a_colon(triples_of: Triples) -> None:
    triples = triples_of("For now, the Kremlin's line is unchanged: no NATO troops, no NATO membership.")
    assert ("russia", "peacekeeping-force", "oppose") in triples
    assert ("russia", "ukraine-nato-membership", "oppose") in triples


def test_a_third_party_guess_is_not_reported(triples_of: Triples) -> None:
    assert triples_of("Analysts expect Moscow to reject the ceasefire.") == set()


def test_a_position_sourced_afterwards_belongs_to_the_subject(triples_of: Triples) -> None:
    triples = triples_of(
        "Leaders of the coalition of the willing agreed to plan a force for Ukraine, Keir Starmer said."
    )
    assert ("coalition-of-the-willing", "peacekeeping-force", "support") in triples
