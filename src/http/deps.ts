/** What the HTTP layer needs from the running service; src/app.ts builds it. */
import type { CheckpointSigner } from '../audit/checkpoint.ts';
import type { DemoTokenService, TokenVerifier } from '../auth/tokens.ts';
import type { Mode } from '../config.ts';
import type { DemographicsListener } from '../demographics/admin.ts';
import type { SwitchableDemographics } from '../demographics/faults.ts';
import type { Clock, SettableClock } from '../domain/clock.ts';
import type { QueryService } from '../query/service.ts';
import type { Engine, Executor } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import type { MidFileHold } from '../upload/hold.ts';
import type { PortalDeps } from '../web/portal.ts';

export interface HttpDeps {
  mode: Mode;
  engine: Engine;
  db: Executor;
  clock: Clock;
  /** Demo mode only: the clock /dev/clock moves. */
  settableClock: SettableClock | null;
  demographics: SwitchableDemographics;
  demographicsListeners: readonly DemographicsListener[];
  /** Demo mode only: the fault that holds uploads mid-file. */
  uploadHold: MidFileHold | null;
  verifier: TokenVerifier;
  /** Demo mode only: the service's own token issuer. */
  demoTokens: DemoTokenService | null;
  /** Health queries and the audit of every FHIR request (group-committed). */
  query: QueryService;
  /** Seals secrets the store keeps (LA webhook secrets). */
  secrets: SecretBox;
  /** The health portal (web pages); null: not served. */
  portal: PortalDeps | null;
  /** Signs audit checkpoints; null or absent: none are published (production without a key). */
  checkpointSigner?: CheckpointSigner | null;
}
