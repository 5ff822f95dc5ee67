// R15, issue 19: the FatturaPA files handed to the intermediary name the buyer, the codice fiscale
// and the address; they were written world-readable (0644 in a 0755 folder). Now 0640 in 0750.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directoryChannel } from '../../src/invoicing/sdi-channel.ts';

const XML = '<?xml version="1.0"?><p:FatturaElettronica/>';

test('FatturaPA files in SDI_OUTBOX_DIR are 0640 in a 0750 folder: nobody outside the owner and its group reads them', async () => {
  const previousUmask = process.umask(0o022); // the usual umask, which gave 0644 and 0755
  const root = mkdtempSync(join(tmpdir(), 'casella-sdi-'));
  try {
    const dir = join(root, 'sdi', 'outbox');
    await directoryChannel(dir).send({ fileName: 'IT01234567890_00001.xml', xml: XML }, new Date());
    assert.equal(statSync(dir).mode & 0o777, 0o750);
    assert.deepEqual(readdirSync(dir), ['IT01234567890_00001.xml']);
    assert.equal(statSync(join(dir, 'IT01234567890_00001.xml')).mode & 0o777, 0o640);

    // A folder the provider made beforehand keeps its owner's and group's rights, loses everyone else's.
    const existing = join(root, 'existing');
    mkdirSync(existing);
    chmodSync(existing, 0o775);
    await directoryChannel(existing).send({ fileName: 'IT01234567890_00002.xml', xml: XML }, new Date());
    assert.equal(statSync(existing).mode & 0o777, 0o770);
    assert.equal(statSync(join(existing, 'IT01234567890_00002.xml')).mode & 0o007, 0);
  } finally {
    process.umask(previousUmask);
    rmSync(root, { recursive: true, force: true });
  }
});
