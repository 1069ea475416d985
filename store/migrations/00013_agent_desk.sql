-- Issue 16, the agent's desk: preview and manual dials, and the steps of a connected call
-- (hold, transfer, conference) recorded on its attempt.

-- +goose Up
-- How the attempt came to be dialed (domain.DialKinds): paced (pacing or a callback), preview
-- (shown to an agent first) or manual (a number an agent typed).
ALTER TABLE attempts
    ADD COLUMN dial_kind text NOT NULL DEFAULT 'paced' CHECK (dial_kind IN ('paced', 'preview', 'manual')),
    -- When a preview attempt was dialed; NULL while it is only shown (and for other kinds).
    ADD COLUMN dialed_at timestamptz,
    -- The user who asked for a manual dial.
    ADD COLUMN requested_by text;

-- The job's own pacing mode, overriding its campaign's; NULL: the campaign's.
ALTER TABLE call_jobs
    ADD COLUMN pacing_mode text CHECK (pacing_mode IN ('progressive', 'ratio', 'predictive', 'preview'));

-- One thing done to a connected call besides talking (domain.StepKinds), who did it, when and
-- to whom. The steps go with their attempt, so a batch's deletion (B-6) takes them along.
CREATE TABLE attempt_steps (
    id          bigserial PRIMARY KEY,
    attempt_id  bigint NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('hold', 'unhold', 'consult', 'consult_answered', 'swap',
        'consult_cancelled', 'transferred', 'transfer_failed', 'conference', 'conference_joined',
        'conference_ended', 'preview_skipped', 'preview_auto_dialed')),
    agent_id    integer,
    by_user     text NOT NULL DEFAULT '' CHECK (char_length(by_user) <= 200),
    target_kind text NOT NULL DEFAULT '' CHECK (target_kind IN ('', 'agent', 'supervisor', 'number')),
    target      text NOT NULL DEFAULT '' CHECK (char_length(target) <= 200),
    detail      text NOT NULL DEFAULT '' CHECK (char_length(detail) <= 500)
);
CREATE INDEX attempt_steps_attempt_idx ON attempt_steps (attempt_id);

-- +goose Down
DROP TABLE attempt_steps;
ALTER TABLE call_jobs DROP COLUMN pacing_mode;
ALTER TABLE attempts DROP COLUMN dial_kind, DROP COLUMN dialed_at, DROP COLUMN requested_by;
