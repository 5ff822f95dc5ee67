// `casella bench renewals …` and `casella bench purchase …` (issue: performance evidence).
import { loadConfig } from '../config.ts';

export async function runBench(args: string[]): Promise<number> {
  const [which, ...rest] = args;
  if (which === 'renewals') return (await import('../../bench/renewals.ts')).runRenewalBench(loadConfig(), rest);
  if (which === 'purchase') return (await import('../../bench/purchase.ts')).runPurchaseBench(rest);
  console.error('usage: casella bench renewals --mailboxes N [--json]\n       casella bench purchase --seconds S --concurrency C [--json]');
  return 2;
}
