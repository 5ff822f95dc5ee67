-- Room on each page for the new versions of rows that are updated over and over: a wallet at every
-- purchase, top-up and renewal, an add-on at every purchase and renewal, a mailbox at every usage
-- report. With free space on its own page, an update that changes no indexed column is a HOT update:
-- no new index entries, and no index bloat. New pages only; existing rows move as they are updated.
ALTER TABLE wallets SET (fillfactor = 70);
ALTER TABLE addons SET (fillfactor = 70);
ALTER TABLE mailboxes SET (fillfactor = 80);
