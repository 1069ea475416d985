-- The data of FUNCTIONAL.md: batches (§1), lists and contacts (§2), assignments (§3), call jobs (§4),
-- attempts (§7), dispositions (§6), callbacks (§8) and the retention records of B-6.
-- Campaigns, dial groups and agents live in the YAML configuration; rows refer to them by id.

-- +goose Up
CREATE TABLE batches (
    id                  bigserial PRIMARY KEY,
    campaign_id         integer NOT NULL CHECK (campaign_id > 0),
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    -- B-2: dates are in time_zone, the campaign's zone when the batch was created, so the
    -- retention sweeper can compute "today" without the configuration.
    time_zone           text NOT NULL,
    start_date          date NOT NULL,
    end_date            date NOT NULL,
    delete_date         date NOT NULL,
    history_delete_date date NOT NULL,
    memo                text NOT NULL DEFAULT '' CHECK (char_length(memo) <= 500),
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK (start_date <= end_date),
    CHECK (end_date < delete_date),
    CHECK (delete_date <= history_delete_date)
);
CREATE INDEX batches_campaign_idx ON batches (campaign_id, start_date);
CREATE INDEX batches_delete_date_idx ON batches (delete_date);

-- B-1: the dial groups allowed to work a batch.
CREATE TABLE batch_dial_groups (
    batch_id      bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    dial_group_id integer NOT NULL CHECK (dial_group_id > 0),
    PRIMARY KEY (batch_id, dial_group_id)
);

-- L-1..L-8: one imported CSV file.
CREATE TABLE customer_lists (
    id         bigserial PRIMARY KEY,
    batch_id   bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    row_count  integer NOT NULL CHECK (row_count >= 0),
    encoding   text NOT NULL CHECK (encoding IN ('sjis', 'utf-8')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (id, batch_id) -- target of the contacts' composite foreign key
);
CREATE INDEX customer_lists_batch_idx ON customer_lists (batch_id);

-- One row of a list. batch_id is repeated so that (batch_id, tel) can be unique (L-3, J-4); one
-- composite foreign key keeps it equal to the list's batch and cascades deletions (one check
-- per row instead of two: imports of millions of rows pay for every per-row trigger, L-8).
CREATE TABLE contacts (
    id              bigserial PRIMARY KEY,
    batch_id        bigint NOT NULL,
    list_id         bigint NOT NULL,
    line            integer NOT NULL CHECK (line >= 2),
    name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    kana            text NOT NULL CHECK (char_length(kana) BETWEEN 1 AND 255),
    tel             text NOT NULL CHECK (tel ~ '^0[0-9]{8,29}$'),
    remarks         text NOT NULL DEFAULT '' CHECK (char_length(remarks) <= 1000),
    phone_type      text NOT NULL CHECK (phone_type IN ('mobile', 'landline', 'pager', 'ip', 'toll_free')),
    -- eligible: may be dialed; callback: waits for callback_at; complete: never again (D-2).
    status          text NOT NULL DEFAULT 'eligible' CHECK (status IN ('eligible', 'callback', 'complete')),
    attempt_count   integer NOT NULL DEFAULT 0 CHECK (attempt_count >= 0),
    last_attempt_at timestamptz,
    -- P-3: a retried contact is not dialed before this time.
    next_attempt_at timestamptz,
    -- J-4/P-5: the call job that holds the contact right now (claimed, ringing or talking), with
    -- the fencing token of the claim so a stale owner cannot release someone else's claim.
    claimed_by_job  bigint,
    claim_token     bigint,
    claimed_at      timestamptz,
    FOREIGN KEY (list_id, batch_id) REFERENCES customer_lists (id, batch_id) ON DELETE CASCADE
);
-- L-3/J-4: a number once per batch. text_pattern_ops lets the same index serve tel-prefix
-- search (S-3) whatever the database collation.
CREATE UNIQUE INDEX contacts_batch_tel_key ON contacts (batch_id, tel text_pattern_ops);
-- List deletion (L-7) and the J-2 filter of a call job's list (phone type, attempt count) share
-- one index: every index costs each imported row.
CREATE INDEX contacts_list_idx ON contacts (list_id, phone_type, attempt_count);
CREATE INDEX contacts_claimed_idx ON contacts (claimed_by_job) WHERE claimed_by_job IS NOT NULL;

