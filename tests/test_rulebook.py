"""The rulebook file: what it holds, that it agrees with DOMAIN.md, and what it refuses."""

from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from workflow.rulebook import (
    Rulebook,
    RulebookError,
    default_rulebooks_dir,
    load_rulebook,
    parse_rulebook,
    rulebook_in_force,
    rulebook_in_force_if_any,
    rulebook_spans,
)

DEFAULT_FILE = default_rulebooks_dir() / "rulebook_qd44_2019_haiphong.toml"
DOMAIN_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "DOMAIN.md"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def book() -> Rulebook:
    return load_rulebook(DEFAULT_FILE)


def raw() -> dict:
    with DEFAULT_FILE.open("rb") as handle:
        return tomllib.load(handle)


# -- the default file -------------------------------------------------------------------


def test_default_file_holds_the_modelled_qd44_rules(book):
    assert book.id == "qd44-2019-haiphong"
    assert book.version == "1.0"
    assert book.effective_from == date(2019, 12, 20)
    assert book.effective_to is None
    assert book.task_results.max == 70
    assert book.task_results.late_weight == Decimal("0.5")
    assert book.task_results.when_no_tasks == 70
    assert [(c.code, c.label, c.max) for c in book.general_criteria] == [
        ("tham_muu", "Chất lượng tham mưu", 10),
        ("phoi_hop", "Phối hợp", 10),
        ("che_do_bao_cao", "Chế độ báo cáo", 10),
    ]
    assert (book.deductions.nhac_nho, book.deductions.rut_kinh_nghiem) == (2, 2)
    assert book.deductions.phe_binh == 5
    assert (book.bonus.bieu_duong, book.bonus.cap) == (2, 6)
    assert (book.score.min, book.score.max, book.score.decimals) == (0, 100, 2)
    assert book.score.rounding == "half_up"
    assert book.bands.thresholds == (("HTXS", 90), ("HTT", 70), ("HT", 50))
    assert book.bands.label("HTXS") == "Hoàn thành xuất sắc nhiệm vụ"
    assert book.bands.label("HTT") == "Hoàn thành tốt nhiệm vụ"
    assert book.bands.label("HT") == "Hoàn thành nhiệm vụ"
    assert book.bands.label("KHT") == "Không hoàn thành nhiệm vụ"
    assert book.bands.label("KXL") == "Không xếp loại"
    gates = book.gates
    assert gates.htxs_requires_no_overdue and gates.htxs_requires_no_phe_binh
    assert gates.htxs_fallback == "HTT"
    assert (gates.phe_binh_count, gates.phe_binh_cap) == (2, "HT")
    assert (gates.min_completed_share, gates.low_share_band) == (Decimal("0.5"), "KHT")
    assert book.min_tenure_days == 183
    assert [(t.key, t.descending) for t in book.tie_breaks] == [
        ("score", True),
        ("overdue", False),
        ("late", False),
        ("criticisms", False),
        ("reminders", False),
        ("n", True),
        ("agency", False),
    ]
    ladder = book.escalation
    assert (ladder.reminder_working_days, ladder.reminder_label) == (3, "Nhắc hạn")
    assert [(s.level, s.days_overdue, s.label) for s in ladder.levels] == [
        (1, 1, "Đôn đốc"),
        (2, 7, "Đề xuất nhắc nhở"),
        (3, 15, "Đề xuất phê bình"),
    ]
    assert book.cascade_phe_binh_to_deputy is True
    # From the notice's date (TB 129/TB-UBND of 05/04/2023), not before.
    assert book.cascade_phe_binh_from == date(2023, 4, 5)
    assert not book.cascades_phe_binh_to_deputy(date(2023, 4, 4))
    assert book.cascades_phe_binh_to_deputy(date(2023, 4, 5))
    assert book.name == "qd44-2019-haiphong phiên bản 1.0"


def test_default_file_names_its_sources(book):
    documents = {s.key: s.document for s in book.sources}
    assert "Quyết định 44/2019/QĐ-UBND ngày 10/12/2019" in documents["qd44_2019"]
    assert "Nghị định 90/2020/NĐ-CP" in documents["nd90_2020"]
    assert "Nghị định 335/2025/NĐ-CP" in documents["nd335_2025"]
    assert "Thông báo 129/TB-UBND" in documents["tb129_2023"]
    assert "§2.8" in next(s.supports for s in book.sources if s.key == "tb129_2023")
    # The gazette text of QĐ 44/2019 was not obtained, and the file says so.
    assert not next(s for s in book.sources if s.key == "qd44_2019").text_obtained


