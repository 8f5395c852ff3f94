from django.db.models import QuerySet

from notifications.models import Delivery


def deliveries(*, status: str = "", channel: str = "", event: str = "") -> QuerySet:
    rows = Delivery.objects.select_related("recipient_user")
    if status:
        rows = rows.filter(status=status)
    if channel:
        rows = rows.filter(channel=channel)
    if event:
        rows = rows.filter(event=event)
    return rows
