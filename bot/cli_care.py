"""Care commands: `slots search`, `book`, `bookings list|cancel`, `institutions demo|import`.

Contracts (docs/contracts.md): with `--json` each prints one JSON object; a failure exits 1 and prints
`{"error": CODE, "message": ...}`. Without `--json` the output is a readable Chinese table.
Every command opens the database `DATABASE_URL` names (default SQLite under data/) and upgrades its schema
first. Nothing here imports torch, a model or `retrieval` — these commands stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from bot.settings import Settings

SERVICE_ALIASES = {
    "temporary": "临时托", "temp": "临时托", "occasional": "临时托",
    "hourly": "计时托", "hour": "计时托",
    "full-day": "全日托", "fullday": "全日托", "full_day": "全日托", "full": "全日托",
    "half-day": "半日托", "halfday": "半日托", "half_day": "半日托", "half": "半日托",
}  # fmt: skip


class CliError(Exception):
    """A failure reported as `{"error": code, "message": message}` with exit code 1."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register the care commands."""
    slots = subparsers.add_parser("slots", help="nearby childcare and temporary-care sessions")
    slots_sub = slots.add_subparsers(dest="slots_command", required=True)
    search = slots_sub.add_parser("search", help="institutions near a point (or in a district), nearest first")
    search.add_argument("--lat", type=float, help="latitude (degrees)")
    search.add_argument("--lon", type=float, help="longitude (degrees)")
    search.add_argument("--district", help="instead of --lat/--lon: a district or town name (思明, 杨舍镇, Huli)")
    search.add_argument("--radius-km", type=float, default=5.0, help="search radius in km (default 5)")
    search.add_argument("--age-months", type=int, help="the child's age in months")
    search.add_argument("--max-price", type=float, help="budget for the service asked (全日托 by default)")
    search.add_argument("--puhui", action="store_true", help="普惠 institutions only")
    search.add_argument("--service", help="全日托 | 半日托 | 临时托 | 计时托 (or full-day, half-day, temporary, hourly)")
    search.add_argument("--date", help="YYYY-MM-DD: only institutions with a bookable session that day")
    search.add_argument("--reduction", help="a fee reduction that applies, e.g. 困境婴幼儿 (adds a 'reduction' object)")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument("--json", action="store_true", help="print the JSON contract object")
    search.set_defaults(func=cmd_slots_search)

    book = subparsers.add_parser("book", help="book a place in a temporary-care session")
    add_child_arguments(book)
    book.add_argument("--key", help="idempotency key: repeating a command with the same key books once")
    book.add_argument("--json", action="store_true")
    book.set_defaults(func=cmd_book)

    bookings = subparsers.add_parser("bookings", help="a parent's bookings")
    bookings_sub = bookings.add_subparsers(dest="bookings_command", required=True)
    listing = bookings_sub.add_parser("list", help="upcoming bookings (all with --all)")
    listing.add_argument("--user", type=int, required=True)
    listing.add_argument("--all", action="store_true", help="include past and cancelled bookings")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_bookings_list)
    cancel = bookings_sub.add_parser("cancel", help="cancel a booking and free its place")
    add_own_row_arguments(cancel, "booking_id", cmd_bookings_cancel)

    institutions = subparsers.add_parser("institutions", help="institution data: demo data or a CSV import")
    inst_sub = institutions.add_subparsers(dest="institutions_command", required=True)
    demo = inst_sub.add_parser("demo", help="create/refresh the deterministic demo data (Xiamen, Zhangjiagang)")
    demo.add_argument("--days", type=int, default=14, help="days of sessions from today (default 14)")
    demo.add_argument("--today", help="YYYY-MM-DD (default: today in Asia/Shanghai)")
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_institutions_demo)
    imp = inst_sub.add_parser("import", help="import institutions from a CSV file (all rows or none)")
    imp.add_argument("file", help="CSV file; columns are documented in db/care/csv_import.py and README")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_institutions_import)


def add_child_arguments(parser: argparse.ArgumentParser) -> None:
    """`--session ID --user ID --child-age-months M [--child NAME]`: a parent's child and a session."""
    parser.add_argument("--session", type=int, required=True, help="session id (from slots search)")
    parser.add_argument("--user", type=int, required=True, help="the parent's Telegram user id")
    parser.add_argument("--child-age-months", type=int, required=True)
    parser.add_argument("--child", default="", help="the child's name or nickname (tells two children apart)")


def add_own_row_arguments(parser: argparse.ArgumentParser, id_name: str, command: Callable) -> None:
    """`ID --user ID [--json]`: a row (booking, queue entry) of the parent's, handled by `command`."""
    parser.add_argument(id_name, type=int)
    parser.add_argument("--user", type=int, required=True)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=command)


