-- Issue 15: answering-machine detection and call recording, on the attempt.

-- +goose Up
-- The detector's verdict (P-3): human, machine or unsure (an unsure answer, or one whose
-- detector gave no verdict within the campaign's time limit, is treated as a person).
-- amd_detail says why (beep, long_greeting, silence, hangup, time_limit, or a custom detector's
-- own cause); amd_ms is the classification time from the answer to the verdict.
ALTER TABLE attempts
    ADD COLUMN amd_result text CHECK (amd_result IN ('human', 'machine', 'unsure')),
    ADD COLUMN amd_detail text NOT NULL DEFAULT '' CHECK (char_length(amd_detail) <= 100),
    ADD COLUMN amd_ms integer CHECK (amd_ms >= 0),
    -- A machine's action: hangup, voicemail (a message left after the beep) or agent.
    ADD COLUMN machine_action text CHECK (machine_action IN ('hangup', 'voicemail', 'agent')),
    -- When the voicemail message started to play (after the beep, or the beep timeout).
    ADD COLUMN voicemail_at timestamptz,
    -- The call's recording: its path relative to the recordings directory, when it started,
    -- its length and size once it ended (unknown while the call lasts).
    ADD COLUMN recording_path text CHECK (char_length(recording_path) <= 500),
    ADD COLUMN recording_started_at timestamptz,
    ADD COLUMN recording_ms integer CHECK (recording_ms >= 0),
    ADD COLUMN recording_bytes bigint CHECK (recording_bytes >= 0);

-- +goose Down
ALTER TABLE attempts
    DROP COLUMN amd_result, DROP COLUMN amd_detail, DROP COLUMN amd_ms, DROP COLUMN machine_action,
    DROP COLUMN voicemail_at, DROP COLUMN recording_path, DROP COLUMN recording_started_at,
    DROP COLUMN recording_ms, DROP COLUMN recording_bytes;
