"""Hook implementations of the sms plugin: each a few lines handing over to the plugin's modules."""

from __future__ import annotations

from core.hookspecs import hookimpl


@hookimpl
def settings_schema():
    from plugins.sms.settings import SCHEMA

    return SCHEMA


@hookimpl
def piccolo_apps():
    return ["plugins.sms.piccolo_app"]


@hookimpl
def notification_channels():
    from plugins.sms.channel import SmsChannel, configured, settings_values

    values = settings_values()
    if not configured(values):
        return []  # not configured on this deployment: no channel to offer
    return [SmsChannel(values=values)]


@hookimpl
def register_routes():
    from plugins.sms.routes import delivery_receipt

    return [delivery_receipt]


@hookimpl
def job_handlers():
    from plugins.sms.services import MATCH_JOB, match_pending_receipts

    return {MATCH_JOB: match_pending_receipts}


@hookimpl
def notification_preview_parts(unit, channel, subject, body, recipients):
    """The same figures as lines beside the notification pages' previews (awaited)."""
    if channel != "sms":
        return []
    from plugins.sms.channel import SmsChannel, settings_values

    async def parts() -> list[dict]:
        figures = await SmsChannel(values=settings_values()).preview_figures(body=body, recipients=recipients,
                                                                             unit_path=unit["path"])
        sent, saving = figures["sent"], figures["saving"]
        lines = [{"label": "Số tin mỗi người (mã hoá " + sent["encoding"] + ")", "value": str(sent["segments_per_message"])},
                 {"label": "Tổng số tin", "value": f"{sent['total_segments']:,}".replace(",", ".")},
                 {"label": "Chi phí ước tính", "value": f"{figures['cost']:,.0f}".replace(",", ".")}]
        if not figures["fold"] and saving["segments"] > 0:
            lines.append({"label": "Gửi không dấu sẽ tiết kiệm",
                          "value": f"{saving['segments']:,} tin ({saving['percent']}%)".replace(",", ".")})
        return lines

    return parts()


@hookimpl
def channel_preview(channel, message, recipients):
    """Segments, cost and the saving without diacritics, for the campaign preview (awaited)."""
    if channel != "sms":
        return None
    from plugins.sms.channel import SmsChannel, settings_values

    return SmsChannel(values=settings_values()).preview_figures(body=message["body"], recipients=recipients,
                                                                unit_path=message["unit_path"])

