import { describe, expect, it } from 'vitest';
import { youngGenerationLimitHolders } from './limit-young-generation.js';
import { growOldGeneration, holdExtractionHeap, oldGenerationGrowthHolders } from './old-generation-growth.js';

describe('growOldGeneration', () => {
  it('is held until the last holder releases it; holdExtractionHeap holds it and the young generation limit together', () => {
    const a = growOldGeneration();
    const b = holdExtractionHeap();
    expect(oldGenerationGrowthHolders()).toBe(2);
    expect(youngGenerationLimitHolders()).toBe(1);
    a();
    a();
    expect(oldGenerationGrowthHolders()).toBe(1);
    b();
    b();
    expect(oldGenerationGrowthHolders()).toBe(0);
    expect(youngGenerationLimitHolders()).toBe(0);
  });
});
