-- Whether a failed payment's failure is LDK's last word. A payment left pending by a crash and
-- given up on after the restart (the node refused it again, which cannot tell "lost" from "still
-- in flight") is failed here, but LDK may still settle it: such a failure is not final (0), and
-- a refund that failed so still counts against what its sale may refund (payments::db::refunds_msat).
ALTER TABLE payments ADD COLUMN failure_final INTEGER NOT NULL DEFAULT 1;