def test_every_parameter_says_where_it_comes_from_and_whether_it_is_modelled(book):
    keys = {s.key for s in book.sources}
    assert len(book.parameters) >= 30
    for parameter in book.parameters:
        assert parameter.sources and set(parameter.sources) <= keys, parameter.name
        assert parameter.note, parameter.name
    # Read from a document's text: the cascade and its start (seed 000, §2.8), and the
    # heads rated (the title of QĐ 44/2019).
    read = [p.name for p in book.parameters if not p.modelled]
    assert read == [
        "cascade.phe_binh_head_to_deputy",
        "cascade.phe_binh_head_to_deputy_from",
        "scope.rated_kinds",
    ]
    assert book.rated_kinds == ("so", "quan-huyen", "don-vi-su-nghiep")
    assert book.parameter("deductions.phe_binh").sources == ("qd44_2019",)
    assert book.parameter("bands.HTT").sources == ("nd335_2025",)
    assert book.parameter("tenure.min_days").sources == ("nd90_2020",)


# -- the default file and DOMAIN.md agree ---------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> str:
    if not DOMAIN_FILE.exists():
        if IN_CI:
            pytest.fail(f"{DOMAIN_FILE} is missing (CI=true: it must be there)")
        pytest.skip(f"{DOMAIN_FILE} not found")
    text = DOMAIN_FILE.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", text.replace("**", ""))


def find(domain: str, pattern: str) -> tuple[str, ...]:
    match = re.search(pattern, domain)
    assert match, f"DOMAIN.md no longer says: {pattern}"
    return match.groups()


def test_task_results_agree_with_domain(domain, book):
    top, factor, weight, when_none = find(
        domain,
        r"Task results T \(max (\d+)\) = (\d+) × \(on_time \+ ([\d.]+) × late\) / N; "
        r"T = (\d+) when N = 0",
    )
    assert book.task_results.max == Decimal(top) == Decimal(factor)
    assert book.task_results.late_weight == Decimal(weight)
    assert book.task_results.when_no_tasks == Decimal(when_none)


def test_general_criteria_agree_with_domain(domain, book):
    total, each = find(domain, r"General criteria G \(max (\d+)\) = three criteria of (\d+) points")
    find(
        domain,
        r"quality of advice \(chất lượng tham mưu\), coordination \(phối hợp\), "
        r"reporting discipline \(chế độ báo cáo\)",
    )
    assert book.general_max == Decimal(total)
    assert [c.max for c in book.general_criteria] == [Decimal(each)] * 3
    assert [c.label.lower() for c in book.general_criteria] == [
        "chất lượng tham mưu",
        "phối hợp",
        "chế độ báo cáo",
    ]


def test_deductions_and_bonus_agree_with_domain(domain, book):
    reminder, criticism = find(
        domain, r"(\d+) points per nhắc nhở or rút kinh nghiệm document, (\d+) per phê bình"
    )
    assert book.deductions.nhac_nho == book.deductions.rut_kinh_nghiem == Decimal(reminder)
    assert book.deductions.phe_binh == Decimal(criticism)
    each, cap = find(domain, r"(\d+) points per biểu dương document, at most (\d+) in a window")
    assert (book.bonus.bieu_duong, book.bonus.cap) == (Decimal(each), Decimal(cap))


def test_scale_bands_and_gates_agree_with_domain(domain, book):
    low, high = find(domain, r"clamped to (\d+)\.\.(\d+) and rounded to two decimals \(half up\)")
    assert (book.score.min, book.score.max) == (Decimal(low), Decimal(high))
    assert (book.score.decimals, book.score.rounding) == (2, "half_up")
    htxs, htt, ht, kht = find(
        domain,
        r"HTXS \(hoàn thành xuất sắc\) S ≥ (\d+); HTT \(hoàn thành tốt\) S ≥ (\d+); "
        r"HT \(hoàn thành\) S ≥ (\d+); KHT \(không hoàn thành\) S < (\d+)",
    )
    assert book.bands.thresholds == (
        ("HTXS", Decimal(htxs)),
        ("HTT", Decimal(htt)),
        ("HT", Decimal(ht)),
    )
    assert ht == kht
    find(domain, r"bands 90/70/50")
    fallback, cap, share, low_band = find(
        domain,
        r"HTXS also needs no `overdue` task at C and no phê bình in the window, otherwise "
        r"at most (\w+); two or more phê bình: at most (\w+); completed share "
        r"\(on_time \+ late\) / N below ([\d.]+) \(N > 0\): (\w+)",
    )
    gates = book.gates
    assert gates.htxs_requires_no_overdue and gates.htxs_requires_no_phe_binh
    assert (gates.htxs_fallback, gates.phe_binh_count, gates.phe_binh_cap) == (fallback, 2, cap)
    assert (gates.min_completed_share, gates.low_share_band) == (Decimal(share), low_band)


