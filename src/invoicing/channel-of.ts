// The SdI channel the configuration names (SDI_CHANNEL).
import type { App } from '../app.ts';
import { directoryChannel, simulatorChannel, type SdiChannel } from './sdi-channel.ts';

export function channelOf(app: App): SdiChannel {
  const c = app.config;
  if (c.sdiChannel === 'directory') return directoryChannel(c.sdiOutboxDir!);
  return simulatorChannel(app.db, c.sdiSimulatorDelayMs);
}
