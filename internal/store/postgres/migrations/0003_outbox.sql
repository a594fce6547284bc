-- Reserved: the notification outbox (internal/notify) fills this in.
SELECT 1;