def test_tenure_ranking_and_dates_agree_with_domain(domain, book):
    (days,) = find(domain, r"fewer than (\d+) days of the year")
    assert book.min_tenure_days == int(days)
    (effective,) = find(domain, r"of 10/12/2019 \(effective (\d\d/\d\d/\d{4})")
    assert book.effective_from.strftime("%d/%m/%Y") == effective
    (order,) = find(domain, r"Ranking tie-breaks: ([^.]+)\.")
    words = {
        "higher S": ("score", True),
        "fewer overdue": ("overdue", False),
        "fewer late": ("late", False),
        "fewer phê bình": ("criticisms", False),
        "fewer nhắc nhở/rút kinh nghiệm": ("reminders", False),
        "larger N": ("n", True),
        "then agency code": ("agency", False),
    }
    assert [(t.key, t.descending) for t in book.tie_breaks] == [
        words[item.strip()] for item in order.split(";")
    ]


def test_escalation_ladder_agrees_with_domain(domain, book):
    (reminder,) = find(domain, r"(\d+) working days before the deadline: a deadline reminder")
    find(domain, r"The day after the deadline, still open: overdue, urging \(đôn đốc\), level 1")
    (level_2,) = find(domain, r"(\d+) days overdue: level 2, a proposal to issue nhắc nhở")
    (level_3,) = find(domain, r"(\d+) days overdue: level 3, a proposal to issue phê bình")
    ladder = book.escalation
    assert ladder.reminder_working_days == int(reminder)
    assert [s.days_overdue for s in ladder.levels] == [1, int(level_2), int(level_3)]


# -- what the loader refuses ---------------------------------------------------------------

NUMBER_PARAMETERS = [
    "task_results.max",
    "task_results.late_weight",
    "task_results.when_no_tasks",
    "general_criteria.tham_muu",
    "general_criteria.phoi_hop",
    "general_criteria.che_do_bao_cao",
    "deductions.nhac_nho",
    "deductions.rut_kinh_nghiem",
    "deductions.phe_binh",
    "bonus.bieu_duong",
    "bonus.cap",
    "score.min",
    "score.max",
    "score.decimals",
    "bands.HTXS",
    "bands.HTT",
    "bands.HT",
    "gates.phe_binh_count",
    "gates.min_completed_share",
    "tenure.min_days",
    "escalation.reminder_working_days",
    "escalation.level_1_days_overdue",
    "escalation.level_2_days_overdue",
    "escalation.level_3_days_overdue",
]
OTHER_PARAMETERS = [
    "score.rounding",
    "gates.htxs_requires_no_overdue",
    "gates.htxs_requires_no_phe_binh",
    "gates.htxs_fallback",
    "gates.phe_binh_cap",
    "gates.low_share_band",
    "ranking.order",
    "cascade.phe_binh_head_to_deputy",
    "cascade.phe_binh_head_to_deputy_from",
    "scope.rated_kinds",
    "band_labels.HTXS",
    "band_labels.KXL",
]
REQUIRED_HEADERS = ["id", "title", "version", "effective_from"]


def without(data: dict, name: str) -> dict:
    data = copy.deepcopy(data)
    *path, last = name.split(".")
    node = data
    for part in path:
        node = node[part]
    del node[last]
    return data


def with_value(data: dict, name: str, value) -> dict:
    data = copy.deepcopy(data)
    *path, last = name.split(".")
    node = data
    for part in path:
        node = node[part]
    if isinstance(node[last], dict):
        node[last]["value"] = value
    else:
        node[last] = value
    return data


