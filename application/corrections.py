"""Corrections: retracting an event recorded by mistake (`nhiemvu correct`).

The log is never edited: a retraction is a new event naming the one it withdraws,
and the projections leave the withdrawn fact out. What this module guards is what
a retraction would leave behind: a registration something still refers to, an
appointment a document reached, a task reopened under an agency closed since, a
merger's task moves. `Corrections` is the part of `Ledger` that does it; it uses
the ledger's transaction, projection session and append.
"""

from __future__ import annotations

from datetime import date

from events.sql import Raw
from events.store import StoreTransaction
from workflow import agencies as ag
from workflow import documents as docs
from workflow import tasks as tk
from workflow.dates import LOCAL_TZ, format_date
from workflow.errors import DomainError, NotFound
from workflow.history import label
from workflow.text import code as norm_code
from workflow.text import listed, nfc

from . import lengths, numbering, references, streams
from .results import CommandResult

DIRECTIVE_REGISTERED = "directive.registered"


class Corrections:
    """`Ledger.correct` and the checks that guard it; a part of `Ledger`."""

    def correct(self, reference: str, reason: str) -> CommandResult:
        """Retract one event: by its id, or as `NV-00001#3` (the third event of that
        task, as `task history` numbers them)."""
        if not nfc(reason):
            raise DomainError("Hãy ghi lý do điều chỉnh (--reason).")
        # Every retraction this makes carries it: refused first, not as the failure of
        # the first of them (a merger retracted with a registration, named as the cause).
        lengths.check_typed_text("reason", nfc(reason))
        with self.command() as tx:
            target = self._event_to_correct(tx, reference.strip())
            if target.type == "event.retracted":
                raise DomainError("Không rút lại một sự kiện điều chỉnh; hãy ghi sự kiện mới.")
            if target.type == "rating.finalized":
                raise DomainError(
                    "Kết quả xếp loại đã chốt không rút lại được; hãy chốt lại với lý do "
                    "(`nhiemvu rating finalize --reason …`)."
                )
            retracted = Raw(tx.connection).one(
                "SELECT COUNT(*) FROM events WHERE stream_id = :s AND event_type = :t",
                {"s": target.stream_id, "t": "event.retracted"},
            )[0]
            if retracted and target.event_id in retracted_ids(tx.read_stream(target.stream_id)):
                raise DomainError(f"Sự kiện {target.event_id} đã được rút lại trước đó.")
            warnings = []
            mergers = self._mergers_made_by(tx, target) if target.type == ag.REGISTERED else []
            for merger in reversed(mergers):
                # Recorded with the registration (agency add --merging), they go with it:
                # they refer to its agency, and the agency may bear the name of one of
                # them, which neither could give back while the other stands. The last
                # first: a task two of them led, the later one moved on.
                try:
                    warnings += self._retract_merger(tx, merger, reason, True)[1]
                except DomainError as exc:
                    raise DomainError(
                        f"Rút lại việc đăng ký {target.data['code']} rút lại cả việc sáp nhập "
                        f"{streams.key_of(merger.stream_id)} ghi cùng lần đó, nhưng: {exc}"
                    ) from None
            self._check_unreferenced(tx, target)
            if target.type == ag.MERGED:
                events, moved = self._retract_merger(tx, target, reason)
                warnings += moved
            else:
                events = self._retract(tx, target.stream_id, target.event_id, target.type, reason)
            for merger in mergers:  # the registration retracted, their names are free
                self._check_name_given_back(tx, merger)
            warnings += _finalized_since(Raw(tx.connection), target)
            return CommandResult(target.stream_id, events, tuple(warnings))

    def _mergers_made_by(self, tx: StoreTransaction, registration) -> list:
        """The mergers recorded with an agency's registration (caused by it) that still
        stand."""
        found = []
        for event_id, stream_id in references.caused_by(Raw(tx.connection), registration.event_id):
            if streams.kind_of(stream_id) != "agency":
                continue
            stream = tx.read_stream(stream_id)
            gone = retracted_ids(stream)
            found += [
                e
                for e in stream
                if e.event_id == event_id and e.type == ag.MERGED and e.event_id not in gone
            ]
        return found

    def _retract_merger(self, tx, merger, reason: str, with_registration: bool = False):
        """Retract a merger and the task moves it made (refused if one moved on since):
        its events, and what it took back, in words."""
        moves = self._merger_moves(tx, merger)
        events = self._retract(tx, merger.stream_id, merger.event_id, merger.type, reason)
        for task_id, move_id in moves:
            # With the merger: it made them, and they would keep the tasks with the
            # successor while the agency stands again.
            self._retract(tx, streams.task(task_id), move_id, tk.REASSIGNED, reason)
        code = streams.key_of(merger.stream_id)
        said = []
        if with_registration:
            said.append(
                f"Rút lại cả việc sáp nhập {code} vào {merger.data['into']} ghi cùng lần đăng "
                f"ký này: {code} hoạt động trở lại."
            )
        if moves:
            said.append(
                f"Rút lại cả việc chuyển {len(moves)} nhiệm vụ do lần sáp nhập "
                f"{'đó' if with_registration else 'này'} ghi "
                f"({listed([task_id for task_id, _ in moves])}): các nhiệm vụ đó trở lại "
                f"{code} chủ trì."
            )
        return events, said

    def _retract(self, tx, stream_id: str, event_id: str, event_type: str, reason: str):
        data = {"event_id": event_id, "event_type": event_type, "reason": nfc(reason)}
        return self._append(tx, stream_id, "event.retracted", data, None, causation_id=event_id)

    def _merger_moves(self, tx: StoreTransaction, merger) -> list[tuple[str, str]]:
        """(task id, event id) of the moves a merger made that still stand. Refused if a
        task moved on again since: the later move would have to go first."""
        moves, moved_on = [], []
        for move_id, stream_id in references.caused_by(Raw(tx.connection), merger.event_id):
            if streams.kind_of(stream_id) != "task":
                continue
            task_id = streams.key_of(stream_id)
            row = self._session(tx).task_row(task_id)
            ids = [fact["id"] for fact in row.facts] if row is not None else []
            if move_id not in ids:
                continue  # retracted on its own already, or with the task's assignment
            later = row.facts[ids.index(move_id) + 1 :]
            again = [fact for fact in later if fact["type"] == tk.REASSIGNED]
            if again:
                moved_on.append((task_id, self._merger_of(tx, again[0]["id"])))
            else:
                moves.append((task_id, move_id))
        if moved_on:
            by_mergers = sorted({code for _, code in moved_on if code is not None})
            where = (
                f"mã sự kiện trong `nhiemvu agency history {by_mergers[0]}`" if by_mergers else ""
            )
            if by_mergers and all(code is not None for _, code in moved_on):
                how = (
                    f"Hãy rút lại việc sáp nhập {', '.join(by_mergers)} trước ({where}): việc "
                    "đó rút lại cả lần chuyển tiếp."
                )
            else:
                how = (
                    "Hãy rút lại các lần giao lại sau đó trước (`nhiemvu task history MÃ_NV` "
                    "cho số thứ tự, rồi `nhiemvu correct MÃ_NV#N`)"
                    + (f"; lần do sáp nhập {', '.join(by_mergers)} chuyển thì rút lại việc sáp "
                       f"nhập đó ({where})" if by_mergers else "")
                    + "."
                )  # fmt: skip
            raise DomainError(
                f"Không rút lại được lần sáp nhập này: {listed([t for t, _ in moved_on])} đã "
                f"được chuyển tiếp sau khi sáp nhập chuyển sang. {how}"
            )
        return moves

    def _merger_of(self, tx: StoreTransaction, move_id: str) -> str | None:
        """The agency whose merger made this move of a task, if a merger did."""
        move = self.store.get_event(move_id, connection=tx.connection)
        cause = (
            move and move.causation_id and self.store.get_event(move.causation_id, tx.connection)
        )
        return streams.key_of(cause.stream_id) if cause and cause.type == ag.MERGED else None

    def _check_unreferenced(self, tx: StoreTransaction, target) -> None:
        """A registration is retracted only while nothing refers to what it registered:
        else tasks, documents and assessments would name what no longer exists."""
        if target.type == DIRECTIVE_REGISTERED:
            self._check_directive_unused(tx, target.data["number"])
        elif target.type == ag.REGISTERED:
            self._check_agency_unreferenced(tx, target.data["code"])
            self._check_registration_alone(tx, target)
        elif target.type in (ag.HEAD_APPOINTED, ag.DEPUTY_APPOINTED):
            self._check_appointee_unreached(tx, target)
        elif target.type in (tk.COMPLETED, tk.CANCELLED_EVENT, tk.REASSIGNED):
            self._check_task_left_with_a_lead(tx, target)
        elif target.type == tk.ASSIGNED:
            self._check_assignment_alone(tx, target)
        elif target.type in (ag.RENAMED, ag.MERGED, ag.DISSOLVED):
            self._check_name_given_back(tx, target)

    def _check_name_given_back(self, tx: StoreTransaction, target) -> None:
        """Retracting a rename gives the agency its former name back, and retracting a
        closure its name: not one another open agency has taken since."""
        agency = self._agency(tx, streams.key_of(target.stream_id))
        checks: list[tuple[str, date | None]] = [(agency.name, None)]
        if target.type == ag.RENAMED:
            on = date.fromisoformat(target.data["on"])
            at = next(i for i, n in enumerate(agency.names) if n.start == on)
            former = agency.names[at - 1].name
            checks = [(former, on)] + ([(former, None)] if at == len(agency.names) - 1 else [])
        try:
            for name, on in checks:
                references.check_name_free(Raw(tx.connection), name, on, agency.code)
        except DomainError as exc:
            raise DomainError(
                f"Rút lại sự kiện này sẽ trả lại tên cho {agency.code}, nhưng {exc}"
            ) from None

    def _check_assignment_alone(self, tx: StoreTransaction, assignment) -> None:
        """Retracting an assignment takes the task away with everything recorded on it,
        and its id cannot be given again: so only an assignment that nothing followed
        (escalation's own steps aside), documents naming the task included. Typing #1
        for #3 would otherwise lose a progress report and a completion for good."""
        task_id = streams.key_of(assignment.stream_id)
        row = self._session(tx).task_row(task_id)
        if row is None:
            return
        later = [f for f in row.facts if f["type"] not in (tk.ASSIGNED, tk.ESCALATED)]
        if not later:
            return
        number = {e.event_id: e.stream_version for e in tx.read_stream(assignment.stream_id)}
        recorded = [
            f"văn bản {f['data']['number']} nêu nhiệm vụ này"
            if f["type"] == tk.NAMED_IN_DOCUMENT
            else f"#{number[f['id']]} {label(f['type']).lower()}"
            for f in later
        ]
        raise DomainError(
            f"Không rút lại việc giao nhiệm vụ {task_id}: những gì đã ghi sau đó "
            f"({'; '.join(recorded)}) sẽ mất theo, không lấy lại được. Nếu định rút lại một sự "
            f"kiện khác, xem lại số thứ tự trong `nhiemvu task history {task_id}`; nếu nhiệm vụ "
            "thật sự giao nhầm, hãy rút lại những sự kiện đó trước, từ sau ra trước."
        )

    def _check_task_left_with_a_lead(self, tx: StoreTransaction, target) -> None:
        """Retracting a completion or a cancellation opens the task again, and retracting
        a reassignment (a merger's move too) gives it back to the agencies before: not
        to an agency closed since, which nobody would answer for (escalation would urge
        it, a letter would be drafted to it)."""
        row = self._session(tx).task_row(streams.key_of(target.stream_id))
        if row is None or row.task is None:
            return
        task = tk.derive_task([f for f in row.facts if f["id"] != target.event_id])
        if task is None or task.completed_on or task.cancelled_on:
            return
        closed = [a for a in (self._agency(tx, c) for c in task.leads) if a.closed_on]
        if not closed:
            return
        gone = closed[0]
        if target.type == tk.REASSIGNED:
            raise DomainError(
                f"Rút lại sự kiện này sẽ trả nhiệm vụ {task.id} về {gone.code}, mà cơ quan "
                f"này đã {gone.closure()}: nhiệm vụ sẽ không còn ai chủ trì. Nếu cần đổi cơ "
                f"quan chủ trì, hãy giao lại: `nhiemvu task reassign {task.id} --lead … "
                "--on … --reason …`."
            )
        raise DomainError(
            f"Rút lại sự kiện này sẽ mở lại nhiệm vụ {task.id}, mà cơ quan chủ trì "
            f"{gone.code} đã {gone.closure()}: nhiệm vụ sẽ không còn ai chủ trì. Nếu cơ "
            "quan được sáp nhập, hãy rút lại việc sáp nhập (mã sự kiện trong `nhiemvu "
            f"agency history {gone.code}`), rút lại sự kiện này, rồi ghi lại việc sáp "
            "nhập: nhiệm vụ sẽ được chuyển theo."
        )

    def _check_appointee_unreached(self, tx: StoreTransaction, appointment) -> None:
        """A document addressed to a head (or cascaded to a deputy) names the person the
        appointment made: retracting it would leave the document naming nobody there."""
        code = streams.key_of(appointment.stream_id)
        person = appointment.data["person"]
        documents = references.documents_reaching(Raw(tx.connection), code, person)
        if documents:
            role = "người đứng đầu" if appointment.type == ag.HEAD_APPOINTED else "cấp phó"
            raise DomainError(
                f"Không rút lại được việc ghi {role} {person} của {code}: {listed(documents)} "
                "đã gửi tới người này với tư cách đó. Hãy rút lại các văn bản đó trước "
                f'(`nhiemvu correct "{documents[0]}" --reason …`, từng văn bản), ghi lại đúng '
                "người, rồi ghi lại văn bản."
            )

    def _check_directive_unused(self, tx: StoreTransaction, number: str) -> None:
        tasks = references.tasks_of_directive(Raw(tx.connection), number)
        if tasks:
            raise DomainError(
                f"Không rút lại được việc ghi văn bản {number}: còn {len(tasks)} nhiệm vụ "
                f"giao theo văn bản này ({listed(tasks)}). Hãy rút lại việc giao các nhiệm "
                f"vụ đó trước, ví dụ `nhiemvu correct {tasks[0]}#1 --reason …`."
            )

    def _check_agency_unreferenced(self, tx: StoreTransaction, code: str) -> None:
        found = references.agency_references(Raw(tx.connection), code)
        named = [f"{REFERRERS[kind]} {listed(keys)}" for kind, keys in found.items() if keys]
        if named:
            merged = found["agencies"]
            mergers = (
                f" Việc sáp nhập {merged[0]} vào {code}: mã sự kiện trong `nhiemvu agency "
                f"history {merged[0]}`{' (từng cơ quan)' if len(merged) > 1 else ''}; rút lại "
                "nó cũng rút lại các lần chuyển nhiệm vụ nó đã ghi."
                if merged
                else ""
            )
            raise DomainError(
                f"Không rút lại được việc đăng ký cơ quan {code}: cơ quan này còn được nhắc "
                f"đến ở {'; '.join(named)}. Hãy rút lại những sự kiện đó trước.{mergers} Nếu "
                "chỉ ghi sai tên, hãy dùng `nhiemvu agency rename`."
            )

    def _check_registration_alone(self, tx: StoreTransaction, registration) -> None:
        """The agency's own later events (heads, deputies, names, closure) apply only to
        the registration before them: once it is retracted they would stand in the log
        and count for nothing, and come back into force unseen if the code were
        registered again."""
        stream = tx.read_stream(registration.stream_id)
        gone = retracted_ids(stream)
        later = [
            f"#{e.stream_version} {label(e.type).lower()}"
            for e in stream
            if e.stream_version > registration.stream_version
            and e.type != tk.RETRACTED
            and e.event_id not in gone
        ]
        if later:
            code = registration.data["code"]
            raise DomainError(
                f"Không rút lại được việc đăng ký cơ quan {code}: còn những sự kiện ghi sau đó: "
                f"{'; '.join(later)}. Hãy rút lại những sự kiện đó trước, từ sau ra trước "
                f"(số thứ tự và mã sự kiện trong `nhiemvu agency history {code}`); nếu chỉ "
                "ghi sai tên, hãy dùng `nhiemvu agency rename`."
            )

    def _event_to_correct(self, tx: StoreTransaction, reference: str):
        """The event `reference` names: its id; `NV-00001#3` or `SXD#2`, an event of a
        task or an agency by its number in `task history` or `agency history`; or the
        number of a document (reprimand, commendation) or a directive, for its issue or
        registration not yet retracted."""
        key, hash_sign, number = reference.rpartition("#")
        if hash_sign:
            found = self._numbered_in_history(tx, reference, key, number)
        else:
            found = self.store.get_event(reference, connection=tx.connection)
        found = found or self._issued_as(tx, reference)
        if found is not None:
            return found
        if hash_sign:
            from . import loading  # noqa: PLC0415 - SQLAlchemy, for this refusal only

            known = loading.task_ids(tx.connection) + loading.agency_codes(tx.connection)
            raise NotFound("nhiệm vụ hoặc cơ quan", norm_code(key), known)
        raise NotFound("sự kiện hoặc văn bản", reference)

    def _numbered_in_history(self, tx: StoreTransaction, reference: str, key: str, number: str):
        """The event `KEY#N` names: the Nth of task KEY or of agency KEY, as `task
        history` and `agency history` number them; None if neither is in the log."""
        key = norm_code(key)
        number = number.strip()
        # ASCII digits only: str.isdigit() also takes '²' and '٣', which int() refuses
        # or reads as another number than the one people see.
        if not key or not (number.isascii() and number.isdigit()):
            raise DomainError(
                f"'{reference}' không phải số thứ tự sự kiện: hãy viết mã nhiệm vụ hoặc mã cơ "
                "quan, dấu # và số thứ tự trong `nhiemvu task history` hoặc `nhiemvu agency "
                f"history`, ví dụ {key or 'NV-00001'}#2."
            )
        histories = [
            (what, stream, command)
            for what, stream, command in (
                ("Nhiệm vụ", tx.read_stream(streams.task(key)), "task history"),
                ("Cơ quan", tx.read_stream(streams.agency(key)), "agency history"),
            )
            if stream
        ]
        if not histories:
            return None
        version = int(number)
        if len(histories) > 1:
            ids = [
                f"{stream[version - 1].event_id} của {what.lower()}"
                for what, stream, _ in histories
                if 1 <= version <= len(stream)
            ]
            which = f" ({' hoặc '.join(ids)})" if ids else ""
            raise DomainError(
                f"{key} vừa là mã nhiệm vụ vừa là mã cơ quan: chưa rõ '{reference}' là sự kiện "
                f"nào. Hãy ghi mã sự kiện{which}: xem `nhiemvu task history {key}` và "
                f"`nhiemvu agency history {key}`."
            )
        ((what, stream, command),) = histories
        if not 1 <= version <= len(stream):
            raise DomainError(
                f"{what} {key} không có sự kiện #{version}: các số thứ tự là 1–"
                f"{len(stream)} (xem `nhiemvu {command} {key}`)."
            )
        return stream[version - 1]

    def _issued_as(self, tx: StoreTransaction, typed: str):
        """The issue of the document, or the registration of the directive, numbered
        `typed` (any case; the number alone names it in every year, with its year in
        that one) that is not retracted; if all are, the last of them, which the checks
        after refuse as retracted already. None if no document or directive has ever
        had that number; several standing: refused, saying which and how to name one."""
        typed = nfc(typed)
        base, year = numbering.split_year(typed)
        raw = Raw(tx.connection)
        standing, retracted = [], []
        for what, stream_of, issued, table in _NUMBERED:
            keys = {stream_of(typed), stream_of(base)}
            keys.update(stream_of(n) for n in numbering.family_numbers(raw, table, base))
            for stream_id in sorted(keys):
                stream = tx.read_stream(stream_id)
                gone = retracted_ids(stream)
                for event in (e for e in stream if e.type == issued):
                    if year is None or int(event.data["issued_on"][:4]) == year:
                        (retracted if event.event_id in gone else standing).append((what, event))
        if len(standing) == 1:
            return standing[0][1]
        if not standing:
            return max(retracted, key=lambda r: r[1].position)[1] if retracted else None
        standing.sort(key=lambda found: found[1].position)
        issued_on = [date.fromisoformat(e.data["issued_on"]) for _, e in standing]
        named = "; ".join(
            f"{what} {e.data['number']} ngày {format_date(on)} (mã sự kiện {e.event_id})"
            for (what, e), on in zip(standing, issued_on, strict=True)
        )
        years = [on.year for on in issued_on]
        how = "mã sự kiện của văn bản cần rút lại"
        if len(set(years)) == len(years):  # a document and a directive of one year: no
            example = numbering.with_year(base, years[-1])
            how = f'số kèm năm (ví dụ `nhiemvu correct "{example}" --reason …`) hoặc {how}'
        raise DomainError(
            f"Số {typed} là của {len(standing)} văn bản chưa rút lại: {named}. Hãy ghi {how}."
        )