# --- plumbing --------------------------------------------------------------------------------------------------


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _run(args: argparse.Namespace, settings: Settings, body: Callable) -> int:
    """Open and migrate the database, run `body(engine)`, map failures to the error contract."""
    from sqlalchemy.exc import SQLAlchemyError

    from db.care.booking import BookingError
    from db.care.search import SearchError
    from db.core.engine import make_engine
    from db.core.migrate import upgrade_to_head

    engine = None
    try:
        engine = make_engine(settings.sqlalchemy_url)
        upgrade_to_head(engine)
        return body(engine)
    except (BookingError, SearchError, CliError) as exc:
        return _fail(args, exc.code, exc.message)
    except SQLAlchemyError as exc:
        return _fail(args, "database", f"数据库错误 (database error): {str(exc).splitlines()[0][:300]}")
    finally:
        if engine is not None:
            engine.dispose()


def _run_unit(args: argparse.Namespace, settings: Settings, body: Callable) -> int:
    """`_run` with `body(session)` as one unit of work (committed when it returns, rolled back when it raises)."""

    def in_unit(engine) -> int:
        from db.core.engine import session_scope

        with session_scope(engine) as session:
            return body(session)

    return _run(args, settings, in_unit)


def _report(args: argparse.Namespace, obj: dict, text: str) -> int:
    """Print the command's outcome: `obj` as JSON with --json, else `text`; exit code 0."""
    if args.json:
        _emit(obj)
    else:
        print(text)
    return 0


def _fail(args: argparse.Namespace, code: str, message: str) -> int:
    if getattr(args, "json", False):
        _emit({"error": code, "message": message})
    else:
        sys.stderr.write(f"错误 ({code}): {message}\n")
    return 1


def _parse_day(text: str | None, what: str = "--date"):
    from db.core.timeutil import parse_date

    if text is None:
        return None
    try:
        return parse_date(text)
    except ValueError:
        raise CliError("invalid", f"{what} 应为 YYYY-MM-DD (expected YYYY-MM-DD): {text!r}") from None


def _service(text: str | None) -> str | None:
    if text is None:
        return None
    return SERVICE_ALIASES.get(text.strip().lower(), text.strip())


def _yuan(value) -> str:
    from db.care.institutions import json_number

    return "—" if value is None else str(json_number(value))


# --- commands --------------------------------------------------------------------------------------------------