-- A-1/A-2: a list handed to a dial group. Deleted assignments keep their row (deleted_at) so the
-- same list can never be assigned again.
CREATE TABLE assignments (
    id            bigserial PRIMARY KEY,
    batch_id      bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    list_id       bigint NOT NULL REFERENCES customer_lists (id) ON DELETE CASCADE,
    dial_group_id integer NOT NULL CHECK (dial_group_id > 0),
    count         integer NOT NULL CHECK (count >= 0),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    deleted_at    timestamptz,
    UNIQUE (list_id)
);
CREATE INDEX assignments_batch_idx ON assignments (batch_id);

-- J-1..J-7.
CREATE TABLE call_jobs (
    id                bigserial PRIMARY KEY,
    batch_id          bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    -- A list goes with the (stopped) jobs built on it; L-7 refuses while one runs.
    list_id           bigint NOT NULL REFERENCES customer_lists (id) ON DELETE CASCADE,
    dial_group_id     integer NOT NULL CHECK (dial_group_id > 0),
    caller_id         text NOT NULL,
    -- J-2 filter: phone_type any|mobile|landline, attempts_min/max, last_attempt_from/to (HH:MM).
    filter            jsonb NOT NULL DEFAULT '{}'::jsonb,
    memo              text NOT NULL DEFAULT '' CHECK (char_length(memo) <= 500),
    status            text NOT NULL DEFAULT 'stopped' CHECK (status IN ('stopped', 'running')),
    target_count      integer NOT NULL DEFAULT 0 CHECK (target_count >= 0),
    remaining_count   integer NOT NULL DEFAULT 0 CHECK (remaining_count >= 0),
    -- Each start opens a new run; attempts record the run they belong to (J-3 "in this run").
    run               integer NOT NULL DEFAULT 0,
    started_at        timestamptz,
    started_by        text,
    stopped_at        timestamptz,
    stop_reason       text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX call_jobs_batch_idx ON call_jobs (batch_id);
CREATE INDEX call_jobs_running_idx ON call_jobs (status) WHERE status = 'running';

-- P-3/P-5: one originate towards a contact. The row, with its pre-generated channel UUID, is
-- committed before the originate is sent (the exactly-once dial ledger).
CREATE TABLE attempts (
    id             bigserial PRIMARY KEY,
    batch_id       bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    campaign_id    integer NOT NULL,
    -- Lists and contacts may be deleted (L-7) while the history stays readable until the batch
    -- goes (B-5, B-6).
    list_id        bigint REFERENCES customer_lists (id) ON DELETE SET NULL,
    contact_id     bigint REFERENCES contacts (id) ON DELETE SET NULL,
    call_job_id    bigint REFERENCES call_jobs (id) ON DELETE SET NULL,
    job_run        integer NOT NULL DEFAULT 0,
    tel            text NOT NULL,
    caller_id      text NOT NULL DEFAULT '',
    channel_uuid   uuid NOT NULL UNIQUE,
    node           text NOT NULL DEFAULT '',
    instance_id    text NOT NULL DEFAULT '',
    agent_id       integer,
    created_at     timestamptz NOT NULL,
    started_at     timestamptz NOT NULL,
    answered_at    timestamptz,
    bridged_at     timestamptz,
    ended_at       timestamptz,
    outcome        text NOT NULL DEFAULT 'in_progress' CHECK (outcome IN (
        'in_progress', 'connected', 'abandoned', 'machine', 'no_answer', 'busy', 'rejected',
        'invalid_number', 'network_failure', 'cancelled')),
    hangup_cause   text NOT NULL DEFAULT '',
    talk_seconds   integer CHECK (talk_seconds >= 0),
    agent_dropped  boolean NOT NULL DEFAULT false,
    -- D-3: a connected attempt needs a disposition by this time or it becomes unsaved.
    disposition_due_at timestamptz
);
CREATE INDEX attempts_batch_started_idx ON attempts (batch_id, started_at);
CREATE INDEX attempts_contact_idx ON attempts (contact_id, started_at);
CREATE INDEX attempts_job_idx ON attempts (call_job_id, job_run);
CREATE INDEX attempts_campaign_answered_idx ON attempts (campaign_id, answered_at) WHERE answered_at IS NOT NULL;
CREATE INDEX attempts_unfinished_idx ON attempts (instance_id) WHERE outcome = 'in_progress';
CREATE INDEX attempts_agent_idx ON attempts (agent_id, started_at) WHERE agent_id IS NOT NULL;

-- D-1: what the agent recorded after a connected call.
CREATE TABLE dispositions (
    attempt_id   bigint PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,
    party        text NOT NULL CHECK (party IN ('self', 'other')),
    result_code  text NOT NULL,
    other_tel    text NOT NULL DEFAULT '' CHECK (other_tel ~ '^[0-9]{0,30}$'),
    next_action  text NOT NULL CHECK (next_action IN ('continue', 'callback', 'complete')),
    callback_at  timestamptz,
    memo         text NOT NULL DEFAULT '' CHECK (char_length(memo) <= 5000),
    saved_by     text NOT NULL,
    saved_at     timestamptz NOT NULL,
    CHECK ((next_action = 'callback') = (callback_at IS NOT NULL))
);

-- S-2: callbacks scheduled from dispositions.
CREATE TABLE callbacks (
    id          bigserial PRIMARY KEY,
    batch_id    bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    contact_id  bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    attempt_id  bigint REFERENCES attempts (id) ON DELETE SET NULL,
    agent_id    integer,
    due_at      timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'dialed', 'cancelled')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX callbacks_due_idx ON callbacks (batch_id, due_at) WHERE status = 'scheduled';
CREATE INDEX callbacks_contact_idx ON callbacks (contact_id);
CREATE UNIQUE INDEX callbacks_one_scheduled_idx ON callbacks (contact_id) WHERE status = 'scheduled';

-- B-6: who deleted what and when, kept until the history-deletion date.
CREATE TABLE batch_deletions (
    id                  bigserial PRIMARY KEY,
    batch_id            bigint NOT NULL UNIQUE,
    campaign_id         integer NOT NULL,
    batch_name          text NOT NULL,
    time_zone           text NOT NULL,
    start_date          date NOT NULL,
    end_date            date NOT NULL,
    delete_date         date NOT NULL,
    history_delete_date date NOT NULL,
    deleted_by          text NOT NULL,
    reason              text NOT NULL CHECK (reason IN ('retention', 'manual')),
    deleted_at          timestamptz NOT NULL,
    list_count          integer NOT NULL,
    contact_count       integer NOT NULL,
    attempt_count       integer NOT NULL
);
CREATE INDEX batch_deletions_history_idx ON batch_deletions (history_delete_date);

-- L-4: error CSVs of refused imports, downloadable by the uploader or an admin for 24 h.
CREATE TABLE import_error_files (
    id           uuid PRIMARY KEY,
    batch_id     bigint REFERENCES batches (id) ON DELETE CASCADE,
    uploaded_by  text NOT NULL,
    encoding     text NOT NULL CHECK (encoding IN ('sjis', 'utf-8')),
    file_name    text NOT NULL,
    content      bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX import_error_files_expiry_idx ON import_error_files (expires_at);

-- +goose Down
DROP TABLE import_error_files;
DROP TABLE batch_deletions;
DROP TABLE callbacks;
DROP TABLE dispositions;
DROP TABLE attempts;
DROP TABLE call_jobs;
DROP TABLE assignments;
DROP TABLE contacts;
DROP TABLE customer_lists;
DROP TABLE batch_dial_groups;
DROP TABLE batches;
