/**
 * Per-LA thresholds for patterns of concern in access notifications (CPIS.md §8). Null means the
 * service's defaults (src/domain/patterns.ts), so existing LAs need nothing.
 */
import type { Migration } from '../migrate.ts';

export const patterns: Migration = {
  name: '0005_patterns',
  up: [`alter table local_authority add column pattern_thresholds jsonb`],
};
