-- Live answers and abandons per campaign in 15-minute buckets (P-2): the compliance windows
-- (calendar day in the campaign's zone, rolling 24 hours and 30 days) are read from here, so
-- deleting a batch and its attempts (B-5, B-6) never rewrites a campaign's abandon record.
-- Fifteen minutes lines up with the local midnight of every time zone in use.
-- Also indexes for a campaign's latest ended attempts (pacing's start, P-4) and its reports (S-4).

-- +goose Up
CREATE TABLE answer_stats (
    campaign_id integer     NOT NULL,
    bucket      timestamptz NOT NULL,
    live        integer     NOT NULL DEFAULT 0 CHECK (live >= 0),
    abandoned   integer     NOT NULL DEFAULT 0 CHECK (abandoned >= 0 AND abandoned <= live),
    PRIMARY KEY (campaign_id, bucket)
);

INSERT INTO answer_stats (campaign_id, bucket, live, abandoned)
SELECT campaign_id,
       date_bin('15 minutes', COALESCE(answered_at, ended_at), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       count(*), count(*) FILTER (WHERE outcome = 'abandoned')
FROM attempts
WHERE outcome IN ('connected', 'abandoned') AND COALESCE(answered_at, ended_at) IS NOT NULL
GROUP BY 1, 2;

-- The latest ended attempts of a campaign: what pacing learns from when an engine starts.
CREATE INDEX attempts_campaign_ended_idx ON attempts (campaign_id, ended_at) WHERE ended_at IS NOT NULL;
-- Reports by campaign and time range (S-4).
CREATE INDEX attempts_campaign_started_idx ON attempts (campaign_id, started_at);

-- +goose Down
DROP INDEX attempts_campaign_started_idx;
DROP INDEX attempts_campaign_ended_idx;
DROP TABLE answer_stats;
