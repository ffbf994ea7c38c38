"""Scores and head ratings: DOMAIN.md's worked example, then every rule and gate."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.rulebook import default_rulebooks_dir, load_rulebook
from workflow.scoring import (
    Assessment,
    Document,
    ScoredTask,
    Target,
    Tenure,
    Window,
    format_points,
    rate_heads,
    score_agencies,
)

D = date
YEAR = 2024
WINDOW = Window(D(2024, 1, 1), D(2024, 12, 31))
CUTOFF = D(2024, 12, 31)


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook(default_rulebooks_dir() / "rulebook_qd44_2019_haiphong.toml")


def task(task_id, deadline, completed=None, cancelled=None, leads=("SCT",)):
    return ScoredTask(task_id, tuple(leads), deadline, completed, cancelled)


def to_agency(code="SCT"):
    return Target("agency", code, None)


def to_head(code="SCT", person="Trịnh Thị B", field=None):
    return Target("head", code, person, field)


def doc(number, kind, issued_on, *targets, tasks=()):
    return Document(number, kind, issued_on, tuple(targets or (to_agency(),)), tuple(tasks))


def score_one(
    rulebook, tasks=(), documents=(), assessments=(), agency="SCT", window=WINDOW, cutoff=CUTOFF
):
    (result,) = score_agencies(tasks, documents, assessments, window, cutoff, rulebook, [agency])
    return result


def full_year(agency, person="Người đứng đầu"):
    return Tenure(agency, person, D(2020, 1, 1), None)


def by_head(ratings, person):
    (rating,) = [r for r in ratings if r.head == person]
    return rating


# -- the worked example of DOMAIN.md ---------------------------------------------------------

EXAMPLE_TASKS = [
    task("K1", D(2024, 1, 31), completed=D(2024, 1, 25)),
    task("K2", D(2023, 12, 15), completed=D(2024, 2, 10)),
    # Extension approved 20/05 (in time) to 30/06: the caller gives 30/06.
    task("K3", D(2024, 6, 30), completed=D(2024, 6, 28)),
    # Extension approved 05/08 (too late) to 31/08: the effective deadline stays 31/07.
    task("K4", D(2024, 7, 31), completed=D(2024, 8, 20)),
    task("K5", D(2024, 11, 30)),
    task("K6", None),
    task("K7", D(2024, 10, 31), cancelled=D(2024, 10, 1)),
]
DEPUTY = Target("deputy", "SCT", "Lê Văn C", "thương mại", cascaded=True)
EXAMPLE_DOCUMENTS = [
    doc("15/UBND-VP", "nhac_nho", D(2024, 3, 20), to_agency()),
    doc("12/TB-UBND", "phe_binh", D(2024, 9, 10), to_head(field="thương mại"), DEPUTY),
    doc(
        "40/TB-UBND", "phe_binh", D(2024, 11, 1), Target("deputy", "SCT", "Lê Văn C", "thương mại")
    ),
    doc("77/QĐ-UBND", "bieu_duong", D(2024, 6, 15), to_agency()),
]
EXAMPLE_TENURES = [
    Tenure("SCT", "Phan Văn A", D(2019, 8, 1), D(2024, 4, 30)),
    Tenure("SCT", "Trịnh Thị B", D(2024, 5, 1), None),
]


@pytest.fixture(scope="module")
def example_ratings(rulebook):
    return rate_heads(EXAMPLE_TASKS, EXAMPLE_DOCUMENTS, [], EXAMPLE_TENURES, YEAR, CUTOFF, rulebook)


def test_worked_example_head_a_is_listed_but_not_rated(example_ratings):
    a = by_head(example_ratings, "Phan Văn A")
    assert (a.rated, a.days_in_office, a.band, a.rank) == (False, 121, "KXL", None)
    assert (a.N, a.on_time, a.late, a.overdue) == (2, 1, 1, 0)
    assert Decimal("52.5") == a.T
    assert a.G == 30
    assert (a.deductions, a.bonus) == (2, 0)
    assert a.score == Decimal("80.50")
    assert str(a.score) == "80.50"
    assert (a.reminders, a.criticisms, a.commendations) == (1, 0, 0)
    assert a.band_label == "Không xếp loại"
    assert [t.task_id for t in a.tasks] == ["K2", "K1"]
    assert [t.decisive_on for t in a.tasks] == [D(2024, 1, 1), D(2024, 1, 25)]
    assert (
        "Giữ chức vụ 121 ngày trong năm 2024, ít hơn 183 ngày: Không xếp loại (KXL); "
        "số liệu chỉ để tham khảo." in a.explanation
    )
    assert "−2: nhắc nhở số 15/UBND-VP ngày 20/03/2024" in a.explanation
    assert a.explanation[-1] == "Sổ quy tắc: qd44-2019-haiphong phiên bản 1.0"


def test_worked_example_head_b_is_rated_ht(example_ratings):
    b = by_head(example_ratings, "Trịnh Thị B")
    assert (b.rated, b.days_in_office, b.band, b.rank) == (True, 245, "HT", 1)
    assert (b.N, b.on_time, b.late, b.overdue) == (3, 1, 1, 1)
    assert b.T == 35
    assert (b.G, b.deductions, b.bonus) == (30, 5, 2)
    assert b.score == Decimal("62.00")
    assert (b.reminders, b.criticisms, b.commendations) == (0, 1, 1)
    assert b.gates == ()
    assert b.band_label == "Hoàn thành nhiệm vụ"
    assert {t.task_id: t.decisive_on for t in b.tasks} == {
        "K3": D(2024, 6, 28),
        "K4": D(2024, 7, 31),
        "K5": D(2024, 11, 30),
    }
    explanation = "\n".join(b.explanation)
    assert "−5: phê bình số 12/TB-UBND ngày 10/09/2024" in explanation
    assert "+2: biểu dương số 77/QĐ-UBND ngày 15/06/2024" in explanation
    assert "40/TB-UBND" not in explanation  # the deputy's own phê bình reduces nobody rated
    assert "T = 70 × (1 + 0,5 × 1) / 3 = 35." in explanation
    assert "= 35 + 30 − 5 + 2 = 62,00." in explanation
    assert "Xếp loại: Hoàn thành nhiệm vụ (HT, S ≥ 50)." in explanation
    assert b.explanation[-1] == "Sổ quy tắc: qd44-2019-haiphong phiên bản 1.0"
    assert [r.head for r in example_ratings] == ["Trịnh Thị B", "Phan Văn A"]


def test_worked_example_agency_score(rulebook):
    sct = score_one(rulebook, EXAMPLE_TASKS, EXAMPLE_DOCUMENTS)
    assert (sct.N, sct.on_time, sct.late, sct.overdue) == (5, 2, 2, 1)
    assert sct.T == 42
    assert (sct.G, sct.deductions, sct.bonus) == (30, 7, 2)
    assert sct.score == Decimal("67.00")
    assert (sct.band, sct.band_label) == ("HT", "Hoàn thành nhiệm vụ")
    assert (sct.reminders, sct.criticisms, sct.commendations) == (1, 1, 1)
    assert "K6" not in {t.task_id for t in sct.tasks} and "K7" not in {t.task_id for t in sct.tasks}


def test_worked_example_explanation_lists_each_due_task_under_its_status(rulebook):
    sct = score_one(rulebook, EXAMPLE_TASKS, EXAMPLE_DOCUMENTS)
    assert sct.explanation[1:5] == (
        "Nhiệm vụ chủ trì đến hạn N = 5: 2 hoàn thành đúng hạn, 2 hoàn thành quá hạn, "
        "1 quá hạn chưa hoàn thành.",
        "Hoàn thành đúng hạn: K1 (hạn 31/01/2024, hoàn thành 25/01/2024); "
        "K3 (hạn 30/06/2024, hoàn thành 28/06/2024).",
        "Hoàn thành quá hạn: K2 (hạn 15/12/2023, hoàn thành 10/02/2024, chuyển từ trước kỳ); "
        "K4 (hạn 31/07/2024, hoàn thành 20/08/2024).",
        "Quá hạn chưa hoàn thành: K5 (hạn 30/11/2024).",
    )
    # A status no task has gets no line of its own.
    only_done = score_one(rulebook, done(1))
    assert not any(
        line.startswith(("Hoàn thành quá hạn", "Quá hạn chưa")) for line in only_done.explanation
    )


def test_results_are_json_ready(example_ratings, rulebook):
    b = by_head(example_ratings, "Trịnh Thị B").to_dict()
    text = json.dumps(b, ensure_ascii=False)
    assert json.loads(text)["score"] == 62.0
    assert b["T"] == 35.0 and b["N"] == 3 and b["rank"] == 1 and b["cutoff"] == "2024-12-31"
    assert b["rulebook"] == {"id": "qd44-2019-haiphong", "version": "1.0"}
    assert {
        "task_id": "K4",
        "status": "done_late",
        "deadline": "2024-07-31",
        "completed_on": "2024-08-20",
        "carried_over": False,
        "decisive_on": "2024-07-31",
    } in b["tasks"]
    assert {
        "number": "12/TB-UBND",
        "kind": "phe_binh",
        "issued_on": "2024-09-10",
        "points": -5.0,
    } in b["documents"]
    agency = score_one(rulebook, EXAMPLE_TASKS, EXAMPLE_DOCUMENTS).to_dict()
    json.dumps(agency)
    assert agency["window"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert agency["score"] == 67.0


# -- task results ------------------------------------------------------------------------------


MID_YEAR = D(2024, 6, 30)


def done(n, deadline=MID_YEAR, prefix="T"):
    return [task(f"{prefix}{i}", deadline, completed=deadline) for i in range(n)]


def late(n, deadline=MID_YEAR, prefix="L"):
    return [task(f"{prefix}{i}", deadline, completed=D(2024, 7, 15)) for i in range(n)]


def open_(n, deadline=MID_YEAR, prefix="O"):
    return [task(f"{prefix}{i}", deadline) for i in range(n)]


@pytest.mark.parametrize(
    ("tasks", "n", "t", "score"),
    [
        ([], 0, "70", "100.00"),  # N = 0: T is the maximum
        (done(1), 1, "70", "100.00"),
        (done(1) + late(1), 2, "52.5", "82.50"),
        (late(2), 2, "35", "65.00"),
        (done(2) + open_(1), 3, "46.67", "76.67"),  # 70 × 2/3 = 46.666… → 46.67
        (done(1) + open_(2), 3, "23.33", "53.33"),  # 23.333… → 23.33
        # 70 × 3/16 = 13.125 exactly; S = 43.125 → 43.13 half up (half-even gives 43.12).
        (done(3) + open_(13), 16, "13.13", "43.13"),
    ],
)
def test_task_results_and_rounding(rulebook, tasks, n, t, score):
    result = score_one(rulebook, tasks)
    assert n == result.N
    assert Decimal(t) == result.T
    assert result.score == Decimal(score)
    assert str(result.score) == score


def test_the_half_up_case_really_differs_from_bankers_rounding():
    assert round(43.125, 2) == 43.12


def test_rounding_is_explained(rulebook):
    result = score_one(rulebook, done(2) + open_(1))
    assert "Kết quả thực hiện nhiệm vụ T = 70 × (2 + 0,5 × 0) / 3 ≈ 46,67." in result.explanation
    assert (
        "Điểm S = T + G − trừ + thưởng = 46,67 + 30 − 0 + 0 = 76,67 "
        "(làm tròn 2 chữ số thập phân, nửa lên)." in result.explanation
    )


def test_no_deadline_and_cancelled_tasks_are_not_due(rulebook):
    result = score_one(
        rulebook,
        [
            task("A", None),
            task("B", None, completed=D(2024, 3, 1)),
            task("C", D(2024, 6, 30), cancelled=D(2024, 5, 1)),
            task("D", D(2024, 6, 30), cancelled=D(2024, 8, 1)),  # cancelled after its deadline
        ],
    )
    assert result.N == 0 and result.T == 70


def test_a_deadline_on_the_cutoff_day_still_open_counts_as_overdue(rulebook):
    result = score_one(rulebook, open_(1, deadline=CUTOFF))
    assert (result.N, result.overdue) == (1, 1)


def test_a_deadline_on_the_window_s_first_day_is_due_in_it_not_carried_over(rulebook):
    first = WINDOW.start
    result = score_one(rulebook, [task("open", first), task("done", first, completed=first)])
    assert [(t.task_id, t.status, t.carried_over) for t in result.tasks] == [
        ("done", "done_on_time", False),
        ("open", "overdue", False),
    ]
    assert "chuyển từ trước kỳ" not in "\n".join(result.explanation)


def test_deadlines_after_the_window_and_tasks_closed_before_it_are_not_due(rulebook):
    result = score_one(
        rulebook,
        [
            task("next-year", D(2025, 1, 15)),
            task("closed-2023", D(2023, 12, 1), completed=D(2023, 12, 20)),
            task("early", D(2024, 2, 28), completed=D(2023, 11, 30)),  # due in the window: counts
            # Completed on the window's first day: it was still open when the window began.
            task("new-year-day", D(2023, 12, 15), completed=D(2024, 1, 1)),
        ],
    )
    assert [t.task_id for t in result.tasks] == ["new-year-day", "early"]
    assert (result.on_time, result.late) == (1, 1)


def test_extension_semantics_are_the_callers(rulebook):
    # The same completion is on time against an in-time extension and late without it.
    extended = score_one(rulebook, [task("K3", D(2024, 6, 30), completed=D(2024, 6, 28))])
    refused = score_one(rulebook, [task("K3", D(2024, 5, 31), completed=D(2024, 6, 28))])
    assert (extended.on_time, extended.late) == (1, 0)
    assert (refused.on_time, refused.late) == (0, 1)


def test_two_lead_agencies_are_each_fully_accountable(rulebook):
    shared = [task("X1", D(2024, 6, 30), leads=("SXD", "STC"))]
    sxd, stc, sct = score_agencies(shared, [], [], WINDOW, CUTOFF, rulebook, ["SXD", "STC", "SCT"])
    assert (sxd.N, sxd.overdue, sxd.T) == (1, 1, 0)
    assert (stc.N, stc.overdue, stc.T) == (1, 1, 0)
    assert sct.N == 0


def test_each_outcome_goes_to_the_lead_of_its_decisive_date(rulebook):
    moved = ((D(2024, 1, 2), ("SXD",)), (D(2024, 6, 15), ("STC",)))
    tasks = [
        # Deadline 31/03 missed by SXD, reassigned 15/06, finished by STC on 20/06.
        ScoredTask("late", ("STC",), D(2024, 3, 31), D(2024, 6, 20), None, moved),
        # Moved before its deadline and finished in time: STC's.
        ScoredTask("on-time", ("STC",), D(2024, 7, 31), D(2024, 7, 20), None, moved),
        # Still open at the cut-off, overdue since 31/05 under SXD.
        ScoredTask("overdue", ("STC",), D(2024, 5, 31), None, None, moved),
    ]
    sxd, stc = score_agencies(tasks, [], [], WINDOW, CUTOFF, rulebook, ["SXD", "STC"])
    assert ([t.task_id for t in sxd.tasks], sxd.late, sxd.overdue) == (["late", "overdue"], 1, 1)
    assert ([t.task_id for t in stc.tasks], stc.on_time) == (["on-time"], 1)
    # The first quarter, whose cut-off came before the move, says the same of "late".
    (q1,) = score_agencies(
        tasks, [], [], Window(D(2024, 1, 1), D(2024, 3, 31)), D(2024, 3, 31), rulebook, ["SXD"]
    )
    assert [(t.task_id, t.status) for t in q1.tasks] == [("late", "overdue")]


# -- general criteria -------------------------------------------------------------------------


def test_latest_assessment_wins_and_other_years_are_ignored(rulebook):
    assessments = [
        Assessment("SCT", 2024, "phoi_hop", 5, "Phối hợp chậm"),
        Assessment("SCT", 2024, "phoi_hop", 7, "Đánh giá lại sau giải trình"),
        Assessment("SCT", 2023, "tham_muu", 0, "Năm trước"),
        Assessment("STC", 2024, "tham_muu", 0, "Cơ quan khác"),
        Assessment("SCT", 2024, "che_do_bao_cao", 8.5, "Báo cáo muộn 2 kỳ"),
    ]
    result = score_one(rulebook, [], [], assessments)
    assert Decimal("25.5") == result.G
    assert result.score == Decimal("95.50")
    line = next(x for x in result.explanation if x.startswith("Tiêu chí chung"))
    assert line == (
        "Tiêu chí chung G = 25,5: Chất lượng tham mưu 10; Phối hợp 7 (lý do: Đánh giá lại sau "
        "giải trình); Chế độ báo cáo 8,5 (lý do: Báo cáo muộn 2 kỳ)."
    )
    # Every assessment is in range and of a criterion the rulebook has: no note.
    text = "\n".join(result.explanation)
    assert "ngoài khoảng" not in text and "Bỏ qua" not in text


def test_assessments_outside_the_criterion_range_or_unknown_are_explained(rulebook):
    result = score_one(
        rulebook,
        [],
        [],
        [
            Assessment("SCT", 2024, "tham_muu", 12, "nhập nhầm"),
            Assessment("SCT", 2024, "chuyen_doi_so", 3, "chưa có trong sổ quy tắc"),
        ],
    )
    assert result.G == 30
    text = "\n".join(result.explanation)
    assert "Đánh giá 'Chất lượng tham mưu' = 12 ngoài khoảng 0–10: tính 10." in text
    assert "Bỏ qua đánh giá tiêu chí 'chuyen_doi_so'" in text


# -- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("documents", "deductions", "reminders", "criticisms"),
    [
        ([doc("1", "nhac_nho", D(2024, 2, 1))], 2, 1, 0),
        ([doc("1", "rut_kinh_nghiem", D(2024, 2, 1))], 2, 1, 0),
        ([doc("1", "phe_binh", D(2024, 2, 1))], 5, 0, 1),
        # One document naming the agency and its head counts once.
        ([doc("1", "phe_binh", D(2024, 2, 1), to_agency(), to_head())], 5, 0, 1),
        # Two documents count twice.
        ([doc("1", "phe_binh", D(2024, 2, 1)), doc("2", "phe_binh", D(2024, 3, 1))], 10, 0, 2),
        # Naming several of the agency's tasks does not multiply it.
        ([doc("1", "phe_binh", D(2024, 2, 1), to_head(), tasks=("K1", "K2", "K3"))], 5, 0, 1),
        # Only to a deputy, or to another individual: reported, not deducted.
        (
            [doc("1", "phe_binh", D(2024, 2, 1), Target("deputy", "SCT", "C", "thương mại"))],
            0,
            0,
            0,
        ),
        ([doc("1", "nhac_nho", D(2024, 2, 1), Target("person", "SCT", "Chuyên viên D"))], 0, 0, 0),
        # The deputy reached by the §2.8 cascade adds nothing to the head's phê bình.
        ([doc("1", "phe_binh", D(2024, 2, 1), to_head(field="thương mại"), DEPUTY)], 5, 0, 1),
        ([doc("1", "phe_binh", D(2024, 2, 1), DEPUTY)], 0, 0, 0),
        # Another agency's document, and documents outside the window.
        ([doc("1", "phe_binh", D(2024, 2, 1), to_agency("STC"))], 0, 0, 0),
        ([doc("1", "phe_binh", D(2023, 12, 31)), doc("2", "nhac_nho", D(2025, 1, 1))], 0, 0, 0),
    ],
)
def test_which_documents_count_and_how_often(
    rulebook, documents, deductions, reminders, criticisms
):
    result = score_one(rulebook, [], documents)
    assert result.deductions == deductions
    assert (result.reminders, result.criticisms) == (reminders, criticisms)
    assert result.score == 100 - deductions


def test_the_same_document_given_twice_counts_once(rulebook):
    result = score_one(rulebook, [], PB1 + PB1)
    assert (result.criticisms, result.deductions) == (1, 5)


@pytest.mark.parametrize("issued_on", [WINDOW.start, WINDOW.end])
def test_a_document_on_the_window_s_first_or_last_day_counts(rulebook, issued_on):
    result = score_one(rulebook, [], [doc("1/UBND", "nhac_nho", issued_on)])
    assert (result.reminders, result.deductions) == (1, 2)


def test_the_explanation_says_when_no_document_counted(rulebook):
    nothing = "Không có văn bản nhắc nhở, rút kinh nghiệm, phê bình hay biểu dương."
    assert nothing in score_one(rulebook).explanation
    reminded = score_one(rulebook, [], [doc("9/UBND", "nhac_nho", D(2024, 2, 1))])
    assert nothing not in reminded.explanation


@pytest.mark.parametrize(("count", "bonus"), [(1, 2), (3, 6), (4, 6), (10, 6)])
def test_bonus_is_capped(rulebook, count, bonus):
    documents = [doc(f"{i}/QĐ", "bieu_duong", D(2024, 5, 1 + i)) for i in range(count)]
    result = score_one(rulebook, done(1) + late(1), documents)
    assert (result.commendations, result.bonus) == (count, bonus)
    assert result.score == Decimal("82.5") + bonus
    capped = any("vượt mức tối đa 6" in line for line in result.explanation)
    assert capped == (count * 2 > 6)


def test_score_is_clamped_to_0_and_100(rulebook):
    praise = [doc(f"{i}/QĐ", "bieu_duong", D(2024, 5, 1 + i)) for i in range(3)]
    top = score_one(rulebook, [], praise)
    assert top.score == Decimal("100.00") and top.band == "HTXS"
    assert next(x for x in top.explanation if x.startswith("Điểm S")).endswith(
        "= 70 + 30 − 0 + 6 = 100,00 (tính được 106, giới hạn trong 0–100)."
    )
    zero_g = [
        Assessment("SCT", 2024, c, 0, "Không đạt")
        for c in ("tham_muu", "phoi_hop", "che_do_bao_cao")
    ]
    criticisms = [doc(f"{i}/TB", "phe_binh", D(2024, 5, 1 + i)) for i in range(3)]
    bottom = score_one(rulebook, open_(1), criticisms, zero_g)
    assert (bottom.T, bottom.G, bottom.deductions) == (0, 0, 15)
    assert bottom.score == Decimal("0.00") and bottom.band == "KHT"
    assert "= 0 + 0 − 15 + 0 = 0,00 (tính được −15, giới hạn trong 0–100)." in "\n".join(
        bottom.explanation
    )


def test_a_score_exactly_on_the_scale_s_ends_is_not_said_to_be_clamped(rulebook):
    top = score_one(rulebook)
    assert top.explanation[-3] == "Điểm S = T + G − trừ + thưởng = 70 + 30 − 0 + 0 = 100,00."
    zero_g = [
        Assessment("SCT", 2024, c, 0, "Không đạt")
        for c in ("tham_muu", "phoi_hop", "che_do_bao_cao")
    ]
    bottom = score_one(rulebook, open_(1), [], zero_g)
    assert "Điểm S = T + G − trừ + thưởng = 0 + 0 − 0 + 0 = 0,00." in bottom.explanation


# -- bands and gates --------------------------------------------------------------------------

PB1 = [doc("12/TB-UBND", "phe_binh", D(2024, 9, 10))]
PB2 = PB1 + [doc("20/TB-UBND", "phe_binh", D(2024, 10, 10))]
NN2 = [doc("3/UBND", "nhac_nho", D(2024, 2, 1)), doc("4/UBND", "nhac_nho", D(2024, 3, 1))]
PRAISE3 = [doc(f"{i}/QĐ", "bieu_duong", D(2024, 5, 1 + i)) for i in range(3)]


@pytest.mark.parametrize(
    ("tasks", "documents", "score", "band", "gates"),
    [
        ([], [], "100.00", "HTXS", ()),
        (done(19), [], "100.00", "HTXS", ()),
        # 19 on time, 1 overdue: 96.50, but an overdue task at C bars HTXS.
        (done(19) + open_(1), [], "96.50", "HTT", ("htxs_overdue",)),
        # One phê bình: 95.00, barred from HTXS.
        ([], PB1, "95.00", "HTT", ("htxs_phe_binh",)),
        # Both reasons at once are both reported.
        (done(19) + open_(1), PB1, "91.50", "HTT", ("htxs_overdue", "htxs_phe_binh")),
        # Two phê bình: at most HT (after the HTXS gate).
        ([], PB2, "90.00", "HT", ("htxs_phe_binh", "phe_binh_cap")),
        ([], PB2 + NN2, "86.00", "HT", ("phe_binh_cap",)),
        # Two phê bình on a score already in HT: nothing to cap.
        (late(2), PB2 + PRAISE3, "61.00", "HT", ()),
        # Completed share 1/4 < 0.5: KHT whatever the score.
        (done(1) + open_(3), PRAISE3, "53.50", "KHT", ("low_completion",)),
        # Exactly one half is not below 0.5.
        (done(1) + open_(1), [], "65.00", "HT", ()),
        # Scores on the thresholds.
        (done(2) + open_(1), NN2 + [doc("5/UBND", "nhac_nho", D(2024, 4, 1))], "70.67", "HTT", ()),
        (late(2), PB2 + [doc("30/TB", "phe_binh", D(2024, 4, 1))], "50.00", "HT", ()),
        (late(2), PB2 + [doc("30/TB", "phe_binh", D(2024, 4, 1))] + NN2[:1], "48.00", "KHT", ()),
        # Share 1/4 on a score already in KHT: the gate caps nothing, so it is not listed.
        (done(1) + open_(3), [], "47.50", "KHT", ()),
    ],
)
def test_bands_and_gates(rulebook, tasks, documents, score, band, gates):
    result = score_one(rulebook, tasks, documents)
    assert result.score == Decimal(score)
    assert result.band == band
    assert result.gates == gates


def test_gate_explanations_name_the_reason_and_the_cap(rulebook):
    overdue = score_one(rulebook, done(19) + open_(1))
    assert (
        "Có 1 nhiệm vụ quá hạn tại ngày 31/12/2024: không xếp Hoàn thành xuất sắc nhiệm vụ "
        "(tối đa Hoàn thành tốt nhiệm vụ)" in overdue.explanation
    )
    assert "Xếp loại theo điểm: Hoàn thành xuất sắc nhiệm vụ (HTXS, S ≥ 90)." in overdue.explanation
    assert overdue.explanation[-2] == "Xếp loại sau các điều kiện: Hoàn thành tốt nhiệm vụ (HTT)."
    twice = score_one(rulebook, [], PB2 + NN2)
    assert (
        "Bị phê bình 2 lần trong kỳ (từ 2 lần trở lên): không xếp Hoàn thành tốt nhiệm vụ "
        "(tối đa Hoàn thành nhiệm vụ)" in twice.explanation
    )
    low = score_one(rulebook, done(1) + open_(3), PRAISE3)
    assert "Tỷ lệ hoàn thành 1/4 dưới 0,5: xếp Không hoàn thành nhiệm vụ" in low.explanation


def test_the_htxs_criticism_gate_names_only_the_phe_binh_documents(rulebook):
    result = score_one(rulebook, [], PB1 + NN2[:1])
    assert result.gates == ("htxs_phe_binh",)
    assert (
        "Bị phê bình trong kỳ (số 12/TB-UBND): không xếp Hoàn thành xuất sắc nhiệm vụ "
        "(tối đa Hoàn thành tốt nhiệm vụ)" in result.explanation
    )


@pytest.mark.parametrize(
    ("switch", "tasks", "documents", "score"),
    [
        ("htxs_requires_no_overdue", done(19) + open_(1), [], "96.50"),
        ("htxs_requires_no_phe_binh", [], PB1, "95.00"),
    ],
)
def test_a_rulebook_may_switch_an_htxs_gate_off(rulebook, switch, tasks, documents, score):
    book = replace(rulebook, gates=replace(rulebook.gates, **{switch: False}))
    result = score_one(book, tasks, documents)
    assert (result.score, result.band, result.gates) == (Decimal(score), "HTXS", ())


# -- the cut-off ------------------------------------------------------------------------------


def test_as_of_a_cutoff_before_the_window_end(rulebook):
    cutoff = D(2024, 6, 30)
    tasks = [
        task("due-later", D(2024, 9, 30)),
        task("done-after-cutoff", D(2024, 5, 31), completed=D(2024, 7, 15)),
        task("cancelled-after-cutoff", D(2024, 6, 15), cancelled=D(2024, 8, 1)),
        task("done-in-time", D(2024, 3, 31), completed=D(2024, 3, 30)),
    ]
    documents = [doc("1", "phe_binh", D(2024, 8, 1)), doc("2", "nhac_nho", D(2024, 6, 30))]
    result = score_one(rulebook, tasks, documents, cutoff=cutoff)
    assert {t.task_id: t.status for t in result.tasks} == {
        "done-after-cutoff": "overdue",
        "cancelled-after-cutoff": "overdue",
        "done-in-time": "done_on_time",
    }
    assert (result.criticisms, result.reminders, result.deductions) == (0, 1, 2)
    assert "số liệu đến ngày 30/06/2024" in result.explanation[0]
    # T = 70 × 1/3 = 23.33…; S = 51.33…; share 1/3 → KHT.
    assert result.score == Decimal("51.33") and result.band == "KHT"


def test_what_happens_on_the_cutoff_day_has_happened(rulebook):
    cutoff = D(2024, 6, 30)
    tasks = [
        task("done-on-cutoff", D(2024, 5, 31), completed=cutoff),
        task("due-and-done-on-cutoff", cutoff, completed=cutoff),
        task("cancelled-on-cutoff", D(2024, 5, 31), cancelled=cutoff),
    ]
    result = score_one(rulebook, tasks, cutoff=cutoff)
    assert {t.task_id: t.status for t in result.tasks} == {
        "done-on-cutoff": "done_late",
        "due-and-done-on-cutoff": "done_on_time",
    }


def test_heads_as_of_an_earlier_cutoff(rulebook):
    tenures = EXAMPLE_TENURES + [Tenure("STC", "Người mới", D(2024, 9, 1), None)]
    ratings = rate_heads(
        EXAMPLE_TASKS, EXAMPLE_DOCUMENTS, [], tenures, YEAR, D(2024, 6, 30), rulebook
    )
    assert [r.head for r in ratings] == ["Trịnh Thị B", "Phan Văn A"]
    b = by_head(ratings, "Trịnh Thị B")
    # Still head: counted to the year's end; not yet appointed at the cut-off: left out.
    assert (b.days_in_office, b.rated) == (245, True)
    # As of 30/06 only K3 (28/06) is B's; the phê bình of 10/09 has not happened.
    assert (b.N, b.on_time, b.criticisms, b.commendations) == (1, 1, 0, 1)
    assert b.score == Decimal("100.00")


# -- attribution to heads --------------------------------------------------------------------


def test_carried_over_work_goes_to_the_head_at_the_window_start(rulebook):
    tenures = [
        Tenure("SCT", "Cũ", D(2018, 1, 1), D(2024, 1, 10)),
        Tenure("SCT", "Mới", D(2024, 1, 11), None),
    ]
    tasks = [
        task("carried-late", D(2023, 12, 15), completed=D(2024, 2, 10)),
        task("carried-open", D(2023, 11, 30)),
        task("closed-in-2023", D(2023, 11, 30), completed=D(2023, 12, 20)),
    ]
    ratings = rate_heads(tasks, [], [], tenures, YEAR, CUTOFF, rulebook)
    old, new = by_head(ratings, "Cũ"), by_head(ratings, "Mới")
    assert (old.N, old.late, old.overdue) == (2, 1, 1)
    assert all(t.carried_over and t.decisive_on == D(2024, 1, 1) for t in old.tasks)
    assert new.N == 0
    assert (old.days_in_office, new.days_in_office) == (10, 356)


def test_an_early_completion_before_the_window_goes_to_the_head_at_its_start(rulebook):
    tenures = [
        Tenure("SCT", "Cũ", D(2018, 1, 1), D(2023, 12, 31)),
        Tenure("SCT", "Mới", D(2024, 1, 1), None),
    ]
    ratings = rate_heads(
        [task("early", D(2024, 1, 31), completed=D(2023, 12, 20))],
        [],
        [],
        tenures,
        YEAR,
        CUTOFF,
        rulebook,
    )
    assert [r.head for r in ratings] == ["Mới"]
    assert ratings[0].on_time == 1


def test_documents_go_to_the_head_on_their_date(rulebook):
    documents = [
        doc("1", "phe_binh", D(2024, 4, 30), to_head(person="Phan Văn A")),
        doc("2", "phe_binh", D(2024, 5, 1), to_agency()),
        doc("3", "bieu_duong", D(2024, 5, 2), to_agency(), to_head()),
    ]
    ratings = rate_heads([], documents, [], EXAMPLE_TENURES, YEAR, CUTOFF, rulebook)
    a, b = by_head(ratings, "Phan Văn A"), by_head(ratings, "Trịnh Thị B")
    assert (a.criticisms, a.deductions, a.commendations) == (1, 5, 0)
    assert (b.criticisms, b.deductions, b.commendations, b.bonus) == (1, 5, 1, 2)


def test_an_outcome_while_the_post_is_vacant_is_nobodys(rulebook):
    tenures = [
        Tenure("SCT", "Cũ", D(2018, 1, 1), D(2024, 3, 31)),
        Tenure("SCT", "Mới", D(2024, 5, 1), None),
    ]
    tasks = [task("vacant", D(2024, 4, 15))]
    ratings = rate_heads(tasks, [], [], tenures, YEAR, CUTOFF, rulebook)
    assert sum(r.N for r in ratings) == 0
    assert score_one(rulebook, tasks).N == 1


@pytest.mark.parametrize(
    ("year", "end", "days", "rated"),
    [
        (2024, D(2024, 7, 1), 183, True),  # leap year: 01/01–01/07 is 183 days
        (2023, D(2023, 7, 1), 182, False),  # the same dates in 2023 are 182
        (2023, D(2023, 7, 2), 183, True),
        (2024, D(2024, 6, 30), 182, False),
    ],
)
def test_minimum_tenure_and_leap_years(rulebook, year, end, days, rated):
    tenures = [Tenure("SCT", "X", D(2010, 1, 1), end)]
    (rating,) = rate_heads([], [], [], tenures, year, D(year, 12, 31), rulebook)
    assert (rating.days_in_office, rating.rated) == (days, rated)
    assert rating.band == ("HTXS" if rated else "KXL")
    assert rating.rank == (1 if rated else None)
    assert rating.score == 100


def test_a_head_replaced_the_day_after_the_cutoff_is_still_in_office_as_of_it(rulebook):
    # B is appointed from 01/07/2024, so A's term ends on 30/06. As of 30/06 the
    # appointment has not happened yet: A is a sitting head, as A is as of 29/06.
    tenures = [
        Tenure("SCT", "Phan Văn A", D(2020, 1, 1), D(2024, 6, 30)),
        Tenure("SCT", "Trịnh Thị B", D(2024, 7, 1), None),
    ]
    for cutoff in (D(2024, 6, 29), D(2024, 6, 30)):
        (a,) = rate_heads([], [], [], tenures, YEAR, cutoff, rulebook)
        assert (a.head, a.days_in_office, a.rated) == ("Phan Văn A", 366, True), cutoff


def test_overlapping_tenure_records_are_not_counted_twice(rulebook):
    tenures = [
        Tenure("SCT", "X", D(2024, 1, 1), D(2024, 8, 31)),
        Tenure("SCT", "X", D(2024, 6, 1), None),
    ]
    (rating,) = rate_heads([], [], [], tenures, YEAR, CUTOFF, rulebook)
    assert rating.days_in_office == 366


_DAY_OFFSETS = st.integers(min_value=-60, max_value=400)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_DAY_OFFSETS, st.integers(min_value=0, max_value=200)), max_size=5))
def test_days_in_office_are_the_distinct_days_of_the_records(rulebook, records):
    """Records of one head that overlap, nest, touch or leave gaps: every day of the
    year inside one of them counts, once."""
    start_of_year = D(YEAR, 1, 1)
    tenures = [
        Tenure("SCT", "X", start_of_year + timedelta(days=s), start_of_year + timedelta(days=s + n))
        for s, n in records
    ]
    expected = {
        day
        for tenure in tenures
        for i in range((tenure.end - tenure.start).days + 1)
        if (day := tenure.start + timedelta(days=i)).year == YEAR
    }
    ratings = rate_heads([], [], [], tenures, YEAR, CUTOFF, rulebook)
    assert [r.days_in_office for r in ratings] == ([len(expected)] if expected else [])


def test_each_head_of_the_agency_gets_its_assessed_general_criteria(example_ratings, rulebook):
    assessments = [Assessment("SCT", 2024, "phoi_hop", 6, "Phối hợp chưa tốt")]
    ratings = rate_heads(
        EXAMPLE_TASKS, EXAMPLE_DOCUMENTS, assessments, EXAMPLE_TENURES, YEAR, CUTOFF, rulebook
    )
    assert [r.G for r in ratings] == [26, 26]
    assert by_head(ratings, "Trịnh Thị B").score == Decimal("58.00")


# -- ranking ----------------------------------------------------------------------------------

NN1 = [doc("9/UBND", "nhac_nho", D(2024, 2, 1))]
PB_1 = [doc("8/TB", "phe_binh", D(2024, 2, 1))]


@pytest.mark.parametrize(
    ("case", "p", "q", "first"),
    [
        # (tasks, documents, points taken off G) for agency P (code AAA) and Q (code ZZZ).
        ("higher score", ([], NN1, 0), ([], [], 0), "ZZZ"),
        # Equal 65: P has 1 overdue (and fewer late), Q none → Q first.
        ("fewer overdue", (done(1) + open_(1), [], 0), (late(1), [], 0), "ZZZ"),
        # Equal 65, no overdue: Q has fewer late though P has the larger N.
        ("fewer late", (late(2), [], 0), (late(1), [], 0), "ZZZ"),
        # Equal 95: P has a phê bình; Q has none but a nhắc nhở.
        ("fewer phê bình", ([], PB_1, 0), ([], NN1, 3), "ZZZ"),
        # Equal 98: P has a nhắc nhở and the larger N; Q has neither.
        ("fewer nhắc nhở", (done(1), NN1, 0), ([], [], 2), "ZZZ"),
        ("larger N", (done(1), [], 0), (done(2), [], 0), "ZZZ"),
        ("agency code", (done(1), [], 0), (done(1), [], 0), "AAA"),
    ],
)
def test_tie_breaks_in_order(rulebook, case, p, q, first):
    def build(agency, spec):
        tasks, documents, off_g = spec
        tasks = [
            task(
                f"{agency}-{t.task_id}",
                t.effective_deadline,
                t.completed_on,
                t.cancelled_on,
                leads=(agency,),
            )
            for t in tasks
        ]
        documents = [doc(d.number, d.kind, d.issued_on, to_agency(agency)) for d in documents]
        assessments = [Assessment(agency, YEAR, "phoi_hop", 10 - off_g, "để bằng điểm")]
        return tasks, documents, assessments

    tp, dp, ap = build("AAA", p)
    tq, dq, aq = build("ZZZ", q)
    tenures = [full_year("AAA", "Ông P"), full_year("ZZZ", "Bà Q")]
    ratings = rate_heads(tp + tq, dp + dq, ap + aq, tenures, YEAR, CUTOFF, rulebook)
    if case != "higher score":
        assert ratings[0].score == ratings[1].score, case
    assert ratings[0].agency == first, case
    assert [r.rank for r in ratings] == [1, 2]


def test_equal_heads_of_one_agency_get_unique_ranks_by_name(rulebook):
    # 2024 has 366 days: two halves of 183 days are both rated, with equal figures.
    tenures = [
        Tenure("SCT", "Nguyễn Văn Bình", D(2024, 1, 1), D(2024, 7, 1)),
        Tenure("SCT", "Nguyễn Văn An", D(2024, 7, 2), None),
    ]
    ratings = rate_heads([], [], [], tenures, YEAR, CUTOFF, rulebook)
    assert [(r.head, r.days_in_office, r.rank) for r in ratings] == [
        ("Nguyễn Văn An", 183, 1),
        ("Nguyễn Văn Bình", 183, 2),
    ]


def test_unrated_heads_come_after_the_ranked_ones(rulebook):
    tenures = [full_year("ZZZ", "Bà Q"), Tenure("AAA", "Ông P", D(2024, 10, 1), None)]
    ratings = rate_heads([], [], [], tenures, YEAR, CUTOFF, rulebook)
    assert [(r.agency, r.rank) for r in ratings] == [("ZZZ", 1), ("AAA", None)]


def test_gates_cap_a_rated_head_and_are_not_applied_to_one_not_rated(rulebook):
    # The same figures for both (96.50 with an overdue task): a gate caps the rated
    # head's band; the head not rated (92 days in office) has no band to cap.
    november = D(2024, 11, 30)
    tasks = [
        task(f"{agency}-{t.task_id}", t.effective_deadline, t.completed_on, leads=(agency,))
        for agency in ("AAA", "ZZZ")
        for t in done(19, deadline=november) + open_(1, deadline=november)
    ]
    tenures = [full_year("ZZZ", "Bà Q"), Tenure("AAA", "Ông P", D(2024, 10, 1), None)]
    q, p = rate_heads(tasks, [], [], tenures, YEAR, CUTOFF, rulebook)
    assert (q.head, q.score, q.band, q.gates) == (
        "Bà Q",
        Decimal("96.50"),
        "HTT",
        ("htxs_overdue",),
    )
    assert (p.head, p.score, p.band, p.gates) == ("Ông P", Decimal("96.50"), "KXL", ())


# -- inputs and helpers ----------------------------------------------------------------------


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="Kỳ đánh giá không hợp lệ"):
        Window(D(2024, 2, 1), D(2024, 1, 1))
    # One day is a period (score --from D --to D).
    assert D(2024, 2, 1) in Window(D(2024, 2, 1), D(2024, 2, 1))
    with pytest.raises(ValueError, match="Loại văn bản 'khen_thuong'"):
        Document("1", "khen_thuong", D(2024, 1, 1), ())
    with pytest.raises(ValueError, match="Loại nơi nhận 'ban'"):
        Target("ban", "SCT", None)


def test_points_are_written_the_vietnamese_way():
    assert format_points(Decimal("52.50")) == "52,5"
    assert format_points(35) == "35"
    assert format_points(-2) == "−2"
