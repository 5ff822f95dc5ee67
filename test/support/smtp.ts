// A real SMTP server on loopback for the tests, and just enough MIME decoding to read what arrived.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  raw: string;
  subject: string;
  messageId: string;
  /** The SMTP session (connection) it came on. */
  sessionId: string;
  /** When it was recorded (Date.now()). */
  atMs: number;
}

/**
 * A real SMTP server on 127.0.0.1; port 0 picks a free one. Each message takes `delayMs` to be
 * accepted; with `recordOnAccept` it is recorded only once accepted (250), as a sender counts it.
 */
export async function startSmtp(port = 0, delayMs = 0, recordOnAccept = false) {
  const received: Received[] = [];
  let waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(raw)?.[1]?.trim() ?? '';
        const record = () => {
          received.push({ raw, subject: header('Subject'), messageId: header('Message-ID'), sessionId: session.id, atMs: Date.now() });
          const ws = waiters;
          waiters = [];
          ws.forEach((w) => w());
        };
        if (!recordOnAccept) record();
        setTimeout(() => {
          if (recordOnAccept) record();
          cb();
        }, delayMs);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const boundPort = (server.server.address() as AddressInfo).port;
  return {
    port: boundPort,
    received,
    /** Resolves once `count` messages have arrived. */
    until: (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => (received.length >= count ? resolve() : waiters.push(check));
        check();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}


/** Decodes a quoted-printable or base64 body part into text. */
function decodePart(headers: string, body: string): string {
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => `%${h}`);
    return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/gi, '%25'));
  }
  return body;
}

/** The plain-text part and the decoded subject of a raw message. */
export function readMessage(raw: string): { to: string; subject: string; text: string; html: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(unfolded)?.[1]?.trim() ?? '';
  const subject = header('Subject').replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, kind: string, data: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodePart('content-transfer-encoding: quoted-printable', data.replace(/_/g, ' ')),
  );
  const bodyText = rest.join('\n\n');
  const parts = bodyText.split(/\r?\n--[^\r\n]+/);
  let text = '';
  let html = '';
  for (const p of parts) {
    const [ph = '', ...pb] = p.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    if (/content-type:\s*text\/plain/i.test(ph)) text = decodePart(ph, pb.join('\n\n'));
    if (/content-type:\s*text\/html/i.test(ph)) html = decodePart(ph, pb.join('\n\n'));
  }
  return { to: header('To'), subject, text, html };
}
