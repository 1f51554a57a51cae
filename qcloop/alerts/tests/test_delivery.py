"""Escalations handed to a real SMTP server and a real HTTP receiver on loopback: signed,
retried while the receiver is down, sent once when it returns, once with two sweepers."""

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from qcloop.alerts import delivery
from qcloop.alerts.models import (
    Channel,
    ChannelKind,
    ChatStyle,
    Escalation,
    EscalationContact,
    Notification,
    NotificationStatus,
)
from qcloop.inspections.recording import record_defect
from qcloop.testing import start_inspection


class Receiver:
    """An HTTP server on a fixed loopback port that records what it is sent; it can answer
    an error, or be stopped and started again on the same port (an endpoint that goes down)."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.requests: list[tuple[str, dict, bytes]] = []
        self.answer = 200
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(receiver.answer)
                self.end_headers()
                self.wfile.write(b"ok" if receiver.answer < 300 else b"receiver broke")

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver():
    r = Receiver()
    r.start()
    yield r
    r.stop()


def _webhook(world, url) -> Channel:
    return Channel.objects.create(buyer=world.buyer, kind=ChannelKind.WEBHOOK, name="ERP", url=url)


def _critical(world, description="Live part reachable") -> Escalation:
    milestone = start_inspection(world, "DUPRO")
    defect = record_defect(
        by=world.inspector,
        milestone=milestone,
        quantity=1,
        description=description,
        defect_class="critical",
    )
    return Escalation.objects.get(source=f"defect:{defect.uuid}")


@pytest.mark.django_db
def test_a_critical_finding_goes_out_by_email_and_signed_webhook(world, smtp_server, receiver):
    hook = _webhook(world, receiver.url)
    escalation = _critical(world)
    assert delivery.send_due() == 3  # the manager's mail, the QC lead's mail, the webhook
    recipients = sorted(r for _, rcpts, _ in smtp_server.messages for r in rcpts)
    assert recipients == sorted([world.users["buyer_manager"].email, world.qc_lead.email])
    assert "ESCALATION" in smtp_server.messages[0][2] and "/escalations/ack/" in (
        smtp_server.messages[0][2].replace("=\n", "")
    )
    [(_path, headers, body)] = receiver.requests
    timestamp = int(headers["X-Qcloop-Timestamp"])
    assert delivery.verify(hook.secret, timestamp, body, headers["X-Qcloop-Signature"])
    assert not delivery.verify("whsec_wrong", timestamp, body, headers["X-Qcloop-Signature"])
    sent = json.loads(body)
    assert sent["type"] == "escalation.critical"
    assert sent["escalation"]["po"] == world.po.number
    note = escalation.notifications.get(channel_kind="webhook")
    assert headers["X-Qcloop-Delivery"] == str(note.uuid) == sent["id"]
    assert note.status == NotificationStatus.SENT and note.sent_at is not None
    assert delivery.send_due() == 0  # nothing twice


@pytest.mark.django_db
def test_a_receiver_that_is_down_is_retried_and_served_once_when_back(world, receiver):
    _webhook(world, receiver.url)
    receiver.stop()
    escalation = _critical(world)
    delivery.send_due()
    note = escalation.notifications.get(channel_kind="webhook")
    assert note.status == NotificationStatus.FAILED and "does not answer" in note.error
    assert note.next_attempt_at > timezone.now()
    assert delivery.send_due() == 0  # not due yet
    receiver.start()
    later = timezone.now() + timedelta(minutes=1)
    delivery.send_due(now=later)
    delivery.send_due(now=later + timedelta(hours=1))
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT
    assert len(receiver.requests) == 1
    assert [a.ok for a in note.attempt_log.all()] == [False, True]


@pytest.mark.django_db
def test_an_error_answer_is_recorded_and_retried(world, receiver):
    _webhook(world, receiver.url)
    receiver.answer = 500
    escalation = _critical(world)
    delivery.send_due()
    note = escalation.notifications.get(channel_kind="webhook")
    assert note.status == NotificationStatus.FAILED and note.error.startswith("500")
    receiver.answer = 204
    delivery.send_due(now=timezone.now() + timedelta(minutes=1))
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT and len(receiver.requests) == 2


@pytest.mark.django_db
def test_mail_waits_while_the_smtp_server_is_down_then_goes_once(world, settings, smtp_server):
    port = settings.MAILERS["default"]["OPTIONS"]["port"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": dead, "timeout": 2},
        }
    }
    escalation = _critical(world)
    delivery.send_due()
    states = set(escalation.notifications.values_list("status", flat=True))
    assert states == {NotificationStatus.FAILED}
    settings.MAILERS["default"]["OPTIONS"]["port"] = port
    delivery.send_due(now=timezone.now() + timedelta(minutes=2))
    delivery.send_due(now=timezone.now() + timedelta(hours=2))
    assert len(smtp_server.messages) == 2
    assert set(escalation.notifications.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_send_each_notification_once(world, smtp_server, receiver):
    _webhook(world, receiver.url)
    EscalationContact.objects.create(buyer=world.buyer, level=1, name="Ana", email="a@b.test")
    for n in range(8):
        _critical(world, description=f"Exposed wire {n}") if n == 0 else record_defect(
            by=world.inspector,
            milestone=world.milestones["DUPRO"],
            quantity=1,
            description=f"Exposed wire {n}",
            defect_class="critical",
        )
    expected = Notification.objects.count()
    barrier = threading.Barrier(2)

    def sweeper():
        from django.db import connection

        barrier.wait()
        try:
            delivery.send_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [headers["X-Qcloop-Delivery"] for _, headers, _ in receiver.requests]
    assert len(ids) == len(set(ids)) == 8
    assert len(smtp_server.messages) == expected - 8
    assert Notification.objects.filter(status="sent").count() == expected


@pytest.mark.django_db
@pytest.mark.parametrize("style", [ChatStyle.WHATSAPP, ChatStyle.TEAMS])
def test_the_chat_gateway_gets_its_message_with_the_bearer_token(world, receiver, style):
    EscalationContact.objects.create(buyer=world.buyer, name="Ana", phone="+85291234567")
    Channel.objects.create(
        buyer=world.buyer,
        kind=ChannelKind.CHAT,
        name="Gateway",
        url=receiver.url,
        chat_style=style,
        secret="gw-token-1",
    )
    _critical(world)
    delivery.send_due()
    [(_path, headers, body)] = receiver.requests
    assert headers["Authorization"] == "Bearer gw-token-1"
    sent = json.loads(body)
    if style == ChatStyle.WHATSAPP:
        assert sent["to"] == "+85291234567" and "Live part" in sent["text"]["body"]
    else:
        assert sent["type"] == "message" and "Live part" in sent["text"]


@pytest.mark.django_db
def test_a_notification_is_replayed_on_request(world, receiver):
    _webhook(world, receiver.url)
    escalation = _critical(world)
    delivery.send_due()
    note = escalation.notifications.get(channel_kind="webhook")
    assert delivery.replay(note, by=world.users["buyer_manager"]) is True
    delivery.send_due()
    assert len(receiver.requests) == 2
    assert [a.replay for a in note.attempt_log.all()] == [False, True]
