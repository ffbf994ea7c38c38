"""Agencies (sở, ban, ngành, UBND quận/huyện…) with their heads and deputies over time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .dates import format_date, from_iso
from .errors import DomainError
from .text import id_order, listed, same_field

KINDS = {
    "so": "Sở, ban, ngành",
    "quan-huyen": "UBND quận, huyện",
    "don-vi-su-nghiep": "Đơn vị sự nghiệp công lập",
    "khac": "Khác",
}

REGISTERED = "agency.registered"
RENAMED = "agency.renamed"
HEAD_APPOINTED = "agency.head_appointed"
DEPUTY_APPOINTED = "agency.deputy_appointed"
DISSOLVED = "agency.dissolved"
MERGED = "agency.merged"


@dataclass
class Tenure:
    person: str
    start: date
    end: date | None  # inclusive; None while still in office


@dataclass
class Deputy:
    person: str
    field: str
    start: date
    end: date | None = None  # inclusive: the day before a successor in the field, or closure


@dataclass
class Name:
    name: str
    start: date | None  # None: the name the agency was registered under


@dataclass
class Agency:
    code: str
    name: str  # the latest name; `name_on` for the name a given day
    kind: str
    heads: list[Tenure] = field(default_factory=list)
    deputies: list[Deputy] = field(default_factory=list)
    closed_on: date | None = None
    merged_into: str | None = None
    names: list[Name] = field(default_factory=list)
    # Its first day (agency add --since); None: registered without one, standing since
    # before the ledger begins, as every agency did before the date could be given.
    since: date | None = None

    def name_on(self, day: date) -> str:
        """A report dated before a rename names the agency as it was then."""
        named = (n.name for n in reversed(self.names) if n.start is None or n.start <= day)
        return next(named, self.name)

    def head_on(self, day: date) -> str | None:
        for tenure in self.heads:
            if tenure.start <= day and (tenure.end is None or day <= tenure.end):
                return tenure.person
        return None

    def deputy_for(self, field_name: str, day: date) -> Deputy | None:
        return next((d for d in self.deputies_on(day) if same_field(d.field, field_name)), None)

    def deputies_on(self, day: date) -> list[Deputy]:
        return [d for d in self.deputies if d.start <= day and (d.end is None or day <= d.end)]

    def check_deputy_appointment(self, person: str, field_name: str, start: date) -> None:
        self.check_active(start)
        for deputy in self.deputies:
            if not same_field(deputy.field, field_name):
                continue
            same_day = deputy.start == start
            in_charge = deputy.start <= start and (deputy.end is None or start <= deputy.end)
            if same_day or (in_charge and deputy.person.casefold() == person.casefold()):
                raise DomainError(
                    f"{deputy.person} đã được ghi là cấp phó {self.code} phụ trách "
                    f"{deputy.field} từ ngày {format_date(deputy.start)}; không ghi lại. Nếu lần "
                    "đó ghi nhầm, hãy rút lại bằng `nhiemvu correct` (mã sự kiện trong "
                    f"`nhiemvu agency history {self.code}`)."
                )

    def check_rename(self, name: str, on: date) -> None:
        self.check_active(on)
        dated = [n for n in self.names if n.start is not None]
        if dated and on <= dated[-1].start:
            raise DomainError(
                f"{self.code}: ngày đổi tên {format_date(on)} không sau lần đổi tên trước "
                f"(thành '{dated[-1].name}', ngày {format_date(dated[-1].start)}). Các lần "
                "đổi tên phải ghi theo thứ tự ngày; nếu lần trước ghi sai, hãy rút lại bằng "
                "`nhiemvu correct`."
            )
        if name.casefold() == self.name.casefold():
            raise DomainError(f"Cơ quan {self.code} đã mang tên '{self.name}'; không cần đổi.")

    def is_active(self, day: date) -> bool:
        return self.opened_by(day) and (self.closed_on is None or day < self.closed_on)

    def opened_by(self, day: date) -> bool:
        return self.since is None or self.since <= day

    def stands_in(self, first: date | None, last: date) -> bool:
        """Whether the agency stood on some day from `first` (None: the ledger's first)
        to `last`: a period it closed before, or opened after, has nothing of it to
        score or assess."""
        closed_after = self.closed_on is None or first is None or self.closed_on > first
        return self.opened_by(last) and closed_after

    def check_stands_in(self, first: date | None, last: date, figures: str) -> None:
        """Refuse a period (`first` to `last`; `first` None: everything up to `last`)
        the agency did not stand in: it has no `figures` (a score, task figures) there —
        all zeros, or 100 points on nothing."""
        if self.stands_in(first, last):
            return
        if not self.opened_by(last):
            raise DomainError(
                f"{self.code} được thành lập từ ngày {format_date(self.since)}: trong kỳ được "
                f"hỏi (đến ngày {format_date(last)}) cơ quan chưa có, nên không có {figures}. "
                "Hãy xem một kỳ từ ngày đó."
            )
        successor = self.merged_into
        instead = (
            f"{figures} của cơ quan kế thừa (--agency {successor}), hoặc " if successor else ""
        )
        raise DomainError(
            f"{self.code} đã {self.closure()}: trong kỳ được hỏi (từ ngày "
            f"{format_date(first)}) cơ quan không còn, nên không có {figures}. Hãy xem "
            f"{instead}một kỳ trước ngày đó."
        )

    def check_head_appointment(self, person: str, start: date) -> None:
        self.check_active(start)
        if self.heads:
            current = self.heads[-1]
            if start <= current.start:
                raise DomainError(
                    f"{self.code}: ngày bổ nhiệm {format_date(start)} không sau ngày bắt đầu "
                    f"của người đứng đầu hiện tại ({current.person}, từ "
                    f"{format_date(current.start)}). Người đứng đầu mới phải bắt đầu sau đó; "
                    "nếu lần bổ nhiệm trước bị ghi sai, hãy rút lại bằng `nhiemvu correct`."
                )
            if current.person.casefold() == person.casefold() and current.end is None:
                raise DomainError(
                    f"{person} đang là người đứng đầu {self.code} từ "
                    f"{format_date(current.start)}; không cần bổ nhiệm lại."
                )

    def check_active(self, day: date) -> None:
        self.check_opened(day)
        if self.is_active(day):
            return
        if self.merged_into:
            instead, closing = f"ghi cho cơ quan kế thừa {self.merged_into}", "việc sáp nhập"
        else:
            instead, closing = "chọn cơ quan khác", "việc giải thể"
        raise DomainError(
            f"Cơ quan {self.code} đã {self.closure()}: không ghi gì cho cơ quan từ ngày đó. "
            f"Hãy kiểm tra lại ngày, hoặc {instead}; nếu {closing} ghi nhầm, hãy rút lại nó "
            f"(mã sự kiện trong `nhiemvu agency history {self.code}`)."
        )

    def check_opened(self, day: date) -> None:
        """Nothing happens to an agency on a day before it was established: no task,
        appointment, document or merger into it."""
        if not self.opened_by(day):
            raise DomainError(
                f"Cơ quan {self.code} được thành lập từ ngày {format_date(self.since)}, nên "
                f"chưa có vào ngày {format_date(day)}. Hãy kiểm tra lại ngày. " + self.opening_fix()
            )

    def opening_fix(self) -> str:
        """How a wrong establishment date is put right: no command changes it, so the
        registration is retracted (once nothing else of the agency stands) and made again."""
        return (
            "Nếu ngày thành lập ghi sai: rút lại việc đăng ký cơ quan (`nhiemvu correct "
            f"MÃ_SỰ_KIỆN --reason …`, mã trong `nhiemvu agency history {self.code}`; những gì "
            "đã ghi cho cơ quan phải rút lại trước) rồi đăng ký lại với ngày đúng (`nhiemvu "
            f"agency add {self.code} … --since NGÀY`)."
        )

    def check_can_lead_from(self, day: date, done_on: date | None = None) -> None:
        """A task given to the agency on `day` is its own from then on: not to one
        closed since, which would lead it on days it no longer exists (its merger moved
        the tasks it led on its date, and this one was not there yet) — unless it is
        recorded as done (`done_on`, the same command) before the agency closed."""
        self.check_active(day)
        if self.closed_on is None or (done_on is not None and done_on < self.closed_on):
            return
        if self.merged_into:
            instead = f"Hãy giao cho cơ quan kế thừa {self.merged_into}"
            then = "rồi ghi lại việc sáp nhập: nhiệm vụ sẽ được chuyển theo"
        else:
            instead = "Hãy giao cho cơ quan khác"
            then = "rồi ghi lại việc giải thể khi nhiệm vụ đã xong, bị hủy hoặc được giao lại"
        raise DomainError(
            f"Cơ quan {self.code} đã {self.closure()}: nhiệm vụ giao cho cơ quan này từ ngày "
            f"{format_date(day)} sẽ còn do nó chủ trì cả khi nó không còn. {instead}; nếu "
            f"nhiệm vụ thật sự giao cho {self.code} trước ngày đó, hãy rút lại việc "
            f"{'sáp nhập' if self.merged_into else 'giải thể'} (mã sự kiện trong `nhiemvu "
            f"agency history {self.code}`), ghi nhiệm vụ, {then}."
        )

    def check_dissolution(self, on: date, date_option: str = "--on") -> None:
        """An agency closes once, and after every appointment in it began: closing
        ends the head's term the day before, and a deputy's charge with it.
        `date_option`: the option the refusals name for the date."""
        if self.closed_on is not None:
            raise DomainError(
                f"Cơ quan {self.code} đã {self.closure()}; không ghi giải thể hay sáp nhập "
                "lần nữa. Nếu lần trước ghi sai, hãy rút lại sự kiện đó bằng "
                "`nhiemvu correct MÃ_SỰ_KIỆN --reason …` rồi ghi lại."
            )
        if self.since is not None and on <= self.since:
            raise DomainError(
                f"{self.code}: ngày giải thể, sáp nhập {format_date(on)} không sau ngày thành "
                f"lập {format_date(self.since)}: cơ quan phải có ít nhất một ngày. Hãy kiểm "
                f"tra lại ngày ({date_option}). " + self.opening_fix()
            )
        late = [
            f"người đứng đầu {h.person} (từ {format_date(h.start)})"
            for h in self.heads[-1:]
            if h.start >= on
        ] + [
            f"cấp phó {d.person} phụ trách {d.field} (từ {format_date(d.start)})"
            for d in self.deputies
            if d.start >= on
        ]
        if late:
            raise DomainError(
                f"{self.code}: ngày giải thể, sáp nhập {format_date(on)} không sau ngày bắt đầu "
                f"của {'; '.join(late)}. Nhiệm kỳ phải bắt đầu trước ngày giải thể, sáp nhập: "
                f"hãy kiểm tra lại ngày ({date_option}), hoặc rút lại lần bổ nhiệm ghi nhầm bằng "
                "`nhiemvu correct`."
            )

    def closure(self) -> str:
        """The closure in words: giải thể từ ngày …, or sáp nhập vào … từ ngày …"""
        state = f"sáp nhập vào {self.merged_into}" if self.merged_into else "giải thể"
        return f"{state} từ ngày {format_date(self.closed_on)}"


# Letters, digits, "-", "_" and "."; a letter or digit first. A code names files
# (urging letters), so no "/" nor a leading "." may take one elsewhere.
_CODE = re.compile(r"[^\W_][\w.-]*")


def check_code(code: str) -> None:
    if not _CODE.fullmatch(code):
        raise DomainError(
            f"Mã cơ quan '{code}' không hợp lệ: chỉ dùng chữ, số và các dấu '-', '_', '.', "
            "bắt đầu bằng chữ hoặc số, không có khoảng trắng hay '/'. Ví dụ: SXD, UBND-HA."
        )


def check_nothing_left_open(code: str, on: date, tasks) -> None:
    if tasks:
        ids = listed(sorted((t.id for t in tasks), key=id_order), more_of="nhiệm vụ")
        raise DomainError(
            f"{code} chủ trì {len(tasks)} nhiệm vụ chưa xong trước ngày {format_date(on)} hoặc "
            f"giao sau ngày đó ({ids}): giải thể sẽ để các nhiệm vụ đó không còn ai chủ "
            "trì. Hãy ghi sáp nhập vào cơ quan kế thừa (--into MÃ_CQ) để chuyển chúng sang, "
            "hoặc giao lại (`nhiemvu task reassign`) hay hủy chúng trước."
        )


def check_tasks_movable(
    code: str, successor: str, on: date, tasks, date_option: str = "--on"
) -> None:
    """A merger moves the open tasks of `code` to `successor` on `on`: none of them may
    have come to `code` after it — assigned, or reassigned to it (the move would come
    before the task was there to move)."""
    early = [t for t in tasks if t.leads_since > on]
    if early:
        raise DomainError(
            f"Ngày sáp nhập {format_date(on)} trước ngày nhiệm vụ về {code} (giao hoặc giao "
            f"lại), mà việc sáp nhập phải chuyển sang {successor}: {_since(early)}. Hãy kiểm "
            f"tra lại ngày sáp nhập ({date_option})."
        )


def check_none_led_away(code: str, on: date, tasks) -> None:
    """`tasks`: those `code` led on `on`, its closure's date, and leads no more. The move
    the closure makes would come after a later one: that one is to be retracted first."""
    if tasks:
        raise DomainError(
            f"{code} chủ trì vào ngày {format_date(on)} những nhiệm vụ đã được giao lại sau "
            f"ngày đó: {_since(tasks)}. Giải thể, sáp nhập từ ngày đó phải chuyển chúng đi "
            "trước lần giao lại sau: hãy rút lại các lần giao lại đó trước (`nhiemvu task "
            "history MÃ_NV`, rồi `nhiemvu correct MÃ_NV#N`), ghi việc này, rồi giao lại."
        )


def _since(tasks) -> str:
    """Tasks with the day each came to its leads: NV-00001 (từ 15/03/2023), …"""
    ordered = sorted(tasks, key=lambda t: id_order(t.id))  # whatever order the caller's
    return ", ".join(f"{t.id} (từ {format_date(t.leads_since)})" for t in ordered)


def derive_agency(facts: list[dict[str, Any]]) -> Agency | None:
    agency: Agency | None = None
    for fact in facts:
        data = fact["data"]
        kind = fact["type"]
        if kind == REGISTERED:
            agency = Agency(code=data["code"], name=data["name"], kind=data["kind"])
            agency.since = from_iso(data.get("since"))  # absent from older registrations
            agency.names.append(Name(data["name"], None))
        elif agency is None:
            continue
        elif kind == RENAMED:
            _rename(agency, data["name"], date.fromisoformat(data["on"]))
        elif kind == HEAD_APPOINTED:
            start = date.fromisoformat(data["from"])
            # The term before ends the day before, even when a closure recorded first
            # had ended it later; and one begun before a closure recorded first ends
            # with it, not never.
            if agency.heads and (agency.heads[-1].end is None or agency.heads[-1].end >= start):
                agency.heads[-1].end = start - timedelta(days=1)
            end = None if agency.closed_on is None else agency.closed_on - timedelta(days=1)
            agency.heads.append(Tenure(data["person"], start, end))
        elif kind == DEPUTY_APPOINTED:
            agency.deputies.append(
                Deputy(data["person"], data["field"], date.fromisoformat(data["from"]))
            )
        elif kind in (DISSOLVED, MERGED):
            agency.closed_on = date.fromisoformat(data["on"])
            agency.merged_into = data.get("into")
            if agency.heads and agency.heads[-1].end is None:
                agency.heads[-1].end = agency.closed_on - timedelta(days=1)
    if agency is not None:
        _end_deputy_charges(agency)
    return agency


def _rename(agency: Agency, name: str, on: date) -> None:
    # Renames recorded out of date order (before the check existed) still date right.
    agency.names.append(Name(name, on))
    agency.names.sort(key=lambda n: n.start or date.min)
    agency.name = agency.names[-1].name


def _end_deputy_charges(agency: Agency) -> None:
    """A deputy's charge of a field ends the day before the next deputy of that field
    starts (appointments may be recorded in any order), or before the agency closes."""
    for deputy in agency.deputies:
        successors = [
            d.start
            for d in agency.deputies
            if d.start > deputy.start and same_field(d.field, deputy.field)
        ]
        ends = [min(successors)] if successors else []
        if agency.closed_on is not None:
            ends.append(agency.closed_on)
        deputy.end = min(ends) - timedelta(days=1) if ends else None
