-- Issue 11 item 5: an attempt that failed because of us (no switch node could take it, a dial
-- string the switch refused) is given back: its row is deleted and its contact gets back what
-- the claim changed, so the failure uses up no attempt, retry or report line. The claim keeps
-- here what it changed: the contact's status, next and last attempt times, and for a callback
-- the attempt its callback row named (the attempt whose disposition scheduled it). NULL in rows
-- claimed before this migration: those are never given back.

-- +goose Up
ALTER TABLE attempts
    ADD COLUMN prior_status              text,
    ADD COLUMN prior_next_attempt_at     timestamptz,
    ADD COLUMN prior_last_attempt_at     timestamptz,
    ADD COLUMN prior_callback_attempt_id bigint;

-- +goose Down
ALTER TABLE attempts
    DROP COLUMN prior_callback_attempt_id,
    DROP COLUMN prior_last_attempt_at,
    DROP COLUMN prior_next_attempt_at,
    DROP COLUMN prior_status;
