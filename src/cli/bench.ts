// `casella bench renewals …`, `casella bench purchase …`, `casella bench logins …` and
// `casella bench imap-logins …` (performance evidence), `casella bench model …`, the model-based test
// of the money rules for many runs (issue 12), `casella bench topups …` and `casella bench register …`
// (R15: what invoicing costs a payment, and the VAT register of a large month in flat memory), and
// `casella bench refunds …` (R17: refunds per second through the whole pending-gateway-complete path).
import { loadConfig } from '../config.ts';

export async function runBench(args: string[]): Promise<number> {
  const [which, ...rest] = args;
  if (which === 'renewals') return (await import('../../bench/renewals.ts')).runRenewalBench(loadConfig(), rest);
  if (which === 'card-renewals') return (await import('../../bench/card-renewals.ts')).runCardRenewalBench(loadConfig(), rest);
  if (which === 'purchase') return (await import('../../bench/purchase.ts')).runPurchaseBench(rest);
  if (which === 'imap-logins') return (await import('../../bench/imap-logins.ts')).runImapLoginBench(rest);
  if (which === 'logins') return (await import('../../bench/logins.ts')).runLoginBench(rest);
  if (which === 'model') return (await import('../../bench/model.ts')).runModelBench(rest);
  if (which === 'topups') return (await import('../../bench/topups.ts')).runTopupBench(rest);
  if (which === 'register') return (await import('../../bench/register.ts')).runRegisterBench(rest);
  if (which === 'refunds') return (await import('../../bench/refunds.ts')).runRefundBench(rest);
  if (which === 'search') return (await import('../../bench/search.ts')).runSearchBench(rest);
  console.error('usage: casella bench renewals --mailboxes N [--json]\n       casella bench purchase --seconds S --concurrency C [--json]\n       casella bench logins --seconds S --concurrency C --holders N [--json]\n       casella bench imap-logins --port N --mailboxes N [--seconds S] [--concurrency C] [--json]\n       casella bench model --runs N [--seed S] [--path P --replay-path R] [--max-commands C] [--engine pglite|postgres]\n       casella bench topups --seconds S --concurrency C [--json]\n       casella bench register --invoices N [--credit-notes M] [--json]\n       casella bench refunds --refunds N --concurrency C [--json]\n       casella bench search --holders N [--rounds R] [--reuse] [--json]\n       casella bench card-renewals --mailboxes N [--concurrency C] [--json]');
  return 2;
}
