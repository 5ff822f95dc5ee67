-- R12: login throttling counts every attempt before its password is checked, in the statement that
-- decides, so a parallel burst cannot be checked in full before any failure is recorded. A key is
-- refused until its window ends once the window holds more attempts than its limit: no separate
-- block time. Keys: an address, a client, a device cookie, an operator client.
ALTER TABLE login_throttle RENAME COLUMN failures TO attempts;
ALTER TABLE login_throttle DROP COLUMN blocked_until;
