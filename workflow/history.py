"""How each event of a task's stream reads to a person: a label and one line.

`task history` shows the secretariat what was recorded, in the words of the
process ("Gia hạn đến 30/04/2023: Chờ số liệu quý"), not the payload's field
names; the payload itself stays in the JSON output. Every other event type has
a label too, for the messages that name an event (`nhiemvu correct`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from . import agencies as ag
from .dates import DateInputError, format_date, from_iso, parse_period
from .documents import ISSUED
from .reports import period_label
from .tasks import (
    ASSIGNED,
    BUSINESS_DATE_FIELD,
    CANCELLED_EVENT,
    COMPLETED,
    ESCALATED,
    EXTENDED,
    EXTENSION_REFUSED,
    PROGRESS,
    REASSIGNED,
    RETRACTED,
)

LABELS = {
    ASSIGNED: "Giao nhiệm vụ",
    PROGRESS: "Báo cáo tiến độ",
    EXTENDED: "Gia hạn",
    EXTENSION_REFUSED: "Từ chối gia hạn",
    COMPLETED: "Hoàn thành",
    CANCELLED_EVENT: "Hủy nhiệm vụ",
    REASSIGNED: "Giao lại",
    ESCALATED: "Đôn đốc",
    RETRACTED: "Rút lại sự kiện",
    ag.REGISTERED: "Đăng ký cơ quan",
    ag.RENAMED: "Đổi tên cơ quan",
    ag.HEAD_APPOINTED: "Ghi người đứng đầu",
    ag.DEPUTY_APPOINTED: "Ghi cấp phó",
    ag.DISSOLVED: "Giải thể cơ quan",
    ag.MERGED: "Sáp nhập cơ quan",
    "directive.registered": "Ghi văn bản chỉ đạo",
    ISSUED: "Văn bản nhắc nhở, rút kinh nghiệm, phê bình hoặc biểu dương",
    "assessment.recorded": "Đánh giá tiêu chí",
    "rating.finalized": "Chốt kết quả xếp loại",
    "escalation.pass_completed": "Hoàn tất một lượt đôn đốc",
}


def label(event_type: str) -> str:
    """The Vietnamese name of an event type (the type itself for one not listed)."""
    return LABELS.get(event_type, event_type)


# An agency's events, as `agency history` shows them (a registration has a date only
# when its establishment date was given).
_AGENCY_DATE_FIELD = {
    ag.REGISTERED: "since",
    ag.RENAMED: "on",
    ag.HEAD_APPOINTED: "from",
    ag.DEPUTY_APPOINTED: "from",
    ag.DISSOLVED: "on",
    ag.MERGED: "on",
}


def business_date(event_type: str, data: Mapping[str, Any]) -> date | None:
    """The date the fact happened on in the process, if the type carries one."""
    field = BUSINESS_DATE_FIELD.get(event_type) or _AGENCY_DATE_FIELD.get(event_type)
    return from_iso(data.get(field)) if field else None


def summary(
    event_type: str, data: Mapping[str, Any], version_of: Callable[[str], int | None]
) -> str:
    """One line on what the event records. `version_of` numbers an earlier event of
    the stream by its id, for a retraction to say which one it withdrew."""
    describe = _DESCRIBERS.get(event_type)
    if describe is not None:
        return describe(data, version_of)
    return ", ".join(f"{k}={v}" for k, v in data.items() if v not in (None, "", []))


def _with_reason(text: str, reason: str | None) -> str:
    return f"{text}: {reason}" if reason else text


def _codes(codes: list[str]) -> str:
    return ", ".join(codes)


def deadline_text(deadline: Mapping[str, Any]) -> str:
    """A deadline as it was given: a date, a period, N working days, or none."""
    kind, value, due = deadline.get("kind"), deadline.get("value"), from_iso(deadline.get("due"))
    if kind == "none" or due is None:
        return "không có thời hạn"
    if kind == "period":
        try:
            start, end = parse_period(value)
        except DateInputError:  # older data: a year the commands accepted then
            return f"trong kỳ {value} (hạn {format_date(due)})"
        period_kind = "quarter" if "q" in value.lower() else "month" if "-" in value else "year"
        return f"trong {period_label(period_kind, start, end)} (hạn {format_date(due)})"
    if kind == "working_days":
        return f"trong {value} ngày làm việc (hạn {format_date(due)})"
    return f"hạn {format_date(due)}"


def _assigned(data, _version_of) -> str:
    parts = [f"chủ trì {_codes(data['leads'])}"]
    if data.get("coordinators"):
        parts.append(f"phối hợp {_codes(data['coordinators'])}")
    parts.append(deadline_text(data["deadline"]))
    if data.get("leader"):
        parts.append(f"lãnh đạo chỉ đạo: {data['leader']}")
    # The title last: a table cuts the line short, and the title is on `task show`.
    source = data["directive"] + (f", mục {data['clause']}" if data.get("clause") else "")
    parts.append(f"{source}: {data['title']}")
    return "; ".join(parts)


def _progress(data, _version_of) -> str:
    return _with_reason(f"{data['percent']}%", data.get("note"))


def _extended(data, _version_of) -> str:
    return _with_reason(f"đến {format_date(from_iso(data['to']))}", data.get("reason"))


def _refused(data, _version_of) -> str:
    return _with_reason(f"đề nghị đến {format_date(from_iso(data['to']))}", data.get("reason"))


def _completed(data, _version_of) -> str:
    return f"văn bản {data['doc']}" if data.get("doc") else ""


def _cancelled(data, _version_of) -> str:
    return data.get("reason") or ""


def _reassigned(data, _version_of) -> str:
    moved = f"chủ trì {_codes(data['from'])} → {_codes(data['to'])}"
    return _with_reason(moved, data.get("reason"))


def _escalated(data, _version_of) -> str:
    return f"{data['label']} (hạn {format_date(from_iso(data['deadline']))}), gửi " + _codes(
        data["agencies"]
    )


def _retracted(data, version_of) -> str:
    version = version_of(data["event_id"])
    which = f"#{version}" if version is not None else data["event_id"]
    return _with_reason(f"{which} ({label(data['event_type'])})", data.get("reason"))


def _agency_registered(data, _version_of) -> str:
    registered = f"{data['name']} ({ag.KINDS.get(data['kind'], data['kind'])})"
    since = from_iso(data.get("since"))
    return registered + (f", thành lập từ ngày {format_date(since)}" if since else "")


def _renamed(data, _version_of) -> str:
    return f"thành {data['name']}"


def _head_appointed(data, _version_of) -> str:
    return data["person"]


def _deputy_appointed(data, _version_of) -> str:
    return f"{data['person']}, phụ trách {data['field']}"


def _closed(data, _version_of) -> str:
    reason = data.get("reason") or ""
    return _with_reason(f"vào {data['into']}", reason) if data.get("into") else reason


_DESCRIBERS = {
    ag.REGISTERED: _agency_registered,
    ag.RENAMED: _renamed,
    ag.HEAD_APPOINTED: _head_appointed,
    ag.DEPUTY_APPOINTED: _deputy_appointed,
    ag.DISSOLVED: _closed,
    ag.MERGED: _closed,
    ASSIGNED: _assigned,
    PROGRESS: _progress,
    EXTENDED: _extended,
    EXTENSION_REFUSED: _refused,
    COMPLETED: _completed,
    CANCELLED_EVENT: _cancelled,
    REASSIGNED: _reassigned,
    ESCALATED: _escalated,
    RETRACTED: _retracted,
}