def cmd_slots_search(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot slots search --lat LAT --lon LON [...] [--json]`."""

    def body(session) -> int:
        from db.care.search import search_by_district, search_nearby

        day = _parse_day(args.date)
        filters = dict(
            age_months=args.age_months,
            max_price=args.max_price,
            puhui_only=args.puhui,
            service=_service(args.service),
            date=day,
            reduction_key=args.reduction,
            limit=args.limit,
            offset=args.offset,
        )
        if args.district:
            page = search_by_district(args.district, session=session, **filters)
            if page is None:
                raise CliError("unknown_place", f"不认识的地名 (unknown district or town): {args.district}")
        else:
            if args.lat is None or args.lon is None:
                raise CliError("invalid", "需要 --lat 和 --lon,或 --district (give --lat and --lon, or --district)")
            page = search_nearby(args.lat, args.lon, session=session, radius_km=args.radius_km, **filters)
        if args.json:
            _emit(page.to_dict(with_reduction=bool(args.reduction)))
        else:
            _print_page(page)
        return 0

    return _run_unit(args, settings, body)


def _print_page(page) -> None:
    where = (
        f"{page.place.city}{page.place.district}" if page.place else f"({page.centre[0]:.4f}, {page.centre[1]:.4f})"
    )
    radius = f" {page.radius_km:g} 公里内" if page.radius_km else ""
    price_label = f"{page.service or '全日托'}价格"
    if not page.results:
        print(f"{where}{radius}没有找到符合条件的托育机构。")
        return
    first, last = page.offset + 1, page.offset + len(page.results)
    print(f"{where}{radius}的托育机构:共 {page.total} 家,显示第 {first}–{last} 家(按距离排序)")
    for number, result in enumerate(page.results, start=first):
        tags = ["普惠" if result.puhui else "非普惠"]
        if result.is_demo:
            tags.append("演示数据")
        price = _yuan(result.price)
        if result.reduction and result.base_price is not None:
            price = f"{_yuan(result.price)}(原价 {_yuan(result.base_price)},已减 {_yuan(result.reduction.amount)})"
        print(f"{number:>3}. {result.name}  [{' / '.join(tags)}]")
        print(
            f"     {result.distance_km:.2f} 公里 · {result.district} · {price_label} {price} · "
            f"{result.age_min_months}–{result.age_max_months} 个月 · 空余托位 {result.free_places}/{result.total_places}"
        )
        if result.reduction:
            print(f"     减免依据:{result.reduction.source}")
        for slot in result.sessions:
            print(
                f"       时段 #{slot.session_id}  {slot.date.isoformat()} {slot.start_time:%H:%M}–{slot.end_time:%H:%M}"
                f"  {slot.service}  {_yuan(slot.price)} 元  余 {slot.free}/{slot.capacity}"
            )
    if page.has_more:
        print(f"还有更多结果:加 --offset {page.offset + len(page.results)} 查看下一页。")


def cmd_book(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot book --session ID --user ID --child-age-months M [--child NAME] [--json]`."""

    def body(session) -> int:
        from db.care.booking import BookingError, BookingRequest, book_session, get_booking
        from db.care.waitlist import queue_length

        request = BookingRequest(args.session, args.user, args.child_age_months, args.child, args.key)
        try:
            booking = book_session(request, session=session)
        except BookingError as error:
            session.rollback()
            if error.code != "full" or queue_length(args.session, session=session) == 0:
                raise
            # Parents already wait for this session: say so (join with `waitlist join`).
            if args.json:
                _emit({"error": "full", "message": error.message, "waitlist": True})
            else:
                sys.stderr.write(f"错误 (full): {error.message};可排队:python -m bot waitlist join\n")
            return 1
        if args.json:
            _emit({"booking_id": booking.id, "code": booking.code, "status": booking.status})
        else:
            view = get_booking(booking.id, session=session)
            print(f"预约成功!预约码 {booking.code}(预约编号 {booking.id})")
            print(
                f"  {view.institution_name} · {view.date.isoformat()} {view.start_time:%H:%M}–{view.end_time:%H:%M}"
                f" · {view.service} · {_yuan(view.price)} 元"
            )
            print(f"  地址:{view.address}  电话:{view.phone or '—'}")
            if view.is_demo:
                print("  (演示数据:该机构和时段是生成的示例,不是真实机构。)")
        return 0

    return _run_unit(args, settings, body)


def cmd_bookings_list(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot bookings list --user ID [--all] [--json]`."""

    def body(session) -> int:
        from db.care.booking import list_bookings

        views = list_bookings(args.user, upcoming_only=not args.all, session=session)
        if args.json:
            _emit({"bookings": [v.to_dict() for v in views]})
            return 0
        if not views:
            print("没有预约。" if args.all else "没有即将到来的预约。")
            return 0
        print(f"{'编号':>6}  {'预约码':<6}  {'状态':<4}  {'日期':<10}  {'时间':<11}  {'服务':<4}  机构")
        for v in views:
            status = "已确认" if v.status == "confirmed" else "已取消"
            print(
                f"{v.booking_id:>6}  {v.code:<6}  {status:<4}  {v.date.isoformat():<10}  "
                f"{v.start_time:%H:%M}–{v.end_time:%H:%M}  {v.service:<4}  {v.institution_name}"
                f"{'  孩子:' + v.child_name if v.child_name else ''}"
            )
        return 0

    return _run_unit(args, settings, body)


def cmd_bookings_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot bookings cancel BOOKING_ID --user ID [--json]`."""

    def body(session) -> int:
        from datetime import timedelta

        from db.care.booking import cancel_booking

        # A waiting parent is offered the freed place (held for WAITLIST_HOLD_MINUTES); the bot sends the offer.
        hold = timedelta(minutes=settings.waitlist_hold_minutes)
        booking = cancel_booking(args.booking_id, args.user, hold=hold, session=session)
        return _report(
            args, {"booking_id": booking.id, "code": booking.code, "status": booking.status},
            f"已取消预约 {booking.code}(预约编号 {booking.id}),名额已释放。",
        )

    return _run_unit(args, settings, body)


def cmd_institutions_demo(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot institutions demo [--days N] [--today YYYY-MM-DD] [--seed S] [--json]`."""

    def body(session) -> int:
        from db.care.demo_data import DEMO_SEED, generate_demo

        if not (0 <= args.days <= 60):
            raise CliError("invalid", "--days 应在 0–60 之间 (--days must be 0–60)")
        today = _parse_day(args.today, "--today")
        seed = DEMO_SEED if args.seed is None else args.seed
        report = generate_demo(session=session, today=today, days=args.days, seed=seed)
        if args.json:
            _emit(report.to_dict())
        else:
            print(
                f"演示数据已就绪 (demo data ready): {report.institutions_total} 家机构, {report.places_total} 个托位;"
                f" 新增 {report.institutions_created}, 更新 {report.institutions_updated},"
                f" 删除 {report.institutions_deleted}; 新增时段 {report.sessions_created} 个。"
            )
            print("所有演示记录都标记为演示数据,机构名称带“（演示）”。")
        return 0

    return _run_unit(args, settings, body)


def cmd_institutions_import(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m bot institutions import FILE.csv [--json]` — exit 1 when any row is rejected."""

    def body(session) -> int:
        from db.care.csv_import import import_institutions_csv

        report = import_institutions_csv(args.file, session=session)
        if args.json:
            out = report.to_dict()
            if not report.applied:
                out = {"error": "rejected", "message": "导入未执行 (nothing was imported)"} | out
            _emit(out)
        else:
            print(report.summary(), file=sys.stdout if report.applied else sys.stderr)
        return 0 if report.applied else 1

    return _run_unit(args, settings, body)