def refused(data: dict) -> RulebookError:
    with pytest.raises(RulebookError) as caught:
        parse_rulebook(data, origin="thử.toml")
    assert isinstance(caught.value, ValueError)
    assert "thử.toml" in str(caught.value)
    return caught.value


def test_every_parameter_of_the_default_file_is_in_these_tables(book):
    listed = set(NUMBER_PARAMETERS + OTHER_PARAMETERS)
    assert {p.name for p in book.parameters} - listed == set()


CRITERIA = [name for name in NUMBER_PARAMETERS if name.startswith("general_criteria.")]
# A book written before the parameter existed is still read.
OPTIONAL_PARAMETERS = ["cascade.phe_binh_head_to_deputy_from", "scope.rated_kinds"]


def test_without_a_scope_the_heads_of_every_kind_of_agency_are_rated():
    book = parse_rulebook(without(raw(), "scope.rated_kinds"), origin="t")
    assert book.rated_kinds is None and book.rates_heads_of("khac")
    scoped = parse_rulebook(raw(), origin="t")
    assert not scoped.rates_heads_of("khac")
    assert all(scoped.rates_heads_of(kind) for kind in ("so", "quan-huyen", "don-vi-su-nghiep"))


def test_without_a_start_the_cascade_applies_whenever_the_book_does():
    book = parse_rulebook(without(raw(), "cascade.phe_binh_head_to_deputy_from"), origin="t")
    assert book.cascade_phe_binh_from is None
    assert book.cascades_phe_binh_to_deputy(date(2020, 1, 2))
    book = parse_rulebook(with_value(raw(), "cascade.phe_binh_head_to_deputy", False), origin="t")
    assert not book.cascades_phe_binh_to_deputy(date(2024, 1, 2))


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in NUMBER_PARAMETERS + OTHER_PARAMETERS + REQUIRED_HEADERS
        if n not in CRITERIA and n not in OPTIONAL_PARAMETERS
    ],
)
def test_a_missing_parameter_is_refused_by_name(name):
    error = refused(without(raw(), name))
    assert f"Sổ quy tắc thiếu tham số '{name}'" in str(error)
    assert error.parameter == name


@pytest.mark.parametrize("name", CRITERIA)
def test_a_missing_general_criterion_is_refused_by_the_total(name):
    # The set of criteria is data (an amendment may add one), so a missing one shows
    # as T + G no longer filling the 100-point scale; the message lists those present.
    error = refused(without(raw(), name))
    assert "'task_results.max' + 'general_criteria' = 90, phải bằng 'score.max' = 100" in str(error)
    assert name not in str(error)
    assert error.parameter == "general_criteria"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("escalation.reminder_working_days", 1),
        ("escalation.reminder_working_days", 60),
        ("escalation.level_3_days_overdue", 366),
        ("tenure.min_days", 0),
        ("tenure.min_days", 366),
        ("gates.phe_binh_count", 1),
        ("gates.phe_binh_count", 100),
        ("bonus.bieu_duong", 0),
        ("bonus.cap", 0),
        ("score.decimals", 0),
        ("score.decimals", 6),
    ],
)
def test_the_ends_of_a_parameter_s_range_are_taken(name, value):
    book = parse_rulebook(with_value(raw(), name, value), origin="t")
    assert book.parameter(name).value == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("escalation.reminder_working_days", 61),
        ("escalation.level_3_days_overdue", 367),
        ("tenure.min_days", 367),
        ("gates.phe_binh_count", 101),
    ],
)
def test_one_past_the_end_of_a_parameter_s_range_is_refused(name, value):
    error = refused(with_value(raw(), name, value))
    assert f"'{name}' = {value} nằm ngoài khoảng" in str(error)
    assert error.parameter == name


@pytest.mark.parametrize(
    "name",
    [
        "score.decimals",
        "gates.phe_binh_count",
        "escalation.reminder_working_days",
        "escalation.level_1_days_overdue",
    ],
)
def test_a_whole_number_parameter_refuses_a_fraction(name):
    error = refused(with_value(raw(), name, 1.5))
    assert f"'{name}' = 1.5 phải là số nguyên" in str(error)


