-- Issue 14: who may be called and when. The schema the do-not-call lists, the calling calendar's
-- per-contact zones and the redial to another number share, added in one step so that each part
-- can be built on it.

-- +goose Up
-- Do-not-call lists: campaign_id 0 is the global list, any other value one campaign's list.
-- Numbers are stored normalised (digits only, national form), as contacts' numbers are. The
-- primary key serves the claim's probe (one index lookup per candidate, whatever the size of
-- the list); the second index serves listing, prefix search and export of one list.
CREATE TABLE do_not_call (
    tel         text NOT NULL CHECK (tel ~ '^[0-9]{1,30}$'),
    campaign_id integer NOT NULL CHECK (campaign_id >= 0),
    reason      text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    -- api: added through the API; import: from a list file; disposition: a result code marked
    -- do_not_call.
    source      text NOT NULL CHECK (source IN ('api', 'import', 'disposition')),
    added_by    text NOT NULL,
    added_at    timestamptz NOT NULL,
    PRIMARY KEY (tel, campaign_id)
);
CREATE INDEX do_not_call_list_idx ON do_not_call (campaign_id, tel text_pattern_ops);

-- Removals are kept for the audit trail: who took a number off a list, when and why.
CREATE TABLE do_not_call_removals (
    id          bigserial PRIMARY KEY,
    tel         text NOT NULL,
    campaign_id integer NOT NULL,
    reason      text NOT NULL DEFAULT '' CHECK (char_length(reason) <= 500),
    added_by    text NOT NULL,
    added_at    timestamptz NOT NULL,
    removed_by  text NOT NULL,
    removed_at  timestamptz NOT NULL
);
CREATE INDEX do_not_call_removals_idx ON do_not_call_removals (campaign_id, removed_at);

-- A claimed number found on a list is not dialed: the ledger records a skipped attempt with
-- its reason (never sent to the switch).
ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN (
    'in_progress', 'connected', 'abandoned', 'machine', 'no_answer', 'busy', 'rejected',
    'invalid_number', 'network_failure', 'cancelled', 'skipped'));
ALTER TABLE attempts ADD COLUMN skip_reason text NOT NULL DEFAULT '';

-- Calling calendar: a contact's own IANA zone (NULL: the campaign's), and the zones a list
-- uses, recorded at import so the claim can tell which zones are open without scanning.
ALTER TABLE contacts ADD COLUMN time_zone text CHECK (char_length(time_zone) BETWEEN 1 AND 64);
ALTER TABLE customer_lists ADD COLUMN time_zones text[] NOT NULL DEFAULT '{}';

-- The other number (電話番号(その他)) a disposition asked to redial: the contact's next
-- attempts dial it instead of tel (NULL: tel).
ALTER TABLE contacts ADD COLUMN redial_tel text CHECK (redial_tel ~ '^[0-9]{1,30}$');

-- +goose Down
ALTER TABLE contacts DROP COLUMN redial_tel;
ALTER TABLE customer_lists DROP COLUMN time_zones;
ALTER TABLE contacts DROP COLUMN time_zone;
ALTER TABLE attempts DROP COLUMN skip_reason;
DELETE FROM attempts WHERE outcome = 'skipped';
ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN (
    'in_progress', 'connected', 'abandoned', 'machine', 'no_answer', 'busy', 'rejected',
    'invalid_number', 'network_failure', 'cancelled'));
DROP TABLE do_not_call_removals;
DROP TABLE do_not_call;
