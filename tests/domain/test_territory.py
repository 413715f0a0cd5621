from workflows.territory import WHOLE_DEPARTEMENT, canonical_territory, cantons, communes


def test_the_27_cantons_of_haute_garonne():
    names = cantons()
    assert len(names) == 27
    assert names[0] == "Auterive" and names[-1] == "Villemur-sur-Tarn"
    assert [n for n in names if n.startswith("Toulouse-")] == [
        f"Toulouse-{i}" for i in range(1, 12)
    ]


def test_the_586_communes_and_their_population():
    assert len(communes()) == 586
    assert sum(c.population for c in communes()) == 1_471_468


def test_territory_names_are_matched_whatever_their_case_or_accents():
    assert canonical_territory("cazeres") == "Cazères"
    assert canonical_territory("TOULOUSE-10") == "Toulouse-10"
    assert canonical_territory("haute garonne") == WHOLE_DEPARTEMENT
    assert canonical_territory("Toulouse") is None  # a commune, not a canton
    assert canonical_territory("") is None