def test_a_number_parameter_asks_for_a_number_not_a_whole_one():
    error = refused(with_value(raw(), "deductions.phe_binh", "năm"))
    assert (
        str(error)
        == "Sổ quy tắc: tham số 'deductions.phe_binh' = 'năm' phải là số (tệp 'thử.toml')."
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("bands.HTT", 120, "tham số 'bands.HTT' = 120 nằm ngoài khoảng 0–100"),
        ("bands.HTXS", -1, "'bands.HTXS' = -1 nằm ngoài khoảng 0–100"),
        ("deductions.phe_binh", -5, "'deductions.phe_binh' = -5 nằm ngoài khoảng 0–100"),
        ("deductions.nhac_nho", 101, "'deductions.nhac_nho' = 101 nằm ngoài"),
        ("task_results.late_weight", 1.5, "'task_results.late_weight' = 1.5 nằm ngoài khoảng 0–1"),
        ("task_results.late_weight", -0.5, "'task_results.late_weight' = -0.5 nằm ngoài"),
        ("task_results.max", 120, "'task_results.max' = 120 nằm ngoài khoảng 0–100"),
        (
            "task_results.when_no_tasks",
            80,
            "'task_results.when_no_tasks' = 80 nằm ngoài khoảng 0–70",
        ),
        ("bonus.bieu_duong", -2, "'bonus.bieu_duong' = -2 nằm ngoài"),
        ("bonus.cap", 200, "'bonus.cap' = 200 nằm ngoài"),
        ("score.max", 120, "'score.max' = 120 nằm ngoài khoảng 0–100"),
        ("score.decimals", 9, "'score.decimals' = 9 nằm ngoài khoảng 0–6"),
        ("gates.min_completed_share", 2, "'gates.min_completed_share' = 2 nằm ngoài khoảng 0–1"),
        ("gates.phe_binh_count", 0, "'gates.phe_binh_count' = 0 nằm ngoài"),
        ("tenure.min_days", 400, "'tenure.min_days' = 400 nằm ngoài khoảng 0–366"),
        ("escalation.reminder_working_days", 0, "'escalation.reminder_working_days' = 0"),
        ("escalation.level_1_days_overdue", 0, "'escalation.level_1_days_overdue' = 0 nằm ngoài"),
        ("escalation.level_3_days_overdue", 1000, "'escalation.level_3_days_overdue' = 1000"),
        # Order between parameters.
        ("bands.HTT", 95, "'bands.HTT' = 95 phải nhỏ hơn 'bands.HTXS' = 90"),
        ("bands.HT", 70, "'bands.HT' = 70 phải nhỏ hơn 'bands.HTT' = 70"),
        ("score.min", 100, "'score.max' = 100 phải lớn hơn 'score.min' = 100"),
        ("escalation.level_2_days_overdue", 1, "'escalation.level_2_days_overdue' = 1 phải lớn"),
        ("escalation.level_3_days_overdue", 7, "'escalation.level_3_days_overdue' = 7 phải lớn"),
        ("general_criteria.tham_muu", 20, "tổng điểm tối đa"),
        # Types.
        ("deductions.phe_binh", "năm", "'deductions.phe_binh' = 'năm' phải là số"),
        ("deductions.phe_binh", True, "'deductions.phe_binh' = True phải là số"),
        ("tenure.min_days", 182.5, "'tenure.min_days' = 182.5 phải là số nguyên"),
        ("score.rounding", "ceiling", "'score.rounding' = 'ceiling' không hợp lệ"),
        ("gates.htxs_fallback", "HTXS", "'gates.htxs_fallback' = 'HTXS' không hợp lệ"),
        ("gates.phe_binh_cap", "XYZ", "'gates.phe_binh_cap' = 'XYZ' không hợp lệ"),
        ("gates.htxs_requires_no_overdue", "có", "phải là true hoặc false"),
        ("ranking.order", ["score desc", "luck asc"], "mục 'luck asc' không hợp lệ"),
        ("ranking.order", ["score desc", "score asc"], "lặp khóa 'score'"),
        ("ranking.order", [], "'ranking.order' phải là danh sách"),
        ("band_labels.HT", "", "thiếu tham số 'band_labels.HT'"),
        ("cascade.phe_binh_head_to_deputy_from", "05/04/2023", "phải là một ngày"),
        ("cascade.phe_binh_head_to_deputy_from", 2023, "phải là một ngày"),
        ("scope.rated_kinds", ["so", "bo"], "'scope.rated_kinds' phải là danh sách loại cơ quan"),
        ("scope.rated_kinds", [], "mỗi loại thuộc: so, quan-huyen, don-vi-su-nghiep, khac"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter(name, value, expected):
    error = refused(with_value(raw(), name, value))
    assert expected in str(error)
    # A value can be fine on its own and wrong against another: the error names that one.
    blamed = {"score.min": "score.max", "general_criteria.tham_muu": "general_criteria"}
    assert error.parameter == blamed.get(name, name)


def test_the_file_dates_may_be_a_quoted_iso_date_and_one_day_long():
    data = raw()
    data["effective_from"] = "2019-12-20"
    data["effective_to"] = date(2019, 12, 20)
    book = parse_rulebook(data, origin="t")
    assert book.effective_from == book.effective_to == date(2019, 12, 20)


def test_the_file_dates_must_be_in_order():
    data = raw()
    data["effective_to"] = date(2019, 1, 1)
    assert "'effective_from' = 20/12/2019 sau 'effective_to' = 01/01/2019" in str(refused(data))
    data["effective_to"] = "31/12/2025"
    assert "'effective_to' = '31/12/2025' không phải một ngày" in str(refused(data))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["deductions"]["phe_binh"].pop("source"),
            "'deductions.phe_binh' thiếu 'source'",
        ),
        (
            lambda d: d["deductions"]["phe_binh"].update(source="qd99"),
            "dẫn nguồn 'qd99' không có trong [[sources]]",
        ),
        (
            lambda d: d["bands"]["HT"].pop("modelled"),
            "'bands.HT' phải ghi rõ modelled = true",
        ),
        (lambda d: d["bands"].update(HT=50), "'bands.HT' phải có dạng { value = …"),
        (
            lambda d: d["deductions"].update(canh_cao=d["deductions"]["phe_binh"]),
            "'deductions.canh_cao' không được hỗ trợ",
        ),
        (lambda d: d.update(thuong_them=1), "'thuong_them' không được hỗ trợ"),
        (lambda d: d["general_criteria"].clear(), "thiếu bảng 'general_criteria'"),
        (lambda d: d["general_criteria"]["phoi_hop"].pop("label"), "thiếu 'label'"),
        (lambda d: d["escalation"]["level_2_days_overdue"].pop("label"), "thiếu 'label'"),
        (lambda d: d["sources"][1].pop("supports"), "nguồn 'sources[2]' thiếu 'supports'"),
        (lambda d: d["sources"].append(d["sources"][0]), "khóa nguồn 'qd44_2019' bị lặp"),
        (lambda d: d.update(version=1), "'version' phải là chuỗi"),
        (lambda d: d["band_labels"].update(XS="?"), "'band_labels.XS' không phải mức xếp loại"),
        # Whatever shape the file takes, a message, never a traceback.
        (lambda d: d.update(id="  "), "'id' phải là chuỗi khác rỗng"),
        (
            lambda d: d.update(effective_from=datetime(2019, 12, 20, 8, 0)),
            "'effective_from' = datetime.datetime(2019, 12, 20, 8, 0) không phải một ngày",
        ),
        (lambda d: d.update(sources=[]), "thiếu danh sách nguồn [[sources]]"),
        (lambda d: d.update(sources=d["sources"][0]), "thiếu danh sách nguồn [[sources]]"),
        (lambda d: d["sources"].append("qd44_2019"), "'sources[6]' phải là một bảng"),
        (lambda d: d["sources"][0].update(key=" "), "nguồn 'sources[1]' thiếu 'key'"),
        (
            lambda d: d["sources"][0].update(text_obtained="có"),
            "'sources[1].text_obtained' phải là true hoặc false",
        ),
        (lambda d: d.update(general_criteria=5), "thiếu bảng 'general_criteria'"),
        (lambda d: d.update(deductions=5), "thiếu tham số 'deductions.nhac_nho'"),
        (lambda d: d.update(band_labels="HTXS"), "thiếu tham số 'band_labels'"),
        (lambda d: d.update(scope="so"), "tham số 'scope' không được hỗ trợ"),
        (
            lambda d: d["ranking"]["order"].update(value="score desc"),
            "'ranking.order' phải là danh sách",
        ),
        (
            lambda d: d["ranking"]["order"].update(value=["score desc", 1]),
            "'ranking.order' có mục 1 không hợp lệ",
        ),
        (lambda d: d["general_criteria"]["phoi_hop"].update(label=" "), "thiếu 'label'"),
        (
            lambda d: d["general_criteria"]["phoi_hop"].update(label=5),
            "'general_criteria.phoi_hop.label' phải là chuỗi",
        ),
        (lambda d: d["bands"]["HT"].pop("value"), "'bands.HT' phải có dạng { value = …"),
        (
            lambda d: d["bands"]["HT"].update(nguon="x"),
            "'bands.HT' có khóa 'nguon' không được hỗ trợ",
        ),
        (
            lambda d: d["cascade"]["phe_binh_head_to_deputy_from"].update(
                value=datetime(2023, 4, 5, 8, 0)
            ),
            "'cascade.phe_binh_head_to_deputy_from' = datetime.datetime(2023, 4, 5, 8, 0) "
            "phải là một ngày",
        ),
    ],
)
def test_provenance_and_shape_are_checked(change, expected):
    data = raw()
    change(data)
    assert expected in str(refused(data))


