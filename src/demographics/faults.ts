/**
 * A demographics service that can be switched off (demo mode's `/dev/faults`), so an outage can be
 * rehearsed end to end: while off, every trace and search fails exactly as a real outage would.
 */
import type { NhsNumber } from '../domain/nhs-number.ts';
import {
  type DemographicsQuery,
  type DemographicsSearchResult,
  type DemographicsService,
  DemographicsUnavailable,
  type Trace,
  type TraceContext,
} from './types.ts';

export class SwitchableDemographics implements DemographicsService {
  #available = true;

  constructor(private readonly inner: DemographicsService) {}

  get kind() {
    return this.inner.kind;
  }

  get available(): boolean {
    return this.#available;
  }

  setAvailable(available: boolean): void {
    this.#available = available;
  }

  async trace(nhsNumbers: readonly NhsNumber[], ctx: TraceContext): Promise<Map<string, Trace>> {
    this.#check();
    return this.inner.trace(nhsNumbers, ctx);
  }

  async search(query: DemographicsQuery, ctx: TraceContext): Promise<DemographicsSearchResult> {
    this.#check();
    return this.inner.search(query, ctx);
  }

  #check(): void {
    if (!this.#available)
      throw new DemographicsUnavailable('the demographics service is unavailable (simulated outage)');
  }
}