# Numbers `nhiemvu correct` takes for the event that recorded them: what the number is
# of, its stream, the event, and the projection table of the standing ones.
_NUMBERED = (
    ("văn bản", streams.document, docs.ISSUED, "proj_documents"),
    ("văn bản chỉ đạo", streams.directive, DIRECTIVE_REGISTERED, "proj_directives"),
)


# What a rating does not read: escalation's own steps and passes.
_OUTSIDE_RATINGS = frozenset({tk.ESCALATED, "escalation.pass_completed"})


def _finalized_since(raw: Raw, target) -> list[str]:
    """A warning when ratings finalized for the event's year or later may no longer
    be what the log says: a finalized rating is a record of its own and stays as it
    was, so the secretariat decides whether to finalize again."""
    if target.type in _OUTSIDE_RATINGS:
        return []
    year = target.occurred_at.astimezone(LOCAL_TZ).year
    rows = raw.all(
        "SELECT year, MAX(revision) FROM proj_ratings WHERE year >= :year GROUP BY year "
        "ORDER BY year",
        {"year": year},
    )
    if not rows:
        return []
    years = ", ".join(f"{y} (lần {revision})" for y, revision in rows)
    first = rows[0][0]
    return [
        f"Đã chốt xếp loại năm {years}: kết quả đã chốt không tự đổi theo việc rút lại này. "
        f"Hãy tính lại (`nhiemvu rating compute --year {first}`); nếu kết quả khác, chốt lại "
        f"bằng `nhiemvu rating finalize --year {first} --reason …`."
    ]


def retracted_ids(stream) -> set[str]:
    """The ids of the stream's events that a later event retracted."""
    return {e.data["event_id"] for e in stream if e.type == tk.RETRACTED}


# What may refer to an agency (application.references.agency_references), in words.
REFERRERS = {
    "tasks": "nhiệm vụ (chủ trì hoặc phối hợp)",
    "documents": "văn bản",
    "assessments": "đánh giá",
    "ratings": "kết quả xếp loại đã chốt",
    "agencies": "cơ quan sáp nhập vào nó",
}
