"""`nhiemvu reprimand issue`, `nhiemvu commend`, `nhiemvu correct`: documents about the
agencies and their heads, and corrections of the log."""

from __future__ import annotations

import click

from cli_app import LedgerCommands, report_result
from cli_support import DATE, NhiemvuCommand, NhiemvuGroup, json_option

REPRIMAND_KINDS = {
    "nhac-nho": "nhac_nho",
    "rut-kinh-nghiem": "rut_kinh_nghiem",
    "phe-binh": "phe_binh",
}


def _addressee_options(func):
    func = click.option(
        "--person",
        "persons",
        multiple=True,
        metavar="HỌ_TÊN",
        help="Gửi tới cá nhân này (lặp lại được).",
    )(func)
    func = click.option(
        "--head",
        "heads",
        multiple=True,
        metavar="MÃ_CQ",
        help="Gửi tới người đứng đầu cơ quan này (lặp lại được).",
    )(func)
    func = click.option(
        "--agency",
        "agencies",
        multiple=True,
        metavar="MÃ_CQ",
        help="Gửi tới cơ quan này (lặp lại được).",
    )(func)
    return func


@click.group(cls=NhiemvuGroup)
def reprimand():
    """Văn bản nhắc nhở, rút kinh nghiệm, phê bình."""


@reprimand.command("issue")
@click.option(
    "--kind",
    type=click.Choice(list(REPRIMAND_KINDS)),
    required=True,
    help="Nhắc nhở, rút kinh nghiệm hoặc phê bình.",
)
@click.option("--doc", "number", required=True, metavar="SỐ_HIỆU", help="Số hiệu văn bản.")
@click.option("--on", "on", type=DATE, required=True, help="Ngày ban hành.")
@_addressee_options
@click.option(
    "--field",
    default=None,
    metavar="LĨNH_VỰC",
    help="Lĩnh vực: phê bình của Chủ tịch gửi người đứng đầu (--head) kéo theo cấp phó "
    "phụ trách lĩnh vực này.",
)
@click.option(
    "--task",
    "task_ids",
    multiple=True,
    metavar="MÃ_NV",
    help="Nhiệm vụ văn bản nhắc tới (lặp lại được).",
)
@click.option("--reason", default=None, metavar="LÝ_DO", help="Nội dung nhắc nhở, phê bình.")
@click.option(
    "--issuer",
    default=None,
    metavar="NƠI_BAN_HÀNH",
    help="Chủ tịch UBND thành phố (mặc định), Phó Chủ tịch (PCT)…: chỉ phê bình của Chủ "
    "tịch kéo theo cấp phó.",
)
@json_option
@click.pass_context
def reprimand_issue(
    ctx, kind, number, on, agencies, heads, persons, field, task_ids, reason, issuer, as_json
):
    """Ghi văn bản nhắc nhở / rút kinh nghiệm / phê bình.

    Một văn bản gửi được nhiều nơi, nêu được nhiều nhiệm vụ: lặp lại --agency, --head,
    --person, --task.

    \b
    Ví dụ:
      nhiemvu reprimand issue --kind nhac-nho --doc 612/UBND-TH --on 10/09/2023 \\
        --agency SXD --task NV-00001 --reason "Chậm báo cáo"
      nhiemvu reprimand issue --kind phe-binh --doc 1234/UBND-TH --on 10/09/2023 \\
        --head SXD --field "xây dựng"
    """
    _issue(
        ctx,
        REPRIMAND_KINDS[kind],
        number,
        on,
        agencies,
        heads,
        persons,
        field,
        task_ids,
        reason,
        issuer,
        as_json,
    )


@click.command(cls=NhiemvuCommand)
@click.option("--doc", "number", required=True, metavar="SỐ_HIỆU", help="Số hiệu văn bản.")
@click.option("--on", "on", type=DATE, required=True, help="Ngày ban hành.")
@_addressee_options
@click.option(
    "--task",
    "task_ids",
    multiple=True,
    metavar="MÃ_NV",
    help="Nhiệm vụ văn bản nhắc tới (lặp lại được).",
)
@click.option("--reason", default=None, metavar="LÝ_DO", help="Nội dung biểu dương.")
@click.option("--issuer", default=None, metavar="NƠI_BAN_HÀNH", help="Nơi ban hành văn bản.")
@json_option
@click.pass_context
def commend(ctx, number, on, agencies, heads, persons, task_ids, reason, issuer, as_json):
    """Ghi văn bản biểu dương.

    Một văn bản gửi được nhiều nơi, nêu được nhiều nhiệm vụ: lặp lại --agency, --head,
    --person, --task.
    """
    _issue(
        ctx,
        "bieu_duong",
        number,
        on,
        agencies,
        heads,
        persons,
        None,
        task_ids,
        reason,
        issuer,
        as_json,
    )


def _issue(
    ctx, kind, number, on, agencies, heads, persons, field, task_ids, reason, issuer, as_json
):
    from workflow.documents import TARGET_LABELS, Addressees

    result = LedgerCommands(ctx).issue_document(
        kind,
        number,
        on,
        Addressees(tuple(agencies), tuple(heads), tuple(persons)),
        reason=reason,
        issuer=issuer,
        field=field,
        task_ids=list(task_ids),
    )
    targets = result.events[0].data["targets"]
    lines = [f"Đã ghi văn bản {result.key}. Nơi nhận:"]
    for target in targets:
        who = " — ".join(x for x in (target["agency"], target["person"]) if x)
        note = " (kéo theo, TB 129 §2.8)" if target["cascaded"] else ""
        lines.append(f"  {TARGET_LABELS[target['kind']]}: {who}{note}")
    data = {"doc": result.key, "event_id": result.events[0].event_id, "targets": targets}
    report_result(result, as_json, "\n".join(lines), data)


@click.command(cls=NhiemvuCommand)
@click.argument("event", metavar="SỰ_KIỆN")
@click.option("--reason", required=True, metavar="LÝ_DO", help="Vì sao sự kiện bị rút lại.")
@json_option
@click.pass_context
def correct(ctx, event, reason, as_json):
    """Rút lại một sự kiện ghi nhầm (sự kiện gốc vẫn ở trong sổ).

    \b
    SỰ_KIỆN là một trong:
      mã sự kiện (lệnh ghi in ra; cột "Mã sự kiện" của task history, agency history);
      số văn bản nhắc nhở, phê bình, biểu dương hoặc văn bản chỉ đạo (1234/UBND-TH,
        "02/CT-UBND (2024)" khi số đó dùng cho văn bản nhiều năm);
      mã nhiệm vụ và số thứ tự trong `nhiemvu task history` (NV-00001#3);
      mã cơ quan và số thứ tự trong `nhiemvu agency history` (SXD#2).
    """
    from workflow.history import label

    result = LedgerCommands(ctx).correct(event, reason)
    withdrawn = result.events[-1].data
    report_result(
        result,
        as_json,
        f"Đã rút lại sự kiện {withdrawn['event_id']} ({label(withdrawn['event_type'])}).",
        retractable=False,  # a retraction stands: a mistaken one is set right by a new event
    )
