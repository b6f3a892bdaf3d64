import datetime as dt

import pandas as pd
import pytest

from matching.engine import Matcher
from matching.features import FEATURE_COLUMNS
from matching.outcomes import final_stages, list_proposals, outcome_rows, record_outcomes, training_frame


def test_outcome_rows_and_rejection_needs_a_reason():
    rows = outcome_rows("v1", ["a", "b"], "shortlisted", dt.date(2026, 1, 2), recorded_by="wgd")
    assert list(rows.columns) == ["id", "client_id", "vacancy_id", "date", "stage", "reason", "recorded_by"]
    assert rows["id"].is_unique and rows["stage"].eq("shortlisted").all()
    # recording the same event twice gives the same id (an update, not a duplicate)
    assert rows["id"].tolist() == outcome_rows("v1", ["a", "b"], "shortlisted", dt.date(2026, 1, 2))["id"].tolist()
    with pytest.raises(ValueError, match="needs a reason"):
        outcome_rows("v1", ["a"], "rejected")
    with pytest.raises(ValueError, match="unknown outcome stage"):
        outcome_rows("v1", ["a"], "ghosted")


def test_final_stage_and_training_frame(helpers):
    clients = helpers.frame([helpers.client("a", ["cook"], intake_date=dt.date(2025, 1, 1)), helpers.client("b", ["cook", "bake"])])
    vacancies = helpers.frame([helpers.vacancy("v", ["cook"])])
    m = Matcher(clients, vacancies, as_of=helpers.AS_OF)
    outcomes = pd.concat([
        outcome_rows("v", ["a", "b"], "proposed", dt.date(2025, 3, 1)),
        outcome_rows("v", ["a", "b"], "invited", dt.date(2025, 3, 10)),
        outcome_rows("v", ["a"], "hired", dt.date(2025, 3, 20)),
        outcome_rows("v", ["b"], "rejected", dt.date(2025, 3, 20), reason="employer chose other"),
        outcome_rows("v", ["ghost"], "proposed", dt.date(2025, 3, 1)),
    ])
    stages = final_stages(outcomes).set_index("client_id")
    assert stages.loc["a", "stage"] == "hired" and stages.loc["b", "stage"] == "rejected"
    tf = training_frame(outcomes, m.index)
    assert tf.attrs["dropped"] == 1  # the unknown client
    assert set(FEATURE_COLUMNS) <= set(tf.columns)
    assert tf.set_index("client_id")["hired"].to_dict() == {"a": 1, "b": 0}
    # features as of the first listing: two months after intake, not as of today
    a = tf.set_index("client_id").loc["a"]
    assert a["months_since_intake"] == pytest.approx(59 / 30.4375)


def test_proposals_of_a_list_are_recorded_in_storage(data_dir, helpers):
    from plein.storage import ImportValidationError, get_engine, import_frame, load_region, upgrade

    clients = helpers.frame([helpers.client("K1", ["cook"]), helpers.client("K2", ["cook"])])
    vacancies = helpers.frame([helpers.vacancy("V1", ["cook"])])
    engine = get_engine()
    upgrade(engine)
    import_frame(engine, "clients", clients.drop(columns=["work_history"]), taxonomy=None)
    import_frame(engine, "vacancies", vacancies, taxonomy=None)
    m = Matcher(clients, vacancies, as_of=helpers.AS_OF)
    lst = m.candidates_for_vacancy("V1")
    report = record_outcomes(engine, list_proposals(lst, date=helpers.AS_OF))
    assert report.inserted == 2
    record_outcomes(engine, outcome_rows("V1", ["K1"], "rejected", helpers.AS_OF, reason="no show"))
    stored = load_region(engine).outcomes
    assert sorted(stored["stage"]) == ["proposed", "proposed", "rejected"]
    assert stored.loc[stored["stage"] == "rejected", "reason"].iloc[0] == "no show"
    with pytest.raises(ImportValidationError):
        record_outcomes(engine, outcome_rows("V1", ["nobody"], "invited", helpers.AS_OF))
    assert len(load_region(engine).outcomes) == 3  # all or nothing