def test_file_level_errors(tmp_path):
    with pytest.raises(RulebookError, match="Không tìm thấy tệp sổ quy tắc"):
        load_rulebook(tmp_path / "rulebook_none.toml")
    broken = tmp_path / "rulebook_broken.toml"
    broken.write_text("id = \n", encoding="utf-8")
    with pytest.raises(RulebookError, match="không đúng cú pháp TOML ở dòng 1, cột 6: giá trị"):
        load_rulebook(broken)
    broken.write_text('id = "a"\nid = "b"\n', encoding="utf-8")
    with pytest.raises(RulebookError, match="ở dòng 2, cột 9: một khóa được ghi hai lần"):
        load_rulebook(broken)


def test_a_rulebook_saved_by_a_windows_editor(tmp_path):
    """Notepad may save UTF-8 with a byte-order mark, which TOML's reader takes for a
    stray character: the file is read. Saved as UTF-16 or in the Vietnamese code page,
    it is refused with how to save it again, not with a traceback."""
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    with_mark = tmp_path / "rulebook_bom.toml"
    with_mark.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    read = load_rulebook(with_mark)
    assert replace(read, origin="") == replace(load_rulebook(DEFAULT_FILE), origin="")
    for encoding in ("utf-16", "cp1258"):
        other = tmp_path / f"rulebook_{encoding}.toml"
        other.write_bytes(text.encode(encoding, errors="replace"))
        with pytest.raises(RulebookError, match="không phải văn bản UTF-8 .* bảng mã UTF-8"):
            load_rulebook(other)


