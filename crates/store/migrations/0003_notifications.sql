-- Migration 3: the notifications' delivery log (paddock-core's notifier).
--
-- notifications: every notification made, by its sequence number (the `n<seq>` id goes on
-- across restarts), with the notification itself as its wire JSON (title, body, link,
-- actions, and its state: pending, delivered, answered by whom, withdrawn).
-- notification_deliveries: each channel's part in one (status, attempts, last error,
-- latency), updated as it changes.
-- notification_attempts: every attempt of every channel, with its outcome and latency.
-- Retention deletes a notification with its deliveries and attempts once it is older than
-- the retention period.

CREATE TABLE notifications (
    seq        INTEGER NOT NULL PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    session    TEXT,
    request    TEXT,
    data       TEXT NOT NULL CHECK (json_valid(data))
) STRICT;

CREATE INDEX notifications_created ON notifications (created_ms);

CREATE TABLE notification_deliveries (
    seq        INTEGER NOT NULL REFERENCES notifications (seq) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    latency_ms INTEGER,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (seq, channel)
) STRICT;

CREATE TABLE notification_attempts (
    seq        INTEGER NOT NULL REFERENCES notifications (seq) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    time_ms    INTEGER NOT NULL,
    ok         INTEGER NOT NULL,
    error      TEXT,
    latency_ms INTEGER NOT NULL,
    PRIMARY KEY (seq, channel, attempt)
) STRICT;
