-- Issue 14 item 1: a removal from a do-not-call list keeps why it was removed, and where the
-- removed entry came from, next to who removed it and when.

-- +goose Up
ALTER TABLE do_not_call_removals
    ADD COLUMN removal_reason text NOT NULL DEFAULT '' CHECK (char_length(removal_reason) <= 500),
    ADD COLUMN source text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE do_not_call_removals DROP COLUMN source, DROP COLUMN removal_reason;
