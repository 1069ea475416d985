-- The claim's index (issue 14: lists of a million contacts must not slow the claim). The claim
-- takes a list's eligible contacts in (attempt_count, id) order; with the former index
-- (list_id, phone_type, attempt_count) PostgreSQL read and sorted the whole list for each claim
-- (1.6 s on 1 M contacts). This one hands it the eligible contacts already in order, so a claim
-- reads only the rows it takes (0.1 ms). It still serves list deletion (L-7) and the J-2 counts,
-- and it replaces the former index rather than adding one: every index costs each imported row.
-- Built in the migration's transaction: the contacts table is locked for about a second per
-- million contacts.

-- +goose Up
DROP INDEX contacts_list_idx;
CREATE INDEX contacts_list_idx ON contacts (list_id, status, attempt_count, id);

-- +goose Down
DROP INDEX contacts_list_idx;
CREATE INDEX contacts_list_idx ON contacts (list_id, phone_type, attempt_count);
