"""`hoinghi status`: the worker's heartbeat, queue lag, dead letters, pending work."""

from __future__ import annotations

import argparse
import datetime as dt


def register(subparsers: argparse._SubParsersAction) -> None:
    status = subparsers.add_parser("status", help="tình trạng bộ xử lý: nhịp, độ trễ hàng đợi, lỗi chưa xử lý")
    status.set_defaults(handler=cmd_status)


async def collect() -> dict:
    from core import clock
    from core.config import get_settings
    from core.tables import DomainEvent, EventDelivery, Job, Message
    from core.worker import HEARTBEAT_FILE

    heartbeat_file = get_settings().var_dir / HEARTBEAT_FILE
    heartbeat = dt.datetime.fromisoformat(heartbeat_file.read_text()) if heartbeat_file.exists() else None
    waiting = await EventDelivery.select(EventDelivery.next_attempt_at).where(EventDelivery.status == "pending").order_by(
        EventDelivery.next_attempt_at).first()
    undispatched = await DomainEvent.select(DomainEvent.created_at).where(DomainEvent.dispatched == False).order_by(  # noqa: E712
        DomainEvent.id).first()
    since = min([t for t in (waiting and waiting["next_attempt_at"], undispatched and undispatched["created_at"]) if t], default=None)
    return {
        "worker_heartbeat": heartbeat,
        "queue_lag_seconds": max(0.0, (clock.now() - since).total_seconds()) if since else 0.0,
        "dead_deliveries": await EventDelivery.count().where(EventDelivery.status == "dead"),
        "dead_jobs": await Job.count().where(Job.status == "dead"),
        "pending_jobs": await Job.count().where(Job.status.is_in(["pending", "running"])),
        "queued_messages": await Message.count().where(Message.status == "queued"),
        "unknown_messages": await Message.count().where(Message.status == "unknown"),
    }


def cmd_status(args: argparse.Namespace) -> int:
    from core.commands.runtime import run_with_database

    report = run_with_database(collect)
    labels = {
        "worker_heartbeat": "Nhịp bộ xử lý gần nhất", "queue_lag_seconds": "Độ trễ hàng đợi (giây)",
        "dead_deliveries": "Sự kiện gửi lỗi hẳn", "dead_jobs": "Việc lỗi hẳn", "pending_jobs": "Việc đang chờ",
        "queued_messages": "Tin nhắn chờ gửi", "unknown_messages": "Tin nhắn không rõ trạng thái",
    }
    for key, value in report.items():
        shown = value.isoformat() if isinstance(value, dt.datetime) else ("chưa có" if value is None else value)
        print(f"{labels[key]}: {shown}")
    return 1 if report["dead_deliveries"] or report["dead_jobs"] else 0