# -- which rulebook is in force ------------------------------------------------------------


def write_book(folder: Path, name: str, **replacements: str) -> None:
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    for key, value in replacements.items():
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert count == 1, key
    (folder / name).write_text(text, encoding="utf-8")


def test_the_default_directory_has_a_book_in_force_since_20_12_2019():
    assert rulebook_in_force(date(2024, 12, 31)).id == "qd44-2019-haiphong"
    assert rulebook_in_force(date(2019, 12, 20)).version == "1.0"
    with pytest.raises(
        RulebookError, match="Không có sổ quy tắc nào có hiệu lực vào ngày 19/12/2019"
    ):
        rulebook_in_force(date(2019, 12, 19))


def write_book_and_its_2024_amendment(folder: Path, **amendment: str) -> None:
    """The book from 20/12/2019, open-ended, and an amendment in force 2024–2025."""
    write_book(folder, "rulebook_a.toml")
    write_book(
        folder,
        "rulebook_b.toml",
        id='"qd-sua-doi-2024"',
        effective_from="2024-01-01",
        effective_to="2025-12-31",
        **amendment,
    )


def test_selection_by_date_latest_start_wins(tmp_path):
    write_book_and_its_2024_amendment(tmp_path, version='"2.0"')
    (tmp_path / "notes.toml").write_text("ignored = true\n", encoding="utf-8")
    assert rulebook_in_force(date(2023, 12, 31), tmp_path).id == "qd44-2019-haiphong"
    assert rulebook_in_force(date(2024, 1, 1), tmp_path).id == "qd-sua-doi-2024"
    assert rulebook_in_force(date(2025, 12, 31), tmp_path).version == "2.0"
    # After the amendment's window closes, the open-ended book applies again.
    assert rulebook_in_force(date(2026, 1, 1), tmp_path).id == "qd44-2019-haiphong"
    with pytest.raises(RulebookError) as caught:
        rulebook_in_force(date(2019, 1, 1), tmp_path)
    message = str(caught.value)
    assert (
        "01/01/2019" in message
        and "qd-sua-doi-2024 phiên bản 2.0 (01/01/2024–31/12/2025)" in message
        and "qd44-2019-haiphong phiên bản 1.0 (20/12/2019–nay)" in message
    )


