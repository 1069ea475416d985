-- Issue 14 item 5: supervisors stop their campaigns' call jobs too (J-6), so the job keeps who
-- stopped it, as it keeps who started it (started_by, 00001). NULL: it stopped by itself.

-- +goose Up
ALTER TABLE call_jobs ADD COLUMN stopped_by text;

-- +goose Down
ALTER TABLE call_jobs DROP COLUMN stopped_by;
