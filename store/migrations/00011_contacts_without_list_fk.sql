-- L-8, issue 14 item 6: a million-row import at over 100,000 rows a second. The composite
-- foreign key from contacts to their list cost each copied row a lookup of the list (about 40 %
-- of an import's time in PostgreSQL: 83 k rows/s with it, 142 k without, 1 M rows beside
-- 1 M do-not-call numbers). It goes; what it gave is kept another way:
--   * a contact's list and batch are those of the import that wrote it, the only writer of
--     contacts, in the transaction that creates the list (store/import.go);
--   * deleting lists (L-7), or batches and with them their lists (B-5, B-6), deletes their
--     contacts: a trigger on customer_lists, before each list row goes (lists are few; the
--     contacts go first, while the jobs and attempts that name them are still there, as the
--     foreign key's cascade did).

-- +goose Up
ALTER TABLE contacts DROP CONSTRAINT contacts_list_id_batch_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION delete_contacts_of_deleted_list() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contacts WHERE list_id = OLD.id;
    RETURN OLD;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER customer_lists_delete_contacts BEFORE DELETE ON customer_lists
    FOR EACH ROW EXECUTE FUNCTION delete_contacts_of_deleted_list();

-- +goose Down
DROP TRIGGER customer_lists_delete_contacts ON customer_lists;
DROP FUNCTION delete_contacts_of_deleted_list();
DELETE FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM customer_lists l WHERE l.id = c.list_id AND l.batch_id = c.batch_id);
ALTER TABLE contacts ADD CONSTRAINT contacts_list_id_batch_id_fkey
    FOREIGN KEY (list_id, batch_id) REFERENCES customer_lists (id, batch_id) ON DELETE CASCADE;