def test_before_any_book_there_is_none_in_force_if_any(tmp_path):
    assert rulebook_in_force_if_any(date(2019, 12, 19)) is None
    assert rulebook_in_force_if_any(date(2019, 12, 20)).id == "qd44-2019-haiphong"
    # Only "none in force" is None: a broken or ambiguous directory is still an error.
    with pytest.raises(RulebookError, match="không có tệp sổ quy tắc nào"):
        rulebook_in_force_if_any(date(2024, 6, 1), tmp_path)


def spans(until: date, folder: Path) -> list[tuple[str, date]]:
    return [(book.id, last) for book, _first, last in rulebook_spans(until, folder)]


def test_the_spans_of_days_each_book_was_in_force(tmp_path):
    """What a pass after downtime walks: each book with the last day it was in force."""
    write_book_and_its_2024_amendment(tmp_path)
    old, new = "qd44-2019-haiphong", "qd-sua-doi-2024"
    assert spans(date(2023, 12, 31), tmp_path) == [(old, date(2023, 12, 31))]
    assert spans(date(2024, 1, 1), tmp_path) == [(old, date(2023, 12, 31)), (new, date(2024, 1, 1))]
    assert spans(date(2025, 12, 31), tmp_path) == [
        (old, date(2023, 12, 31)),
        (new, date(2025, 12, 31)),
    ]
    assert spans(date(2026, 3, 1), tmp_path) == [
        (old, date(2023, 12, 31)),
        (new, date(2025, 12, 31)),
        (old, date(2026, 3, 1)),
    ]
    with pytest.raises(RulebookError, match="vào ngày 19/12/2019"):
        rulebook_spans(date(2019, 12, 19), tmp_path)


def test_days_no_book_covers_are_no_span(tmp_path):
    write_book(tmp_path, "rulebook_a.toml", effective_to="2020-12-31")
    write_book(tmp_path, "rulebook_b.toml", id='"moi"', effective_from="2022-01-01")
    assert spans(date(2022, 6, 30), tmp_path) == [
        ("qd44-2019-haiphong", date(2020, 12, 31)),
        ("moi", date(2022, 6, 30)),
    ]
    # Each span from the day its book took over: after the gap, the new book's first.
    firsts = [first for _book, first, _last in rulebook_spans(date(2022, 6, 30), tmp_path)]
    assert firsts == [date(2019, 12, 20), date(2022, 1, 1)]
    with pytest.raises(RulebookError, match="vào ngày 30/06/2021"):
        rulebook_spans(date(2021, 6, 30), tmp_path)


def test_a_book_that_stays_in_force_across_another_s_end_is_one_span(tmp_path):
    write_book(tmp_path, "rulebook_a.toml")  # from 20/12/2019, open-ended
    write_book(
        tmp_path,
        "rulebook_b.toml",
        id='"cu"',
        effective_from="2018-01-01",
        effective_to="2020-06-30",
    )
    # "cu" ends on 30/06/2020, while the later-starting book is already in force.
    assert spans(date(2021, 1, 1), tmp_path) == [
        ("cu", date(2019, 12, 19)),
        ("qd44-2019-haiphong", date(2021, 1, 1)),
    ]


def test_two_books_starting_the_same_day_are_ambiguous(tmp_path):
    write_book(tmp_path, "rulebook_a.toml")
    write_book(tmp_path, "rulebook_b.toml", version='"1.1"')
    with pytest.raises(RulebookError, match="cùng hiệu lực từ ngày 20/12/2019"):
        rulebook_in_force(date(2024, 6, 1), tmp_path)


def test_an_empty_directory_and_a_broken_book_are_reported(tmp_path):
    with pytest.raises(RulebookError, match="không có tệp sổ quy tắc nào"):
        rulebook_in_force(date(2024, 6, 1), tmp_path)
    write_book(tmp_path, "rulebook_a.toml", effective_from='"hôm qua"')
    with pytest.raises(RulebookError, match="rulebook_a.toml"):
        rulebook_in_force(date(2024, 6, 1), tmp_path)
