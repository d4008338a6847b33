"""SMS channel: HTTP gateways (templated requests, presets for common REST APIs) and delivery
receipts; segment and cost figures for the campaign preview."""

from core.errors import Label

LABEL = Label("Tin nhắn SMS")
REQUIRES: tuple[str, ...] = ()
