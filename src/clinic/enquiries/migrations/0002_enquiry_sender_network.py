"""Count the query rate limit by network (an IPv6 client holds a whole /64): store each
enquiry's network, and fill it in for enquiries already received."""

import ipaddress

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

IPV6_PREFIX = 64  # as clinic.accounts.requests.address_network, copied: migrations are frozen
BATCH_SIZE = 500


def _network(address: str) -> str:
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def fill_sender_network(apps: Apps, _schema_editor: BaseDatabaseSchemaEditor) -> None:
    enquiry_model = apps.get_model("enquiries", "Enquiry")
    pending = []
    rows = enquiry_model.objects.filter(sender_ip__isnull=False).only("pk", "sender_ip")
    for enquiry in rows.iterator(chunk_size=BATCH_SIZE):
        enquiry.sender_network = _network(enquiry.sender_ip)
        pending.append(enquiry)
        if len(pending) >= BATCH_SIZE:
            enquiry_model.objects.bulk_update(pending, ["sender_network"])
            pending = []
    if pending:
        enquiry_model.objects.bulk_update(pending, ["sender_network"])


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="enquiry",
            name="sender_network",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="The address the rate limit counts: the IPv4 address, or the IPv6 /64.",
                max_length=50,
            ),
        ),
        migrations.RunPython(fill_sender_network, migrations.RunPython.noop, elidable=True),
    ]
