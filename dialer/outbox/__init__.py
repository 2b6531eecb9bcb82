"""The outbox sender (SPEC §9): delivers the régua's messages with retries, backoff and leases.

- :mod:`dialer.outbox.transports`: e-mail over SMTP (aiosmtplib) and SMS/WhatsApp through an
  HTTP gateway, each raising :class:`~dialer.outbox.transports.TemporaryFailure` or
  :class:`~dialer.outbox.transports.PermanentFailure`;
- :mod:`dialer.outbox.backoff`: when a failed message is tried again (pure);
- :mod:`dialer.outbox.sender`: claims due messages under a lease, sends, records the result.
"""
