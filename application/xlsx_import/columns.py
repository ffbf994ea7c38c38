"""The columns of the tracking workbook: their headings, the aliases seen in practice, their help."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.text import fold


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the heading the template uses
    aliases: tuple[str, ...]  # other headings seen in practice; matched after `fold`
    help: str
    example: Any = None
    required: bool = False
    is_date: bool = False


EXAMPLE_MARK = "Ví dụ"

COLUMNS: tuple[Column, ...] = (
    Column(
        "stt",
        "STT",
        ("TT", "Số TT", "Số thứ tự"),
        "Số thứ tự, không bắt buộc. Dòng có STT là 'Ví dụ' hoặc 'VD' được bỏ qua.",
        EXAMPLE_MARK,
    ),
    Column(
        "number",
        "Số văn bản",
        (
            "Số VB",
            "Số hiệu văn bản",
            "Số hiệu VB",
            "Số hiệu",
            "Số, ký hiệu văn bản",
            "Số ký hiệu",
            "Số/ký hiệu",
            "Số ký hiệu VB",
            "Văn bản số",
            "Số văn bản chỉ đạo",
            "Số hiệu văn bản chỉ đạo",
            "Văn bản chỉ đạo",
            "Số, ngày văn bản",
            "Số, ký hiệu, ngày tháng văn bản",
            "Số, ngày ban hành",
        ),
        "Số hiệu văn bản chỉ đạo giao nhiệm vụ, ví dụ 129/TB-UBND. Có thể ghi kèm ngày: "
        "'129/TB-UBND ngày 05/4/2023'.",
        "129/TB-UBND",
        required=True,
    ),
    Column(
        "issued_on",
        "Ngày văn bản",
        (
            "Ngày VB",
            "Ngày ban hành",
            "Ngày ký",
            "Ngày tháng văn bản",
            "Ngày ban hành văn bản",
            "Ngày văn bản chỉ đạo",
        ),
        "Ngày ban hành văn bản (dd/mm/yyyy). Bắt buộc khi văn bản chưa có trong sổ.",
        date(2023, 4, 5),
        is_date=True,
    ),
    Column(
        "kind",
        "Loại văn bản",
        ("Loại VB", "Hình thức văn bản"),
        "Thông báo kết luận, Chỉ thị, Kế hoạch, Công văn… Để trống: suy ra từ số hiệu "
        "(TB → Thông báo, CT → Chỉ thị, KH → Kế hoạch…).",
        "Thông báo kết luận",
    ),
    Column(
        "issuer",
        "Cơ quan ban hành",
        ("Nơi ban hành", "Cấp ban hành", "Người ký"),
        "Không bắt buộc: UBND thành phố, Chủ tịch UBND thành phố…",
        "UBND thành phố",
    ),
    Column(
        "summary",
        "Trích yếu",
        ("Trích yếu văn bản", "Trích yếu nội dung", "Trích yếu nội dung văn bản", "Tên văn bản"),
        "Trích yếu nội dung văn bản. Bắt buộc khi văn bản chưa có trong sổ; các dòng cùng "
        "văn bản có thể để trống hoặc gộp ô.",
        "Kết luận của Chủ tịch Ủy ban nhân dân thành phố tại Phiên họp thường kỳ tháng 3/2023 "
        "(trực tuyến)",
    ),
    Column(
        "clause",
        "Mục",
        ("Khoản", "Điều khoản", "Mục, khoản", "Mục khoản", "Trích mục"),
        "Mục, khoản, điểm trong văn bản giao nhiệm vụ, ví dụ 2.3 (nên định dạng ô là văn bản "
        "để Excel không đổi 2.10 thành 2.1).",
        "2.3",
    ),
    Column(
        "title",
        "Nội dung nhiệm vụ",
        (
            "Nhiệm vụ",
            "Nội dung",
            "Nội dung giao",
            "Nội dung công việc",
            "Nội dung chỉ đạo",
            "Nhiệm vụ được giao",
            "Nội dung nhiệm vụ được giao",
            "Tên nhiệm vụ",
            "Công việc",
        ),
        "Nội dung nhiệm vụ được giao.",
        "Rà soát, đề xuất xử lý dứt điểm các vướng mắc về giải phóng mặt bằng các dự án "
        "trọng điểm; báo cáo UBND thành phố",
        required=True,
    ),
    Column(
        "leads",
        "Đơn vị chủ trì",
        (
            "Cơ quan chủ trì",
            "Đơn vị thực hiện",
            "Cơ quan thực hiện",
            "Chủ trì",
            "Đơn vị được giao",
            "Cơ quan được giao",
            "Đơn vị chủ trì thực hiện",
            "Cơ quan chủ trì thực hiện",
            "Đơn vị tham mưu",
            "Cơ quan tham mưu",
            "Cơ quan, đơn vị chủ trì",
            "Đơn vị, cơ quan chủ trì",
        ),
        "Một hoặc nhiều cơ quan chủ trì, ghi mã (SXD) hoặc tên đầy đủ (Sở Xây dựng), cách "
        "nhau bằng dấu phẩy, chấm phẩy hoặc xuống dòng. Viết 'Các Sở: Xây dựng, Tài chính' "
        "cũng được. Cơ quan phải đã đăng ký (`nhiemvu agency add`).",
        "Sở Xây dựng, STC",
        required=True,
    ),
    Column(
        "coordinators",
        "Đơn vị phối hợp",
        (
            "Cơ quan phối hợp",
            "Phối hợp",
            "Đơn vị phối hợp thực hiện",
            "Cơ quan phối hợp thực hiện",
            "Cơ quan, đơn vị phối hợp",
            "Đơn vị, cơ quan phối hợp",
        ),
        "Các cơ quan phối hợp, ghi như cột Đơn vị chủ trì; có thể để trống.",
        "Sở Tài nguyên và Môi trường",
    ),
    Column(
        "leader",
        "Lãnh đạo chỉ đạo",
        (
            "Lãnh đạo phụ trách",
            "Lãnh đạo UBND phụ trách",
            "Lãnh đạo UBND TP phụ trách",
            "Lãnh đạo theo dõi",
            "Lãnh đạo phụ trách chỉ đạo",
            "Đồng chí lãnh đạo phụ trách",
        ),
        "Lãnh đạo UBND thành phố được phân công chỉ đạo; có thể để trống.",
        "Lê Khắc Nam",
    ),
    Column(
        "assigned_on",
        "Ngày giao",
        ("Ngày giao nhiệm vụ",),
        "Không bắt buộc; mặc định là ngày văn bản. Ghi ngày họp khi nhiệm vụ được giao tại "
        "cuộc họp trước khi văn bản được ban hành.",
        None,
        is_date=True,
    ),
    Column(
        "deadline",
        "Thời hạn",
        (
            "Hạn hoàn thành",
            "Thời hạn hoàn thành",
            "Hạn",
            "Hạn xử lý",
            "Thời hạn thực hiện",
            "Hạn thực hiện",
            "Thời hạn xử lý",
            "Thời gian hoàn thành",
            "Thời hạn giải quyết",
        ),
        "Một ngày (31/03/2023 hay 'ngày 31 tháng 3 năm 2023', ô ngày hoặc văn bản; 'trước "
        "ngày 15/02/2023' nghĩa là hạn 14/02/2023), một kỳ ('Quý II/2023', 'quý 2 năm 2023', "
        "'tháng 10/2023', 'năm 2023'; 'trước quý III/2023' nghĩa là hạn 30/06/2023), "
        "'10 ngày làm việc' (tính từ ngày giao) hoặc 'Thường xuyên' (không có thời hạn). "
        "Ô trống được ghi là không có thời hạn, kèm lưu ý.",
        date(2023, 6, 30),
        required=True,
        is_date=True,
    ),
    Column(
        "status",
        "Tình trạng",
        (
            "Trạng thái",
            "Kết quả",
            "Kết quả thực hiện",
            "Tình hình thực hiện",
            "Tình trạng thực hiện",
            "Tiến độ",
            "Tiến độ thực hiện",
        ),
        "'Đã hoàn thành' (kèm ngày ở cột Ngày hoàn thành, hoặc 'Đã hoàn thành ngày "
        "28/06/2023') hoặc 'Đang thực hiện'. Để trống: đang thực hiện (hoàn thành nếu có "
        "ngày hoàn thành).",
        "Đã hoàn thành",
    ),
    Column(
        "completed_on",
        "Ngày hoàn thành",
        ("Ngày hoàn thành thực tế", "Thời điểm hoàn thành", "Ngày báo cáo hoàn thành"),
        "Ngày hoàn thành ghi trên báo cáo của cơ quan (dd/mm/yyyy).",
        date(2023, 6, 28),
        is_date=True,
    ),
    Column(
        "completion_doc",
        "Số văn bản báo cáo",
        (
            "Văn bản báo cáo",
            "Văn bản báo cáo hoàn thành",
            "Số báo cáo",
            "Số văn bản báo cáo hoàn thành",
        ),
        "Số văn bản báo cáo hoàn thành, không bắt buộc.",
        "1520/BC-SXD",
    ),
    Column("notes", "Ghi chú", (), "Không được ghi vào sổ sự kiện; chỉ để Văn phòng theo dõi.", ""),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_KEYS = tuple(c.key for c in COLUMNS if c.required)
# Two columns meaning the same thing would make a row ambiguous — except these,
# which are only read as text.
DUPLICABLE_KEYS = {"status", "notes", "stt"}
HEADER_SCAN_ROWS = 30


def fold_header(text: Any) -> str:
    # Hints in parentheses ("Thời hạn (dd/mm/yyyy)") are not part of the name.
    return fold(re.sub(r"\([^)]*\)", " ", str(text)))


HEADER_INDEX: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        HEADER_INDEX[fold_header(_name)] = _column.key
