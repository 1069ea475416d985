-- Issue 14 item 3 (J-4): a number a running job has called in its current run stays with that
-- job until it stops, retries included. The claim records here which job and run last called
-- the contact (kept after the attempt ends, unlike claimed_by_job), so the claim query of
-- another job tells with one lookup of the job whether the number is still another job's.

-- +goose Up
ALTER TABLE contacts
    ADD COLUMN called_by_job bigint,
    ADD COLUMN called_run    integer;
-- What the claim changed, for a give-back (00003).
ALTER TABLE attempts
    ADD COLUMN prior_called_by_job bigint,
    ADD COLUMN prior_called_run    integer;

-- +goose Down
ALTER TABLE attempts
    DROP COLUMN prior_called_run,
    DROP COLUMN prior_called_by_job;
ALTER TABLE contacts
    DROP COLUMN called_run,
    DROP COLUMN called_by_job;
